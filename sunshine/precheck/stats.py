"""Statistics of 好孕好运 (SPEC §11, issue 6 item 8), one year at a time, per town, scoped to
the actor's read prefix. A fixed number of aggregate queries whatever the number of towns.

Definitions (documented on the page too):
- Checked (已检查): a couple with an appointment marked attended (Appointment.status
  "attended"); it counts in the month of that slot's start (local time). A couple checked in
  two months counts in each month but once in the year, so month cells may add up to more
  than the year's figure.
- Coverage (覆盖率): couples checked in the year ÷ the town's target (Target.couples) for that
  year; no target → "未设目标", never a division by zero.
- Risk mix (风险评估): assessments by level, by the year of Assessment.assessed_at.
- SMS (短信): messages of programme "precheck" — appointment notices, result notices and the
  pregnancy campaign, whose Campaign.programme is "precheck" (messaging.seeds) — that were
  sent or delivered (billed, as in the SMS cost ledger) in the year, by the message's place.
  Participants (参与夫妇): registrations in the town with at least one such message to the
  woman's or the man's mobile. Cost per participant = cost ÷ participants. The seed's figure
  is about 20 messages and 2 yuan per woman over a pregnancy (0.10 yuan a message).
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import ExtractMonth, Substr
from django.utils import timezone

from sunshine.messaging.models import Message
from sunshine.messaging.selectors import BILLED
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.precheck import content
from sunshine.precheck.models import Appointment, Assessment, CheckItem, Registration, Target
from sunshine.precheck.sms import PROGRAMME

TOWN_LEN = place_rules.PREFIX_LEN[place_rules.TOWN]
LEVELS = [k for k, _ in CheckItem.RISK_CHOICES]
LEVEL_LABELS = dict(CheckItem.RISK_CHOICES)
OTHER_KEY = "-"
SEED_MESSAGES_PER_WOMAN, SEED_COST_PER_WOMAN = 20, Decimal("2.00")


def _ratio(a, b, places: str = "0.01") -> Decimal | None:
    if not b:
        return None
    return (Decimal(a) / Decimal(b)).quantize(Decimal(places), ROUND_HALF_UP)


def _percent(a, b) -> Decimal | None:
    if not b:
        return None
    return (Decimal(a) * 100 / Decimal(b)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class TownStats:
    key: str
    label: str
    months: list[int] = field(default_factory=lambda: [0] * 12)
    checked: int = 0
    target: int | None = None
    risk: dict = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    messages: int = 0
    segments: int = 0
    cost: Decimal = Decimal("0.00")
    participants: int = 0
    # The total row: couples checked in the towns that have a target (coverage's numerator).
    checked_with_target: int | None = None

    @property
    def coverage(self) -> Decimal | None:
        checked = self.checked if self.checked_with_target is None else self.checked_with_target
        return _percent(checked, self.target)

    @property
    def assessed(self) -> int:
        return sum(self.risk.values())

    @property
    def risk_rows(self) -> list[tuple[str, str, int, Decimal | None]]:
        return [
            (k, LEVEL_LABELS[k], self.risk[k], _percent(self.risk[k], self.assessed))
            for k in LEVELS
        ]

    @property
    def messages_per_participant(self) -> Decimal | None:
        return _ratio(self.messages, self.participants, "0.1")

    @property
    def cost_per_participant(self) -> Decimal | None:
        return _ratio(self.cost, self.participants)

    def has_data(self) -> bool:
        return bool(self.checked or any(self.months) or self.assessed or self.messages)


@dataclass
class YearStats:
    year: int
    towns: list[TownStats]
    total: TownStats

    @property
    def seed_note(self) -> dict:
        return {
            "messages": SEED_MESSAGES_PER_WOMAN,
            "cost": SEED_COST_PER_WOMAN,
            "per_message": _ratio(SEED_COST_PER_WOMAN, SEED_MESSAGES_PER_WOMAN),
        }


def _town_of(path: str | None) -> str:
    return (path or "")[:TOWN_LEN]


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        dt.datetime(year, 1, 1, tzinfo=tz),
        dt.datetime(year + 1, 1, 1, tzinfo=tz),
    )


def stats_for_actor(actor, *, year: int) -> YearStats:
    """Checks per town and month, coverage, risk mix and SMS cost per participant (8 queries)."""
    start, end = year_bounds(year)
    towns = content.town_list_for_actor(actor)
    rows = {t.path: TownStats(key=t.path, label=t.name) for t in towns}
    other = TownStats(key=OTHER_KEY, label="县本级及其他")

    def row(path):
        return rows.get(_town_of(path), other)

    town_expr = Substr("place_path", 1, TOWN_LEN)
    attended = (
        scoping.scope(Appointment.objects.all(), actor)
        .filter(status=Appointment.ATTENDED, slot__starts_at__gte=start, slot__starts_at__lt=end)
        .order_by()
    )
    for r in (
        attended.annotate(town=town_expr, month=ExtractMonth("slot__starts_at"))
        .values("town", "month")
        .annotate(n=Count("registration_id", distinct=True))
    ):
        row(r["town"]).months[r["month"] - 1] += r["n"]
    for r in (
        attended.annotate(town=town_expr)
        .values("town")
        .annotate(n=Count("registration_id", distinct=True))
    ):
        row(r["town"]).checked += r["n"]
    checked_total = attended.aggregate(n=Count("registration_id", distinct=True))["n"] or 0

    for t in (
        scoping.scope(Target.objects.all(), actor).filter(year=year).values("place_path", "couples")
    ):
        if t["place_path"] in rows:
            rows[t["place_path"]].target = t["couples"]

    for r in (
        scoping.scope(Assessment.objects.all(), actor)
        .filter(assessed_at__gte=start, assessed_at__lt=end)
        .order_by()
        .annotate(town=town_expr)
        .values("town", "level")
        .annotate(n=Count("id"))
    ):
        if r["level"] in LEVELS:
            row(r["town"]).risk[r["level"]] += r["n"]

    messages = Message.objects.filter(
        programme=PROGRAMME, status__in=BILLED, sent_at__gte=start, sent_at__lt=end
    )
    for r in (
        scoping.scope(messages, actor)
        .order_by()
        .annotate(town=town_expr)
        .values("town")
        .annotate(n=Count("id"), segs=Sum("segments"), cost=Sum("cost"))
    ):
        target = row(r["town"])
        target.messages += r["n"]
        target.segments += r["segs"] or 0
        target.cost += Decimal(r["cost"] or 0)
    sent = messages.filter(ready=True)  # the outbox's index by number holds ready rows
    reached = Q(Exists(sent.filter(mobile=OuterRef("woman_mobile")))) | Q(
        Exists(sent.filter(mobile=OuterRef("man_mobile")))
    )
    for r in (
        scoping.scope(Registration.objects.all(), actor)
        .filter(reached)
        .order_by()
        .annotate(town=town_expr)
        .values("town")
        .annotate(n=Count("id"))
    ):
        row(r["town"]).participants += r["n"]

    out = list(rows.values())
    if other.has_data() or other.participants:
        out.append(other)
    total = TownStats(key="total", label="合计")
    for t in out:
        total.months = [a + b for a, b in zip(total.months, t.months, strict=True)]
        for k in LEVELS:
            total.risk[k] += t.risk[k]
        total.messages += t.messages
        total.segments += t.segments
        total.cost += t.cost
        total.participants += t.participants
        if t.target is not None:
            total.target = (total.target or 0) + t.target
            total.checked_with_target = (total.checked_with_target or 0) + t.checked
    total.checked = checked_total
    for t in [*out, total]:
        t.cost = t.cost.quantize(Decimal("0.01"), ROUND_HALF_UP)
    return YearStats(year=year, towns=out, total=total)


# ---- what the charts draw (the tables under them show the same numbers) -------------------


def charts(data: YearStats) -> dict:
    towns = [t for t in data.towns if t.key != OTHER_KEY]
    return {
        "months": {
            "type": "bar",
            "name": "检查对数",
            "unit": "对",
            "labels": [f"{m}月" for m in range(1, 13)],
            "values": data.total.months,
        },
        "coverage": {
            "type": "bar",
            "name": "覆盖率（%）",
            "unit": "%",
            "labels": [t.label for t in towns if t.coverage is not None],
            "values": [float(t.coverage) for t in towns if t.coverage is not None],
        },
        "risk": {
            "type": "pie",
            "name": "风险评估",
            "unit": "对",
            "labels": [label for _, label, n, _ in data.total.risk_rows if n],
            "values": [n for _, _, n, _ in data.total.risk_rows if n],
        },
        "sms": {
            "type": "bar",
            "name": "人均短信费用（元）",
            "unit": "元",
            "labels": [t.label for t in data.towns if t.participants],
            "values": [float(t.cost_per_participant) for t in data.towns if t.participants],
        },
    }


# ---- the tables as rows, for the Excel export ---------------------------------------------


def _num(v):
    return "" if v is None else v


def table_rows(data: YearStats, table: str) -> tuple[str, list[str], list[list]]:
    """(title, headers, rows) of one table of the page; KeyError for an unknown table."""
    everyone = [*data.towns, data.total]
    if table == "months":
        return (
            f"{data.year}年各乡镇每月检查对数",
            ["乡镇", *[f"{m}月" for m in range(1, 13)], "全年（对）"],
            [[t.label, *t.months, t.checked] for t in everyone],
        )
    if table == "coverage":
        return (
            f"{data.year}年目标人群覆盖率",
            ["乡镇", "目标人群（对）", "已检查（对）", "覆盖率（%）"],
            [
                [t.label, _num(t.target), t.checked, _num(t.coverage) if t.target else "未设目标"]
                for t in everyone
            ],
        )
    if table == "risk":
        return (
            f"{data.year}年风险评估结果",
            ["乡镇", *[LEVEL_LABELS[k] for k in LEVELS], "评估合计（对）", "高风险占比（%）"],
            [
                [
                    t.label,
                    *[t.risk[k] for k in LEVELS],
                    t.assessed,
                    _num(_percent(t.risk["high"], t.assessed)),
                ]
                for t in everyone
            ],
        )
    if table == "sms":
        return (
            f"{data.year}年短信条数和人均费用",
            [
                "乡镇",
                "已发短信（条）",
                "计费条数",
                "费用（元）",
                "参与夫妇（对）",
                "人均短信（条）",
                "人均费用（元）",
            ],
            [
                [
                    t.label,
                    t.messages,
                    t.segments,
                    t.cost,
                    t.participants,
                    _num(t.messages_per_participant),
                    _num(t.cost_per_participant),
                ]
                for t in everyone
            ],
        )
    raise KeyError(table)


TABLES = ("months", "coverage", "risk", "sms")
