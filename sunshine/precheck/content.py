"""Portal content of 好孕好运 (SPEC §11, issue 6 item 6) and the towns' yearly targets.

Articles (健康教育、服务流程、注意事项) are county-wide settings like SMS templates: not hung
on a place, edited by any role with `precheck.manage`, shown on the public /precheck/ page only
while published. Targets (目标人群) are a town's couples to check in a year; the county sets
them (a writer whose own place is a county or above) for towns inside its write scope, one by
one or from an Excel file in which every row must be valid before anything is saved.

Services write (atomic, audited, ServiceError in Chinese); the selectors below read."""

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.core.tabular import TableError, column_map, open_table
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.places.models import Place
from sunshine.precheck import seed_articles
from sunshine.precheck.models import Article, CheckItem, Institution, Slot, Target

TITLE_MAX, BODY_MAX = 100, 20000
SCHEDULE_DAYS = 14  # the public page shows open slots this far ahead
SLOTS_SHOWN = 8  # per institution
FIRST_YEAR = 2010  # the national programme started in 2010
TARGET_MAX = 1_000_000

# ---- articles: services -------------------------------------------------------------------


def _article_clean(*, kind: str, title: str, body: str) -> tuple[str, str, str]:
    kinds = dict(Article.KIND_CHOICES)
    if kind not in kinds:
        raise ServiceError("请选择栏目：健康教育、检查安排、服务流程或注意事项。", field="kind")
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise ServiceError("请填写标题。", field="title")
    if len(title) > TITLE_MAX:
        raise ServiceError(f"标题最多{TITLE_MAX}个字，请缩短。", field="title")
    if not body:
        raise ServiceError("请填写正文。", field="body")
    if len(body) > BODY_MAX:
        raise ServiceError(f"正文最多{BODY_MAX}个字，请分成几篇。", field="body")
    return kind, title, body


@transaction.atomic
def article_create(*, actor, kind: str, title: str, body: str) -> Article:
    kind, title, body = _article_clean(kind=kind, title=title, body=body)
    article = Article(kind=kind, title=title, body=body, created_by=actor)
    article.full_clean()
    article.save()
    audit.record(actor=actor, action="precheck.article.create", obj=article)
    return article


@transaction.atomic
def article_update(*, actor, article: Article, kind: str, title: str, body: str) -> Article:
    kind, title, body = _article_clean(kind=kind, title=title, body=body)
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = audit.snapshot(article, ["kind", "title", "body"])
    article.kind, article.title, article.body = kind, title, body
    changes = audit.diff(article, ["kind", "title", "body"], before)
    if not changes:
        return article
    article.full_clean()
    article.save(update_fields=["kind", "title", "body", "updated_at"])
    if "body" in changes:  # the audit row says that the body changed, not the whole text
        changes["body"] = [f"{len(before['body'])}字", f"{len(body)}字"]
    audit.record(actor=actor, action="precheck.article.update", obj=article, changes=changes)
    return article


@transaction.atomic
def article_publish(*, actor, article: Article, now: dt.datetime | None = None) -> Article:
    """Show the article on the public page; publishing twice changes nothing."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.is_published:
        return article
    article.is_published = True
    article.published_at = now or timezone.now()
    article.save(update_fields=["is_published", "published_at", "updated_at"])
    audit.record(actor=actor, action="precheck.article.publish", obj=article)
    return article


@transaction.atomic
def article_unpublish(*, actor, article: Article) -> Article:
    """Take the article off the public page (it is kept, and may be published again)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not article.is_published:
        return article
    article.is_published = False
    article.save(update_fields=["is_published", "updated_at"])
    audit.record(actor=actor, action="precheck.article.unpublish", obj=article)
    return article


@transaction.atomic
def articles_ensure(*, actor=None, now: dt.datetime | None = None) -> int:
    """Load the seed articles (seed_articles.ARTICLES), published, when there are no articles
    at all; returns how many were created. Called by the demo builder and by
    `manage.py precheck_articles`; a county's own edits are never overwritten."""
    if Article.objects.exists():
        return 0
    now = now or timezone.now()
    for kind, title, body in seed_articles.ARTICLES:
        article = article_create(actor=actor, kind=kind, title=title, body=body)
        article_publish(actor=actor, article=article, now=now)
    return len(seed_articles.ARTICLES)


# ---- articles: selectors ------------------------------------------------------------------


def article_list_public(kind: str | None = None):
    qs = Article.objects.filter(is_published=True).order_by("-published_at", "id")
    return qs.filter(kind=kind) if kind else qs


def article_get_public(article_id: int) -> Article:
    """A published article, or 404 (an unpublished one does not exist for the public)."""
    found = Article.objects.filter(pk=article_id, is_published=True).first()
    if found is None:
        raise Http404("没有找到这篇文章，它可能已经撤下。")
    return found


def article_list_for_staff():
    """Articles are county-wide settings (like SMS templates): every manager sees them all."""
    return Article.objects.select_related("created_by").order_by("kind", "-updated_at", "-id")


def article_get_for_staff(article_id: int) -> Article:
    found = Article.objects.filter(pk=article_id).first()
    if found is None:
        raise Http404("没有找到这篇文章。")
    return found


# ---- the public page ----------------------------------------------------------------------


def article_blocks(body: str) -> list[dict]:
    """An article's plain-text body as blocks the template shows: paragraphs (split at blank
    lines) and lists (consecutive lines starting with "·"). Pure; nothing is marked safe."""
    blocks: list[dict] = []
    for chunk in (body or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        for line in lines:
            if line.startswith("·"):
                item = line.lstrip("·").strip()
                if blocks and blocks[-1]["kind"] == "list" and blocks[-1]["open"]:
                    blocks[-1]["items"].append(item)
                else:
                    blocks.append({"kind": "list", "items": [item], "open": True})
            elif blocks and blocks[-1]["kind"] == "text" and blocks[-1]["open"]:
                blocks[-1]["lines"].append(line)
            else:
                blocks.append({"kind": "text", "lines": [line], "open": True})
        for block in blocks:
            block["open"] = False
    return blocks


@dataclass
class InstitutionSchedule:
    institution: Institution
    slots: list[Slot] = field(default_factory=list)
    more: int = 0  # open slots beyond the ones shown


def check_items() -> dict[str, list[CheckItem]]:
    """The active catalogue split into medical examinations and basic services."""
    items = list(CheckItem.objects.filter(is_active=True).order_by("number"))
    return {
        "exams": [i for i in items if i.kind == CheckItem.EXAM],
        "services": [i for i in items if i.kind == CheckItem.SERVICE],
        "all": items,
    }


def schedule_public(*, now: dt.datetime | None = None, days: int = SCHEDULE_DAYS):
    """Active institutions with their next open slots with free seats (starting from now, within
    `days`); two queries whatever the number of institutions."""
    now = now or timezone.now()
    institutions = list(
        Institution.objects.filter(is_active=True)
        .select_related("place")
        .order_by("place_path", "name")
    )
    out = {i.pk: InstitutionSchedule(institution=i) for i in institutions}
    slots = Slot.objects.filter(
        institution_id__in=list(out),
        is_open=True,
        starts_at__gte=now,
        starts_at__lt=now + dt.timedelta(days=days),
        booked__lt=F("capacity"),
    ).order_by("starts_at", "id")
    for slot in slots:
        entry = out[slot.institution_id]
        if len(entry.slots) < SLOTS_SHOWN:
            entry.slots.append(slot)
        else:
            entry.more += 1
    return list(out.values())


# ---- targets: rules, services, selectors --------------------------------------------------


def can_set_targets(actor) -> bool:
    """Targets are set by the county: a writer whose own place is a county or above."""
    prefix = scoping.write_prefix(actor)
    return (
        prefix is not None
        and len(prefix) < place_rules.PREFIX_LEN[place_rules.TOWN]
        and actor.can("precheck.manage")
    )


def year_options(now: dt.datetime | None = None) -> list[int]:
    this = timezone.localtime(now or timezone.now()).year
    return list(range(this + 1, FIRST_YEAR - 1, -1))


def parse_year(value, *, now: dt.datetime | None = None) -> int:
    """A year from a form or query string; ServiceError when it is not one we keep."""
    this = timezone.localtime(now or timezone.now()).year
    text = str(value if value is not None else "").strip()
    if not text:
        return this
    if not text.isascii() or not text.isdigit() or not FIRST_YEAR <= int(text) <= this + 1:
        raise ServiceError(f"年度应为{FIRST_YEAR}至{this + 1}之间的年份，如{this}。", field="year")
    return int(text)


def parse_couples(value) -> int:
    text = str(value if value is not None else "").strip().replace(",", "").replace("，", "")
    if text.endswith(".0"):  # a number cell Excel stored as a float
        text = text[:-2]
    if not text:
        raise ServiceError("请填写目标人群数（对）。", field="couples")
    if not text.isascii() or not text.isdigit():
        raise ServiceError(f"目标人群“{text[:20]}”应为正整数（对数），如 120。", field="couples")
    couples = int(text)
    if couples <= 0:
        raise ServiceError("目标人群应大于0；没有目标的乡镇请留空。", field="couples")
    if couples > TARGET_MAX:
        raise ServiceError(f"目标人群{couples}对过大，请核对。", field="couples")
    return couples


def _town_for_target(actor, place: Place | None) -> Place:
    if place is None or place.level != place_rules.TOWN:
        raise ServiceError("目标人群只能按乡镇（街道、园区）设定。", field="place")
    if not can_set_targets(actor):
        raise ServiceError("目标人群由县级设定，您的账号不能修改。")
    if not scoping.path_in_scope(actor, place.path, write=True):
        raise ServiceError(f"{place.name}不在您的管辖范围内。", field="place")
    return place


def _target_write(*, actor, town: Place, year: int, couples: int, action: str) -> Target:
    target = Target.objects.select_for_update().filter(place=town, year=year).first()
    if target is None:
        target = Target(place=town, place_path=town.path, year=year, couples=couples)
        target.full_clean()
        target.save()
        audit.record(
            actor=actor,
            action=action,
            obj=target,
            changes={"couples": [None, str(couples)], "year": [None, str(year)]},
        )
    elif target.couples != couples:
        old = target.couples
        target.couples = couples
        target.save(update_fields=["couples"])
        audit.record(
            actor=actor, action=action, obj=target, changes={"couples": [str(old), str(couples)]}
        )
    return target


@transaction.atomic
def target_set(*, actor, place: Place | None, year, couples) -> Target:
    """Set (or change) a town's target for a year; the same value twice changes nothing."""
    town = _town_for_target(actor, place)
    return _target_write(
        actor=actor,
        town=town,
        year=parse_year(year),
        couples=parse_couples(couples),
        action="precheck.target.set",
    )


TARGET_COLUMNS = {
    "code": ("乡镇编码", "区划编码", "编码"),
    "name": ("乡镇", "乡镇名称", "名称"),
    "year": ("年度", "年份"),
    "couples": ("目标人群（对）", "目标人群(对)", "目标人群", "目标对数"),
}
TARGET_HEADERS = ["乡镇编码", "乡镇", "年度", "目标人群（对）"]


@dataclass
class TargetImport:
    saved: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows with no target filled in


@transaction.atomic
def target_import(*, actor, upload) -> TargetImport:
    """Targets from an .xlsx/CSV file (the export's columns: 乡镇编码, 乡镇, 年度, 目标人群（对）).
    Every row is checked first; any bad row → ServiceError listing each one, nothing saved.
    Rows with an empty target are skipped (the export lists towns without a target too)."""
    if not can_set_targets(actor):
        raise ServiceError("目标人群由县级设定，您的账号不能导入。")
    rows = _read_target_rows(upload)
    codes = {r[1] for r in rows if r[1]}
    towns = {p.code: p for p in Place.objects.filter(code__in=codes)}
    errors: list[tuple[str, str]] = []
    good: list[tuple[Place, int, int]] = []
    seen: dict[tuple[str, int], int] = {}
    result = TargetImport()
    for number, code, year_text, couples_text in rows:
        if not couples_text.strip():
            result.skipped += 1
            continue
        problems = []
        town = towns.get(code)
        if not code:
            problems.append("没有填乡镇编码")
        elif town is None:
            problems.append(f"乡镇编码 {code[:20]} 不存在")
        else:
            try:
                _town_for_target(actor, town)
            except ServiceError as exc:
                problems.append(exc.message.rstrip("。"))
        year = couples = None
        try:
            year = parse_year(year_text) if year_text.strip() else None
            if year is None:
                problems.append("没有填年度")
        except ServiceError as exc:
            problems.append(exc.message.rstrip("。"))
        try:
            couples = parse_couples(couples_text)
        except ServiceError as exc:
            problems.append(exc.message.rstrip("。"))
        if town is not None and year is not None:
            first = seen.setdefault((town.code, year), number)
            if first != number:
                problems.append(f"与第{first}行重复（同一乡镇同一年度）")
        if problems:
            errors.append((f"第{number}行", "；".join(problems)))
        else:
            good.append((town, year, couples))
    if errors:
        shown = "；".join(f"{row}：{reason}" for row, reason in errors[:20])
        more = f"等{len(errors)}行" if len(errors) > 20 else ""
        raise ServiceError(
            f"文件中有{len(errors)}行有误{more}，没有导入任何数据。{shown}。请改正后重新导入。",
            errors=errors,
        )
    if not good:
        raise ServiceError("文件中没有填写目标人群的行，没有导入任何数据。")
    before = {
        (t.place_id, t.year): t.couples
        for t in Target.objects.filter(
            place__in=[g[0] for g in good], year__in={g[1] for g in good}
        )
    }
    for town, year, couples in good:
        if before.get((town.pk, year)) == couples:
            result.unchanged += 1
            continue
        _target_write(
            actor=actor, town=town, year=year, couples=couples, action="precheck.target.import"
        )
        result.saved += 1
    return result


def _read_target_rows(upload) -> list[tuple[int, str, str, str]]:
    """(row number, town code, year, couples) of every row; TableError → ServiceError."""
    name = getattr(upload, "name", "") or "targets.xlsx"
    suffix = os.path.splitext(name)[1].lower()[:6] or ".xlsx"
    fd, path = tempfile.mkstemp(prefix="precheck-targets-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
                fh.write(chunk)
        try:
            table = open_table(path, filename=name)
            cols = column_map(table.headers, TARGET_COLUMNS, {"code", "year", "couples"})
            out = []
            for number, cells in table.rows:
                values = [
                    cells[cols[k]].strip() if k in cols and cols[k] < len(cells) else ""
                    for k in ("code", "year", "couples")
                ]
                out.append((number, *values))
                if len(out) > 5000:
                    raise ServiceError("文件行数过多（超过5000行），请只保留乡镇目标人群的数据。")
            return out
        except TableError as exc:
            raise ServiceError(exc.message) from None
    finally:
        os.unlink(path)


def town_list_for_actor(actor) -> list[Place]:
    """The towns a user reads: every town under their read scope, or the town they sit in."""
    prefix = scoping.read_prefix(actor)
    if prefix is None:
        return []
    town_len = place_rules.PREFIX_LEN[place_rules.TOWN]
    qs = Place.objects.filter(level=place_rules.TOWN)
    if len(prefix) >= town_len:
        qs = qs.filter(path=prefix[:town_len])
    elif prefix:
        qs = qs.filter(path__startswith=prefix)
    return list(qs.order_by("path").only("id", "code", "path", "name", "parent_id"))


@dataclass
class TargetRow:
    town: Place
    by_year: dict[int, int | None]

    @property
    def cells(self) -> list[int | None]:
        return list(self.by_year.values())


def target_table_for_actor(actor, *, years: list[int]) -> list[TargetRow]:
    """Towns in the actor's read scope × `years`: target couples or None (two queries)."""
    towns = town_list_for_actor(actor)
    found = {
        (t.place_id, t.year): t.couples
        for t in scoping.scope(Target.objects.all(), actor).filter(place__in=towns, year__in=years)
    }
    return [TargetRow(town=t, by_year={y: found.get((t.pk, y)) for y in years}) for t in towns]


def town_get_for_target(actor, code: str) -> Place:
    """A town inside the actor's write scope, by code, or 404."""
    return scoping.get_for_actor(
        Place.objects.filter(level=place_rules.TOWN), actor, write=True, code=code
    )
