"""Staff API of 好孕好运, mounted at /api/staff/precheck/ (session login, scoped selectors)."""

import datetime as _dt
import json

from django.core.exceptions import BadRequest, PermissionDenied
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from ninja.security import django_auth
from pydantic import ValidationError

from sunshine.core.errors import ServiceError
from sunshine.core.masking import mask_id_number, mask_mobile
from sunshine.core.paging import LimitOffset, ObjectId
from sunshine.precheck import content, followups, health, selectors, services, stats
from sunshine.precheck import results as results_services

router = Router(tags=["好孕好运"], auth=django_auth)


def _need(request, capability: str) -> None:

    if not request.user.can(capability):
        raise PermissionDenied


def _mapped(qs, mapper):
    """A page that ninja's pagination slices lazily (the API's shared _MappedPage)."""
    from sunshine.api.views import _MappedPage

    return _MappedPage(qs, mapper)


# results ------------------------------------------------------------------------------------
# Results of a couple's checks (health data): clinic doctors only (precheck.health), scoped by
# the same selectors as the pages; every read is audited.


class ResultOut(Schema):
    item: str
    item_number: int
    item_name: str
    subject: str
    value: str
    unit: str
    is_abnormal: bool
    note: str
    entered_at: _dt.datetime


class AssessmentOut(Schema):
    level: str
    level_label: str
    reasons: list[str]
    advice: str
    assessed_at: _dt.datetime
    notified_at: _dt.datetime | None = None


class ResultsOut(Schema):
    registration_id: ObjectId
    number: str
    status: str
    results: list[ResultOut]
    assessment: AssessmentOut | None = None


class ResultIn(Schema):
    item: str  # catalogue code ("glucose") or number ("8")
    subject: str  # "F" 女方, "M" 男方
    value: str = ""
    is_abnormal: bool | None = None
    note: str = ""


class ResultsIn(Schema):
    entries: list[ResultIn]


class ResultsErrorOut(Schema):
    detail: str
    errors: list[list[str | None]] = []


def _results_out(record) -> dict:
    a = record.assessment
    return {
        "registration_id": record.registration.pk,
        "number": record.registration.number,
        "status": record.registration.status,
        "results": [
            {
                "item": r.item.code,
                "item_number": r.item.number,
                "item_name": r.item.name,
                "subject": r.subject,
                "value": r.value,
                "unit": r.item.unit,
                "is_abnormal": r.is_abnormal,
                "note": r.note,
                "entered_at": r.entered_at,
            }
            for r in record.results
        ],
        "assessment": None
        if a is None
        else {
            "level": a.level,
            "level_label": a.get_level_display(),
            "reasons": a.reasons,
            "advice": a.advice,
            "assessed_at": a.assessed_at,
            "notified_at": a.notified_at,
        },
    }


@router.get(
    "/registrations/{registration_id}/results",
    response=ResultsOut,
    summary="一对夫妇的检查结果和风险评估（健康信息，记入审计日志）",
)
def results_get(request, registration_id: ObjectId):

    _need(request, "precheck.health")
    registration = selectors.registration_get_for_actor(request.user, registration_id)
    return _results_out(health.health_record(request.user, registration, reason="接口读取"))


@router.post(
    "/registrations/{registration_id}/results",
    response={200: ResultsOut, 400: ResultsErrorOut},
    summary="录入检查结果（全部成功或全部不保存）",
    description="item 为项目代码或序号，subject 为 F（女方）或 M（男方）。数值项目和血型的"
    "异常标记按参考范围和Rh判定，可不填；填了须与判定一致。",
)
def results_post(request, registration_id: ObjectId, payload: ResultsIn):

    _need(request, "precheck.health")
    registration = selectors.registration_get_for_actor(request.user, registration_id, write=True)
    items = {i.code: i for i in health.result_items()}
    items.update({str(i.number): i for i in items.values()})
    unknown = [e.item for e in payload.entries if e.item not in items]
    if unknown:
        return Status(
            400, {"detail": "没有这些检查项目：" + "、".join(unknown[:10]) + "。", "errors": []}
        )
    entries = [
        results_services.Entry(items[e.item], e.subject, e.value, e.is_abnormal, e.note)
        for e in payload.entries
    ]
    try:
        results_services.results_save_many(
            actor=request.user, registration=registration, entries=entries
        )
    except ServiceError as exc:
        return Status(400, {"detail": exc.message, "errors": [list(x) for x in exc.errors]})
    registration.refresh_from_db()
    return _results_out(health.health_record(request.user, registration, reason="接口录入后读取"))


# follow-ups ---------------------------------------------------------------------------------
# Early-pregnancy and outcome follow-ups for operators and doctors (precheck.followup), scoped
# like the pages; mobiles masked. Recording is the same service as the page's outcome form.


class FollowUpOut(Schema):
    id: int
    registration_id: ObjectId
    registration_number: str
    kind: str
    kind_label: str
    status: str
    due_on: _dt.date
    woman_name: str
    mobile: str  # masked
    place_code: str
    call_task_id: ObjectId | None = None
    reached: bool | None = None
    done_at: _dt.datetime | None = None


class FollowUpRecordIn(Schema):
    """reached=false (the default, so an empty body is a call that reached nobody) appends
    the attempt; reached=true needs `pregnant` (+ `lmp`) for an early follow-up, `outcome` and
    `outcome_date` for an outcome follow-up."""

    reached: bool = False
    pregnant: bool | None = None
    lmp: _dt.date | None = None
    outcome: str = ""
    outcome_date: _dt.date | None = None
    notes: str = ""
    again: bool = True


class FollowUpErrorOut(Schema):
    detail: str
    field: str | None = None


def _followup_out(f) -> dict:

    reg = f.registration
    return {
        "id": f.pk,
        "registration_id": reg.pk,
        "registration_number": reg.number,
        "kind": f.kind,
        "kind_label": f.get_kind_display(),
        "status": f.status,
        "due_on": f.due_on,
        "woman_name": reg.woman_name,
        "mobile": mask_mobile(reg.woman_mobile or reg.man_mobile),
        "place_code": reg.place.code,
        "call_task_id": f.call_task_id,
        "reached": f.reached,
        "done_at": f.done_at,
    }


@router.get("/followups", response=list[FollowUpOut], summary="管辖范围内的随访（待随访的在前）")
@paginate(LimitOffset)
def followups_list(request, kind: str = "", status: str = "open", due: str = ""):

    _need(request, "precheck.followup")
    qs = followups.followup_list_for_actor(request.user, kind=kind, status=status, due=due)
    return _mapped(qs, _followup_out)


def _record_payload(request) -> FollowUpRecordIn:
    """The body, read after the scope check (so an object out of reach answers 404 whatever
    was sent): JSON, or form fields; an empty body is a call that reached nobody."""

    try:
        if request.content_type == "application/json":
            data = json.loads(request.body or b"{}")
        else:
            data = request.POST.dict()
        if not isinstance(data, dict):
            raise ValueError
        return FollowUpRecordIn(**data)
    except ValidationError as exc:
        names = "、".join(str(e["loc"][0]) for e in exc.errors() if e.get("loc"))
        raise BadRequest(f"请求参数有误：{names}格式不对。") from None
    except ValueError:
        raise BadRequest("请求内容不是有效的 JSON。") from None


class FollowUpRecordOut(Schema):
    followup: FollowUpOut
    reached: bool | None = None
    pregnant: bool | None = None
    lmp: _dt.date | None = None
    outcome: str = ""
    outcome_date: _dt.date | None = None
    notes: str = ""


@router.get(
    "/followups/{followup_id}/record",
    response=FollowUpRecordOut,
    summary="一条随访的记录（已记录的答复属于健康信息，读取记入审计日志）",
)
def followup_record_get(request, followup_id: ObjectId):

    _need(request, "precheck.followup")
    f = followups.followup_get_for_actor(request.user, followup_id)
    return {
        "followup": _followup_out(f),
        "reached": f.reached,
        "pregnant": f.pregnant,
        "lmp": f.lmp,
        "outcome": f.outcome,
        "outcome_date": f.outcome_date,
        "notes": f.notes,
    }


@router.post(
    "/followups/{followup_id}/record",
    response={200: FollowUpOut, 400: FollowUpErrorOut},
    summary="记录随访结果",
    description="未联系上（reached=false，默认）：记下这次尝试，随访仍待完成。联系上：早孕随访须填"
    " pregnant（已怀孕时再填 lmp，将记录孕情并开始孕期短信）；妊娠结局随访须填 outcome"
    "（live/stillbirth/miscarriage/induced/ectopic/other）和 outcome_date。",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": FollowUpRecordIn.model_json_schema()}}
        }
    },
)
def followup_record_api(request, followup_id: ObjectId):

    _need(request, "precheck.followup")
    f = followups.followup_get_for_actor(request.user, followup_id, write=True)
    try:
        payload = _record_payload(request)
        followups.followup_record(actor=request.user, followup=f, **payload.dict())
    except BadRequest as exc:
        return Status(400, {"detail": str(exc), "field": None})
    except ServiceError as exc:
        return Status(400, {"detail": exc.message, "field": exc.field})
    return _followup_out(followups.followup_get_for_actor(request.user, followup_id, write=True))


# registrations and slots --------------------------------------------------------------------
# Registrations (identifiers always masked here: one couple's full numbers are revealed on its
# page, audited) and open slots, through the same scoped selectors and services as the pages.


class AppointmentOut(Schema):
    id: int
    status: str
    status_label: str
    starts_at: _dt.datetime
    institution: str
    address: str


class RegistrationOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    channel: str
    woman_name: str
    woman_id_number: str  # masked
    woman_mobile: str  # masked
    man_name: str
    man_id_number: str  # masked
    man_mobile: str  # masked
    place_code: str
    place_name: str
    consent_sms: bool
    consent_data: bool
    planned_month: _dt.date | None = None
    created_at: _dt.datetime
    appointment: AppointmentOut | None = None


class RegistrationIn(Schema):
    woman_name: str
    woman_id_number: str
    woman_mobile: str = ""
    man_name: str
    man_id_number: str
    man_mobile: str = ""
    place_code: str
    consent_data: bool
    consent_sms: bool = False
    planned_month: _dt.date | None = None
    slot_id: ObjectId | None = None


class RegistrationErrorOut(Schema):
    detail: str
    errors: list[list[str | None]] = []


class SlotOut(Schema):
    id: int
    institution_id: ObjectId
    institution: str
    address: str
    starts_at: _dt.datetime
    ends_at: _dt.datetime
    capacity: int
    booked: int
    free: int


def _appointment_out(a) -> dict | None:
    if a is None:
        return None
    return {
        "id": a.pk,
        "status": a.status,
        "status_label": a.get_status_display(),
        "starts_at": a.slot.starts_at,
        "institution": a.slot.institution.name,
        "address": a.slot.institution.address,
    }


def _registration_out(r, appointment=None) -> dict:

    return {
        "id": r.pk,
        "number": r.number,
        "status": r.status,
        "status_label": r.get_status_display(),
        "channel": r.channel,
        "woman_name": r.woman_name,
        "woman_id_number": mask_id_number(r.woman_id_number),
        "woman_mobile": mask_mobile(r.woman_mobile),
        "man_name": r.man_name,
        "man_id_number": mask_id_number(r.man_id_number),
        "man_mobile": mask_mobile(r.man_mobile),
        "place_code": r.place.code,
        "place_name": r.place.name,
        "consent_sms": r.consent_sms,
        "consent_data": r.consent_data,
        "planned_month": r.planned_month,
        "created_at": r.created_at,
        "appointment": _appointment_out(appointment),
    }


def _slot_out(s) -> dict:
    return {
        "id": s.pk,
        "institution_id": s.institution_id,
        "institution": s.institution.name,
        "address": s.institution.address,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "capacity": s.capacity,
        "booked": s.booked,
        "free": s.free,
    }


@router.get(
    "/registrations",
    response=list[RegistrationOut],
    summary="管辖范围内的孕前优生登记（号码打码）",
)
@paginate(LimitOffset)
def registrations_list(request, q: str = "", status: str = "", place: str = ""):

    _need(request, "precheck.view")
    qs = selectors.registration_list_for_actor(request.user, q=q, status=status, place_code=place)
    return _mapped(qs, _registration_out)


@router.get(
    "/registrations/{registration_id}",
    response=RegistrationOut,
    summary="一对夫妇的登记和当前预约（号码打码）",
)
def registration_get(request, registration_id: ObjectId):

    _need(request, "precheck.view")
    reg = selectors.registration_get_for_actor(request.user, registration_id)
    return _registration_out(reg, selectors.registration_active_appointment(reg))


@router.post(
    "/registrations",
    response={201: RegistrationOut, 400: RegistrationErrorOut},
    summary="登记一对夫妇（可同时预约时段）",
    description="place_code 为村（社区）编码；consent_data 必须为 true（夫妇同意按检查用途使用"
    "健康信息）；slot_id 可选，给出时同时预约并发送检查通知。服务机构医生登记的渠道为“服务机构"
    "登记”，其他角色为“村（居）干部代登记”。",
)
def registration_post(request, payload: RegistrationIn):

    _need(request, "precheck.register")
    data = payload.dict()
    place = selectors.place_for_registration(data.pop("place_code"))
    slot_id = data.pop("slot_id")
    slot = selectors.slot_get_for_actor(request.user, slot_id) if slot_id else None
    try:
        reg = services.registration_create_and_book(
            actor=request.user,
            channel=services.staff_channel(request.user),
            place=place,
            slot=slot,
            **data,
        )
    except ServiceError as exc:
        return Status(400, {"detail": exc.message, "errors": [list(x) for x in exc.errors]})
    reg = selectors.registration_get_for_actor(request.user, reg.pk)
    return Status(201, _registration_out(reg, selectors.registration_active_appointment(reg)))


@router.get("/slots", response=list[SlotOut], summary="可预约的时段（管辖范围内的服务机构）")
@paginate(LimitOffset)
def slots_list(request):

    _need(request, "precheck.view")
    return _mapped(selectors.slot_list_open_for_actor(request.user), _slot_out)


# -- articles, targets, statistics (portal content area) --------------------------------------


class StatsTownOut(Schema):
    key: str
    label: str
    months: list[int]
    checked: int
    target: int | None
    coverage: float | None
    risk: dict[str, int]
    messages: int
    segments: int
    cost: float
    participants: int
    cost_per_participant: float | None


class StatsOut(Schema):
    year: int
    towns: list[StatsTownOut]
    total: StatsTownOut


def _stats_town_out(t) -> dict:
    def _f(v):
        return None if v is None else float(v)

    return {
        "key": t.key,
        "label": t.label,
        "months": t.months,
        "checked": t.checked,
        "target": t.target,
        "coverage": _f(t.coverage),
        "risk": t.risk,
        "messages": t.messages,
        "segments": t.segments,
        "cost": float(t.cost),
        "participants": t.participants,
        "cost_per_participant": _f(t.cost_per_participant),
    }


@router.get(
    "/stats",
    response={200: StatsOut, 400: dict},
    summary="好孕好运统计：各乡镇每月检查、覆盖率、风险评估、短信人均费用（管辖范围内）",
)
def stats_get(request, year: str = ""):

    _need(request, "precheck.stats")
    try:
        parsed = content.parse_year(year)
    except ServiceError as exc:
        return Status(400, {"detail": exc.message})
    data = stats.stats_for_actor(request.user, year=parsed)
    return {
        "year": data.year,
        "towns": [_stats_town_out(t) for t in data.towns],
        "total": _stats_town_out(data.total),
    }
