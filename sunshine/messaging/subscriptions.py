"""SMS subscriptions to boards, and the publication channel: when an item goes live, every
subscriber of a board that shows it gets one short notice with a link (SPEC §0.3, §7)."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.core.validators import validate_mobile
from sunshine.messaging import rules, services
from sunshine.messaging.models import Subscription

PER_ADDRESS_PER_HOUR = 10
TITLE_CHARS = 28


@transaction.atomic
def subscribe(*, place, mobile: str, ip: str = "", now: dt.datetime | None = None) -> Subscription:
    now = now or timezone.now()
    try:
        mobile = validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="mobile") from None
    if (
        ip
        and Subscription.objects.filter(ip=ip, created_at__gte=now - dt.timedelta(hours=1)).count()
        >= PER_ADDRESS_PER_HOUR
    ):
        raise ServiceError("订阅过于频繁，请一小时后再试。")
    sub, created = Subscription.objects.get_or_create(
        mobile=mobile, place=place, defaults={"place_path": place.path, "ip": ip}
    )
    if not created and not sub.is_active:
        sub.is_active = True
        sub.save(update_fields=["is_active"])
    audit.record(
        actor=None,
        action="subscription.create",
        obj=sub,
        place_path=place.path,
        object_repr=f"{place.name} 短信订阅",
    )
    return sub


@transaction.atomic
def unsubscribe(*, place, mobile: str) -> int:
    try:
        mobile = validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="mobile") from None
    stopped = Subscription.objects.filter(mobile=mobile, place=place, is_active=True).update(
        is_active=False
    )
    if stopped:
        audit.record(
            actor=None,
            action="subscription.cancel",
            place_path=place.path,
            object_repr=f"{place.name} 短信订阅",
        )
    return stopped


def notice_text(item) -> str:
    title = item.current.title
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1] + "…"
    url = settings.SUNSHINE_BASE_URL.rstrip("/") + reverse("publishing:item", args=[item.public_id])
    if item.is_notice:  # objections by SMS: a reply to this message (publishing.signals)
        return f"{item.place.name}发布公示：{title}，详见 {url} 有异议请回复YY加意见"
    return f"{item.place.name}发布公开：{title}，详见 {url}"


def subscribers_of(item) -> list[Subscription]:
    """Subscribers of every board that shows the item: its own place's, and the boards below
    it at the levels it targets."""
    levels = item.levels
    q = Q(place_id=item.place_id)
    if levels:
        q |= Q(place_path__startswith=item.place_path, place__level__in=levels)
    return list(Subscription.objects.filter(q, is_active=True).select_related("place"))


@transaction.atomic
def broadcast_publication(item, *, now: dt.datetime | None = None) -> int:
    """Queue one notice per subscribed mobile (a mobile subscribed to several of the boards gets
    one). Non-essential: TD opts out. Safe to run twice: the source key is checked."""
    source = f"publication:{item.public_id}:v{item.current.number}"
    from sunshine.messaging.models import Message

    if Message.objects.filter(source=source).exists():
        return 0
    text = notice_text(item)
    sent = 0
    seen: set[str] = set()
    for sub in subscribers_of(item):
        if sub.mobile in seen:
            continue
        seen.add(sub.mobile)
        services.message_enqueue(
            programme="publishing",
            mobile=sub.mobile,
            body=text,
            place=sub.place,
            category=rules.NON_ESSENTIAL,
            source=source,
            now=now,
        )
        sent += 1
    return sent
