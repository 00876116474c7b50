import time

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from sunshine.core import audit
from sunshine.places import scoping
from sunshine.places import selectors as place_selectors
from sunshine.places.models import Place
from sunshine.publishing import rules
from sunshine.publishing.models import Category, Item, ItemVersion, Objection, PublicationState

_generation_memo = {"value": 0, "until": 0.0}
GENERATION_TTL = 1.0  # seconds another process may show a board that is one publication old


def generation() -> int:
    """Read on every board request: remembered for a second per process (this process forgets
    at once when it publishes), and read in plain SQL, which costs less than the ORM."""
    now = time.monotonic()
    if now < _generation_memo["until"]:
        return _generation_memo["value"]
    value = _generation_from_db()
    _generation_memo.update(value=value, until=now + GENERATION_TTL)
    return value


def forget_generation() -> None:
    _generation_memo["until"] = 0.0


def _generation_from_db() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT generation FROM {PublicationState._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def board_items(place: Place, *, ancestors: list[Place] | None = None) -> QuerySet[Item]:
    """What a place's board shows: its own published items, and its ancestors' published items
    that target its level (六级同步公开)."""
    ancestors = ancestors if ancestors is not None else place_selectors.place_ancestors(place)
    return (
        Item.objects.filter(status=rules.PUBLISHED)
        .filter(
            Q(place=place)
            | Q(place__in=[a.pk for a in ancestors], target_levels__contains=f",{place.level},")
        )
        .select_related("current", "category", "place")
        .order_by("-published_at", "-id")
    )


def item_get_public(public_id: str) -> Item:
    try:
        return Item.objects.select_related("current", "category", "place", "place__parent").get(
            public_id=public_id, status__in=(rules.PUBLISHED, rules.ARCHIVED)
        )
    except Item.DoesNotExist:
        raise Http404("没有这个公开事项，或已撤回。") from None


def item_versions_public(item: Item) -> QuerySet[ItemVersion]:
    return item.versions.filter(published_at__isnull=False).order_by("-number")


def version_get_public(item: Item, number: int) -> ItemVersion:
    try:
        return item.versions.prefetch_related("entries", "attachments").get(
            number=number, published_at__isnull=False
        )
    except ItemVersion.DoesNotExist:
        raise Http404("没有这个版本。") from None


def objection_get_public(tracking_code: str) -> Objection:
    try:
        return Objection.objects.select_related("item__current").get(
            tracking_code=tracking_code.strip().upper()
        )
    except Objection.DoesNotExist:
        raise Http404("查询码不正确，请核对后重试。") from None


def objection_counts(item: Item) -> dict:
    row = item.objections.aggregate(
        total=Count("id"), open=Count("id", filter=Q(status=rules.OBJECTION_OPEN))
    )
    return {"total": row["total"], "open": row["open"], "answered": row["total"] - row["open"]}


def published_list(*, place: Place | None = None, category: str = "") -> QuerySet[Item]:
    """Open data: every published item of a place's subtree."""
    qs = Item.objects.filter(status=rules.PUBLISHED).select_related("current", "category", "place")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if category:
        qs = qs.filter(category__code=category)
    return qs.order_by("-published_at", "-id")


def category_list() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True)


# Staff reads --------------------------------------------------------------------------------


def item_list_for_actor(
    actor, *, status: str = "", category: str = "", q: str = ""
) -> QuerySet[Item]:
    qs = scoping.scope(
        Item.objects.select_related("current", "category", "place", "created_by"), actor
    )
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category__code=category)
    if q:
        qs = qs.filter(current__title__contains=q)
    return qs.annotate(
        open_objections=Count("objections", filter=Q(objections__status=rules.OBJECTION_OPEN))
    ).order_by("-updated_at", "-id")


def item_get_for_actor(actor, item_id: int) -> Item:
    return scoping.get_for_actor(
        Item.objects.select_related("current", "category", "place", "created_by", "reviewed_by"),
        actor,
        pk=item_id,
    )


def review_queue_for_actor(actor) -> QuerySet[Item]:
    return item_list_for_actor(actor, status=rules.REVIEW)


def objection_list_for_actor(actor, *, status: str = "") -> QuerySet[Objection]:
    qs = scoping.scope(Objection.objects.select_related("item__current", "answered_by"), actor)
    return qs.filter(status=status) if status else qs


def objection_get_for_actor(actor, objection_id: int) -> Objection:
    return scoping.get_for_actor(
        Objection.objects.select_related("item__current"), actor, pk=objection_id
    )


def objection_contact(actor, objection: Objection) -> dict:
    """The objector's name and phone: staff who answer may read them; each read is audited."""
    if not actor.can("publishing.answer"):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("您的角色不能查看异议人的联系方式。")
    audit.record_read(actor=actor, obj=objection, fields=["name", "phone"])
    return {"name": objection.name, "phone": objection.phone}


# Staff reads behind the back-office pages (sunshine.publishing.views.staff) ----------------


def item_history(item: Item):
    """The item's audit rows, oldest first: the status timeline of an item the actor has
    already been given through item_get_for_actor."""
    from sunshine.core.models import AuditEntry

    return AuditEntry.objects.filter(
        object_type="publishing.item", object_id=str(item.pk)
    ).order_by("at", "id")


def item_versions_staff(item: Item) -> QuerySet[ItemVersion]:
    return item.versions.select_related("created_by").order_by("-number")


def entry_identifiers(actor, version: ItemVersion) -> list:
    """A list's full names and ID numbers, for roles that may see identifiers; each read is
    audited against the item."""
    from django.core.exceptions import PermissionDenied

    if not actor.can("people.identifiers"):
        raise PermissionDenied("您的角色不能查看完整的身份证号码。")
    entries = list(version.entries.all())
    audit.record_read(
        actor=actor,
        obj=version.item,
        fields=["entries.name", "entries.id_number"],
        reason=f"第{version.number}版名单，共{len(entries)}人",
    )
    return entries


def attachment_get_for_actor(actor, attachment_id: int):
    """An attachment of any version (drafts too) of an item inside the actor's scope."""
    from sunshine.publishing.models import Attachment

    items = scoping.scope(Item.objects.all(), actor).values("pk")
    try:
        return Attachment.objects.select_related("version__item").get(
            pk=attachment_id, version__item__in=items
        )
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到，或不在您的管辖范围内。") from None


def category_list_staff() -> QuerySet[Category]:
    """Every category, switched-off ones too, with how many items use each."""
    return Category.objects.annotate(item_count=Count("items")).order_by("position", "id")


def statements_public() -> QuerySet[Item]:
    return (
        Item.objects.filter(status=rules.PUBLISHED, kind=rules.KIND_STATEMENT)
        .select_related("current", "category", "place")
        .order_by("-published_at", "-id")
    )
