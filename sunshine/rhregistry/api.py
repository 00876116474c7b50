"""Staff API of the Rh-negative registry, mounted at /api/staff/rh/: every route answers 404
to a role without `rh.registry`, and every route writes its audit row (same selectors and
services as the pages). Identifiers are always masked here: a full number only through the
page's audited reveal."""

import datetime as dt

from django.http import Http404
from ninja import Router, Schema
from ninja.security import SessionAuth

from sunshine.core.masking import mask_id_number, mask_mobile, mask_name
from sunshine.core.paging import Limit, ObjectId, Offset
from sunshine.rhregistry import rules, selectors, services

MAX_LIMIT = 100


class RegistryAuth(SessionAuth):
    """Session login, and 404 for a signed-in role without `rh.registry` — raised here, before
    the request body is validated, so not even a 422 tells that a route exists."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and not user.can("rh.registry"):
            raise Http404("没有找到，或不在您的管辖范围内。")
        return user


router = Router(tags=["熊猫血友会"], auth=RegistryAuth())


def _require(request) -> None:
    if not request.user.can("rh.registry"):
        raise Http404("没有找到，或不在您的管辖范围内。")


class DonorOut(Schema):
    id: int
    name: str
    id_number: str
    mobile: str
    sex: str
    abo: str
    rhd: str
    blood: str
    place_code: str
    place_name: str
    consent_scope: list[str]
    consent_at: dt.datetime
    last_contacted_at: dt.datetime | None = None


class DonorPage(Schema):
    count: int
    items: list[DonorOut]


class SearchIn(Schema):
    patient_abo: str
    patient_rhd: str = rules.NEG
    place_code: str
    near_code: str = ""
    hospital: str
    contact_phone: str
    patient_ref: str
    reason: str = ""


class SearchLogOut(Schema):
    id: int
    created_at: dt.datetime
    actor: str
    patient: str
    place_code: str
    hospital: str
    result_count: int


class SearchOut(Schema):
    search_id: ObjectId
    patient: str
    result_count: int
    note: str
    donors: list[DonorOut]


def _out(d) -> dict:
    return {
        "id": d.pk,
        "name": mask_name(d.name),
        "id_number": mask_id_number(d.id_number),
        "mobile": mask_mobile(d.mobile),
        "sex": d.sex,
        "abo": d.abo,
        "rhd": d.rhd,
        "blood": d.blood_label,
        "place_code": d.place.code,
        "place_name": d.place.name,
        "consent_scope": d.consent_scope,
        "consent_at": d.consent_at,
        "last_contacted_at": d.last_contacted_at,
    }


@router.get("/donors", response=DonorPage, summary="管辖范围内的在册志愿者（号码打码）")
def donors(request, abo: str = "", place: str = "", limit: Limit = 50, offset: Offset = 0):
    _require(request)
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    qs = selectors.donor_list_for_actor(request.user, abo=abo, place_code=place)
    rows = list(qs[offset : offset + limit])
    count = qs.count()
    selectors.donor_list_audit(
        request.user,
        what="api_list_read",
        count=count,
        filters={"abo": abo, "place": place, "limit": limit, "offset": offset},
        ids=[d.pk for d in rows],
    )
    return {"count": count, "items": [_out(d) for d in rows]}


@router.get("/donors/{donor_id}", response=DonorOut, summary="一位志愿者（号码打码）")
def donor(request, donor_id: ObjectId):
    _require(request)
    return _out(selectors.donor_get_for_actor(request.user, donor_id, reason="api"))


@router.get("/search", response=list[SearchLogOut], summary="查询记录（最近的在前）")
def search_log(request, limit: Limit = 50, offset: Offset = 0):
    _require(request)
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    rows = selectors.search_list_for_actor(request.user)[offset : offset + limit]
    return [
        {
            "id": s.pk,
            "created_at": s.created_at,
            "actor": s.actor.get_full_name() or s.actor.get_username(),
            "patient": s.patient_label,
            "place_code": s.place.code,
            "hospital": s.hospital,
            "result_count": s.result_count,
        }
        for s in rows
    ]


@router.post("/search", response=SearchOut, summary="配型查询（记入查询记录和审计日志）")
def search(request, payload: SearchIn):
    _require(request)
    levels = selectors.SEARCH_LEVELS
    found, rows = services.donor_search(
        actor=request.user,
        patient_abo=payload.patient_abo,
        patient_rhd=payload.patient_rhd,
        place=selectors.place_get(payload.place_code, levels=levels),
        near=selectors.place_get(payload.near_code, levels=levels),
        hospital=payload.hospital,
        contact_phone=payload.contact_phone,
        patient_ref=payload.patient_ref,
        reason=payload.reason,
    )
    return {
        "search_id": found.pk,
        "patient": found.patient_label,
        "result_count": found.result_count,
        "note": rules.DISCLAIMER,
        "donors": [_out(d) for d in rows],
    }
