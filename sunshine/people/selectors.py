from django.db.models import Q, QuerySet

from sunshine.core import audit
from sunshine.people.models import Couple, Resident
from sunshine.places import scoping


def can_see_identifiers(actor) -> bool:
    """Full ID numbers and mobiles: only roles that register and serve residents."""
    return actor is not None and actor.is_authenticated and actor.can("people.identifiers")


def resident_list_for_actor(
    actor, *, q: str = "", place_code: str = "", status: str = ""
) -> QuerySet[Resident]:
    qs = scoping.scope(Resident.objects.select_related("place__parent", "household"), actor)
    if place_code:
        from sunshine.places.models import Place

        place = Place.objects.filter(code=place_code).only("path").first()
        qs = qs.filter(place_path__startswith=place.path) if place else qs.none()
    if q:
        q = q.strip()
        qs = qs.filter(Q(name__startswith=q) | Q(id_number=q.upper()) | Q(mobile=q)) if q else qs
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("place_path", "name", "id")


def resident_get_for_actor(actor, resident_id: int) -> Resident:
    return scoping.get_for_actor(
        Resident.objects.select_related("place", "household", "residence"), actor, pk=resident_id
    )


def resident_identifiers(actor, resident: Resident, *, reason: str = "") -> dict:
    """The full ID number and mobile, for roles allowed to see them; each read is audited."""
    if not can_see_identifiers(actor):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("您的角色不能查看完整的身份证号码和手机号码。")
    audit.record_read(
        actor=actor, obj=resident, fields=list(Resident.SENSITIVE_FIELDS), reason=reason
    )
    return {"id_number": resident.id_number, "mobile": resident.mobile}


def couple_list_for_actor(actor) -> QuerySet[Couple]:
    return scoping.scope(Couple.objects.select_related("husband", "wife", "place"), actor)
