from django.db.models import Count, Q, QuerySet

from sunshine.places import rules, scoping
from sunshine.places.models import Contact, Place


def place_get_public(code: str) -> Place:
    from django.http import Http404

    try:
        return Place.objects.select_related("parent").get(code=code, is_active=True)
    except Place.DoesNotExist:
        raise Http404("没有这个地方。") from None


def place_root_list() -> QuerySet[Place]:
    """Top of the public navigation: the counties of this installation."""
    return Place.objects.filter(level=rules.COUNTY, is_active=True).order_by("path")


def place_ancestors(place: Place) -> list[Place]:
    paths = place.ancestor_paths()[:-1]
    by_path = {p.path: p for p in Place.objects.filter(path__in=paths)}
    return [by_path[p] for p in paths if p in by_path]


def place_children(place: Place) -> QuerySet[Place]:
    return (
        Place.objects.filter(parent=place, is_active=True)
        .annotate(child_count=Count("children", filter=Q(children__is_active=True)))
        .order_by("level", "path")
    )


def place_subtree(place: Place) -> QuerySet[Place]:
    return Place.objects.filter(path__startswith=place.path)


def place_list_for_actor(
    actor, *, level: str = "", q: str = "", write: bool = False
) -> QuerySet[Place]:
    qs = scoping.scope(Place.objects.select_related("parent"), actor, write=write)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__startswith=q))
    return qs.order_by("path")


def place_get_for_actor(actor, code: str, *, write: bool = False) -> Place:
    return scoping.get_for_actor(
        Place.objects.select_related("parent"), actor, write=write, code=code
    )


def place_level_counts(place: Place) -> dict[str, int]:
    rows = place_subtree(place).exclude(pk=place.pk).values("level").annotate(n=Count("id"))
    counts = {row["level"]: row["n"] for row in rows}
    return {label: counts[level] for level, label in rules.LEVEL_LABELS.items() if level in counts}


def contact_list_public(place: Place) -> QuerySet[Contact]:
    """Contacts of this place and every place above it, nearest last."""
    return Contact.objects.filter(place__path__in=place.ancestor_paths()).select_related("place")


def contact_list_for_actor(actor) -> QuerySet[Contact]:
    return scoping.scope(Contact.objects.select_related("place"), actor)
