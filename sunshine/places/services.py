"""Every write to places goes through here."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from sunshine.core import audit, sql
from sunshine.core.errors import ServiceError
from sunshine.places import rules, scoping
from sunshine.places.models import Contact, Place


@dataclass(slots=True)
class PlaceRow:
    code: str
    name: str
    urban_rural_code: str = ""
    code_year: int | None = None
    address: str = ""


def _check_parent(code: str, level: str, parent: Place | None) -> None:
    problem = rules.parent_problem(code, parent.level if parent else None, level=level)
    if problem:
        raise ServiceError(problem)


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


class RowsRefused(ServiceError):
    """A batch refused as a whole; `problems` lists every reason, one Chinese line each."""

    def __init__(self, problems: list[str]):
        more = f"……共{len(problems)}处错误。" if len(problems) > 20 else ""
        super().__init__("；".join(problems[:20]) + more)
        self.problems = problems


class Stored(NamedTuple):
    """What a batch needs to know of a place already stored."""

    id: int
    code: str
    level: str
    path: str
    name: str
    urban_rural_code: str
    code_year: int | None


def stored_by_code(codes) -> dict[str, Stored]:
    """Stored places by code, read in IN lists short enough for any database (the whole
    country's table is 665,271 codes: one list of them is too many variables for SQLite)."""
    out = {}
    for chunk in sql.in_chunks(sorted(set(codes))):
        for values in Place.objects.filter(code__in=chunk).values_list(*Stored._fields):
            out[values[1]] = Stored(*values)
    return out


NAME_MAX = Place._meta.get_field("name").max_length


def _analyse(
    rows: Iterable[PlaceRow], *, existing: dict, allow_existing: bool
) -> tuple[list[tuple[PlaceRow, str, str]], list[str]]:
    """(row, level, path) of each distinct valid code, top-down, and the Chinese problems."""
    errors: list[str] = []
    seen: dict[str, tuple[PlaceRow, str, str]] = {}
    for row in rows:
        code = row.code
        try:
            level = rules.level_of_code(code)
        except ServiceError as exc:
            errors.append(exc.message)
            continue
        if not row.name:
            errors.append(f"编码 {code}：名称不能为空。")
        elif len(row.name) > NAME_MAX:
            errors.append(f"编码 {code}：名称超过{NAME_MAX}个字。")
        elif not row.name.isprintable() and any(
            unicodedata.category(c) in ("Cc", "Cf") for c in row.name
        ):
            errors.append(f"编码 {code}：名称中有换行或不可见的控制字符，请删去。")
        if code in seen:
            errors.append(f"编码 {code}：在文件中重复出现。")
            continue
        if code in existing and not allow_existing:
            errors.append(f"编码 {code} 已存在，不能重复。")
        seen[code] = (row, level, rules.path_of_code(code, level=level))
    for code, (_, level, _) in seen.items():
        if not rules.ALLOWED_PARENT_LEVELS[level]:
            continue
        pcode = rules.parent_code(code, level=level)
        parent = seen.get(pcode)
        plevel = parent[1] if parent else (existing[pcode].level if pcode in existing else None)
        problem = rules.parent_problem(code, plevel, level=level)
        if problem:
            errors.append(problem)
    ordered = sorted(seen.values(), key=lambda t: (len(t[2]), t[0].code))
    return ordered, errors


def validate_rows(
    rows: Iterable[PlaceRow], *, existing: dict, allow_existing: bool = False
) -> tuple[list[PlaceRow], list[str]]:
    """Check a batch of rows against each other and the places already stored (`existing`:
    by code, anything with a `level`).

    Returns the rows sorted top-down and a list of Chinese error messages naming each code.
    """
    ordered, errors = _analyse(rows, existing=existing, allow_existing=allow_existing)
    return [row for row, _, _ in ordered], errors


@dataclass(frozen=True)
class BulkResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


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
    """Create many places at once, all or nothing; one audit row for the batch. Returns the
    number of rows taken (created, updated or already as given).

    With update_existing, rows whose code is already stored update its name, urban-rural code
    and year instead (a yearly re-import of the official table is idempotent)."""
    return place_bulk_write(
        actor=actor,
        rows=rows,
        action=action,
        batch_size=batch_size,
        update_existing=update_existing,
        progress=progress,
    ).total


@transaction.atomic
def place_bulk_write(
    *,
    actor,
    rows: list[PlaceRow],
    action: str = "place.bulk_create",
    batch_size: int = 2000,
    update_existing: bool = False,
    progress=None,
) -> BulkResult:
    """place_bulk_create, telling how many places were created, updated and left as they were.

    Raises RowsRefused listing every problem. The stored places are compared in memory and
    only those that differ are written, one UPDATE per row by primary key; new places are
    inserted level by level (parents first) in batches, taking their ids from the insert."""
    parent_codes = set()
    for row in rows:
        try:
            pcode = rules.parent_code(row.code)
        except ServiceError:
            continue
        if pcode is not None:
            parent_codes.add(pcode)
    existing = stored_by_code({r.code for r in rows} | parent_codes)
    ordered, errors = _analyse(rows, existing=existing, allow_existing=update_existing)
    if errors:
        raise RowsRefused(errors)
    if actor is not None:
        for row, level, path in ordered:
            if row.code in existing:
                anchor = path
            else:
                pcode = rules.parent_code(row.code, level=level)
                anchor = rules.path_of_code(pcode) if pcode else path
            if not scoping.path_in_scope(actor, anchor, write=True):
                raise ServiceError(f"编码 {row.code}：不在您的管辖范围内。")
    total = len(ordered)
    changed, unchanged = [], 0
    for row, _, _ in ordered:
        old = existing.get(row.code)
        if old is None:
            continue
        new = (
            row.name,
            row.urban_rural_code or old.urban_rural_code,
            row.code_year or old.code_year,
        )
        if new == (old.name, old.urban_rural_code, old.code_year):
            unchanged += 1
        else:
            changed.append((*new, old.id))
    for start in range(0, len(changed), batch_size):
        sql.update_many(
            Place, ["name", "urban_rural_code", "code_year"], changed[start : start + batch_size]
        )
        if progress is not None:
            progress(min(start + batch_size, len(changed)) + unchanged, total, "写入")
    ids = {code: s.id for code, s in existing.items()}
    created = 0
    batch: list[tuple] = []
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # as the ORM stores it
    fields = ["code", "path", "name", "level", "parent", "urban_rural_code", "code_year"]
    fields += ["address", "is_active", "created_at"]

    def flush():
        nonlocal created
        if not batch:
            return
        sql.insert_many(Place, fields, batch)
        # Only parents of this batch's rows need their new ids (one level at a time).
        for chunk in sql.in_chunks([b[0] for b in batch if b[0] in parent_codes]):
            ids.update(Place.objects.filter(code__in=chunk).values_list("code", "id"))
        created += len(batch)
        batch.clear()
        if progress is not None:
            progress(created + len(changed) + unchanged, total, "写入")

    depth = None
    for row, level, path in ordered:
        if row.code in existing:
            continue
        if len(path) != depth or len(batch) >= batch_size:
            flush()  # parents are written (and have ids) before their children are built
            depth = len(path)
        pcode = rules.parent_code(row.code, level=level)
        batch.append(
            (
                row.code,
                path,
                row.name,
                level,
                ids.get(pcode) if pcode else None,
                row.urban_rural_code,
                row.code_year,
                row.address,
                True,
                now,
            )
        )
    flush()
    top = min((path for row, _, path in ordered if row.code not in existing), key=len, default="")
    result = BulkResult(created=created, updated=len(changed), unchanged=unchanged)
    audit.record(
        actor=actor,
        action=action,
        place_path=top[:6],
        object_repr=f"新增 {created} 个地方，更新 {len(changed)} 个，{unchanged} 个未变",
        changes={"created": created, "updated": len(changed), "unchanged": unchanged},
    )
    return result


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
