"""Campaigns (SPEC §7 "Campaigns"): schedules as data, and every write that follows them.

A campaign is a list of events relative to an anchor date (末次月经日期, 预产期, 检查日期):
offset in days, Beijing time of day, template. Enrolling a person writes all of their future
messages to the outbox at once, each stamped with the campaign version it was planned with
(Message.fire_version) and a source "campaign:<c>:enrolment:<e>:event:<v>". The text is
rendered when the message is sent, so an edited template reaches waiting messages.

Policies:
- Late enrolment (rules.late_enrolment_plan): events already past are skipped except the
  latest, which is sent now. An event is never sent twice to one enrolment, and an event
  that comes before one already sent is never sent.
- A change of the events bumps `Campaign.version` and starts a job that re-plans every
  active enrolment (`campaign_reschedule`), a chunk of enrolments per transaction: pending
  messages that the new schedule no longer wants are cancelled, changed ones are moved,
  unchanged ones are re-stamped, new ones are written, and the enrolment's
  `campaign_version` is set — all together, so until an enrolment is re-planned its old
  messages keep going out (no gap), and after it no stale one can.
- At send time the dispatcher asks `campaign_message_is_stale`: a message whose enrolment is
  closed, or whose version is older than its enrolment's, is cancelled instead of sent. This
  catches the messages a worker had already claimed when the change or the closing committed.
- A person without a usable mobile is enrolled all the same and gets ONE call task at
  enrolment, whose script lists the coming dates and texts, and asks for a number; when a
  number is given (`enrolment_mobile_set`) the remaining messages are written.
- Opt-out and quiet hours are the dispatcher's business, at send time.
"""

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from psycopg.copy import QueuedLibpqWriter

from sunshine.core import audit, jobs, sql
from sunshine.core.errors import ServiceError
from sunshine.core.validators import validate_mobile
from sunshine.messaging import rules
from sunshine.messaging.models import (
    Attempt,
    CallTask,
    Campaign,
    CampaignEvent,
    Enrolment,
    Message,
    Template,
)

PARAMS = ("name", "date")  # what a campaign template may use
SOURCE_PREFIX = "campaign:"
RESCHEDULE_JOB = "messaging.campaign_reschedule"
CHUNK = 2000  # enrolments per bulk step
_ID_CHUNK = 900  # ids per IN (…): SQLite allows 999 parameters


def message_source(campaign_id: int, enrolment_id: int, event_id: int) -> str:
    return f"{SOURCE_PREFIX}{campaign_id}:enrolment:{enrolment_id}:event:{event_id}"


def source_parts(source: str) -> tuple[int, int, int] | None:
    """(campaign id, enrolment id, event id) of a campaign message's source, else None."""
    if not source.startswith(SOURCE_PREFIX):
        return None
    parts = source.split(":")
    if len(parts) != 6 or parts[2] != "enrolment" or parts[4] != "event":
        return None
    try:
        return int(parts[1]), int(parts[3]), int(parts[5])
    except ValueError:
        return None


def _enrolment_prefix(enrolment: Enrolment) -> str:
    return f"{SOURCE_PREFIX}{enrolment.campaign_id}:enrolment:{enrolment.pk}:"


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _quiet() -> tuple[dt.time, dt.time]:
    return (
        dt.time.fromisoformat(settings.SUNSHINE_SMS_QUIET_START),
        dt.time.fromisoformat(settings.SUNSHINE_SMS_QUIET_END),
    )


def _chunks(seq: list, n: int = _ID_CHUNK):
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# ---- the hook the dispatcher calls ----------------------------------------------------------


def campaign_message_is_stale(message: Message) -> bool:
    """True for a campaign message that must not go out any more: its enrolment is closed, or
    the message was planned with an older campaign version than its enrolment now follows."""
    return message.pk in campaign_messages_stale([message])


def campaign_messages_stale(messages: Iterable) -> set[int]:
    """The ids of the campaign messages among `messages` (anything with pk, source and
    fire_version) that must not go out any more (see campaign_message_is_stale). A batch
    costs two queries when it holds campaign messages, none otherwise."""
    enrolment_of, planned = {}, {}
    for m in messages:
        parts = source_parts(m.source or "")
        if parts is not None:
            enrolment_of[m.pk], planned[m.pk] = parts[1], m.fire_version
    if not enrolment_of:
        return set()
    enrolments, versions = {}, {}
    for ids in _chunks(sorted(set(enrolment_of.values()))):
        rows = Enrolment.objects.filter(pk__in=ids).values_list("pk", "status", "campaign_version")
        enrolments.update((pk, (status, version)) for pk, status, version in rows)
    # The messages' versions are read again: a re-plan may have re-stamped them after the claim.
    for ids in _chunks(sorted(enrolment_of)):
        versions.update(Message.objects.filter(pk__in=ids).values_list("pk", "fire_version"))
    stale = set()
    for pk, enrolment_id in enrolment_of.items():
        row = enrolments.get(enrolment_id)
        if row is None:
            continue
        status, version = row
        if status != Enrolment.ACTIVE or versions.get(pk, planned[pk]) < version:
            stale.add(pk)
    return stale


# ---- campaigns and their events -------------------------------------------------------------


@transaction.atomic
def campaign_create(
    *, actor, code: str, name: str, anchor_label: str, programme: str, description: str = ""
) -> Campaign:
    campaign = Campaign(
        code=code,
        name=name.strip(),
        anchor_label=anchor_label.strip(),
        programme=programme,
        description=description,
    )
    if Campaign.objects.filter(code=code).exists():
        raise ServiceError(f"代码“{code}”已被其他短信计划使用，请换一个。", field="code")
    try:
        campaign.full_clean()
    except ValidationError as exc:
        raise ServiceError(_first_error(exc)) from None
    campaign.save()
    audit.record(actor=actor, action="campaign.create", obj=campaign)
    return campaign


def _first_error(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        name, messages = next(iter(exc.message_dict.items()))
        return f"{name}：{messages[0]}"
    return exc.messages[0]


def _check_event(campaign: Campaign, send_time: dt.time, template: Template) -> None:
    extra = [p for p in rules.template_params(template.body) if p not in PARAMS]
    if extra:
        raise ServiceError(
            "短信计划的模板只能用 {name}（称呼）和 {date}（日期）两个参数，"
            f"模板“{template.name}”还用了：" + "、".join(extra),
            field="template",
        )
    start, end = _quiet()
    probe = dt.datetime.combine(dt.date(2000, 1, 3), send_time)
    if rules.in_quiet_hours(probe, start, end):
        raise ServiceError(
            f"发送时刻 {send_time:%H:%M} 在免打扰时段（{start:%H:%M}–{end:%H:%M}）内，请改在白天。",
            field="send_time",
        )


@transaction.atomic
def campaign_event_add(
    *,
    actor,
    campaign: Campaign,
    offset_days: int,
    send_time: dt.time,
    template: Template,
    date_offset_days: int | None = None,
    position: int = 0,
) -> CampaignEvent:
    _check_event(campaign, send_time, template)
    event = CampaignEvent(
        campaign=campaign,
        offset_days=offset_days,
        send_time=send_time,
        template=template,
        date_offset_days=date_offset_days,
        position=position,
    )
    event.full_clean()
    event.save()
    version = _bump(actor, campaign)
    audit.record(
        actor=actor,
        action="campaign.event_add",
        obj=event,
        changes={"version": version, "offset_days": offset_days, "template": template.code},
    )
    return event


_UNSET = object()


@transaction.atomic
def campaign_event_update(
    *,
    actor,
    event: CampaignEvent,
    offset_days=_UNSET,
    send_time=_UNSET,
    template=_UNSET,
    date_offset_days=_UNSET,
    position=_UNSET,
) -> CampaignEvent:
    """Change an event. Only a change of when or what bumps the version; `position` alone
    only reorders the list."""
    fields = ["offset_days", "send_time", "template", "date_offset_days", "position"]
    before = audit.snapshot(event, fields)
    given = {
        "offset_days": offset_days,
        "send_time": send_time,
        "template": template,
        "date_offset_days": date_offset_days,
        "position": position,
    }
    for name, value in given.items():
        if value is not _UNSET:
            setattr(event, name, value)
    _check_event(event.campaign, event.send_time, event.template)
    event.full_clean()
    changes = audit.diff(event, fields, before)
    if not changes:
        return event
    event.save(update_fields=[f for f in fields if f in changes])
    version = None
    if set(changes) - {"position"}:
        version = _bump(actor, event.campaign)
    audit.record(
        actor=actor,
        action="campaign.event_update",
        obj=event,
        changes={**changes, "version": version},
    )
    return event


@transaction.atomic
def campaign_event_remove(*, actor, event: CampaignEvent) -> CampaignEvent:
    """Nothing is hard-deleted: the event is switched off and its pending messages drop out."""
    if not event.is_active:
        return event
    event.is_active = False
    event.save(update_fields=["is_active"])
    version = _bump(actor, event.campaign)
    audit.record(
        actor=actor, action="campaign.event_remove", obj=event, changes={"version": version}
    )
    return event


def _bump(actor, campaign: Campaign) -> int:
    """A new version of the schedule; active enrolments are re-planned by a job."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    campaign.version = locked.version
    if Enrolment.objects.filter(campaign=campaign, status=Enrolment.ACTIVE).exists():
        jobs.job_create(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            kind=RESCHEDULE_JOB,
            title=f"短信计划“{campaign.name}”改为第{locked.version}版，重排待发短信",
            place_path="",
            options={"campaign": campaign.pk, "version": locked.version},
        )
    return locked.version


# ---- planning (pure: anchor + events + now → messages) -------------------------------------


@dataclass(frozen=True)
class _Event:
    id: int
    offset_days: int
    send_time: dt.time
    template_id: int
    category: str
    body: str
    date_offset_days: int | None


def _events(campaign: Campaign) -> list[_Event]:
    qs = (
        CampaignEvent.objects.filter(campaign=campaign, is_active=True)
        .select_related("template")
        .order_by("offset_days", "send_time", "position", "id")
    )
    return [
        _Event(
            e.pk,
            e.offset_days,
            e.send_time,
            e.template_id,
            e.template.category,
            e.template.body,
            e.date_offset_days,
        )
        for e in qs
    ]


def _due(anchor: dt.date, ev: _Event, tz: ZoneInfo) -> dt.datetime:
    """Local date (anchor + offset) at the event's time of day, Beijing time."""
    return dt.datetime.combine(anchor + dt.timedelta(days=ev.offset_days), ev.send_time, tz)


def ready_until(now: dt.datetime) -> dt.datetime:
    """Campaign messages due up to this time belong in the send queue (Message.ready)."""
    return now + dt.timedelta(hours=settings.SUNSHINE_SMS_READY_HOURS)


def _next_ready(items, until: dt.datetime) -> dt.datetime | None:
    """The earliest due time among planned messages (event, due, …) not yet in the queue."""
    return min((it[1] for it in items if it[1] > until), default=None)


def _date_param(anchor: dt.date, ev: _Event) -> str:
    days = ev.offset_days if ev.date_offset_days is None else ev.date_offset_days
    d = anchor + dt.timedelta(days=days)
    return f"{d.month}月{d.day}日"


def _plan(
    anchor: dt.date, events: list[_Event], now: dt.datetime, fired: frozenset = frozenset()
) -> list[tuple[_Event, dt.datetime]]:
    """The messages an enrolment should have waiting: (event, due) — future events at their
    time, and of the past ones only the latest, due now. `fired` are events already sent (or
    being sent): never again, and nothing that comes before them."""
    tz = _tz()
    dues = [(ev, _due(anchor, ev, tz)) for ev in events]
    cut = max((d for ev, d in dues if ev.id in fired), default=None)
    open_ = [(ev, d) for ev, d in dues if ev.id not in fired and (cut is None or d > cut)]
    _skip, now_id = rules.late_enrolment_plan([(ev.id, d) for ev, d in open_], now)
    return [(ev, d if d > now else now) for ev, d in open_ if d > now or ev.id == now_id]


# ---- writing messages in bulk ---------------------------------------------------------------

NULL = "\\N"  # COPY text format
_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_MESSAGE_COLUMNS = (
    "out_id",
    "mobile",
    "resident",
    "place",
    "place_path",
    "enrolment",
    "params",
    "programme",
    "category",
    "template",
    "body",
    "signature",
    "status",
    "due_at",
    "attempts",
    "claimed_until",
    "claimed_by",
    "segments",
    "cost",
    "provider_id",
    "error",
    "sent_at",
    "delivered_at",
    "created_at",
    "fire_version",
    "ready",
    "source",
)


class _OutIds:
    """OutIds for one bulk write: 32 hex digits like uuid4().hex, but rising — the time of the
    write (12 digits, ms), a counter (8) and 48 random bits (12) — so that two million new
    rows append to the right edge of the unique index instead of landing at random pages
    (several times faster once the index outgrows memory). Unique: a collision would need
    two writers in the same millisecond drawing the same 48 random bits at the same count."""

    def __init__(self):
        self.prefix = rules.out_id_prefix()
        self.seq = 0

    def take(self, n: int) -> list[str]:
        rand = os.urandom(6 * n).hex()
        start, self.seq = self.seq, self.seq + n
        p = self.prefix
        return [f"{p}{start + i:08x}{rand[12 * i : 12 * i + 12]}" for i in range(n)]


@dataclass
class _Person:
    """What each message of one enrolment repeats."""

    enrolment_id: int
    name: str
    mobile: str
    resident_id: int | None
    place_id: int | None
    place_path: str


class _MessageWriter:
    """Appends campaign messages to the outbox inside the current transaction: COPY on
    PostgreSQL (lines built here), executemany elsewhere. Skips the model layer: a campaign
    of 100,000 people writes two million rows."""

    def __init__(self, campaign: Campaign, version: int):
        self.campaign, self.version = campaign, version
        self.count, self.due_now = 0, 0
        self.pg = connection.vendor == "postgresql"
        self.created = timezone.now()
        self.signature = settings.SUNSHINE_SMS_SIGNATURE
        self._buf: list = []
        self._ev_static: dict = {}
        self._ids = _OutIds()
        self._copy = None  # an open COPY while streaming
        opts = Message._meta
        self.columns = [opts.get_field(f).column for f in _MESSAGE_COLUMNS]
        self.table = opts.db_table

    def _static(self, ev: _Event, due: dt.datetime, ready: bool) -> str:
        """The columns after `params` up to `ready`, in COPY text."""
        key = (ev.id, due, ready)
        text = self._ev_static.get(key)
        if text is None:
            text = "\t".join(
                [
                    self.campaign.programme.translate(_COPY_ESCAPE),
                    ev.category,
                    str(ev.template_id),
                    "",
                    self.signature.translate(_COPY_ESCAPE),
                    rules.QUEUED,
                    due.isoformat(),
                    "0",
                    "\\N",
                    "",
                    "0",
                    "0",
                    "",
                    "",
                    "\\N",
                    "\\N",
                    self.created.isoformat(),
                    str(self.version),
                    "t" if ready else "f",
                ]
            )
            if len(self._ev_static) > 100_000:
                self._ev_static.clear()
            self._ev_static[key] = text
        return text

    def add_person(
        self,
        person: _Person,
        items: list[tuple[_Event, dt.datetime, str]],
        now: dt.datetime,
    ) -> None:
        """items: (event, due, {date} text) for one enrolment."""
        if not items:
            return
        ids = self._ids.take(len(items))
        until = ready_until(now)
        src = f"{SOURCE_PREFIX}{self.campaign.pk}:enrolment:{person.enrolment_id}:event:"
        if self.pg:
            # Dates are "12月5日": only the name may need JSON or COPY escapes.
            name_json = json.dumps(person.name, ensure_ascii=False)
            head = "\t".join(
                [
                    person.mobile,
                    "\\N" if person.resident_id is None else str(person.resident_id),
                    "\\N" if person.place_id is None else str(person.place_id),
                    person.place_path.translate(_COPY_ESCAPE),
                    str(person.enrolment_id),
                    f'{{"name": {name_json}, "date": "'.translate(_COPY_ESCAPE),
                ]
            )
            static = self._static
            self._buf.extend(
                f'{oid}\t{head}{date}"}}\t{static(ev, due, due <= until)}\t{src}{ev.id}\n'
                for oid, (ev, due, date) in zip(ids, items, strict=True)
            )
        else:
            ops = connection.ops
            created = ops.adapt_datetimefield_value(self.created)
            for oid, (ev, due, date) in zip(ids, items, strict=True):
                self._buf.append(
                    (
                        oid,
                        person.mobile,
                        person.resident_id,
                        person.place_id,
                        person.place_path,
                        person.enrolment_id,
                        json.dumps({"name": person.name, "date": date}, ensure_ascii=False),
                        self.campaign.programme,
                        ev.category,
                        ev.template_id,
                        "",
                        self.signature,
                        rules.QUEUED,
                        ops.adapt_datetimefield_value(due),
                        0,
                        None,
                        "",
                        0,
                        "0",
                        "",
                        "",
                        None,
                        None,
                        created,
                        self.version,
                        due <= until,
                        f"{src}{ev.id}",
                    )
                )
        self.count += len(items)
        if min(due for _ev, due, _d in items[:2]) <= now:  # the one due now comes first
            self.due_now += sum(1 for _ev, due, _d in items if due <= now)
        if len(self._buf) >= 20_000:
            self.flush()

    @property
    def _copy_statement(self) -> str:
        return f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"

    @contextmanager
    def streaming(self) -> Iterator["_MessageWriter"]:
        """PostgreSQL: one COPY stays open while messages are added, its data handed to a
        thread that writes to the socket, so that the database stores one part while the next
        is built — both cores at work instead of taking turns (a bulk enrolment ran 1.4×
        faster). No other statement may use the connection meanwhile. Elsewhere: flushes."""
        if not self.pg:
            yield self
            self.flush()
            return
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(self._copy_statement, writer=QueuedLibpqWriter(raw)) as copy:
                self._copy = copy
                try:
                    yield self
                    self.flush()
                finally:
                    self._copy = None

    def flush(self) -> None:
        if not self._buf:
            return
        if self._copy is not None:
            self._copy.write("".join(self._buf))
            self._buf = []
            return
        with connection.cursor() as cursor:
            if self.pg:
                with cursor.cursor.copy(self._copy_statement) as copy:
                    copy.write("".join(self._buf))
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})",
                    self._buf,
                )
        self._buf = []


def _dispatch_soon() -> None:
    from sunshine.messaging import tasks

    tasks.dispatch_now()


# ---- enrolment ------------------------------------------------------------------------------


@dataclass
class EnrolmentRow:
    """One person to enrol. Give a resident (name, mobile and place are taken from it unless
    given) or a name and a mobile."""

    anchor_date: dt.date
    resident: object = None
    resident_id: int | None = None
    name: str = ""
    mobile: str = ""
    place: object = None
    place_id: int | None = None
    place_path: str = ""
    source: str = ""


@dataclass
class EnrolResult:
    enrolments: list[Enrolment] = field(default_factory=list)
    enrolled: int = 0
    messages: int = 0
    call_tasks: int = 0
    already: int = 0  # rows whose source already has an active enrolment: left alone


def _row_values(row: EnrolmentRow, n: int) -> EnrolmentRow:
    r = row.resident
    if r is not None:
        row.resident_id = r.pk
        row.name = row.name or r.name
        row.mobile = row.mobile or r.mobile
        if row.place is None and row.place_id is None:
            row.place_id, row.place_path = r.place_id, r.place_path
    if row.place is not None:
        row.place_id, row.place_path = row.place.pk, row.place.path
    row.name = (row.name or "").strip()
    if not row.name:
        raise ServiceError(f"第{n}人：请填写称呼（短信里的{{name}}）。", field="name")
    if not isinstance(row.anchor_date, dt.date) or isinstance(row.anchor_date, dt.datetime):
        raise ServiceError(f"第{n}人：起算日期应是一个日期。", field="anchor_date")
    return row


def _usable_mobile(mobile: str) -> str:
    if not mobile:
        return ""
    try:
        return validate_mobile(mobile)
    except ValidationError:
        return ""


_ENROLMENT_COLUMNS = (
    "id",
    "campaign",
    "resident",
    "name",
    "mobile",
    "place",
    "place_path",
    "anchor_date",
    "status",
    "campaign_version",
    "done_through",
    "source",
    "created_at",
    "closed_at",
    "close_reason",
    "next_ready_at",
)


def _insert_enrolments(
    campaign: Campaign, rows: list, mobiles: list[str], nexts: list[dt.datetime | None]
) -> list[int]:
    """Write the enrolments (with when each has a message to put in the send queue next),
    return their ids in order. PostgreSQL: ids drawn from the sequence and the rows COPYed
    (the model layer costs more than the database here)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = [
            Enrolment(
                campaign=campaign,
                resident_id=r.resident_id,
                name=r.name,
                mobile=mobile,
                place_id=r.place_id,
                place_path=r.place_path,
                anchor_date=r.anchor_date,
                campaign_version=campaign.version,
                source=r.source,
                next_ready_at=nxt,
            )
            for r, mobile, nxt in zip(rows, mobiles, nexts, strict=True)
        ]
        Enrolment.objects.bulk_create(objs, batch_size=500)
        return [o.pk for o in objs]
    opts = Enrolment._meta
    columns = [opts.get_field(f).column for f in _ENROLMENT_COLUMNS]
    middle = f"\t{Enrolment.ACTIVE}\t{campaign.version}\t\\N\t"
    tail = f"\t{timezone.now().isoformat()}\t\\N\t\t"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [opts.db_table, len(rows)],
        )
        ids = [i for (i,) in cursor.fetchall()]
        stmt = f"COPY {opts.db_table} ({', '.join(columns)}) FROM STDIN"
        raw = cursor.cursor
        with raw.copy(stmt, writer=QueuedLibpqWriter(raw)) as copy:  # see _MessageWriter
            for start in range(0, len(rows), CHUNK):
                part = slice(start, start + CHUNK)
                people = zip(ids[part], rows[part], mobiles[part], nexts[part], strict=True)
                copy.write("".join(_enrolment_lines(campaign.pk, people, middle, tail)))
    return ids


def _enrolment_lines(campaign_id: int, rows: Iterable, middle: str, tail: str) -> Iterator[str]:
    """Enrolments in COPY text from (id, row, mobile, next ready): `middle` holds the columns
    from status to done_through, `tail` those between the source and next_ready_at."""
    for pk, r, mobile, nxt in rows:
        resident = NULL if r.resident_id is None else r.resident_id
        place = NULL if r.place_id is None else r.place_id
        name, path, source = (v.translate(_COPY_ESCAPE) for v in (r.name, r.place_path, r.source))
        yield (
            f"{pk}\t{campaign_id}\t{resident}\t{name}\t{mobile}\t{place}\t{path}\t"
            f"{r.anchor_date.isoformat()}{middle}{source}{tail}"
            f"{NULL if nxt is None else nxt.isoformat()}\n"
        )


def _call_task_for(
    campaign: Campaign, person: _Person, raw_mobile: str, anchor: dt.date, items
) -> CallTask:
    lines = [
        f"{campaign.name}（{campaign.anchor_label}{anchor:%Y-%m-%d}）：{person.name}"
        "没有可用的手机号码，收不到提醒短信。请电话告知以下安排，并问一个能收短信的手机号码："
    ]
    for ev, due, date in items:
        text = rules.render(ev.body, {"name": person.name, "date": date})
        lines.append(f"{due.astimezone(_tz()):%m-%d}　{text}")
    if not items:
        lines.append("（没有待发的短信）")
    return CallTask(
        resident_id=person.resident_id,
        mobile=raw_mobile[:20],
        place_path=person.place_path,
        reason="手机号码无效，请电话告知短信计划"
        if raw_mobile
        else "没有手机号码，请电话告知短信计划",
        script="\n".join(lines),
    )


def _items(anchor, events, now, cache: dict | None = None, fired=frozenset()):
    """(event, due, {date}) for an anchor; cached per anchor for fresh enrolments."""
    if cache is not None and not fired:
        got = cache.get(anchor)
        if got is None:
            got = cache[anchor] = [
                (ev, due, _date_param(anchor, ev)) for ev, due in _plan(anchor, events, now)
            ]
        return got
    return [(ev, due, _date_param(anchor, ev)) for ev, due in _plan(anchor, events, now, fired)]


@transaction.atomic
def enrol_many(
    *,
    actor,
    campaign: Campaign,
    rows: Iterable[EnrolmentRow],
    now: dt.datetime | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> EnrolResult:
    """Enrol many people at once: every future message of every person written in bulk (a
    few queries per 2,000 people; PostgreSQL COPY). All or nothing, one audit row. A row
    whose `source` already has an active enrolment in this campaign is left alone, so a
    repeated call adds nothing."""
    now = now or timezone.now()
    result = _enrol(campaign, rows, now, progress)
    audit.record(
        actor=actor,
        action="campaign.enrol_many",
        obj=campaign,
        changes={
            "enrolled": result.enrolled,
            "messages": result.messages,
            "call_tasks": result.call_tasks,
            "already": result.already,
        },
    )
    return result


def _enrol(campaign: Campaign, rows, now, progress=None, keep: bool = False) -> EnrolResult:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_active:
        raise ServiceError(f"短信计划“{campaign.name}”已停用，不能再加入。")
    events = _events(campaign)
    rows = list(rows)
    result = EnrolResult()
    writer = _MessageWriter(campaign, campaign.version)
    cache: dict = {}
    tasks: list[CallTask] = []
    seen: set[str] = set()
    fresh, mobiles, nexts = [], [], []
    until = ready_until(now)
    next_by_anchor: dict[dt.date, dt.datetime | None] = {}
    for start in range(0, len(rows), CHUNK):
        chunk = [_row_values(r, start + i + 1) for i, r in enumerate(rows[start : start + CHUNK])]
        sources = [r.source for r in chunk if r.source]
        taken = set()
        for part in _chunks(sources):
            taken.update(
                Enrolment.objects.filter(
                    campaign=campaign, status=Enrolment.ACTIVE, source__in=part
                ).values_list("source", flat=True)
            )
        for r in chunk:
            if r.source and (r.source in taken or r.source in seen):
                result.already += 1
                continue
            if r.source:
                seen.add(r.source)
            r.name, r.source = r.name[:50], r.source[:60]
            fresh.append(r)
            mobile = _usable_mobile(r.mobile)
            mobiles.append(mobile)
            if not mobile:
                nexts.append(None)
                continue
            if r.anchor_date not in next_by_anchor:
                items = _items(r.anchor_date, events, now, cache)
                next_by_anchor[r.anchor_date] = _next_ready(items, until)
            nexts.append(next_by_anchor[r.anchor_date])
        if progress:
            progress(min(start + CHUNK, len(rows)), len(rows), "核对对象")
    # Then the enrolments in one stream, and every message in another (PostgreSQL COPY: no
    # other statement on the connection until each ends).
    ids = _insert_enrolments(campaign, fresh, mobiles, nexts)
    result.enrolled = len(ids)
    if keep:
        result.enrolments = list(Enrolment.objects.filter(pk__in=ids).order_by("pk"))
    with writer.streaming():
        for start in range(0, len(ids), CHUNK):
            part = slice(start, start + CHUNK)
            for r, pk, mobile in zip(fresh[part], ids[part], mobiles[part], strict=True):
                person = _Person(pk, r.name, mobile, r.resident_id, r.place_id, r.place_path)
                items = _items(r.anchor_date, events, now, cache)
                if mobile:
                    writer.add_person(person, items, now)
                else:
                    tasks.append(_call_task_for(campaign, person, r.mobile, r.anchor_date, items))
            if progress:
                progress(min(start + CHUNK, len(ids)), len(ids), "写入短信")
    CallTask.objects.bulk_create(tasks, batch_size=500)
    result.call_tasks += len(tasks)
    result.messages = writer.count
    if writer.due_now:
        transaction.on_commit(_dispatch_soon)
    return result


@transaction.atomic
def enrol(
    *,
    actor,
    campaign: Campaign,
    anchor_date: dt.date,
    resident=None,
    mobile: str = "",
    name: str = "",
    place=None,
    source: str = "",
    now: dt.datetime | None = None,
) -> Enrolment:
    """Enrol one person (a resident, or a name and a mobile) from an anchor date."""
    if resident is None and not mobile:
        raise ServiceError("请指定居民，或填写手机号码。", field="mobile")
    if (
        source
        and Enrolment.objects.filter(
            campaign=campaign, source=source, status=Enrolment.ACTIVE
        ).exists()
    ):
        raise ServiceError(f"“{source}”已在短信计划“{campaign.name}”中。", field="source")
    row = EnrolmentRow(
        anchor_date=anchor_date,
        resident=resident,
        name=name,
        mobile=mobile,
        place=place,
        source=source,
    )
    result = _enrol(campaign, [row], now or timezone.now(), keep=True)
    enrolment = result.enrolments[0]
    audit.record(
        actor=actor,
        action="campaign.enrol",
        obj=enrolment,
        changes={
            "anchor_date": anchor_date.isoformat(),
            "messages": result.messages,
            "call_task": bool(result.call_tasks),
        },
    )
    return enrolment


def enrolment_for_source(*, campaign: Campaign, source: str) -> Enrolment | None:
    """The active enrolment a case made ("precheck:couple:12"), if any."""
    return Enrolment.objects.filter(
        campaign=campaign, source=source, status=Enrolment.ACTIVE
    ).first()


# ---- re-planning one or many enrolments -----------------------------------------------------


@dataclass
class _Msg:
    id: int
    event_id: int
    status: str
    due_at: dt.datetime
    template_id: int | None
    category: str
    params: dict
    fire_version: int


_MSG_FIELDS = (
    "id",
    "enrolment_id",
    "source",
    "status",
    "due_at",
    "template_id",
    "category",
    "params",
    "fire_version",
)


def _messages_of(enrolments: list[Enrolment]) -> dict[int, list[_Msg]]:
    """The campaign messages of these enrolments (one campaign), locked, by enrolment id."""
    out: dict[int, list[_Msg]] = {e.pk: [] for e in enrolments}
    for part in _chunks(list(out), 400):
        qs = (
            Message.objects.select_for_update()
            .filter(enrolment_id__in=part)
            .order_by("id")
            .values_list(*_MSG_FIELDS)
        )
        for mid, enrolment_id, source, status, due_at, template_id, category, params, fv in qs:
            parts = source_parts(source)  # the event is named only there
            if parts is not None:
                out[enrolment_id].append(
                    _Msg(mid, parts[2], status, due_at, template_id, category, params, fv)
                )
    return out


@dataclass
class _Changes:
    cancel: list[int] = field(default_factory=list)
    restamp: list[int] = field(default_factory=list)
    move: list[Message] = field(default_factory=list)
    created: int = 0


def _replan(
    enrolment: Enrolment,
    events: list[_Event],
    messages: list[_Msg],
    now: dt.datetime,
    version: int,
    writer: _MessageWriter,
    changes: _Changes,
) -> None:
    """Bring one enrolment's waiting messages in line with its anchor date and the current
    events: keep what is sent or being sent, move or re-stamp what waits, cancel what is no
    longer wanted (an event it is done with, see enrolment_milestone, included), write what
    is missing."""
    if enrolment.done_through is not None:
        events = [ev for ev in events if ev.offset_days > enrolment.done_through]
    fired = frozenset(
        m.event_id for m in messages if m.status not in (rules.QUEUED, rules.CANCELLED)
    )
    for m in messages:  # being sent right now: it goes out, under the new version
        if m.status == rules.SENDING and m.fire_version < version:
            changes.restamp.append(m.id)
    pending: dict[int, _Msg] = {}
    for m in messages:
        if m.status == rules.QUEUED:
            if m.event_id in pending or m.event_id in fired:
                changes.cancel.append(m.id)
            else:
                pending[m.event_id] = m
    new = []
    for ev, due, date in _items(enrolment.anchor_date, events, now, fired=fired):
        params = {"name": enrolment.name, "date": date}
        m = pending.pop(ev.id, None)
        if m is None:
            new.append((ev, due, date))
            continue
        if due <= now and m.due_at <= now:
            due = m.due_at  # already waiting (quiet hours, a retry): keep its place
        if (m.due_at, m.template_id, m.category, m.params) == (
            due,
            ev.template_id,
            ev.category,
            params,
        ):
            if m.fire_version != version:
                changes.restamp.append(m.id)
        else:
            changes.move.append(
                Message(
                    id=m.id,
                    due_at=due,
                    template_id=ev.template_id,
                    category=ev.category,
                    params=params,
                    fire_version=version,
                    ready=due <= ready_until(now),
                )
            )
    changes.cancel.extend(m.id for m in pending.values())
    if new and enrolment.mobile:
        person = _Person(
            enrolment.pk,
            enrolment.name,
            enrolment.mobile,
            enrolment.resident_id,
            enrolment.place_id,
            enrolment.place_path,
        )
        writer.add_person(person, new, now)
        changes.created += len(new)


def _apply(changes: _Changes, version: int, why: str) -> int:
    """Write the changes; returns how many messages were cancelled."""
    for part in _chunks(changes.restamp):
        Message.objects.filter(id__in=part, status__in=(rules.QUEUED, rules.SENDING)).update(
            fire_version=version
        )
    if changes.move:
        Message.objects.bulk_update(
            changes.move,
            ["due_at", "template", "category", "params", "fire_version", "ready"],
            batch_size=200,
        )
        tz = _tz()
        Attempt.objects.bulk_create(
            [
                Attempt(
                    message_id=m.id,
                    event="moved",
                    detail=f"改到{m.due_at.astimezone(tz):%m-%d %H:%M}",
                )
                for m in changes.move
            ],
            batch_size=500,
        )
    return _cancel(changes.cancel, why)


def _next_ready_refresh(enrolment_ids: list[int]) -> None:
    """Set each enrolment's next_ready_at from its messages not yet in the send queue."""
    for part in _chunks(enrolment_ids):
        found = dict(
            Message.objects.filter(enrolment_id__in=part, status=rules.QUEUED, ready=False)
            .order_by()
            .values_list("enrolment_id")
            .annotate(first=Min("due_at"))
        )
        changed = [Enrolment(pk=pk, next_ready_at=found.get(pk)) for pk in part]
        Enrolment.objects.bulk_update(changed, ["next_ready_at"], batch_size=500)


_ANY_READY = f"SELECT 1 FROM {Enrolment._meta.db_table} WHERE next_ready_at <= %s LIMIT 1"


def messages_make_ready(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Put the campaign messages due within SUNSHINE_SMS_READY_HOURS into the send queue (their
    `ready` flag: PostgreSQL's triggers add their SendQueue rows, SQLite's claim index takes
    them), through the enrolments whose next_ready_at has come: one indexed query
    when there is nothing to do, so every dispatch round calls it. Enrolments another worker
    is handling are skipped. Returns the number of messages made ready."""
    until = ready_until(now or timezone.now())
    with sql.cursor() as cursor:  # the usual case: one index probe, no transaction
        sql.execute(
            cursor, _ANY_READY, [connection.ops.adapt_datetimefield_value(until)], prepared=True
        )
        if cursor.fetchone() is None:
            return 0
    made = 0
    while True:
        with transaction.atomic():
            ids = list(
                Enrolment.objects.select_for_update(skip_locked=True)
                .filter(next_ready_at__lte=until)
                .order_by("next_ready_at")
                .values_list("pk", flat=True)[:limit]
            )
            if not ids:
                return made
            made += Message.objects.filter(
                enrolment_id__in=ids, status=rules.QUEUED, ready=False, due_at__lte=until
            ).update(ready=True)
            _next_ready_refresh(ids)
        if len(ids) < limit:
            return made


def _cancel(ids: list[int], why: str) -> int:
    n = 0
    for part in _chunks(ids):
        # Rows are locked by the caller (PostgreSQL) or the writer is alone (SQLite).
        got = list(
            Message.objects.filter(id__in=part, status=rules.QUEUED).values_list("id", flat=True)
        )
        Message.objects.filter(id__in=got).update(
            status=rules.CANCELLED, claimed_until=None, error=why[:200]
        )
        Attempt.objects.bulk_create(
            [Attempt(message_id=i, event=rules.CANCELLED, detail=why[:300]) for i in got]
        )
        n += len(got)
    return n


def _locked(enrolment: Enrolment) -> Enrolment:
    e = Enrolment.objects.select_for_update().select_related("campaign").get(pk=enrolment.pk)
    if e.status != Enrolment.ACTIVE:
        raise ServiceError("该对象的短信计划已结束，不能再修改。")
    return e


@transaction.atomic
def anchor_change(
    *, actor, enrolment: Enrolment, anchor_date: dt.date, now: dt.datetime | None = None
) -> Enrolment:
    """The anchor date changed (a corrected 末次月经日期, a new 预产期): messages still waiting
    move with it; sent ones stay. Events the new date puts in the past follow the late-
    enrolment rule (the latest is sent now, the rest skipped)."""
    now = now or timezone.now()
    e = _locked(enrolment)
    if e.anchor_date == anchor_date:
        return e
    old = e.anchor_date
    e.anchor_date = anchor_date
    e.full_clean()
    e.save(update_fields=["anchor_date"])
    changes = _replan_one(e, now, f"{e.campaign.anchor_label}改为{anchor_date:%Y-%m-%d}，不再发送")
    audit.record(
        actor=actor,
        action="campaign.anchor_change",
        obj=e,
        changes={"anchor_date": [old.isoformat(), anchor_date.isoformat()], **changes},
    )
    enrolment.anchor_date = anchor_date
    return e


def _replan_one(e: Enrolment, now: dt.datetime, why: str, also: list[_Msg] = ()) -> dict:
    """Re-plan one enrolment; `also` are its messages to a number it no longer has."""
    campaign = e.campaign
    version = Campaign.objects.filter(pk=campaign.pk).values_list("version", flat=True).get()
    events = _events(campaign)
    writer = _MessageWriter(campaign, version)
    changes = _Changes()
    found = _messages_of([e])[e.pk]
    known = {m.id for m in found}
    found += [m for m in also if m.id not in known]
    _replan(e, events, found, now, version, writer, changes)
    writer.flush()
    cancelled = _apply(changes, version, why)
    _next_ready_refresh([e.pk])
    if e.campaign_version != version:
        e.campaign_version = version
        e.save(update_fields=["campaign_version"])
    if writer.due_now or any(m.due_at <= now for m in changes.move):
        transaction.on_commit(_dispatch_soon)
    return {"moved": len(changes.move), "cancelled": cancelled, "created": changes.created}


@transaction.atomic
def enrolment_milestone(
    *,
    actor,
    enrolment: Enrolment,
    anchor_date: dt.date,
    done_through: int,
    reason: str,
    now: dt.datetime | None = None,
) -> Enrolment:
    """What the schedule counts toward happened, early or late (a birth before or after the
    预产期): the anchor moves so that the events still ahead count from the real date, and
    every event up to `done_through` days after the anchor is over — its waiting messages are
    cancelled, and no later re-plan (an anchor change, a campaign edit) brings it back; the
    late-enrolment rule does not send the latest of them either."""
    now = now or timezone.now()
    e = _locked(enrolment)
    old = (e.anchor_date, e.done_through)
    e.anchor_date, e.done_through = anchor_date, done_through
    e.full_clean()
    e.save(update_fields=["anchor_date", "done_through"])
    changes = _replan_one(e, now, f"{reason}，这条提醒不再发送")
    audit.record(
        actor=actor,
        action="campaign.enrolment_milestone",
        obj=e,
        reason=reason[:200],
        changes={
            "anchor_date": [old[0].isoformat(), anchor_date.isoformat()],
            "done_through": [old[1], done_through],
            **changes,
        },
    )
    enrolment.anchor_date, enrolment.done_through = anchor_date, done_through
    return e


@transaction.atomic
def enrolment_close(
    *, actor, enrolment: Enrolment, reason: str, now: dt.datetime | None = None
) -> Enrolment:
    """The case closed (pregnancy ended, moved away, withdrew): waiting messages are cancelled;
    one already claimed by a worker is stopped at send time (campaign_message_is_stale)."""
    if not reason.strip():
        raise ServiceError("请填写结束原因。", field="reason")
    now = now or timezone.now()
    e = _locked(enrolment)
    ids = [m.id for m in _messages_of([e])[e.pk] if m.status == rules.QUEUED]
    e.status, e.closed_at, e.close_reason = Enrolment.CLOSED, now, reason.strip()[:200]
    e.save(update_fields=["status", "closed_at", "close_reason"])
    cancelled = _cancel(ids, f"短信计划已结束：{e.close_reason}")
    audit.record(
        actor=actor,
        action="campaign.enrolment_close",
        obj=e,
        reason=e.close_reason,
        changes={"cancelled": cancelled},
    )
    enrolment.status, enrolment.closed_at, enrolment.close_reason = (
        e.status,
        e.closed_at,
        e.close_reason,
    )
    return e


@transaction.atomic
def enrolment_mobile_set(
    *, actor, enrolment: Enrolment, mobile: str, now: dt.datetime | None = None
) -> Enrolment:
    """A number for someone enrolled without one (or a new number): waiting messages to the
    old number are cancelled and the rest of the schedule is written to the new one."""
    now = now or timezone.now()
    try:
        mobile = validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="mobile") from None
    e = _locked(enrolment)
    if e.mobile == mobile:
        return e
    before = _messages_of([e])[e.pk]
    cancelled = _cancel([m.id for m in before if m.status == rules.QUEUED], "手机号码已更换")
    old = e.mobile
    e.mobile = mobile
    e.save(update_fields=["mobile"])
    gone = [m for m in before if m.status not in (rules.QUEUED, rules.CANCELLED)]
    changes = _replan_one(e, now, "手机号码已更换", also=gone)
    audit.record(
        actor=actor,
        action="campaign.enrolment_mobile_set",
        obj=e,
        changes={"had_mobile": bool(old), "cancelled": cancelled, **changes},
    )
    enrolment.mobile = mobile
    return e


def campaign_reschedule(
    *,
    campaign_id: int,
    now: dt.datetime | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    chunk: int = 500,
) -> dict:
    """Re-plan every active enrolment still on an older version of the campaign, a chunk per
    transaction. Safe to run twice and to stop half-way: an enrolment's version says
    whether it is done."""
    now = now or timezone.now()
    totals = {"enrolments": 0, "moved": 0, "cancelled": 0, "created": 0}
    todo = None
    while True:
        with transaction.atomic():
            campaign = Campaign.objects.get(pk=campaign_id)
            version = campaign.version
            qs = Enrolment.objects.filter(
                campaign=campaign, status=Enrolment.ACTIVE, campaign_version__lt=version
            )
            if todo is None:
                todo = qs.count()
            batch = list(qs.order_by("id").select_for_update()[:chunk])
            if not batch:
                break
            events = _events(campaign)
            writer = _MessageWriter(campaign, version)
            changes = _Changes()
            by_enrolment = _messages_of(batch)
            for e in batch:
                _replan(e, events, by_enrolment[e.pk], now, version, writer, changes)
            writer.flush()
            totals["cancelled"] += _apply(changes, version, "短信计划已更新，按新计划发送")
            _next_ready_refresh([e.pk for e in batch])
            Enrolment.objects.filter(pk__in=[e.pk for e in batch]).update(campaign_version=version)
            totals["enrolments"] += len(batch)
            totals["moved"] += len(changes.move)
            totals["created"] += changes.created
            if writer.due_now or any(m.due_at <= now for m in changes.move):
                transaction.on_commit(_dispatch_soon)
        if progress:
            progress(totals["enrolments"], max(todo, totals["enrolments"]), "重排待发短信")
    return totals


@jobs.runner(RESCHEDULE_JOB, atomic=False)
def run_reschedule(job, progress) -> str:
    t = campaign_reschedule(campaign_id=job.options["campaign"], progress=progress)
    job.result = {"total": t["enrolments"], **t}
    return (
        f"已按新计划重排 {t['enrolments']} 人：新增 {t['created']} 条，改期 {t['moved']} 条，"
        f"取消 {t['cancelled']} 条。"
    )
