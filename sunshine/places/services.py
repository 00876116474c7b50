"""Every write to places goes through here."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.places import rules, scoping
from sunshine.places.models import Contact, Place


@dataclass
class PlaceRow:
    code: str
    name: str
    urban_rural_code: str = ""
    code_year: int | None = None
    address: str = ""


def _check_parent(code: str, level: str, parent: Place | None) -> None:
    allowed = rules.ALLOWED_PARENT_LEVELS[level]
    if not allowed:
        return
    if parent is None:
        raise ServiceError(
            f"编码 {code}：上级 {rules.parent_code(code)} 不存在，请先导入上级区划。"
        )
    if parent.level not in allowed:
        raise ServiceError(f"编码 {code}：不在上级 {parent.code}（{parent.level_label}）之下。")


@transaction.atomic
def place_create(
    *,
    actor,
    code: str,
    name: str,
    urban_rural_code: str = "",
    code_year: int | None = None,
    address: str = "",
) -> Place:
    code = (code or "").strip()
    name = (name or "").strip()
    if not name:
        raise ServiceError(f"编码 {code}：名称不能为空。", field="name")
    level = rules.level_of_code(code)
    if Place.objects.filter(code=code).exists():
        raise ServiceError(f"编码 {code} 已存在，不能重复。", field="code")
    parent_code = rules.parent_code(code)
    parent = Place.objects.filter(code=parent_code).first() if parent_code else None
    _check_parent(code, level, parent)
    # A top-level place has no parent: its own path must be in scope (superusers only).
    anchor = parent.path if parent is not None else rules.path_of_code(code)
    if actor is not None and not scoping.path_in_scope(actor, anchor, write=True):
        raise ServiceError("只能在您管辖的地方之下新增。")
    place = Place(
        code=code,
        path=rules.path_of_code(code),
        name=name,
        level=level,
        parent=parent,
        urban_rural_code=urban_rural_code,
        code_year=code_year,
        address=address,
    )
    try:
        place.full_clean()
    except ValidationError as exc:
        raise ServiceError(f"编码 {code}：" + "；".join(exc.messages)) from None
    place.save()
    audit.record(
        actor=actor,
        action="place.create",
        obj=place,
        changes={"code": code, "name": name, "level": level},
    )
    return place


@transaction.atomic
def place_rename(*, actor, place: Place, name: str, address: str | None = None) -> Place:
    if actor is not None and not scoping.path_in_scope(actor, place.path, write=True):
        raise ServiceError("只能修改您管辖范围内的地方。")
    name = (name or "").strip()
    if not name:
        raise ServiceError("名称不能为空。", field="name")
    fields = ["name", "address"]
    before = audit.snapshot(place, fields)
    place.name = name
    if address is not None:
        place.address = address.strip()
    place.full_clean()
    place.save(update_fields=fields)
    audit.record(
        actor=actor, action="place.update", obj=place, changes=audit.diff(place, fields, before)
    )
    return place


def validate_rows(
    rows: Iterable[PlaceRow], *, existing: dict[str, Place], allow_existing: bool = False
) -> tuple[list[PlaceRow], list[str]]:
    """Check a batch of rows against each other and the places already stored.

    Returns the rows sorted top-down and a list of Chinese error messages naming each code.
    """
    errors: list[str] = []
    seen: dict[str, PlaceRow] = {}
    levels: dict[str, str] = {}
    for row in rows:
        code = row.code
        try:
            levels[code] = rules.level_of_code(code)
        except ServiceError as exc:
            errors.append(exc.message)
            continue
        if not row.name:
            errors.append(f"编码 {code}：名称不能为空。")
        if code in seen:
            errors.append(f"编码 {code}：在文件中重复出现。")
            continue
        if code in existing and not allow_existing:
            errors.append(f"编码 {code} 已存在，不能重复。")
        seen[code] = row
    for code in seen:
        level = levels[code]
        if not rules.ALLOWED_PARENT_LEVELS[level]:
            continue
        pcode = rules.parent_code(code)
        plevel = levels.get(pcode) or (existing[pcode].level if pcode in existing else None)
        if plevel is None:
            errors.append(f"编码 {code}：上级 {pcode} 不存在，请先导入上级区划。")
        elif plevel not in rules.ALLOWED_PARENT_LEVELS[level]:
            errors.append(f"编码 {code}：不在上级 {pcode} 之下。")
    ordered = sorted(seen.values(), key=lambda r: (len(rules.path_of_code(r.code)), r.code))
    return ordered, errors


@transaction.atomic
def place_bulk_create(
    *,
    actor,
    rows: list[PlaceRow],
    action: str = "place.bulk_create",
    batch_size: int = 2000,
    update_existing: bool = False,
    progress=None,
) -> int:
    """Create many places at once, all or nothing; one audit row for the batch.

    With update_existing, rows whose code is already stored update its name, urban-rural code
    and year instead (a yearly re-import of the official table is idempotent)."""
    codes = [r.code for r in rows]
    parent_codes = {rules.parent_code(c) for c in codes if _safe_level(c)} - {None}
    existing = {p.code: p for p in Place.objects.filter(code__in=set(codes) | parent_codes)}
    ordered, errors = validate_rows(rows, existing=existing, allow_existing=update_existing)
    if errors:
        raise ServiceError(
            "；".join(errors[:20]) + (f"……共{len(errors)}处错误。" if len(errors) > 20 else "")
        )
    if actor is not None:
        for row in ordered:
            pcode = rules.parent_code(row.code)
            anchor = row.code if row.code in existing else (pcode or row.code)
            if not scoping.path_in_scope(actor, rules.path_of_code(anchor), write=True):
                raise ServiceError(f"编码 {row.code}：不在您的管辖范围内。")
    updated = []
    for row in [r for r in ordered if r.code in existing]:
        place = existing[row.code]
        place.name, place.urban_rural_code = (
            row.name,
            row.urban_rural_code or place.urban_rural_code,
        )
        place.code_year = row.code_year or place.code_year
        updated.append(place)
    if updated:
        Place.objects.bulk_update(
            updated, ["name", "urban_rural_code", "code_year"], batch_size=batch_size
        )
    ordered = [r for r in ordered if r.code not in existing]
    by_code = dict(existing)
    created = 0
    # Top-down by depth so that each level's parents have ids before their children.
    depth_groups: dict[int, list[PlaceRow]] = {}
    for row in ordered:
        depth_groups.setdefault(len(rules.path_of_code(row.code)), []).append(row)
    for depth in sorted(depth_groups):
        objs = []
        for row in depth_groups[depth]:
            pcode = rules.parent_code(row.code)
            objs.append(
                Place(
                    code=row.code,
                    path=rules.path_of_code(row.code),
                    name=row.name,
                    level=rules.level_of_code(row.code),
                    parent=by_code.get(pcode) if pcode else None,
                    urban_rural_code=row.urban_rural_code,
                    code_year=row.code_year,
                    address=row.address,
                )
            )
        Place.objects.bulk_create(objs, batch_size=batch_size)
        created += len(objs)
        if progress is not None:
            progress(created + len(updated), len(ordered) + len(updated), "写入")
        for obj in Place.objects.filter(code__in=[o.code for o in objs]).only(
            "id", "code", "level"
        ):
            by_code[obj.code] = obj
    top = min((r.code for r in ordered), key=lambda c: len(rules.path_of_code(c)), default="")
    audit.record(
        actor=actor,
        action=action,
        place_path=rules.path_of_code(top)[:6] if top else "",
        object_repr=f"新增 {created} 个地方，更新 {len(updated)} 个",
        changes={"created": created, "updated": len(updated)},
    )
    return created + len(updated)


def _safe_level(code: str) -> bool:
    try:
        rules.level_of_code(code)
    except ServiceError:
        return False
    return True


@transaction.atomic
def contact_create(
    *,
    actor,
    place: Place,
    department: str,
    phone: str,
    kind: str = "office",
    hours: str = "",
    position: int = 0,
) -> Contact:
    if actor is not None and not scoping.path_in_scope(actor, place.path, write=True):
        raise ServiceError("只能为您管辖的地方登记电话。")
    contact = Contact(
        place=place,
        department=department.strip(),
        phone=phone.strip(),
        kind=kind,
        hours=hours,
        position=position,
    )
    try:
        contact.full_clean()
    except ValidationError as exc:
        raise ServiceError("；".join(exc.messages)) from None
    contact.save()
    audit.record(actor=actor, action="contact.create", obj=contact)
    return contact
