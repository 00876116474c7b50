"""Every write of the SMS engine: enqueue, claim and dispatch, receipts, replies, opt-out,
call tasks. Safe with many workers: rows are claimed with a lease (SELECT … FOR UPDATE SKIP
LOCKED on PostgreSQL; SQLite has one writer at a time), a worker killed mid-batch leaves its
rows to be reclaimed when the lease ends, and a resent message keeps its OutId."""

import datetime as dt
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.core.validators import validate_mobile
from sunshine.messaging import campaigns, rules
from sunshine.messaging.backends import Outgoing, get_gateway
from sunshine.messaging.models import Attempt, CallTask, Message, OptOut, Receipt, Reply, Template

log = logging.getLogger(__name__)
ANSWER_HANDLERS: list = []  # callables (reply, digit) -> bool; other modules register theirs


def register_answer_handler(handler) -> None:
    """A module that asks a numbered question (1 = confirm appointment) registers a handler;
    the first handler that returns True for a reply has handled it."""
    if handler not in ANSWER_HANDLERS:
        ANSWER_HANDLERS.append(handler)


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
        out_id=uuid.uuid4().hex,
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


def messages_claim(
    *, worker: str, now: dt.datetime | None = None, limit: int | None = None
) -> list[Message]:
    """Lease due messages to one worker: queued and due, or 'sending' whose lease ran out (its
    worker died). Outside quiet hours only."""
    now = now or timezone.now()
    limit = limit or settings.SUNSHINE_SMS_BATCH
    if rules.in_quiet_hours(timezone.localtime(now), *_quiet()):
        return []
    lease = now + dt.timedelta(seconds=settings.SUNSHINE_SMS_LEASE_SECONDS)
    with transaction.atomic():
        # Two simple queries that each use the (status, due_at) index: leases left by dead
        # workers first, then queued messages in due order.
        expired = Message.objects.filter(status=rules.SENDING, claimed_until__lt=now).order_by("id")
        queued = Message.objects.filter(status=rules.QUEUED, due_at__lte=now).order_by("due_at")
        if connection.vendor == "postgresql":
            expired = expired.select_for_update(skip_locked=True)
            queued = queued.select_for_update(skip_locked=True)
        ids = list(expired.values_list("id", flat=True)[:limit])
        if len(ids) < limit:
            ids += list(queued.values_list("id", flat=True)[: limit - len(ids)])
        if not ids:
            return []
        Message.objects.filter(id__in=ids).update(
            status=rules.SENDING, claimed_until=lease, claimed_by=worker[:60]
        )
    return list(
        Message.objects.filter(id__in=ids, claimed_by=worker[:60]).select_related("template")
    )


def _sent_today(mobiles: set[str], now: dt.datetime) -> dict[str, int]:
    from django.db.models import Count

    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        Message.objects.filter(mobile__in=mobiles, sent_at__gte=start, category=rules.NON_ESSENTIAL)
        .values("mobile")
        .annotate(n=Count("id"))
    )
    return {r["mobile"]: r["n"] for r in rows}


def dispatch_batch(*, worker: str, now: dt.datetime | None = None, gateway=None) -> int:
    """Claim, render at send time, apply opt-out and rate limits, send, record. Returns the
    number of messages handed to the gateway."""
    now = now or timezone.now()
    batch = messages_claim(worker=worker, now=now)
    if not batch:
        return 0
    gateway = gateway or get_gateway()
    outgoing, by_out = [], {}
    counts = _sent_today({m.mobile for m in batch}, now)
    opted_out = set(
        OptOut.objects.filter(mobile__in={m.mobile for m in batch}, is_active=True).values_list(
            "mobile", flat=True
        )
    )
    for m in batch:
        # Rendered now, not at enqueue: an edited template reaches messages still waiting.
        text = rules.render(m.template.body, m.params) if m.template_id else m.body
        if m.category == rules.NON_ESSENTIAL and m.mobile in opted_out:
            _finish(m, rules.CANCELLED, "已退订一般提醒", now)
            continue
        if m.source and campaigns.campaign_message_is_stale(m):
            # RapidPro's fire_version: the schedule changed or the case closed since this was planned.
            _finish(m, rules.CANCELLED, "计划已更新或已结束，这条提醒不再发送", now)
            continue
        if (
            m.category == rules.NON_ESSENTIAL
            and counts.get(m.mobile, 0) >= settings.SUNSHINE_SMS_PER_NUMBER_PER_DAY
        ):
            _postpone(m, _tomorrow(now), "超过每天条数上限，顺延到明天")
            continue
        counts[m.mobile] = counts.get(m.mobile, 0) + 1
        by_out[m.out_id] = (m, text)
        outgoing.append(
            Outgoing(
                out_id=m.out_id,
                mobile=m.mobile,
                text=text,
                signature=m.signature,
                template_code=m.template.provider_code if m.template_id else "",
                params=m.params,
            )
        )
    sent = 0
    for start in range(0, len(outgoing), gateway.max_batch):
        chunk = outgoing[start : start + gateway.max_batch]
        try:
            results = gateway.send(chunk)
        except Exception as exc:  # the whole call failed: retry all, with backoff
            log.warning("SMS gateway call failed: %s", exc)
            for o in chunk:
                _retry(by_out[o.out_id][0], f"网关不可用：{exc.__class__.__name__}", now)
            continue
        ok = []
        for r in results:
            m, text = by_out[r.out_id]
            if r.ok:
                ok.append((m, text, r.provider_id))
            elif r.transient:
                _retry(m, r.error, now)
            else:
                _fail(m, r.error or "发送失败", now)
        _mark_sent(ok, now, worker)
        sent += len(ok)
    return sent


def _tomorrow(now: dt.datetime) -> dt.datetime:
    end = _quiet()[1]
    local = timezone.localtime(now) + dt.timedelta(days=1)
    return local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)


@transaction.atomic
def _mark_sent(sent: list[tuple[Message, str, str]], now: dt.datetime, worker: str) -> None:
    """Mark a batch sent: one pipelined UPDATE per row, each guarded so that a worker whose
    lease ran out cannot overwrite what another worker already recorded; history rows only
    for the rows this worker really marked."""
    if not sent:
        return
    per_segment = _per_segment()
    table = Message._meta.db_table
    ops = connection.ops
    sent_at = ops.adapt_datetimefield_value(now)
    params = []
    for m, text, provider_id in sent:
        segs = rules.segments(text, m.signature)
        params.append(
            (
                provider_id,
                sent_at,
                segs,
                ops.adapt_decimalfield_value(per_segment * segs, 8, 3),
                text,
                m.pk,
                worker[:60],
            )
        )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = 'sent', provider_id = %s, sent_at = %s, segments = %s, cost = %s, "
            "claimed_until = NULL, body = %s, attempts = attempts + 1, error = '' "
            "WHERE id = %s AND status = 'sending' AND claimed_by = %s",
            params,
        )
    marked = set(
        Message.objects.filter(
            pk__in=[m.pk for m, _, _ in sent], status=rules.SENT, sent_at=now
        ).values_list("pk", flat=True)
    )
    Attempt.objects.bulk_create(
        [
            Attempt(message_id=m.pk, event="sent", detail=f"{pid} 共{p[2]}条")
            for (m, _, pid), p in zip(sent, params, strict=True)
            if m.pk in marked
        ]
    )


@transaction.atomic
def _retry(m: Message, error: str, now: dt.datetime) -> None:
    attempts = m.attempts + 1
    if attempts >= settings.SUNSHINE_SMS_MAX_ATTEMPTS:
        _fail(m, f"{error}（已重试{attempts}次）", now, attempts=attempts)
        return
    Message.objects.filter(pk=m.pk, status=rules.SENDING).update(
        status=rules.QUEUED,
        attempts=attempts,
        due_at=now + rules.retry_delay(attempts),
        claimed_until=None,
        error=error[:200],
    )
    Attempt.objects.create(message=m, event="retry", detail=error[:300])


@transaction.atomic
def _postpone(m: Message, when: dt.datetime, why: str) -> None:
    Message.objects.filter(pk=m.pk).update(status=rules.QUEUED, due_at=when, claimed_until=None)
    Attempt.objects.create(message=m, event="postponed", detail=why)


@transaction.atomic
def _finish(m: Message, status: str, why: str, now: dt.datetime) -> None:
    Message.objects.filter(pk=m.pk).update(status=status, claimed_until=None, error=why[:200])
    Attempt.objects.create(message=m, event=status, detail=why)


@transaction.atomic
def _fail(m: Message, error: str, now: dt.datetime, attempts: int | None = None) -> None:
    """A final failure: the message is failed and an operator gets a call task."""
    Message.objects.filter(pk=m.pk).update(
        status=rules.FAILED,
        error=error[:200],
        claimed_until=None,
        attempts=attempts or m.attempts + 1,
    )
    Attempt.objects.create(message=m, event="failed", detail=error[:300])
    text = m.body or (rules.render(m.template.body, m.params) if m.template_id else "")
    CallTask.objects.get_or_create(
        message=m,
        defaults={
            "resident": m.resident,
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
        provider_id, phone = str(r.get("biz_id", ""))[:60], str(r.get("phone_number", ""))[:11]
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
            qs = (
                Message.objects.filter(out_id=receipt.out_id)
                if receipt.out_id
                else Message.objects.filter(provider_id=provider_id, mobile=phone)
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


def replies_receive(payload: list[dict]) -> int:
    """Alibaba SmsUp pushes (a JSON array), idempotent by sequence_id; each reply is matched to
    a person and routed: opt-out, opt-in, a numbered answer, or the consultation inbox."""
    from sunshine.people.models import Resident

    n = 0
    for r in payload:
        seq = str(r.get("sequence_id", ""))[:60]
        phone = str(r.get("phone_number", ""))[:11]
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
                place_path=resident.place_path if resident else "",
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
            elif intent == "answer":
                reply.route = "answer"
            reply.save()
            if intent == "answer":
                if any(handler(reply, text) for handler in ANSWER_HANDLERS):
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
    *, actor, task: CallTask, outcome: str, now: dt.datetime | None = None
) -> CallTask:
    if not outcome.strip():
        raise ServiceError("请填写处理结果。", field="outcome")
    task.status, task.outcome = CallTask.DONE, outcome.strip()[:200]
    task.handled_by, task.handled_at = actor, now or timezone.now()
    task.save(update_fields=["status", "outcome", "handled_by", "handled_at"])
    audit.record(actor=actor, action="calltask.close", obj=task)
    return task
