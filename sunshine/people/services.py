"""Every write to residents, households and couples."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.people import rules
from sunshine.people.models import Couple, Household, Resident
from sunshine.places import scoping
from sunshine.places.models import Place

FIELDS = [
    "name",
    "sex",
    "birth_date",
    "id_number",
    "mobile",
    "place",
    "place_path",
    "household",
    "residence",
    "hukou_type",
    "status",
]


def _places_for(*codes: str) -> dict[str, rules.PlaceRef]:
    codes = [c for c in codes if c]
    return {
        code: rules.PlaceRef(pk, path, level)
        for code, pk, path, level in Place.objects.filter(code__in=codes).values_list(
            "code", "id", "path", "level"
        )
    }


def _clean(actor, raw: dict, today: dt.date) -> dict:
    places = _places_for(raw.get("place_code", ""), raw.get("residence_code", ""))
    prefix = (
        "" if actor is None else scoping.write_prefix(actor)
    )  # None: the system itself (demo, tests)
    clean, errors = rules.clean_resident(raw, places=places, scope_prefix=prefix, today=today)
    if errors:
        raise ServiceError(
            "；".join(f"{col}：{reason}" for col, reason in errors),
            field=errors[0][0],
            errors=[(col, f"{col}：{reason}") for col, reason in errors],
        )
    return clean


def _household(place: rules.PlaceRef, number: str) -> Household | None:
    if not number:
        return None
    household, _ = Household.objects.get_or_create(
        county_code=place.path[:6],
        number=number,
        defaults={"place_id": place.id, "place_path": place.path},
    )
    return household


@transaction.atomic
def resident_create(*, actor, data: dict, today: dt.date | None = None) -> Resident:
    """`data` holds the same fields as an import row (people.rules.COLUMNS), as text."""
    clean = _clean(actor, data, today or timezone.localdate())
    if Resident.objects.filter(id_number=clean["id_number"]).exists():
        raise ServiceError(
            f"身份证号码 {clean['id_number'][:6]}…… 已登记，不能重复。",
            field=rules.HEADERS["id_number"],
        )
    place = clean["place"]
    resident = Resident(
        name=clean["name"],
        sex=clean["sex"],
        birth_date=clean["birth_date"],
        id_number=clean["id_number"],
        mobile=clean["mobile"],
        place_id=place.id,
        place_path=place.path,
        household=_household(place, clean["household_number"]),
        residence_id=clean["residence"].id if clean["residence"] else None,
        hukou_type=clean["hukou_type"],
        status=clean["status"],
    )
    try:
        resident.full_clean()
        resident.save()
    except (ValidationError, IntegrityError) as exc:
        raise ServiceError(f"保存失败：{exc}") from None
    audit.record(
        actor=actor,
        action="resident.create",
        obj=resident,
        changes={"place": data.get("place_code")},
    )
    return resident


@transaction.atomic
def resident_update(
    *, actor, resident: Resident, data: dict, today: dt.date | None = None
) -> Resident:
    if actor is not None and not scoping.path_in_scope(actor, resident.place_path, write=True):
        raise ServiceError("只能修改您管辖范围内的居民。")
    data = {
        **data,
        "id_number": resident.id_number,
    }  # the ID number is the key; it is not edited here
    clean = _clean(actor, data, today or timezone.localdate())
    before = audit.snapshot(resident, FIELDS)
    place = clean["place"]
    resident.name, resident.sex, resident.birth_date = (
        clean["name"],
        clean["sex"],
        clean["birth_date"],
    )
    resident.mobile, resident.place_id, resident.place_path = clean["mobile"], place.id, place.path
    resident.household = _household(place, clean["household_number"])
    resident.residence_id = clean["residence"].id if clean["residence"] else None
    resident.hukou_type, resident.status = clean["hukou_type"], clean["status"]
    resident.full_clean()
    resident.save(update_fields=[f for f in FIELDS if f != "id_number"] + ["updated_at"])
    changes = audit.diff(resident, FIELDS, before)
    if "mobile" in changes:
        changes["mobile"] = ["（已隐去）", "（已隐去）"]
    audit.record(actor=actor, action="resident.update", obj=resident, changes=changes)
    return resident


@transaction.atomic
def couple_create(
    *,
    actor,
    husband: Resident,
    wife: Resident,
    marriage_date: dt.date | None = None,
    children: list[Resident] = (),
) -> Couple:
    if actor is not None:
        for person in (husband, wife, *children):
            if not scoping.path_in_scope(actor, person.place_path):
                raise ServiceError(f"{person.name} 不在您的管辖范围内。")
        if not scoping.path_in_scope(actor, wife.place_path, write=True):
            raise ServiceError("夫妇按妻子的所在地登记，只能登记您管辖范围内的夫妇。")
    if husband.sex != "M" or wife.sex != "F":
        raise ServiceError("请核对夫妇的性别：丈夫应为男性，妻子应为女性。")
    if Couple.objects.filter(husband=husband, wife=wife).exists():
        raise ServiceError("这对夫妇已经登记。")
    if (
        Couple.objects.filter(is_active=True).filter(husband=husband).exists()
        or Couple.objects.filter(is_active=True, wife=wife).exists()
    ):
        raise ServiceError("其中一方已有存续的婚姻登记，请先办理变更。")
    couple = Couple(
        husband=husband,
        wife=wife,
        marriage_date=marriage_date,
        place_id=wife.place_id,
        place_path=wife.place_path,
    )
    couple.full_clean()
    couple.save()
    if children:
        couple.children.set(children)
    audit.record(
        actor=actor,
        action="couple.create",
        obj=couple,
        changes={"children": [c.pk for c in children]},
    )
    return couple
