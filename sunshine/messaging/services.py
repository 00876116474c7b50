"""Every write of the SMS engine: enqueue, claim and dispatch, receipts, replies, opt-out,
call tasks. Safe with many workers. On PostgreSQL a worker claims a batch with SELECT … FOR
UPDATE SKIP LOCKED and holds those row locks until the batch is recorded as sent, in one
transaction: a worker killed mid-batch loses its connection, its transaction rolls back and the
rows are free again at once, still queued. On SQLite (one writer at a time, so no transaction
may stay open across a gateway call) the claim is a lease: status 'sending' with a deadline, and
a dead worker's rows are taken back when the lease ends. Either way a resent message keeps its
OutId."""

import datetime as dt
import json
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from sunshine.core import audit, sql
from sunshine.core.errors import ServiceError
from sunshine.core.validators import mobile_normalised, validate_mobile
from sunshine.messaging import campaigns, rules
from sunshine.messaging.backends import Outgoing, get_gateway
from sunshine.messaging.models import Attempt, CallTask, Message, OptOut, Receipt, Reply, Template

log = logging.getLogger(__name__)
# Other modules' handlers for replies, by intent (rules.reply_intent): callables
# (reply, text) -> bool, True when the handler took the reply.
REPLY_HANDLERS: dict[str, list] = {"answer": [], "objection": []}
CALLTASK_OWNERS: list = []  # callables (task) -> str: why only its owner may close it, or ""


def register_reply_handler(intent: str, handler) -> None:
    """A module that asks a numbered question (1 = confirm appointment) registers an "answer"
    handler; the module that publishes notices an "objection" one ("YY 内容"). The first
    handler that returns True for a reply has handled it; otherwise it goes to the inbox."""
    if handler not in REPLY_HANDLERS[intent]:
        REPLY_HANDLERS[intent].append(handler)


def register_calltask_owner(check) -> None:
    """A module whose call tasks are closed through its own form (a 好孕好运 follow-up call
    records an outcome) registers a check: given a task, the reason the generic call desk may
    not close it, or "" when it is not that module's."""
    if check not in CALLTASK_OWNERS:
        CALLTASK_OWNERS.append(check)


def _quiet() -> tuple[dt.time, dt.time]:
    start = dt.time.fromisoformat(settings.SUNSHINE_SMS_QUIET_START)
    end = dt.time.fromisoformat(settings.SUNSHINE_SMS_QUIET_END)
    return start, end


def _per_segment() -> Decimal:
    return Decimal(settings.SUNSHINE_SMS_COST_PER_SEGMENT)


@transaction.atomic
def template_save(
    *,
    actor,
    code: str,
    name: str,
    body: str,
    category: str = rules.NON_ESSENTIAL,
    provider_code: str = "",
    params: list[str] | None = None,
) -> Template:
    """Create or update a template. Its parameters are read from the body; when `params` is
    given (the parameters callers will pass), every parameter in the body must be among them."""
    try:
        used = rules.template_params(body)
    except ValueError as exc:
        raise ServiceError(str(exc), field="body") from None
    if params is not None:
        missing = [p for p in used if p not in params]
        if missing:
            raise ServiceError("模板用到了未提供的参数：" + "、".join(missing), field="body")
    if rules.length(body, settings.SUNSHINE_SMS_SIGNATURE) > rules.MAX_LENGTH:
        raise ServiceError(f"短信连签名不能超过{rules.MAX_LENGTH}字。", field="body")
    template, _ = Template.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "body": body,
            "params": used,
            "category": category,
            "provider_code": provider_code,
        },
    )
    audit.record(actor=actor, action="sms_template.save", obj=template, changes={"params": used})
    return template


def _opted_out(mobile: str) -> bool:
    return OptOut.objects.filter(mobile=mobile, is_active=True).exists()


@transaction.atomic
def message_enqueue(
    *,
    programme: str,
    mobile: str = "",
    template: Template | str | None = None,
    params: dict | None = None,
    body: str = "",
    category: str | None = None,
    resident=None,
    place=None,
    due_at: dt.datetime | None = None,
    source: str = "",
    fire_version: int = 0,
    now: dt.datetime | None = None,
) -> Message | CallTask:
    """Queue one SMS. A person without a mobile gets a call task instead; a number that opted
    out of non-essential messages gets a cancelled row (kept for the record)."""
    now = now or timezone.now()
    params = params or {}
    if isinstance(template, str):
        template = Template.objects.get(code=template)
    if template is not None:
        category = category or template.category
        try:
            text = rules.render(template.body, params)
        except KeyError as exc:
            raise ServiceError(exc.args[0]) from None
    else:
        text = body.strip()
        if not text:
            raise ServiceError("短信内容不能为空。")
    category = category or rules.NON_ESSENTIAL
    place = place or (resident.place if resident is not None else None)
    place_path = place.path if place is not None else ""
    if not mobile and resident is not None:
        mobile = resident.mobile
    if not mobile:
        return CallTask.objects.create(
            resident=resident, place_path=place_path, reason="没有手机号码，请电话告知", script=text
        )
    try:
        mobile = validate_mobile(mobile)
    except Exception:  # ValidationError: a bad number is a call task too
        return CallTask.objects.create(
            resident=resident,
            mobile=mobile[:20],
            place_path=place_path,
            reason="手机号码无效，请电话核实",
            script=text,
        )
    status = rules.QUEUED
    if category == rules.NON_ESSENTIAL and _opted_out(mobile):
        status = rules.CANCELLED
    message = Message.objects.create(
        out_id=rules.new_out_id(),
        mobile=mobile,
        resident=resident,
        place=place,
        place_path=place_path,
        programme=programme,
        category=category,
        template=template,
        params=params,
        body="" if template is not None else text,
        signature=settings.SUNSHINE_SMS_SIGNATURE,
        status=status,
        due_at=due_at or now,
        source=source,
        fire_version=fire_version,
    )
    Attempt.objects.create(
        message=message,
        event="queued" if status == rules.QUEUED else "cancelled",
        detail="" if status == rules.QUEUED else "已退订一般提醒",
    )
    if status == rules.QUEUED and message.due_at <= now:
        # One nudge to the worker per transaction, however many messages it queues.
        if not any(func is _dispatch_soon for _, func, _ in connection.run_on_commit):
            transaction.on_commit(_dispatch_soon)
    return message


def _dispatch_soon() -> None:
    from sunshine.messaging import tasks

    tasks.dispatch_now()


@dataclass(slots=True)
class _Claimed:
    """A claimed message as the dispatcher needs it: a plain row, no model instance."""

    pk: int
    out_id: str
    mobile: str
    category: str
    template_id: int | None
    params: dict
    body: str
    signature: str
    source: str
    fire_version: int
    # A reminder's number: -1 when it opted out, else how many reminders it was sent today
    # (the daily limit). Read by the claim itself on PostgreSQL, by _reminder_state elsewhere.
    today: int | None = None
    # PostgreSQL: the row version the claim locked (its ctid), which the mark-sent updates
    # without looking the id up again.
    tid: str = ""
    text: str = ""
    provider_code: str = ""
    # Only a retry or a failure needs these (the call task's person and place): read then, by
    # _details, not with every claim.
    attempts: int | None = None
    resident_id: int | None = None
    place_path: str = ""


_COLUMNS = (
    "id, out_id, mobile, category, template_id, params, body, signature, source, fire_version"
)
# A reminder's number, read with the claim (two index probes): -1 when it opted out, else the
# reminders sent to it today; nothing for an essential message.
_TODAY = """CASE WHEN category = %(reminder)s THEN
    CASE WHEN EXISTS (SELECT 1 FROM messaging_optout o WHERE o.mobile = m.mobile AND o.is_active)
    THEN -1 ELSE (SELECT count(*) FROM messaging_message s WHERE s.mobile = m.mobile
                    AND s.ready AND s.sent_at >= %(today)s AND s.category = %(reminder)s) END END"""
# PostgreSQL: the claim is a set of row locks, held by the transaction that records the batch
# as sent (dispatch_batch); the other workers skip locked rows. It takes the first due rows of
# SendQueue (kept by triggers: queued and ready messages), locks their messages, and deletes
# the queue rows of the messages it got: a killed worker's rollback puts them back. The
# outbox row is written once, by the send, and that update changes no indexed column (HOT).
# A message locked by someone else (a cancel, say) keeps its queue row for the next claim;
# a queue row whose message is no longer queued is dropped. The ARRAY forms keep the plan on
# the indexes (an IN would let the planner hash a whole table). The batch comes back as one
# JSON array, decoded by one call of the C JSON parser: row by row, psycopg's loaders and a
# json.loads of each row's parameters cost the worker more CPU than the gateway call. The
# batch's templates come with it (rendered at send time: an edit reaches waiting messages).
# It is a prepared statement, as is the mark-sent: planning both at every batch took 4 % of
# the server's time.
_CLAIM_PG = f"""
WITH q AS (
    SELECT ctid AS row, message_id FROM messaging_sendqueue
    WHERE due_at <= %(now)s ORDER BY due_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), m AS (
    SELECT {_COLUMNS}, status, ready, ctid AS tid FROM messaging_message
    WHERE id = ANY(ARRAY(SELECT message_id FROM q)) FOR UPDATE SKIP LOCKED
), taken AS (
    DELETE FROM messaging_sendqueue
    WHERE ctid = ANY(ARRAY(SELECT q.row FROM q JOIN m ON m.id = q.message_id))
)
SELECT json_agg(json_build_array({_COLUMNS}, {_TODAY}, tid) ORDER BY id)::text,
    (SELECT json_agg(json_build_array(t.id, t.body, t.provider_code))::text
     FROM messaging_template t WHERE t.id = ANY(ARRAY(SELECT template_id FROM m)))
FROM m WHERE status = 'queued' AND ready
"""
# SQLite has one writer at a time: the UPDATE itself is the lock, and it writes a lease
# ('sending' until claimed_until) because no transaction may stay open across a gateway call.
# Leases left by dead workers come first. The first condition repeats the claim index's, or
# SQLite would read the whole table (it does not see that status = 'queued' implies it).
_CLAIM_SQLITE = """
UPDATE messaging_message
SET status = 'sending', claimed_until = %(lease)s, claimed_by = %(worker)s
WHERE id IN (
    {expired_first}SELECT id FROM (SELECT id FROM messaging_message
                    WHERE status IN ('queued', 'sending') AND ready AND status = 'queued'
                    AND due_at <= %(now)s
                    ORDER BY due_at LIMIT %(limit)s)
    LIMIT %(limit)s
)
RETURNING {columns}
"""
_EXPIRED_SQLITE = """SELECT id FROM (SELECT id FROM messaging_message
                    WHERE status IN ('queued', 'sending') AND ready AND status = 'sending'
                    AND claimed_until < %(now)s
                    ORDER BY due_at LIMIT %(limit)s)
    UNION ALL
    """
_CLAIM_LEASE = {
    True: _CLAIM_SQLITE.format(expired_first=_EXPIRED_SQLITE, columns=_COLUMNS),
    False: _CLAIM_SQLITE.format(expired_first="", columns=_COLUMNS),
}
# Expired leases are rare (a worker died): each process looks at most once a second (by the
# `now` it is given), not on every claim.
_LEASE_CHECK_EVERY = dt.timedelta(seconds=1)
_last_lease_check: dt.datetime | None = None


def _look_for_leases(now: dt.datetime) -> bool:
    global _last_lease_check
    last = _last_lease_check
    if last is not None and last <= now < last + _LEASE_CHECK_EVERY:
        return False
    _last_lease_check = now
    return True


# Mark a batch sent in one statement. The send itself is the history's "sent" line: its time,
# provider id, segments and worker are on the row (selectors.message_history shows them), so no
# second row is written per message. The rows travel as one JSON parameter: psycopg's C JSON
# encoder is many times faster than dumping arrays, and as jsonb the server parses it once (a
# json parameter is parsed to be checked, then again row by row). Each row is found by the
# version the claim locked (a TID scan, no index descent): this transaction holds the lock, so
# no one has moved it since; should one have moved all the same, the statement runs again by
# id (see _mark_sent). The guard ('queued') keeps it from touching anything else.
_MARK_SENT_PG = """
UPDATE messaging_message AS m
SET status = 'sent', provider_id = v.p, sent_at = %(now)s, segments = v.s,
    cost = v.s * %(per_segment)s, claimed_until = NULL, claimed_by = %(worker)s,
    body = v.b, attempts = m.attempts + 1, error = ''
FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(t tid, i bigint, p varchar, s smallint, b text)
WHERE {match} AND m.status = 'queued'
"""
_MARK_SENT_BY_TID = _MARK_SENT_PG.format(match="m.ctid = v.t AND m.id = v.i")
_MARK_SENT_BY_ID = _MARK_SENT_PG.format(match="m.id = v.i")


def _claim(*, worker: str, now: dt.datetime, limit: int) -> tuple[list[_Claimed], dict | None]:
    """Claim up to `limit` due messages for `worker`, in one statement; return them, with
    their templates by id when the claim read them too (PostgreSQL). On PostgreSQL the rows
    stay locked until the caller's transaction ends (see dispatch_batch); elsewhere they are
    leased."""
    if rules.in_quiet_hours(timezone.localtime(now), *_quiet()):
        return [], None
    ops = connection.ops
    args = {"now": ops.adapt_datetimefield_value(now), "limit": limit}
    if connection.vendor == "postgresql":
        stmt = _CLAIM_PG
        args.update(today=_day_start(now), reminder=rules.NON_ESSENTIAL)
    else:
        lease = now + dt.timedelta(seconds=settings.SUNSHINE_SMS_LEASE_SECONDS)
        args.update(lease=ops.adapt_datetimefield_value(lease), worker=worker[:60])
        stmt = _CLAIM_LEASE[_look_for_leases(now)]
    # No savepoint inside dispatch_batch's transaction: the locks belong to the transaction
    # itself (so pg_stat_activity and pgrowlocks name their worker), one round trip fewer.
    with transaction.atomic(savepoint=False), sql.cursor() as cursor:
        sql.execute(cursor, stmt, args, prepared=True)
        if connection.vendor == "postgresql":
            batch, templates = cursor.fetchone()
            if not batch:
                return [], None
            templates = {pk: (body, code) for pk, body, code in json.loads(templates or "[]")}
            return [_Claimed(*row) for row in json.loads(batch)], templates
        claimed = [_Claimed(*row) for row in cursor.fetchall()]
    for c in claimed:
        if isinstance(c.params, str):  # JSON comes back as text from a raw cursor
            c.params = json.loads(c.params)
    claimed.sort(key=lambda c: c.pk)
    reminders = {c.mobile for c in claimed if c.category == rules.NON_ESSENTIAL}
    if reminders:
        opted_out, counts = _reminder_state(reminders, now)
        for c in claimed:
            if c.category == rules.NON_ESSENTIAL:
                c.today = -1 if c.mobile in opted_out else counts.get(c.mobile, 0)
    return claimed, None


def messages_claim(
    *, worker: str, now: dt.datetime | None = None, limit: int | None = None
) -> list[Message]:
    """Claim due messages for one worker, outside quiet hours only. On PostgreSQL they stay
    locked by the caller's transaction and out of the send queue: the caller records each
    (sent, retried, failed: see dispatch_batch) before it commits, or rolls back. Elsewhere
    they are leased ('sending'), and a lease that ran out (its worker died) is claimed again."""
    now = now or timezone.now()
    campaigns.messages_make_ready(now=now)
    claimed, _ = _claim(worker=worker, now=now, limit=limit or settings.SUNSHINE_SMS_BATCH)
    if not claimed:
        return []
    qs = Message.objects.filter(pk__in=[c.pk for c in claimed]).select_related("template")
    return list(qs.order_by("pk"))


def _day_start(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _reminder_state(mobiles: set[str], now: dt.datetime) -> tuple[set[str], dict[str, int]]:
    """For the numbers of a batch's reminders (SQLite; PostgreSQL's claim reads the same):
    those that opted out, and how many reminders each was sent today (the daily limit)."""
    start = _day_start(now)
    opted_out = set(
        OptOut.objects.filter(mobile__in=mobiles, is_active=True).values_list("mobile", flat=True)
    )
    counts = (
        Message.objects.filter(
            mobile__in=mobiles, ready=True, sent_at__gte=start, category=rules.NON_ESSENTIAL
        )
        .order_by()
        .values_list("mobile")
        .annotate(n=Count("id"))
    )
    return opted_out, dict(counts)


def _render(batch: list[_Claimed], templates: dict | None) -> list[tuple[_Claimed, str]]:
    """Render every text now, not at enqueue, so that an edited template reaches messages still
    waiting: the batch's templates came with the claim, or are read in one query. Returns the
    messages whose template no longer fits their parameters, each with the reason."""
    if templates is None:
        ids = {c.template_id for c in batch if c.template_id}
        rows = Template.objects.filter(pk__in=ids).values_list("pk", "body", "provider_code")
        templates = {pk: (body, code) for pk, body, code in rows}
    unfit = []
    for c in batch:
        if not c.template_id:
            c.text = c.body
            continue
        body, c.provider_code = templates[c.template_id]
        try:
            c.text = rules.render(body, c.params)
        except (KeyError, ValueError, IndexError) as exc:
            unfit.append((c, f"模板与参数不符：{exc.args[0] if exc.args else exc}"))
    return unfit


def dispatch_batch(*, worker: str, now: dt.datetime | None = None, gateway=None) -> int:
    """Claim, render at send time, apply opt-out, staleness and rate limits, send, record.
    Returns the number of messages handed to the gateway. Set-based: a claim of any size
    costs a fixed number of statements on PostgreSQL (the claim, which also reads each
    reminder's opt-out and today's count; the templates; campaign staleness, two, when it
    holds campaign messages; one to mark sent; the rare cancelled, postponed or failed ones
    together), plus one gateway call per `gateway.max_batch` messages.

    On PostgreSQL the whole batch is one transaction that holds its claimed rows locked (and
    has deleted their SendQueue rows): a killed worker's rows are back as soon as its
    connection is gone (its transaction rolls back), and the lease
    becomes the server's idle-in-transaction timeout, so a worker stuck between statements
    longer than SUNSHINE_SMS_LEASE_SECONDS loses its session and its rows. The worker's name
    is the session's application_name meanwhile, for pg_stat_activity (and the crash test)."""
    now = now or timezone.now()
    campaigns.messages_make_ready(now=now)  # its own short transactions, before the claim
    if connection.vendor != "postgresql":
        return _dispatch(worker, now, gateway)
    with transaction.atomic(), sql.cursor() as cursor:
        # The claim's and the mark-sent's plans do not depend on their values: plan them
        # once per session (generic plans), not at every batch.
        cursor.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', %s, true), "
            "set_config('application_name', %s, true), "
            "set_config('plan_cache_mode', 'force_generic_plan', true)",
            [f"{settings.SUNSHINE_SMS_LEASE_SECONDS}s", worker[:60]],
        )
        return _dispatch(worker, now, gateway)


def _dispatch(worker: str, now: dt.datetime, gateway) -> int:
    batch, templates = _claim(worker=worker, now=now, limit=settings.SUNSHINE_SMS_BATCH)
    if not batch:
        return 0
    gateway = gateway or get_gateway()
    unfit = _render(batch, templates)
    skip = {c.pk for c, _ in unfit}
    counts: dict[str, int] = {}  # reminders to a number today, this batch's included
    # RapidPro's fire_version: the schedule changed or the case closed since this was planned.
    stale = campaigns.campaign_messages_stale(batch)
    per_day = settings.SUNSHINE_SMS_PER_NUMBER_PER_DAY
    cancelled, withdrawn, postponed, outgoing = [], [], [], []
    for c in batch:
        if c.pk in skip:
            continue
        if c.category == rules.NON_ESSENTIAL:
            if c.today < 0:  # opted out
                cancelled.append(c)
                continue
            if c.pk in stale:
                withdrawn.append(c)
                continue
            n = counts.get(c.mobile, c.today)
            if n >= per_day:
                postponed.append(c)
                continue
            counts[c.mobile] = n + 1
        elif c.pk in stale:
            withdrawn.append(c)
            continue
        outgoing.append(c)
    if unfit or cancelled or withdrawn or postponed:
        with transaction.atomic():
            _details([c for c, _ in unfit])
            for c, why in unfit:
                _fail(c, why, now, text=c.body or why)
            _finish(cancelled, rules.CANCELLED, "已退订一般提醒")
            _finish(withdrawn, rules.CANCELLED, "计划已更新或已结束，这条提醒不再发送")
            _postpone(postponed, _tomorrow(now), "超过每天条数上限，顺延到明天")
    ok: list[tuple[_Claimed, str]] = []
    by_out = {c.out_id: c for c in outgoing}
    answered = set()
    step = gateway.max_batch
    for start in range(0, len(outgoing), step):
        chunk = outgoing[start : start + step]
        try:
            results = gateway.send(
                [
                    Outgoing(c.out_id, c.mobile, c.text, c.signature, c.provider_code, c.params)
                    for c in chunk
                ]
            )
        except Exception as exc:  # the whole call failed: retry all, with backoff
            log.warning("SMS gateway call failed: %s", exc)
            with transaction.atomic():
                _details(chunk)
                for c in chunk:
                    _retry(c, f"网关不可用：{exc.__class__.__name__}", now)
            answered.update(c.out_id for c in chunk)
            continue
        failed = []
        for r in results:
            c = by_out[r.out_id]
            answered.add(r.out_id)
            if r.ok:
                ok.append((c, r.provider_id))
            else:
                failed.append((c, r))
        _details([c for c, _ in failed])  # one query for the call's failures, not one each
        for c, r in failed:
            if r.transient:
                _retry(c, r.error, now)
            else:
                _fail(c, r.error or "发送失败", now, text=c.text)
    _mark_sent(ok, now, worker)
    if len(answered) < len(outgoing):  # a gateway that said nothing of some: send them again
        _unclaim([c.pk for c in outgoing if c.out_id not in answered])
    return len(ok)


_UNCLAIM_PG = """
INSERT INTO messaging_sendqueue (message_id, due_at)
SELECT id, due_at FROM messaging_message
WHERE id = ANY(%(ids)s) AND status = 'queued' AND ready
ON CONFLICT (message_id) DO NOTHING
"""


def _unclaim(pks: list[int]) -> None:
    """Claimed messages that are still queued go back into the send queue, same OutId. On
    PostgreSQL their queue rows were deleted by the claim; on SQLite their lease runs out."""
    log.warning("SMS gateway gave no result for %d message(s); they will be sent again", len(pks))
    if connection.vendor == "postgresql":
        with sql.cursor() as cursor:
            cursor.execute(_UNCLAIM_PG, {"ids": pks})


def _tomorrow(now: dt.datetime) -> dt.datetime:
    end = _quiet()[1]
    local = timezone.localtime(now) + dt.timedelta(days=1)
    return local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)


@transaction.atomic(savepoint=False)
def _mark_sent(sent: list[tuple[_Claimed, str]], now: dt.datetime, worker: str) -> None:
    """Mark a batch sent: one statement on PostgreSQL (under the claim's row locks). On SQLite,
    guarded so that a worker whose lease ran out cannot overwrite what another recorded."""
    if not sent:
        return
    per_segment = _per_segment()
    ops = connection.ops
    sent_at = ops.adapt_datetimefield_value(now)
    worker = worker[:60]
    with sql.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = [
                {
                    "t": c.tid,
                    "i": c.pk,
                    "p": pid,
                    "s": rules.segments(c.text, c.signature),
                    "b": c.text,
                }
                for c, pid in sent
            ]
            args = {
                # UTF-8 as it is: a third of the bytes of \u escapes for Chinese text, to
                # write here and for the server to parse.
                "rows": json.dumps(rows, ensure_ascii=False),
                "now": sent_at,
                "per_segment": per_segment,
                "worker": worker,
            }
            sql.execute(cursor, _MARK_SENT_BY_TID, args, prepared=True)
            if cursor.rowcount < len(rows):
                sql.execute(cursor, _MARK_SENT_BY_ID, args)
            return
        rows = [(c.pk, pid, rules.segments(c.text, c.signature), c.text) for c, pid in sent]
        # SQLite: one writer at a time, so the guard holds between these statements too.
        cursor.executemany(
            "UPDATE messaging_message SET status = 'sent', provider_id = %s, sent_at = %s, "
            "segments = %s, cost = %s, claimed_until = NULL, body = %s, "
            "attempts = attempts + 1, error = '' "
            "WHERE id = %s AND status = 'sending' AND claimed_by = %s",
            [
                (
                    p,
                    sent_at,
                    n,
                    ops.adapt_decimalfield_value(per_segment * n, 8, 3),
                    body,
                    pk,
                    worker,
                )
                for pk, p, n, body in rows
            ],
        )


def _details(items) -> None:
    """The attempts, person and place of claimed rows that a retry or a failure needs (the
    claim does not read them): one query for all of `items` that lack them."""
    need = [c for c in items if isinstance(c, _Claimed) and c.attempts is None]
    if need:
        rows = Message.objects.filter(pk__in=[c.pk for c in need]).values_list(
            "pk", "attempts", "resident_id", "place_path"
        )
        got = {pk: rest for pk, *rest in rows}
        for c in need:
            c.attempts, c.resident_id, c.place_path = got[c.pk]


@transaction.atomic
def _retry(m, error: str, now: dt.datetime) -> None:
    """`m`: a Message or a claimed row."""
    _details([m])
    attempts = m.attempts + 1
    if attempts >= settings.SUNSHINE_SMS_MAX_ATTEMPTS:
        _fail(m, f"{error}（已重试{attempts}次）", now, attempts=attempts)
        return
    Message.objects.filter(pk=m.pk, status__in=(rules.QUEUED, rules.SENDING)).update(
        status=rules.QUEUED,
        attempts=attempts,
        due_at=now + rules.retry_delay(attempts),
        claimed_until=None,
        error=error[:200],
    )
    Attempt.objects.create(message_id=m.pk, event="retry", detail=error[:300])


def _postpone(batch: list[_Claimed], when: dt.datetime, why: str) -> None:
    if batch:
        Message.objects.filter(pk__in=[c.pk for c in batch]).update(
            status=rules.QUEUED, due_at=when, claimed_until=None
        )
        Attempt.objects.bulk_create(
            Attempt(message_id=c.pk, event="postponed", detail=why) for c in batch
        )


def _finish(batch: list[_Claimed], status: str, why: str) -> None:
    if batch:
        Message.objects.filter(pk__in=[c.pk for c in batch]).update(
            status=status, claimed_until=None, error=why[:200]
        )
        Attempt.objects.bulk_create(
            Attempt(message_id=c.pk, event=status, detail=why) for c in batch
        )


@transaction.atomic
def _fail(
    m, error: str, now: dt.datetime, attempts: int | None = None, text: str | None = None
) -> None:
    """A final failure: the message is failed and an operator gets a call task. `m`: a Message
    or a claimed row; `text` the message's text (rendered from a Message when not given)."""
    _details([m])
    Message.objects.filter(pk=m.pk).update(
        status=rules.FAILED,
        error=error[:200],
        claimed_until=None,
        attempts=attempts or m.attempts + 1,
    )
    Attempt.objects.create(message_id=m.pk, event="failed", detail=error[:300])
    if text is None:
        text = getattr(m, "text", "") or m.body
        if not text and isinstance(m, Message) and m.template_id:
            text = rules.render(m.template.body, m.params)
    CallTask.objects.get_or_create(
        message_id=m.pk,
        defaults={
            "resident_id": m.resident_id,
            "mobile": m.mobile,
            "place_path": m.place_path,
            "reason": f"短信发送失败：{error[:150]}",
            "script": text,
        },
    )


def receipts_record(payload: list[dict], *, now: dt.datetime | None = None) -> int:
    """Alibaba SmsReport pushes (a JSON array). Idempotent: a repeated push changes nothing."""
    now = now or timezone.now()
    n = 0
    for r in payload:
        provider_id = str(r.get("biz_id", ""))[:60]
        phone = mobile_normalised(str(r.get("phone_number", "")))[:11]
        if not provider_id or not phone:
            continue
        with transaction.atomic():
            receipt, created = Receipt.objects.get_or_create(
                provider_id=provider_id,
                mobile=phone,
                defaults={
                    "out_id": str(r.get("out_id", ""))[:40],
                    "success": bool(r.get("success")),
                    "code": str(r.get("err_code", ""))[:40],
                    "detail": str(r.get("err_msg", ""))[:200],
                    "parts": int(r.get("sms_size") or 1),
                },
            )
            if not created:
                continue
            # By OutId (unique index); a receipt without one by number (the index of sent
            # messages), then provider id: no index on provider ids, which every send would
            # pay for.
            qs = (
                Message.objects.filter(out_id=receipt.out_id)
                if receipt.out_id
                else Message.objects.filter(
                    mobile=phone, sent_at__isnull=False, ready=True, provider_id=provider_id
                )
            )
            m = qs.select_related("template").first()
            if m is None:
                continue
            if receipt.success:
                Message.objects.filter(pk=m.pk).update(
                    status=rules.DELIVERED,
                    delivered_at=now,
                    segments=receipt.parts,
                    cost=_per_segment() * receipt.parts,
                )
                Attempt.objects.create(message=m, event="delivered", detail=receipt.code)
            else:
                # Billing follows delivery: a failed delivery costs nothing.
                Message.objects.filter(pk=m.pk).update(cost=0)
                _fail(m, f"未送达：{receipt.code} {receipt.detail}".strip(), now)
            n += 1
    return n


def _last_place(mobile: str) -> str:
    """A number not in the people registry (a migrant, a couple registered for a check): the
    place of the last message we sent it, so the reply reaches the staff of that place rather
    than nobody. Messages queued without a place (the Rh registry's) reveal nothing here."""
    return (
        Message.objects.filter(mobile=mobile, sent_at__isnull=False, ready=True)
        .exclude(place_path="")
        .order_by("-id")
        .values_list("place_path", flat=True)
        .first()
        or ""
    )


def replies_receive(payload: list[dict]) -> int:
    """Alibaba SmsUp pushes (a JSON array), idempotent by sequence_id; each reply is matched to
    a person and routed: opt-out, opt-in, a numbered answer, or the consultation inbox."""
    from sunshine.people.models import Resident

    n = 0
    for r in payload:
        seq = str(r.get("sequence_id", ""))[:60]
        # The number as we store it, however the provider spells it (8613800138000).
        phone = mobile_normalised(str(r.get("phone_number", "")))[:11]
        content = str(r.get("content", ""))[:500]
        if not seq or not phone:
            continue
        with transaction.atomic():
            if Reply.objects.filter(sequence_id=seq).exists():
                continue
            resident = Resident.objects.filter(mobile=phone).order_by("-updated_at").first()
            intent, text = rules.reply_intent(content)
            reply = Reply(
                mobile=phone,
                content=content,
                sequence_id=seq,
                resident=resident,
                place_path=resident.place_path if resident else _last_place(phone),
                route="inbox",
            )
            if intent == "optout":
                OptOut.objects.update_or_create(
                    mobile=phone, defaults={"is_active": True, "word": text}
                )
                reply.route, reply.handled = "optout", True
            elif intent == "optin":
                OptOut.objects.filter(mobile=phone).update(is_active=False, word=text)
                reply.route, reply.handled = "optin", True
            elif intent in ("answer", "objection"):
                reply.route = intent
            reply.save()
            handlers = REPLY_HANDLERS.get(intent)
            if handlers is not None:
                if any(handler(reply, text) for handler in handlers):
                    Reply.objects.filter(pk=reply.pk).update(handled=True)
                else:
                    Reply.objects.filter(pk=reply.pk).update(route="inbox")
            n += 1
    return n


@transaction.atomic
def calltask_create(
    *, actor, reason: str, script: str, resident=None, mobile: str = "", place_path: str = ""
) -> CallTask:
    """Work for an operator that other modules ask for (a follow-up call with its script)."""
    if not reason.strip() or not script.strip():
        raise ServiceError("话务任务需要原因和话术。")
    if resident is not None:
        mobile = mobile or resident.mobile
        place_path = place_path or resident.place_path
    task = CallTask.objects.create(
        resident=resident,
        mobile=mobile[:20],
        place_path=place_path,
        reason=reason.strip()[:200],
        script=script.strip(),
    )
    audit.record(actor=actor, action="calltask.create", obj=task, reason=task.reason)
    return task


@transaction.atomic
def calltask_close(
    *, actor, task: CallTask, outcome: str, now: dt.datetime | None = None, owner: bool = False
) -> CallTask:
    """Close a call task with its outcome. A task another module owns (see
    register_calltask_owner) is closed only by that module (`owner=True`)."""
    if not owner:
        for check in CALLTASK_OWNERS:
            if why := check(task):
                raise ServiceError(why)
    if not outcome.strip():
        raise ServiceError("请填写处理结果。", field="outcome")
    task.status, task.outcome = CallTask.DONE, outcome.strip()[:200]
    task.handled_by, task.handled_at = actor, now or timezone.now()
    task.save(update_fields=["status", "outcome", "handled_by", "handled_at"])
    audit.record(actor=actor, action="calltask.close", obj=task)
    return task
