"""Reads of the SMS desk (outbox, call tasks, replies, templates, cost ledger). Every staff
read is scoped by the message's place prefix through sunshine.places.scoping; a
`*_get_for_actor` answers 404 for anything outside the actor's scope."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Concat, Substr, TruncMonth
from django.utils import timezone

from sunshine.core import audit, validators
from sunshine.messaging import rules
from sunshine.messaging.models import CallTask, Message, Receipt, Reply, Template
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.places.models import Place

# Programme codes seen in the outbox, in Chinese; an unknown code is shown as it is.
PROGRAMME_LABELS = {
    "test": "测试短信",
    "precheck": "孕前优生检查",
    "pregnancy": "孕产期保健",
    "maternity": "孕产期保健",
    "postpartum": "产后访视",
    "child": "儿童保健",
    "vaccination": "预防接种",
    "reward": "奖励扶助",
    "notice": "通知公告",
}
BILLED = (rules.SENT, rules.DELIVERED)


def programme_label(code: str) -> str:
    return PROGRAMME_LABELS.get(code, code or "—")


def can_see_identifiers(actor, obj=None) -> bool:
    """Full mobiles: roles that register and serve residents (as in the people app), and an
    operator for the call task they must dial (that number only; the read is audited)."""
    if actor is None or not actor.is_authenticated:
        return False
    if actor.can("people.identifiers"):
        return True
    return isinstance(obj, CallTask) and actor.can("calls.work")


def mobile_reveal(actor, obj, *, reason: str = "") -> str:
    """The full mobile of a message, call task or reply; every read is audited."""
    if not can_see_identifiers(actor, obj):
        raise PermissionDenied("您的角色不能查看完整的手机号码。")
    audit.record_read(actor=actor, obj=obj, fields=["mobile"], reason=reason)
    return obj.mobile


# Outbox -------------------------------------------------------------------------------------

_MASKED = re.compile(r"(\d{3})\*{4}(\d{4})")


def mobile_filter(text: str) -> Q | None:
    """A search by mobile: the full number, its last four digits, or the masked form as the
    pages show it (138****1234). None when the text is none of these."""
    text = re.sub(r"[\s-]", "", text or "")
    number, problem = validators.mobile_problem(text)
    if problem is None:  # the full number, in any accepted spelling (+86, full-width digits)
        return Q(mobile=number)
    if re.fullmatch(r"\d{11}", text):
        return Q(mobile=text)
    if re.fullmatch(r"\d{4}", text):
        return Q(mobile__endswith=text)
    m = _MASKED.fullmatch(text)
    if m:
        return Q(mobile__startswith=m.group(1), mobile__endswith=m.group(2))
    return None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def message_list_for_actor(
    actor,
    *,
    status: str = "",
    programme: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    mobile: str = "",
) -> QuerySet[Message]:
    """The outbox, newest first; dates are local days of creation, both ends included."""
    qs = scoping.scope(Message.objects.select_related("resident", "place", "template"), actor)
    if status:
        qs = qs.filter(status=status)
    if programme:
        qs = qs.filter(programme=programme)
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    if mobile:
        q = mobile_filter(mobile)
        qs = qs.filter(q) if q is not None else qs.none()
    return qs.order_by("-id")  # newest first, by the primary key (ids rise with creation)


def programme_choices(actor) -> list[tuple[str, str]]:
    """Programmes present in the actor's outbox, for the filter."""
    codes = (
        scoping.scope(Message.objects.all(), actor)
        .order_by()
        .values_list("programme", flat=True)
        .distinct()
    )
    return sorted(((c, programme_label(c)) for c in codes), key=lambda pair: pair[0])


def message_get_for_actor(actor, message_id: int) -> Message:
    return scoping.get_for_actor(
        Message.objects.select_related("resident", "place", "template", "call_task"),
        actor,
        pk=message_id,
    )


@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    event: str
    detail: str


def message_history(message: Message) -> list:
    """The message's history in time order: the Attempt rows (queued, retries, postponements,
    failures, receipts…) and the send itself, which lives on the message row (sent_at,
    provider id, segments and the worker that sent it) rather than in a second row."""
    lines = list(message.history.order_by("at", "id"))
    if message.sent_at:
        detail = f"{message.provider_id} 共{message.segments}条"
        if message.claimed_by:
            detail += f"（{message.claimed_by}）"
        lines.append(HistoryLine(message.sent_at, "sent", detail))
        lines.sort(key=lambda a: a.at)
    return lines


def message_receipts(message: Message) -> QuerySet[Receipt]:
    """Delivery receipts of a message: by its OutId, or by provider id and number."""
    q = Q(out_id=message.out_id)
    if message.provider_id:
        q |= Q(provider_id=message.provider_id, mobile=message.mobile)
    return Receipt.objects.filter(q).order_by("received_at", "id")


def message_list_for_mobile(actor, mobile: str, *, limit: int = 10) -> list[Message]:
    """The latest messages sent to one number, in scope: what a reply may be answering."""
    sent = Message.objects.filter(mobile=mobile, sent_at__isnull=False, ready=True)
    qs = scoping.scope(sent, actor)
    return list(qs.order_by("-sent_at", "-id")[:limit])


# Call tasks and replies ---------------------------------------------------------------------


def calltask_queue_for_actor(actor, *, status: str = CallTask.OPEN) -> QuerySet[CallTask]:
    """Open tasks oldest first (the operator works down the list); done ones newest first."""
    qs = scoping.scope(
        CallTask.objects.select_related("resident", "message", "handled_by"), actor
    ).filter(status=status)
    if status == CallTask.OPEN:
        return qs.order_by("created_at", "id")
    return qs.order_by("-handled_at", "-id")


def calltask_get_for_actor(actor, task_id: int, *, write: bool = False) -> CallTask:
    return scoping.get_for_actor(
        CallTask.objects.select_related("resident__place", "message", "handled_by"),
        actor,
        write=write,
        pk=task_id,
    )


def reply_inbox_for_actor(actor, *, handled: bool = False) -> QuerySet[Reply]:
    """Replies routed to the inbox (not an answer or an opt-out), oldest unhandled first."""
    qs = scoping.scope(Reply.objects.select_related("resident"), actor).filter(
        route="inbox", handled=handled
    )
    return qs.order_by("received_at", "id") if not handled else qs.order_by("-received_at", "-id")


def reply_get_for_actor(actor, reply_id: int, *, write: bool = False) -> Reply:
    return scoping.get_for_actor(
        Reply.objects.select_related("resident__place"), actor, write=write, pk=reply_id
    )


def open_counts(actor) -> dict[str, int]:
    """Work waiting, for the SMS desk's tabs."""
    return {
        "calls": scoping.scope(CallTask.objects.filter(status=CallTask.OPEN), actor).count(),
        "replies": scoping.scope(Reply.objects.filter(route="inbox", handled=False), actor).count(),
    }


# Templates (county-wide settings, not hung on a place) --------------------------------------


def template_list() -> QuerySet[Template]:
    return Template.objects.annotate(uses=Count("messages")).order_by("code")


def template_choices() -> QuerySet[Template]:
    return Template.objects.filter(is_active=True).order_by("code")


def template_get(code: str) -> Template:
    from django.http import Http404

    try:
        return Template.objects.get(code=code)
    except Template.DoesNotExist:
        raise Http404("没有这个短信模板。") from None


def template_exists(code: str) -> bool:
    return Template.objects.filter(code=code).exists()


# Cost ledger --------------------------------------------------------------------------------


@dataclass
class LedgerRow:
    key: str
    label: str
    messages: int = 0  # sent or delivered
    failed: int = 0
    segments: int = 0
    cost: Decimal = Decimal("0")
    participants: int = 0

    @property
    def cost_per_participant(self) -> Decimal | None:
        if not self.participants:
            return None
        return (self.cost / self.participants).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def messages_per_participant(self) -> Decimal | None:
        if not self.participants:
            return None
        return (Decimal(self.messages) / self.participants).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _participant():
    """One key per person reached: the resident when known, otherwise the number."""
    from django.db.models import Case, When

    return Case(
        When(
            resident_id__isnull=False,
            then=Concat(Value("r"), Cast("resident_id", CharField()), output_field=CharField()),
        ),
        default=Concat(Value("m"), "mobile", output_field=CharField()),
        output_field=CharField(),
    )


def _aggregates() -> dict:
    billed = Q(status__in=BILLED)
    return {
        "n": Count("id", filter=billed),
        "failed": Count("id", filter=Q(status=rules.FAILED)),
        "segs": Sum("segments", filter=billed),
        "cost": Sum("cost", filter=billed),
        "people": Count(_participant(), filter=billed, distinct=True),
    }


def _row(key: str, label: str, values: dict) -> LedgerRow:
    return LedgerRow(
        key=key,
        label=label,
        messages=values.get("n") or 0,
        failed=values.get("failed") or 0,
        segments=values.get("segs") or 0,
        cost=Decimal(values.get("cost") or 0).quantize(Decimal("0.01"), ROUND_HALF_UP),
        participants=values.get("people") or 0,
    )


CHILD_PREFIX = {
    None: 6,  # everything: counties
    place_rules.PROVINCE: 4,
    place_rules.CITY: 6,
    place_rules.COUNTY: 9,
    place_rules.TOWN: 12,
    place_rules.VILLAGE: 15,
}


def _month_starts(now: dt.datetime, months: int) -> list[dt.date]:
    local = timezone.localtime(now)
    year, month = local.year, local.month
    out = []
    for _ in range(months):
        out.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _read_place(actor) -> Place | None:
    return actor.view_place or actor.place


def ledger_for_actor(actor, *, now: dt.datetime | None = None, months: int = 12) -> dict:
    """Messages, segments, cost (sent or delivered) and cost per participant, by programme,
    by place one level under the actor's own and by month (the last `months`, by send time)."""
    now = now or timezone.now()
    qs = scoping.scope(Message.objects.all(), actor).order_by()
    total = _row("total", "合计", qs.aggregate(**_aggregates()))

    by_programme = [
        _row(r["programme"], programme_label(r["programme"]), r)
        for r in qs.values("programme").annotate(**_aggregates()).order_by("programme")
        if r["n"] or r["failed"]
    ]

    home = _read_place(actor)
    width = CHILD_PREFIX.get(home.level if home else None, len(home.path) + 3 if home else 6)
    by_prefix = qs.annotate(prefix=Substr("place_path", 1, width))
    rows = list(by_prefix.values("prefix").annotate(**_aggregates()).order_by("prefix"))
    names = {
        p.path: p.name
        for p in Place.objects.filter(path__in=[r["prefix"] for r in rows]).only("path", "name")
    }
    children = [r for r in rows if len(r["prefix"] or "") == width and r["prefix"] in names]
    by_place = [_row(r["prefix"], names[r["prefix"]], r) for r in children if r["n"] or r["failed"]]
    if len(children) < len(rows):
        # The actor's own level, units and residences hung on it, messages with no place:
        # one row, its participants counted over the union rather than summed.
        rest = by_prefix.exclude(prefix__in=[r["prefix"] for r in children])
        label = f"{home.name}本级及直属单位" if home else "未定地方"
        row = _row("-", label, rest.aggregate(**_aggregates()))
        if row.messages or row.failed:
            by_place.append(row)

    starts = _month_starts(now, months)
    since = timezone.make_aware(dt.datetime.combine(starts[0], dt.time.min))
    month_rows = (
        qs.filter(sent_at__gte=since)
        .annotate(month=TruncMonth("sent_at"))
        .values("month")
        .annotate(**_aggregates())
        .order_by("month")
    )
    found = {}
    for r in month_rows:
        month = r["month"]
        if isinstance(month, dt.datetime):
            month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
        found[month.replace(day=1)] = r
    by_month = [
        _row(start.strftime("%Y-%m"), f"{start.year}年{start.month}月", found.get(start, {}))
        for start in starts
    ]
    month_total = _row(
        "months", f"近{months}个月合计", qs.filter(sent_at__gte=since).aggregate(**_aggregates())
    )
    return {
        "total": total,
        "month_total": month_total,
        "by_programme": by_programme,
        "by_place": by_place,
        "by_month": by_month,
        "home": home,
        "since": starts[0],
    }


def ledger_chart(rows: list[LedgerRow], *, months: bool = False) -> dict:
    """What a bar chart draws: labels and cost (yuan); the month chart adds the messages as a
    line. The table under each chart shows the same numbers."""
    labels = [r.label for r in rows]
    if months:  # "2026-05" → "5月", with the year where it starts or turns
        labels = [
            f"{r.key[2:4]}年{int(r.key[5:])}月"
            if i == 0 or r.key.endswith("-01")
            else f"{int(r.key[5:])}月"
            for i, r in enumerate(rows)
        ]
    chart = {"type": "costs", "labels": labels, "cost": [float(r.cost) for r in rows]}
    if months:
        chart["messages"] = [r.messages for r in rows]
    return chart


# Template preview ---------------------------------------------------------------------------

SAMPLE_VALUES = [
    ("name", "张小红"),
    ("date", "2026年5月20日"),
    ("day", "5月20日"),
    ("time", "上午9:00"),
    ("place", "县妇幼保健院"),
    ("addr", "县妇幼保健院"),
    ("phone", "0516-88888888"),
    ("tel", "0516-88888888"),
    ("town", "本镇"),
    ("code", "123456"),
    ("amount", "960"),
    ("week", "12"),
]


def sample_params(names: list[str]) -> dict[str, str]:
    """A plausible value for each parameter, by its name, for the length preview."""
    out = {}
    for name in names:
        low = name.lower()
        out[name] = next((v for k, v in SAMPLE_VALUES if k in low), "示例")
    return out


def template_preview(body: str) -> dict:
    """What a template costs: its parameters, a sample rendering signed as the phone shows
    it, its length, billed segments and cost per message. {"error": …} when it cannot render."""
    from django.conf import settings

    signature = settings.SUNSHINE_SMS_SIGNATURE
    per_segment = Decimal(settings.SUNSHINE_SMS_COST_PER_SEGMENT)
    try:
        params = rules.template_params(body)
        sample = sample_params(params)
        text = rules.render(body, sample)
    except (ValueError, KeyError, IndexError) as exc:
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        return {"error": message or "模板格式有误。", "body": body}
    return {
        "body": body,
        "params": params,
        "sample": sample,
        "signed": rules.signed(text, signature),
        "length": rules.length(text, signature),
        "segments": rules.segments(text, signature),
        "cost": rules.cost(text, signature, per_segment),
        "per_segment": per_segment,
        "single_limit": rules.SINGLE_LIMIT,
        "long_part": rules.LONG_PART,
    }
