"""Every write of the publication pipeline: drafts, review, publication, corrections,
withdrawal, notices and objections, attachments. Each audited."""

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections import Counter

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sunshine.core import audit, identifiers
from sunshine.core.errors import ServiceError
from sunshine.core.text import clean_text
from sunshine.places import scoping
from sunshine.places.models import Place
from sunshine.publishing import rules
from sunshine.publishing.models import (
    Attachment,
    Category,
    Item,
    ItemVersion,
    ListEntry,
    Objection,
    PublicationState,
)

MAX_ATTACHMENT = 10 * 1024 * 1024
MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
    (b"%PDF-", "application/pdf", "pdf"),
]
OBJECTIONS_PER_HOUR = 5


def _need(actor, capability: str) -> None:
    if actor is not None and not actor.can(capability):
        raise ServiceError("您的角色不能进行这个操作。")


def _need_scope(actor, item: Item, *, write: bool = True) -> None:
    if actor is not None and not scoping.path_in_scope(actor, item.place_path, write=write):
        raise ServiceError("这个事项不在您的管辖范围内。")


def bump_generation() -> None:
    """Every board page cached before this moment is stale."""
    from sunshine.publishing import selectors

    updated = PublicationState.objects.filter(pk=1).update(generation=F("generation") + 1)
    if not updated:
        PublicationState.objects.get_or_create(pk=1, defaults={"generation": 1})
    selectors.forget_generation()
    transaction.on_commit(selectors.forget_generation)


def _clean_table(table) -> tuple[dict, Counter]:
    """The table as it will be published: cut to size, its ID and mobile numbers masked (by
    the column's header or by the cell's content), and how many of each were masked."""
    if not table:
        return {}, Counter()
    headers = [clean_text(str(h))[:60] for h in table.get("headers", [])][:20]
    rows = [
        [clean_text(str(c))[:200] for c in row][: len(headers)] for row in table.get("rows", [])
    ][:2000]
    return identifiers.mask_table({"headers": headers, "rows": rows} if headers else {})


PUBLIC_TEXT_LABELS = {
    "title": "标题",
    "summary": "摘要",
    "body": "正文",
    "spokesperson": "发言人",
    "change_note": "更正说明",
    "outcome": "公示结果",
    "answer": "答复",
    "name": "姓名",
    "place_name": "村（居）",
    "matter": "事项",
}
ONE_LINE = ("title", "spokesperson", "change_note", "name", "place_name", "matter")


def _check_public_text(labels: dict | None = None, **texts: str) -> None:
    """Free text the public will read may not hold a full ID or mobile number: refused with a
    message naming the field and the line (docs/privacy.md says why refused, not masked)."""
    errors = []
    for field, value in texts.items():
        hit = identifiers.first_hit(value)
        if hit is not None:
            label = (labels or {}).get(field) or PUBLIC_TEXT_LABELS[field]
            errors.append((field, identifiers.refusal(label, hit, lines=field not in ONE_LINE)))
    if errors:
        raise ServiceError(errors[0][1], field=errors[0][0], errors=errors)


def item_preview(
    *,
    title: str,
    summary: str = "",
    body: str = "",
    table: dict | None = None,
    spokesperson: str = "",
    change_note: str = "",
) -> dict:
    """What the public would read of a draft, without saving anything: refused like
    item_create when a free text holds a full ID or mobile number, the table masked as it
    would be stored, and what was masked ("3 个身份证号码、1 个手机号码")."""
    title = clean_text(title)
    summary, body = clean_text(summary, multiline=True), clean_text(body, multiline=True)
    _check_public_text(
        title=title,
        summary=summary,
        body=body,
        spokesperson=spokesperson or "",
        change_note=change_note or "",
    )
    table, masked = _clean_table(table)
    return {
        "title": title[:200],
        "summary": summary[:300],
        "body": body,
        "table": table,
        "masked": identifiers.describe(masked),
    }


def _masked_note(changes: dict, counts: Counter) -> dict:
    if counts:
        changes["masked"] = dict(counts)
    return changes


def _seal(item: Item, version: ItemVersion) -> Counter:
    """The last guard before a version goes public: whatever reached it without the checks
    (a draft saved before them, a row written by hand) is masked now. Returns the counts."""
    version.table, counts = identifiers.mask_table(version.table)
    for field in ("title", "summary", "body", "change_note"):
        text, found = identifiers.mask_text(getattr(version, field))
        setattr(version, field, text)
        counts += found
    item.spokesperson, found = identifiers.mask_text(item.spokesperson)
    counts += found
    return counts


def _validate_levels(place: Place, levels) -> str:
    allowed = rules.levels_below(place.level)
    bad = [lv for lv in levels if lv not in allowed]
    if bad:
        raise ServiceError(
            f"{place.name}（{place.level_label}）只能向本级及以下层级同步公开。", field="levels"
        )
    return rules.encode_levels(levels)


@transaction.atomic
def item_create(
    *,
    actor,
    category: Category,
    place: Place,
    title: str,
    summary: str = "",
    body: str = "",
    table: dict | None = None,
    levels=(),
    kind: str | None = None,
    spokesperson: str = "",
    publish_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> Item:
    _need(actor, "publishing.draft")
    if actor is not None and not scoping.path_in_scope(actor, place.path, write=True):
        raise ServiceError("只能在您管辖的地方发布。", field="place")
    if not place.is_publication_level and place.level not in ("province", "city"):
        raise ServiceError(f"{place.name} 不是公开层级。", field="place")
    title, spokesperson = clean_text(title), clean_text(spokesperson)
    # cleaned before the identifier check: an invisible character inside a number hides it
    summary = clean_text(summary or "", multiline=True)
    body = clean_text(body or "", multiline=True)
    if not title:
        raise ServiceError("标题不能为空。", field="title")
    _check_public_text(title=title, summary=summary, body=body, spokesperson=spokesperson)
    table, masked = _clean_table(table)
    kind = kind or (rules.KIND_NOTICE if category.is_notice else rules.KIND_DISCLOSURE)
    if kind == rules.KIND_STATEMENT and not spokesperson:
        raise ServiceError("发言人声明须写明发言人。", field="spokesperson")
    if publish_at and expires_at and expires_at <= publish_at:
        raise ServiceError("下架时间应晚于发布时间。", field="expires_at")
    item = Item(
        public_id=secrets.token_hex(5),
        kind=kind,
        category=category,
        place=place,
        place_path=place.path,
        target_levels=_validate_levels(place, levels),
        spokesperson=spokesperson,
        publish_at=publish_at,
        expires_at=expires_at,
        created_by=actor,
    )
    item.full_clean(exclude=["current"])
    item.save()
    version = ItemVersion(
        item=item,
        number=1,
        title=title[:200],
        summary=summary[:300],
        body=body,
        table=table,
        created_by=actor,
    )
    version.save()
    item.current = version
    item.save(update_fields=["current"])
    audit.record(
        actor=actor,
        action="item.create",
        obj=item,
        changes=_masked_note({"title": title, "levels": item.target_levels}, masked),
    )
    return item


def _editable_version(item: Item) -> ItemVersion:
    version = item.current
    if version.is_frozen:
        raise ServiceError("已发布的版本不能修改；如需更正，请发布更正版本。")
    return version


@transaction.atomic
def item_update_draft(
    *,
    actor,
    item: Item,
    title: str,
    summary: str = "",
    body: str = "",
    table: dict | None = None,
    levels=None,
    publish_at=None,
    expires_at=None,
) -> Item:
    _need(actor, "publishing.draft")
    _need_scope(actor, item)
    if item.status != rules.DRAFT:
        raise ServiceError("只有草稿可以修改。")
    version = _editable_version(item)
    version.title, version.summary, version.body = (
        clean_text(title)[:200],
        clean_text(summary, multiline=True)[:300],
        clean_text(body, multiline=True),
    )
    version.table, masked = _clean_table(table)
    if not version.title:
        raise ServiceError("标题不能为空。", field="title")
    _check_public_text(title=version.title, summary=version.summary, body=version.body)
    version.save(update_fields=["title", "summary", "body", "table"])
    fields = ["publish_at", "expires_at"]
    item.publish_at, item.expires_at = publish_at, expires_at
    if levels is not None:
        item.target_levels = _validate_levels(item.place, levels)
        fields.append("target_levels")
    item.save(update_fields=[*fields, "updated_at"])
    audit.record(
        actor=actor,
        action="item.update",
        obj=item,
        changes=_masked_note({"title": version.title}, masked),
    )
    return item


def _transition(actor, item: Item, target: str) -> None:
    capability = rules.can_transition(item.status, target)
    if capability is None:
        raise ServiceError(
            f"“{rules.STATUS_LABELS[item.status]}”的事项不能改为“{rules.STATUS_LABELS[target]}”。"
        )
    _need(actor, capability)


@transaction.atomic
def item_submit(*, actor, item: Item) -> Item:
    _need_scope(actor, item)
    _transition(actor, item, rules.REVIEW)
    item.status = rules.REVIEW
    item.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="item.submit", obj=item)
    return item


@transaction.atomic
def item_return(*, actor, item: Item, note: str) -> Item:
    _need_scope(actor, item, write=False)
    _transition(actor, item, rules.DRAFT)
    if not note.strip():
        raise ServiceError("退回时请写明修改意见。", field="note")
    item.status, item.review_note = rules.DRAFT, note.strip()[:300]
    item.save(update_fields=["status", "review_note", "updated_at"])
    audit.record(actor=actor, action="item.return", obj=item, reason=item.review_note)
    return item


def _go_live(item: Item, now: dt.datetime) -> None:
    version = item.current
    version.published_at = now
    masked = _seal(item, version)
    version.save(update_fields=["published_at", "title", "summary", "body", "table", "change_note"])
    if masked:
        audit.record(actor=None, action="item.mask", obj=item, changes={"masked": dict(masked)})
    item.status = rules.PUBLISHED
    if item.published_at is None:
        item.published_at = now
        if item.is_notice:
            # The period ends at midnight where the board hangs, not in UTC.
            local = timezone.localtime(now)
            item.notice_ends_at = rules.notice_ends(local, item.category.notice_days)
    item.save(
        update_fields=[
            "status",
            "published_at",
            "notice_ends_at",
            "reviewed_by",
            "spokesperson",
            "updated_at",
        ]
    )
    bump_generation()
    transaction.on_commit(lambda: _announce(item.pk))


def _announce(item_id: int) -> None:
    """The SMS channel: subscribers of the boards that show the item get a short notice."""
    from sunshine.messaging import tasks as messaging_tasks

    messaging_tasks.broadcast_publication(item_id)


@transaction.atomic
def item_publish(*, actor, item: Item, now: dt.datetime | None = None) -> Item:
    """Approve an item under review: it goes live now, or at its planned time."""
    now = now or timezone.now()
    _need_scope(actor, item, write=False)
    item = (
        Item.objects.select_for_update(of=("self",))
        .select_related("current", "category")
        .get(pk=item.pk)
    )
    scheduled = item.publish_at is not None and item.publish_at > now
    _transition(actor, item, rules.SCHEDULED if scheduled else rules.PUBLISHED)
    if actor is not None and item.created_by_id == actor.pk and not actor.is_superuser:
        raise ServiceError("起草人不能审核自己起草的事项，请由另一位审核人发布。")
    item.reviewed_by = actor
    if scheduled:
        item.status = rules.SCHEDULED
        item.save(update_fields=["status", "reviewed_by", "updated_at"])
    else:
        _go_live(item, now)
    audit.record(
        actor=actor,
        action="item.schedule" if scheduled else "item.publish",
        obj=item,
        changes={"levels": item.target_levels},
    )
    return item


@transaction.atomic
def items_publish_due(*, now: dt.datetime | None = None) -> int:
    """Periodic: scheduled items whose time has come go live; expired ones are archived."""
    now = now or timezone.now()
    n = 0
    for item in (
        Item.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("current", "category")
        .filter(status=rules.SCHEDULED, publish_at__lte=now)
    ):
        _go_live(item, now)
        audit.record(actor=None, action="item.publish_scheduled", obj=item)
        n += 1
    expired = list(
        Item.objects.select_for_update(skip_locked=True).filter(
            status=rules.PUBLISHED, expires_at__lte=now
        )
    )
    for item in expired:
        item.status = rules.ARCHIVED
        item.save(update_fields=["status", "updated_at"])
        audit.record(actor=None, action="item.expire", obj=item)
    if expired:
        bump_generation()
    return n + len(expired)


@transaction.atomic
def item_correct(
    *,
    actor,
    item: Item,
    title: str,
    summary: str = "",
    body: str = "",
    table: dict | None = None,
    change_note: str,
    now: dt.datetime | None = None,
) -> ItemVersion:
    """Publish a corrected version; the old one stays visible in the history."""
    now = now or timezone.now()
    _need(actor, "publishing.review")
    _need_scope(actor, item, write=False)
    if item.status != rules.PUBLISHED:
        raise ServiceError("只有已发布的事项可以更正。")
    change_note = clean_text(change_note, multiline=True)
    if not change_note:
        raise ServiceError("请写明更正说明，公众会在版本记录中看到。", field="change_note")
    title = clean_text(title or "")
    summary = clean_text(summary or "", multiline=True)
    body = clean_text(body or "", multiline=True)
    _check_public_text(title=title, summary=summary, body=body, change_note=change_note)
    table, masked = _clean_table(table)
    number = item.versions.count() + 1
    version = ItemVersion.objects.create(
        item=item,
        number=number,
        title=title[:200] or item.current.title,
        summary=summary[:300],
        body=body,
        table=table,
        change_note=change_note[:300],
        created_by=actor,
        published_at=now,
    )
    previous = item.current
    # The list and the attachments carry over (the same stored files), in two INSERTs.
    entries, attachments = list(previous.entries.all()), list(previous.attachments.all())
    for row in (*entries, *attachments):
        row.pk, row.version = None, version
    ListEntry.objects.bulk_create(entries)
    Attachment.objects.bulk_create(attachments)
    item.current = version
    item.save(update_fields=["current", "updated_at"])
    bump_generation()
    audit.record(
        actor=actor,
        action="item.correct",
        obj=item,
        reason=change_note,
        changes=_masked_note({"version": number}, masked),
    )
    return version


@transaction.atomic
def item_withdraw(*, actor, item: Item, reason: str) -> Item:
    _need_scope(actor, item, write=False)
    _transition(actor, item, rules.WITHDRAWN)
    reason = clean_text(reason, multiline=True)
    if not reason:
        raise ServiceError("撤回时请写明原因。", field="reason")
    item.status, item.review_note = rules.WITHDRAWN, reason[:300]
    item.save(update_fields=["status", "review_note", "updated_at"])
    bump_generation()
    audit.record(actor=actor, action="item.withdraw", obj=item, reason=reason)
    return item


@transaction.atomic
def item_archive(*, actor, item: Item) -> Item:
    _need_scope(actor, item, write=False)
    _transition(actor, item, rules.ARCHIVED)
    item.status = rules.ARCHIVED
    item.save(update_fields=["status", "updated_at"])
    bump_generation()
    audit.record(actor=actor, action="item.archive", obj=item)
    return item


@transaction.atomic
def entry_add(
    *,
    actor,
    item: Item,
    name: str,
    id_number: str = "",
    place_name: str = "",
    matter: str = "",
    resident=None,
) -> ListEntry:
    """A person on a notice's list; only the masked forms ever reach public output."""
    _need(actor, "publishing.draft")
    _need_scope(actor, item)
    version = _editable_version(item)
    if resident is not None:
        name, id_number = resident.name, resident.id_number
        place_name = place_name or resident.place.name
    name, place_name, matter = clean_text(name), clean_text(place_name), clean_text(matter)
    if not name:
        raise ServiceError("姓名不能为空。", field="name")
    _check_public_text(name=name, place_name=place_name, matter=matter)
    entry = ListEntry.objects.create(
        version=version,
        resident=resident,
        name=name[:50],
        id_number=clean_text(id_number).upper()[:18],
        place_name=place_name[:100],
        matter=matter[:200],
        position=version.entries.count() + 1,
    )
    audit.record(actor=actor, action="item.entry_add", obj=item, object_repr=str(item))
    return entry


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, ctype, ext in MAGIC:
        if head.startswith(magic):
            return ctype, ext
    return None


@transaction.atomic
def attachment_add(*, actor, item: Item, upload, title: str) -> Attachment:
    """Images (PNG, JPEG, GIF) and PDFs only, told by their content, never by their name; stored
    under a random name."""
    _need(actor, "publishing.draft")
    _need_scope(actor, item)
    version = _editable_version(item)
    if upload.size > MAX_ATTACHMENT:
        raise ServiceError("附件不能超过 10 MB。", field="file")
    head = upload.read(16)
    upload.seek(0)
    kind = _sniff(head)
    if kind is None:
        raise ServiceError("附件只能是图片（PNG、JPEG、GIF）或 PDF 文件。", field="file")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    title = clean_text(title)[:120] or "附件"
    _check_public_text(labels={"title": "附件名称"}, title=title)
    attachment = Attachment(
        version=version,
        title=title,
        content_type=kind[0],
        size=upload.size,
        sha256=digest.hexdigest(),
    )
    attachment.file.save(f"{uuid.uuid4().hex}.{kind[1]}", upload, save=False)
    attachment.save()
    audit.record(
        actor=actor,
        action="item.attachment_add",
        obj=item,
        changes={"title": title, "type": kind[0]},
    )
    return attachment


@transaction.atomic
def objection_file(
    *,
    item: Item,
    text: str,
    name: str = "",
    phone: str = "",
    ip: str = "",
    channel: str = "web",
    now: dt.datetime | None = None,
) -> Objection:
    """Anyone may object to a notice during its period. Rate-limited per address."""
    now = now or timezone.now()
    if not item.is_notice or item.status != rules.PUBLISHED:
        raise ServiceError("这个事项不是正在进行的公示，不能提出异议。")
    if not rules.notice_is_open(item.notice_ends_at, now):
        raise ServiceError("公示期已经结束，不能再提出异议。如有问题请拨打监督电话。")
    text = clean_text(text, multiline=True)
    if len(text) < 5:
        raise ServiceError("请写明异议的内容和理由（至少5个字）。", field="text")
    if len(text) > 2000:
        raise ServiceError("异议内容请控制在2000字以内。", field="text")
    recent = Objection.objects.filter(created_at__gte=now - dt.timedelta(hours=1))
    if (ip and recent.filter(ip=ip).count() >= OBJECTIONS_PER_HOUR) or (
        channel == "sms"
        and phone
        and recent.filter(channel="sms", phone=phone).count() >= OBJECTIONS_PER_HOUR
    ):
        raise ServiceError("提交过于频繁，请一小时后再试，或拨打监督电话。")
    objection = Objection(
        item=item,
        item_path=item.place_path,
        tracking_code=rules.tracking_code(),
        created_at=now,
        name=clean_text(name)[:50],
        phone=clean_text(phone)[:20],
        text=text,
        ip=ip,
        channel=channel,
    )
    try:
        objection.full_clean()
    except ValidationError as exc:
        raise ServiceError("；".join(exc.messages)) from None
    objection.save()
    audit.record(
        actor=None,
        action="objection.file",
        obj=objection,
        place_path=item.place_path,
        object_repr=f"异议 {objection.tracking_code}",
    )
    return objection


_SMS_PUBLIC_ID = re.compile(r"^([0-9a-fA-F]{10})(?![0-9a-zA-Z])\s*(.*)$", re.DOTALL)
SMS_TITLE_CHARS = 20


def _short_title(item: Item) -> str:
    title = item.current.title if item.current_id else item.public_id
    return title if len(title) <= SMS_TITLE_CHARS else title[: SMS_TITLE_CHARS - 1] + "…"


def _notice_for_sms(mobile: str, text: str) -> tuple[Item | None, str]:
    """The notice an SMS objection is for: the one whose public number starts the text (as a
    board or poster shows it), else the latest notice SMS this number was sent; and the text
    without the number."""
    from sunshine.messaging.models import Message

    items = Item.objects.select_related("current", "place")
    if m := _SMS_PUBLIC_ID.match(text):
        item = items.filter(public_id=m.group(1).lower()).first()
        if item is not None:
            return item, m.group(2).strip()
    source = (
        Message.objects.filter(
            mobile=mobile, sent_at__isnull=False, ready=True, source__startswith="publication:"
        )
        .order_by("-id")
        .values_list("source", flat=True)
        .first()
    )
    if source is None:
        return None, text
    return items.filter(public_id=source.split(":")[1]).first(), text


@transaction.atomic
def objection_by_sms(*, mobile: str, text: str, now: dt.datetime | None = None) -> bool:
    """An objection sent by SMS ("YY 内容", SPEC §1): filed like one from the web (channel
    'sms', the number as its contact, at most OBJECTIONS_PER_HOUR an hour per number), and
    the sender gets an SMS with the tracking code, or with the reason it could not be filed.
    False when it was not filed (no notice found, the period is over…): the reply then waits
    in the SMS inbox for staff."""
    from sunshine.messaging import rules as sms_rules
    from sunshine.messaging import services as sms_services

    item, text = _notice_for_sms(mobile, text)
    if item is None:
        return False
    title = _short_title(item)
    try:
        objection = objection_file(item=item, text=text, phone=mobile, channel="sms", now=now)
    except ServiceError as exc:
        body, filed = f"您对“{title}”的异议未能受理：{exc.message}", False
    else:
        body, filed = (
            f"您对“{title}”的异议已收到，查询码{objection.tracking_code}，"
            "答复将在公示页面公布，也可凭查询码在网站查询。",
            True,
        )
    sms_services.message_enqueue(
        programme="publishing",
        mobile=mobile,
        body=body,
        place=item.place,
        category=sms_rules.ESSENTIAL,
        source=f"objection-sms:{item.public_id}",
        now=now,
    )
    return filed


@transaction.atomic
def objection_answer(
    *, actor, objection: Objection, answer: str, now: dt.datetime | None = None
) -> Objection:
    _need(actor, "publishing.answer")
    if actor is not None and not scoping.path_in_scope(actor, objection.item_path):
        raise ServiceError("这条异议不在您的管辖范围内。")
    answer = clean_text(answer, multiline=True)
    if len(answer) < 5:
        raise ServiceError("请写明答复内容（至少5个字）。", field="answer")
    _check_public_text(answer=answer)
    objection.answer, objection.status = answer[:2000], rules.OBJECTION_ANSWERED
    objection.answered_by, objection.answered_at = actor, now or timezone.now()
    objection.save(update_fields=["answer", "status", "answered_by", "answered_at"])
    bump_generation()
    audit.record(
        actor=actor, action="objection.answer", obj=objection, place_path=objection.item_path
    )
    return objection


@transaction.atomic
def notice_finalise(*, actor, item: Item, outcome: str, now: dt.datetime | None = None) -> Item:
    """Close a notice and publish its outcome; refused while an objection is open or the
    period has not ended."""
    now = now or timezone.now()
    _need(actor, "publishing.answer")
    _need_scope(actor, item, write=False)
    item = Item.objects.select_for_update().get(pk=item.pk)
    if not item.is_notice or item.status != rules.PUBLISHED:
        raise ServiceError("只有已发布的公示可以办结。")
    if item.finalised_at is not None:
        raise ServiceError("这条公示已经办结。")
    reason = rules.can_finalise(
        ends_at=timezone.localtime(item.notice_ends_at) if item.notice_ends_at else None,
        now=now,
        open_objections=item.objections.filter(status=rules.OBJECTION_OPEN).count(),
    )
    if reason:
        raise ServiceError(reason)
    outcome = clean_text(outcome, multiline=True)
    if not outcome:
        raise ServiceError("请写明公示结果。", field="outcome")
    _check_public_text(outcome=outcome)
    item.outcome, item.finalised_at = outcome[:2000], now
    item.save(update_fields=["outcome", "finalised_at", "updated_at"])
    bump_generation()
    audit.record(
        actor=actor, action="item.finalise", obj=item, changes={"outcome": item.outcome[:100]}
    )
    return item


def _clean_category(category: Category) -> None:
    category.name = clean_text(category.name)
    category.description = clean_text(category.description)
    if not category.name:
        raise ServiceError("类别名称不能为空。", field="name")
    if category.notice_days > 90:
        raise ServiceError("公示天数不能超过90天。", field="notice_days")
    try:
        category.full_clean()
    except ValidationError as exc:
        field = next(iter(exc.message_dict), None)
        raise ServiceError("；".join(exc.messages), field=field) from None


@transaction.atomic
def category_create(
    *,
    actor,
    code: str,
    name: str,
    description: str = "",
    notice_days: int = 0,
    is_active: bool = True,
) -> Category:
    _need(actor, "publishing.review")  # county roles: categories serve every board
    code = (code or "").strip().lower()
    if Category.objects.filter(code=code).exists():
        raise ServiceError(f"代码 {code} 已被使用，请换一个。", field="code")
    last = Category.objects.order_by("-position").values_list("position", flat=True).first()
    category = Category(
        code=code,
        name=name or "",
        description=description or "",
        notice_days=notice_days,
        is_active=is_active,
        position=(last or 0) + 1,
    )
    _clean_category(category)
    category.save()
    audit.record(
        actor=actor,
        action="category.create",
        obj=category,
        changes={"name": category.name, "notice_days": notice_days},
    )
    return category


@transaction.atomic
def category_update(
    *,
    actor,
    category: Category,
    name: str,
    description: str = "",
    notice_days: int = 0,
    is_active: bool = True,
) -> Category:
    """Rename, retime or switch off a category. Items already published keep their notice
    period; a new period applies to notices published from now on."""
    _need(actor, "publishing.review")  # county roles: categories serve every board
    fields = ["name", "description", "notice_days", "is_active"]
    before = audit.snapshot(category, fields)
    category.name, category.description = name or "", description or ""
    category.notice_days, category.is_active = notice_days, is_active
    _clean_category(category)
    category.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="category.update",
        obj=category,
        changes=audit.diff(category, fields, before),
    )
    return category


def categories_ensure() -> None:
    """The seeded categories, for a database emptied after migrating (tests, a reset demo)."""
    import importlib

    from django.apps import apps

    importlib.import_module("sunshine.publishing.migrations.0002_seed_categories").seed(apps, None)
