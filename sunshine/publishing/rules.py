"""Pure rules of the publication pipeline: lifecycle transitions, targets, notice periods."""

import datetime as dt
import secrets

from sunshine.places import rules as place_rules

DRAFT, REVIEW, SCHEDULED, PUBLISHED, WITHDRAWN, ARCHIVED = (
    "draft",
    "review",
    "scheduled",
    "published",
    "withdrawn",
    "archived",
)
STATUS_LABELS = {
    DRAFT: "草稿",
    REVIEW: "待审核",
    SCHEDULED: "待发布",
    PUBLISHED: "已发布",
    WITHDRAWN: "已撤回",
    ARCHIVED: "已归档",
}
# (from, to) → the capability the actor needs
TRANSITIONS = {
    (DRAFT, REVIEW): "publishing.draft",
    (REVIEW, DRAFT): "publishing.review",  # sent back with a note
    (REVIEW, PUBLISHED): "publishing.review",
    (REVIEW, SCHEDULED): "publishing.review",
    (SCHEDULED, PUBLISHED): "publishing.review",  # also the periodic job
    (SCHEDULED, DRAFT): "publishing.review",  # stopped before its time, back to the drafter
    (PUBLISHED, WITHDRAWN): "publishing.review",
    (PUBLISHED, ARCHIVED): "publishing.review",  # also the periodic job at expiry
    (WITHDRAWN, ARCHIVED): "publishing.review",
}
PUBLIC_STATUSES = (PUBLISHED,)

KIND_DISCLOSURE, KIND_NOTICE, KIND_STATEMENT = "disclosure", "notice", "statement"
KIND_LABELS = {KIND_DISCLOSURE: "公开", KIND_NOTICE: "公示", KIND_STATEMENT: "发言人"}

OBJECTION_OPEN, OBJECTION_ANSWERED = "open", "answered"
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


def can_transition(current: str, target: str) -> str | None:
    """The capability a transition needs, or None when it is not allowed at all."""
    return TRANSITIONS.get((current, target))


def levels_below(level: str) -> list[str]:
    """The publication levels a place at `level` may target: its own and every level below it."""
    order = list(place_rules.PUBLICATION_LEVELS)
    if level not in order:
        return order if level in (place_rules.PROVINCE, place_rules.CITY) else []
    i = order.index(level)
    return order[i:]


def encode_levels(levels) -> str:
    """Stored as ",town,village," so that `contains ',village,'` is a plain LIKE on every DB."""
    order = [lv for lv in place_rules.PUBLICATION_LEVELS if lv in set(levels)]
    return "," + ",".join(order) + "," if order else ""


def decode_levels(value: str) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def notice_ends(published_at: dt.datetime, days: int) -> dt.datetime:
    """A notice runs `days` full days after publication, to the end of the last day."""
    end_day = published_at.date() + dt.timedelta(days=days)
    return dt.datetime.combine(end_day, dt.time(23, 59, 59), tzinfo=published_at.tzinfo)


def notice_is_open(ends_at: dt.datetime | None, now: dt.datetime) -> bool:
    return ends_at is not None and now <= ends_at


def can_finalise(
    *, ends_at: dt.datetime | None, now: dt.datetime, open_objections: int
) -> str | None:
    """None when the notice may be finalised, else the Chinese reason it may not."""
    if open_objections:
        return f"还有 {open_objections} 条异议没有答复，答复后才能办结公示。"
    if ends_at is not None and now <= ends_at:
        return f"公示期到 {ends_at:%Y年%m月%d日} 才结束，期满后才能办结。"
    return None


def tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))
