"""The one scoping mechanism (SPEC §0.2): every staff read and write goes through here.

A model declares `scope_path`, the lookup that reaches a place path string
("path" on Place, "place__path" on anything hung on a place, "place_path" on the audit log).
A user may change records under `user.place` (capture scope) and may read records under
`user.view_place` when it is set and wider (view scope), as DHIS2 does.
"""

from django.db.models import QuerySet
from django.http import Http404


def _prefix(actor, *, write: bool) -> str | None:
    """The path prefix the actor may reach; "" means everything, None means nothing."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    place = actor.place if write else (actor.view_place or actor.place)
    if place is None:
        return "" if actor.is_superuser else None
    return place.path


def read_prefix(actor) -> str | None:
    return _prefix(actor, write=False)


def write_prefix(actor) -> str | None:
    return _prefix(actor, write=True)


def scope(qs: QuerySet, actor, *, write: bool = False) -> QuerySet:
    lookup = getattr(qs.model, "scope_path", None)
    if not lookup:
        raise TypeError(f"{qs.model.__name__} 没有声明 scope_path，不能按区划限定。")
    prefix = _prefix(actor, write=write)
    if prefix is None:
        return qs.none()
    if prefix == "":
        return qs
    return qs.filter(**{f"{lookup}__startswith": prefix})


def get_for_actor(qs: QuerySet, actor, *, write: bool = False, **lookup):
    """One object inside the actor's scope, or Http404 (never 403: outsiders learn nothing)."""
    try:
        return scope(qs, actor, write=write).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到，或不在您的管辖范围内。") from None


def path_in_scope(actor, path: str, *, write: bool = False) -> bool:
    prefix = _prefix(actor, write=write)
    return prefix is not None and path.startswith(prefix)
