"""Reads of 好孕好运's registration and appointment desk: registrations, institutions, slots and
appointments, each scoped to the actor (staff) or limited to what the public may see.

Institutions and their slots are public information (addresses, hours, free seats); for staff
they are scoped by the area they serve: an institution is visible to an actor when it lies in
the actor's area, or when the actor's area lies in the area it serves (a village cadre sees
the town health centre and the county centre that examine the village's couples)."""

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from sunshine.core import audit, validators
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.places.models import Place
from sunshine.precheck.models import Appointment, Institution, Registration, Slot

# -- registrations -------------------------------------------------------------------------


def registration_list_for_actor(
    actor, *, q: str = "", status: str = "", place_code: str = ""
) -> QuerySet[Registration]:
    qs = scoping.scope(Registration.objects.select_related("place__parent"), actor)
    if status:
        qs = qs.filter(status=status)
    if place_code:
        place = Place.objects.filter(code=place_code).only("path").first()
        qs = qs.filter(place_path__startswith=place.path) if place else qs.none()
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(number=q.upper())
            | Q(woman_name__startswith=q)
            | Q(man_name__startswith=q)
            | Q(woman_id_number=q.upper())
            | Q(man_id_number=q.upper())
        )
    return qs.order_by("-created_at", "-id")


def registration_get_for_actor(actor, registration_id: int, *, write: bool = False) -> Registration:
    return scoping.get_for_actor(
        Registration.objects.select_related("place", "place__parent"),
        actor,
        write=write,
        pk=registration_id,
    )


def can_reveal(actor, registration: Registration) -> bool:
    """Full ID numbers and mobiles of a couple: staff who register couples, in their own place."""
    return (
        actor is not None
        and actor.is_authenticated
        and actor.can("precheck.register")
        and scoping.path_in_scope(actor, registration.place_path, write=True)
    )


def registration_identifiers(actor, registration: Registration, *, reason: str = "") -> dict:
    if not can_reveal(actor, registration):
        raise PermissionDenied("您不能查看这对夫妇的完整身份证号码和手机号码。")
    audit.record_read(
        actor=actor,
        obj=registration,
        fields=list(Registration.SENSITIVE_FIELDS),
        reason=reason,
    )
    return {f: getattr(registration, f) for f in Registration.SENSITIVE_FIELDS}


def registration_appointments(registration: Registration) -> QuerySet[Appointment]:
    return registration.appointments.select_related("slot__institution").order_by(
        "-created_at", "-id"
    )


def registration_active_appointment(registration: Registration) -> Appointment | None:
    return registration_appointments(registration).filter(status__in=Appointment.ACTIVE).first()


def registration_timeline(registration: Registration, appointments=None) -> list:
    """The status history, from the audit log (registration and its appointments; pass the
    appointments when already loaded)."""
    from sunshine.core.models import AuditEntry

    if appointments is None:
        appointments = registration.appointments.only("pk")
    appt_ids = [str(a.pk) for a in appointments]
    return list(
        AuditEntry.objects.filter(
            Q(object_type="precheck.registration", object_id=str(registration.pk))
            | Q(object_type="precheck.appointment", object_id__in=appt_ids)
        )
        .exclude(action__endswith="read_sensitive")
        .order_by("at", "id")
    )


def registration_lookup_public(number: str, mobile: str) -> Registration | None:
    """The couple's own look-up: registration number and the woman's mobile must both match."""
    number, mobile = (number or "").strip().upper(), validators.mobile_normalised(mobile)
    if not number or not mobile:
        return None
    return (
        Registration.objects.select_related("place")
        .filter(number=number, woman_mobile=mobile)
        .first()
    )


def registration_get_public(registration_id: int) -> Registration | None:
    return Registration.objects.select_related("place").filter(pk=registration_id).first()


# -- institutions ---------------------------------------------------------------------------


def _serving_q(prefix: str) -> Q:
    """Institutions inside `prefix`, or serving an area that contains it."""
    q = Q(place_path__startswith=prefix)
    town_len = place_rules.PREFIX_LEN[place_rules.TOWN]
    ancestors = [prefix[:n] for n in (2, 4, 6) if len(prefix) > n]
    if ancestors:
        q |= Q(place_path__in=ancestors)
    if len(prefix) > town_len:
        q |= Q(place_path__startswith=prefix[:town_len])
    return q


def _institutions_for(actor, *, write: bool = False) -> QuerySet[Institution]:
    prefix = scoping.write_prefix(actor) if write else scoping.read_prefix(actor)
    qs = Institution.objects.select_related("place")
    if prefix is None:
        return qs.none()
    if write:
        return qs.filter(place_path__startswith=prefix)
    return qs if prefix == "" else qs.filter(_serving_q(prefix))


def institution_list_for_actor(actor, *, active_only: bool = False) -> QuerySet[Institution]:
    qs = _institutions_for(actor)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("place_path", "name", "id")


def institution_get_for_actor(actor, institution_id: int, *, write: bool = False) -> Institution:
    try:
        return _institutions_for(actor, write=write).get(pk=institution_id)
    except (Institution.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到，或不在您的管辖范围内。") from None


def can_manage_institution(actor, institution: Institution) -> bool:
    return actor.can("precheck.manage") and scoping.path_in_scope(
        actor, institution.place_path, write=True
    )


# -- slots -----------------------------------------------------------------------------------


def slot_list_for_institution(
    institution: Institution, *, since: dt.datetime | None = None
) -> QuerySet[Slot]:
    since = since or timezone.now()
    start = timezone.localtime(since).replace(hour=0, minute=0, second=0, microsecond=0)
    return institution.slots.filter(starts_at__gte=start).order_by("starts_at", "id")


def _open_slots(now: dt.datetime | None) -> QuerySet[Slot]:
    from django.db.models import F

    return (
        Slot.objects.select_related("institution")
        .filter(
            is_open=True,
            institution__is_active=True,
            starts_at__gt=now or timezone.now(),
            booked__lt=F("capacity"),
        )
        .order_by("institution__place_path", "institution__name", "institution_id", "starts_at")
    )


def slots_open_for_place(place: Place, *, now: dt.datetime | None = None) -> QuerySet[Slot]:
    """Open, future slots with a free seat, at active institutions serving `place`."""
    town_len = place_rules.PREFIX_LEN[place_rules.TOWN]
    path = place.path
    q = Q(institution__place_path__in=[path[:n] for n in (2, 4, 6) if len(path) >= n])
    if len(path) >= town_len:
        q |= Q(institution__place_path__startswith=path[:town_len])
    return _open_slots(now).filter(q)


def slots_for_booking(registration: Registration, active: Appointment | None):
    """The slots a couple may (re)book: none once past booking; rebooking means another time."""
    from sunshine.precheck.services import BOOKABLE_STATUSES

    if registration.status not in BOOKABLE_STATUSES:
        return []
    slots = slots_open_for_place(registration.place)
    return slots.exclude(pk=active.slot_id) if active is not None else slots


def slot_list_open_for_actor(actor, *, now: dt.datetime | None = None) -> QuerySet[Slot]:
    ids = _institutions_for(actor).filter(is_active=True).values("pk")
    return _open_slots(now).filter(institution__in=ids)


def slot_get_for_actor(actor, slot_id: int, *, write: bool = False) -> Slot:
    ids = _institutions_for(actor, write=write).values("pk")
    try:
        return Slot.objects.select_related("institution").get(pk=slot_id, institution__in=ids)
    except (Slot.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到，或不在您的管辖范围内。") from None


def group_by_institution(slots) -> list[tuple[Institution, list[Slot]]]:
    out: list[tuple[Institution, list[Slot]]] = []
    for s in slots:
        if not out or out[-1][0].pk != s.institution_id:
            out.append((s.institution, []))
        out[-1][1].append(s)
    return out


# -- appointments ---------------------------------------------------------------------------


def appointment_get_for_actor(actor, appointment_id: int, *, write: bool = False) -> Appointment:
    """An appointment of a couple in the actor's scope, or at an institution the actor manages
    (the clinic marks who came)."""
    qs = Appointment.objects.select_related("registration", "slot__institution")
    prefix = scoping.write_prefix(actor) if write else scoping.read_prefix(actor)
    if prefix is None:
        raise Http404("没有找到，或不在您的管辖范围内。")
    if prefix:
        qs = qs.filter(Q(place_path__startswith=prefix) | Q(slot__place_path__startswith=prefix))
    try:
        return qs.get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到，或不在您的管辖范围内。") from None


def appointment_day_list(institution: Institution, day: dt.date) -> QuerySet[Appointment]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return (
        Appointment.objects.filter(
            slot__institution=institution,
            slot__starts_at__gte=start,
            slot__starts_at__lt=start + dt.timedelta(days=1),
        )
        .exclude(status=Appointment.CANCELLED)
        .select_related("registration__place__parent", "slot")
        .order_by("slot__starts_at", "registration__number")
    )


def appointment_change_requests_for_actor(actor) -> QuerySet[Appointment]:
    return (
        scoping.scope(Appointment.objects.all(), actor)
        .filter(status=Appointment.CHANGE_REQUESTED)
        .select_related("registration__place", "slot__institution")
        .order_by("slot__starts_at", "id")
    )


def public_towns() -> QuerySet[Place]:
    return Place.objects.filter(level=place_rules.TOWN, is_active=True).order_by("path")


def public_villages(town: Place) -> QuerySet[Place]:
    return Place.objects.filter(parent=town, level=place_rules.VILLAGE, is_active=True).order_by(
        "path"
    )


def place_for_registration(code: str) -> Place | None:
    if not code:
        return None
    return (
        Place.objects.filter(
            code=code, is_active=True, level__in=(place_rules.VILLAGE, place_rules.GROUP)
        )
        .select_related("parent")
        .first()
    )
