"""Builders for the registration-desk tests (couples, institutions, slots)."""

import datetime as dt
import itertools

from django.utils import timezone

from sunshine.core.validators import id_check_char
from sunshine.precheck import services
from sunshine.precheck.models import Institution, Registration, Slot

_seq = itertools.count(1)


def id_number(*, female: bool, n: int | None = None, birth: str = "19950101") -> str:
    n = next(_seq) if n is None else n
    body = f"980101{birth}{(n % 50) * 2 + (0 if female else 1):03d}"
    return body + id_check_char(body)


def couple(world, **over) -> dict:
    n = next(_seq)
    data = {
        "woman_name": "王小红",
        "woman_id_number": id_number(female=True, n=n),
        "woman_mobile": f"1390000{n:04d}",
        "man_name": "李大明",
        "man_id_number": id_number(female=False, n=n, birth="19930101"),
        "man_mobile": "",
        "place": world.village,
        "consent_sms": True,
        "consent_data": True,
    }
    data.update(over)
    return data


def register(world, *, actor=None, channel=Registration.ONLINE, **over) -> Registration:
    return services.registration_create(actor=actor, channel=channel, **couple(world, **over))


def institution(world, place=None, **over) -> Institution:
    place = place or world.town
    data = {
        "name": f"{place.name}卫生院",
        "place": place,
        "place_path": place.path,
        "address": f"{place.name}健康路8号",
        "instructions": "",
    }
    data.update(over)
    return Institution.objects.create(**data)


def slot(inst, *, days: float = 3, capacity: int = 2, hour: int = 8, **over) -> Slot:
    day = timezone.localdate() + dt.timedelta(days=int(days))
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 30)))
    if days < 0 or days != int(days):
        start = timezone.now() + dt.timedelta(days=days)
    return Slot.objects.create(
        institution=inst,
        place_path=inst.place_path,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=capacity,
        **over,
    )
