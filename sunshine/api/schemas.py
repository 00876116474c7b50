import datetime as dt

from ninja import Schema


class PlaceOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    parent_code: str | None = None
    urban_rural_code: str = ""
    code_year: int | None = None

    @staticmethod
    def resolve_parent_code(obj):
        return obj.parent.code if obj.parent_id else None


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    role_label: str
    place: PlaceOut | None = None
    view_place: PlaceOut | None = None


class AuditOut(Schema):
    id: int
    at: dt.datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    place_path: str
    sensitive: bool
    ip: str


class ErrorOut(Schema):
    detail: str


class ResidentOut(Schema):
    id: int
    name: str
    sex: str
    birth_date: dt.date
    id_number: str
    mobile: str
    place_code: str
    household_number: str | None = None
    hukou_type: str
    status: str
    masked: bool


class ResidentIn(Schema):
    name: str
    sex: str
    id_number: str
    place_code: str
    mobile: str = ""
    birth_date: str = ""
    household_number: str = ""
    residence_code: str = ""
    hukou_type: str = "农村"
    status: str = "在册"


class OpenEntryOut(Schema):
    name: str
    id_number: str
    place_name: str
    matter: str


class OpenItemOut(Schema):
    id: str
    kind: str
    category: str
    category_name: str
    title: str
    summary: str
    place_code: str
    place_name: str
    target_levels: list[str]
    published_at: dt.datetime | None
    notice_ends_at: dt.datetime | None = None
    finalised_at: dt.datetime | None = None
    version: int
    url: str


class OpenItemDetailOut(OpenItemOut):
    body: str
    table: dict
    entries: list[OpenEntryOut]
    outcome: str
