"""The JSON API. Public open-data routes under /api/, staff routes under /api/staff/ (session
login), every staff read through the same scoped selectors as the pages."""

from csp.decorators import csp_update
from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI, Router, Status
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate
from ninja.security import django_auth

from sunshine.accounts.models import User
from sunshine.api.schemas import (
    AuditOut,
    MeOut,
    OpenItemDetailOut,
    OpenItemOut,
    PlaceOut,
    ResidentIn,
    ResidentOut,
)
from sunshine.backoffice import selectors as office_selectors
from sunshine.core.errors import ServiceError
from sunshine.core.paging import LimitOffset, ObjectId
from sunshine.places import scoping
from sunshine.places import selectors as place_selectors
from sunshine.precheck import api as precheck_api
from sunshine.rhregistry import api as rh_api

# Swagger UI (served from ninja's static files, not a CDN) sets inline styles and draws its
# icons from data: URIs: its page alone gets that, scripts stay 'self' only.
SWAGGER_CSP = csp_update({"style-src": ["'unsafe-inline'"], "style-src-elem": ["'unsafe-inline'"]})

api = NinjaAPI(
    title="阳光计生 API",
    docs_decorator=SWAGGER_CSP,
    version="1",
    urls_namespace="api",
    description="公开数据与工作人员接口。工作人员接口需先登录，数据按管辖范围限定。",
)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "没有找到，或不在您的管辖范围内。"}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return api.create_response(request, {"detail": "您的角色不能使用这个接口。"}, status=403)


FIELD_ERRORS = {
    "missing": "缺少",
    "string_type": "应为文字",
    "int_parsing": "应为整数",
    "date_from_datetime_parsing": "日期格式不对",
    "json_invalid": "不是有效的 JSON",
}


@api.exception_handler(NinjaValidationError)
def invalid_request(request, exc):
    """Bad request data: a Chinese message naming each field (never pydantic's English)."""
    parts = []
    for err in exc.errors:
        loc = ".".join(
            str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")
        )
        ctx = err.get("ctx") or {}
        if err.get("type") == "less_than_equal":
            reason = f"不能大于 {ctx.get('le')}"
        elif err.get("type") == "greater_than_equal":
            reason = f"不能小于 {ctx.get('ge')}"
        else:
            reason = FIELD_ERRORS.get(err.get("type"), "格式不对")
        parts.append(f"{loc or '请求'}：{reason}")
    return api.create_response(
        request, {"detail": "请求参数有误。" + "；".join(parts), "errors": exc.errors}, status=422
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(request, {"detail": "请先登录工作人员账号。"}, status=401)


@api.exception_handler(ServiceError)
def service_error(request, exc):
    return api.create_response(request, {"detail": exc.message}, status=400)


public = Router(tags=["公开数据"])


@public.get("/places", response=list[PlaceOut], summary="本平台的县（市、区）")
def places_root(request):
    return list(place_selectors.place_root_list().select_related("parent"))


@public.get("/places/{code}", response=PlaceOut, summary="一个地方")
def place_public(request, code: str):
    return place_selectors.place_get_public(code)


@public.get("/places/{code}/children", response=list[PlaceOut], summary="一个地方的下级")
def place_children_public(request, code: str):
    place = place_selectors.place_get_public(code)
    return list(place_selectors.place_children(place).select_related("parent"))


def _public_text(value: str) -> str:
    from sunshine.core.identifiers import mask_text

    return mask_text(value)[0]


def _open_item(item, *, detail: bool = False) -> dict:
    from django.urls import reverse

    from sunshine.core.identifiers import mask_table
    from sunshine.core.masking import mask_id_number, mask_name

    # Stored masked by the publishing services; masked again here for rows written before.
    v, text = item.current, _public_text
    out = {
        "id": item.public_id,
        "kind": item.kind,
        "category": item.category.code,
        "category_name": item.category.name,
        "title": text(v.title),
        "summary": text(v.summary),
        "place_code": item.place.code,
        "place_name": item.place.name,
        "target_levels": item.levels,
        "published_at": item.published_at,
        "notice_ends_at": item.notice_ends_at,
        "finalised_at": item.finalised_at,
        "version": v.number,
        "url": reverse("publishing:item", args=[item.public_id]),
    }
    if detail:
        out.update(
            body=text(v.body),
            table=mask_table(v.table)[0],
            outcome=text(item.outcome),
            entries=[
                {
                    "name": mask_name(e.name),
                    "id_number": mask_id_number(e.id_number),
                    "place_name": text(e.place_name),
                    "matter": text(e.matter),
                }
                for e in v.entries.all()
            ],
        )
    return out


def _open_items(place: str, category: str):
    from sunshine.publishing import selectors as publishing_selectors

    scope = place_selectors.place_get_public(place) if place else None
    return publishing_selectors.published_list(place=scope, category=category)


@public.get(
    "/open/items",
    response=list[OpenItemOut],
    summary="开放数据：已发布的公开事项",
    description=(
        "按地方（其下级一并包括）和类别筛选；名单中的姓名和身份证号码已打码，"
        "标题、摘要、正文和表格中的身份证号码、手机号码已隐去部分数字。"
    ),
)
@paginate(LimitOffset)
def open_items(request, place: str = "", category: str = ""):
    return _MappedPage(_open_items(place, category), _open_item)


@public.get(
    "/open/items.csv",
    summary="开放数据：已发布的公开事项（CSV）",
    openapi_extra={
        "responses": {200: {"description": "UTF-8（带 BOM）CSV", "content": {"text/csv": {}}}}
    },
)
def open_items_csv(request, place: str = "", category: str = ""):
    from sunshine.core import exports

    headers = [
        "编号",
        "类型",
        "类别",
        "标题",
        "摘要",
        "发布地方编码",
        "发布地方",
        "同步层级",
        "发布时间",
        "公示截止",
        "版本",
    ]
    rows = (
        [
            i.public_id,
            i.get_kind_display(),
            i.category.name,
            _public_text(i.current.title),
            _public_text(i.current.summary),
            i.place.code,
            i.place.name,
            "、".join(i.levels),
            i.published_at.isoformat() if i.published_at else "",
            i.notice_ends_at.isoformat() if i.notice_ends_at else "",
            i.current.number,
        ]
        for i in _open_items(place, category).iterator(chunk_size=1000)
    )
    return exports.csv_response("公开事项.csv", headers, rows)


@public.get("/open/items/{public_id}", response=OpenItemDetailOut, summary="开放数据：一个公开事项")
def open_item(request, public_id: str):
    from sunshine.publishing import selectors as publishing_selectors

    return _open_item(publishing_selectors.item_get_public(public_id), detail=True)


staff = Router(tags=["工作人员"], auth=django_auth)


def _require(user: User, capability: str) -> None:
    if not user.can(capability):
        raise PermissionDenied


@staff.get("/me", response=MeOut, summary="当前登录的工作人员")
def me(request):
    u = request.user
    return {
        "username": u.username,
        "full_name": u.full_name,
        "role": u.role,
        "role_label": u.role_label,
        "place": u.place,
        "view_place": u.view_place,
    }


@staff.get("/places", response=list[PlaceOut], summary="管辖范围内的地方")
@paginate(LimitOffset)
def staff_places(request, level: str = "", q: str = ""):
    _require(request.user, "places.view")
    return place_selectors.place_list_for_actor(request.user, level=level, q=q)


@staff.get("/places/{place_code}", response=PlaceOut, summary="管辖范围内的一个地方")
def staff_place(request, place_code: str):
    _require(request.user, "places.view")
    return place_selectors.place_get_for_actor(request.user, place_code)


@staff.get("/audit", response=list[AuditOut], summary="审计日志")
@paginate(LimitOffset)
def staff_audit(request, action: str = ""):
    _require(request.user, "audit.view")
    return office_selectors.audit_search_for_actor(request.user, action=action)


@staff.get("/audit/{audit_id}", response=AuditOut, summary="一条审计记录")
def staff_audit_entry(request, audit_id: ObjectId):
    _require(request.user, "audit.view")
    return office_selectors.audit_get_for_actor(request.user, audit_id)


def _resident_out(r, full: bool) -> dict:
    from sunshine.core.masking import mask_id_number, mask_mobile

    return {
        "id": r.pk,
        "name": r.name,
        "sex": r.sex,
        "birth_date": r.birth_date,
        "id_number": r.id_number if full else mask_id_number(r.id_number),
        "mobile": r.mobile if full else mask_mobile(r.mobile),
        "place_code": r.place.code,
        "household_number": r.household.number if r.household_id else None,
        "hukou_type": r.hukou_type,
        "status": r.status,
        "masked": not full,
    }


@staff.get("/residents", response=list[ResidentOut], summary="管辖范围内的居民（无权限时号码打码）")
@paginate(LimitOffset)
def staff_residents(request, q: str = "", place: str = "", status: str = ""):
    from sunshine.people import selectors as people_selectors

    _require(request.user, "people.view")
    full = people_selectors.can_see_identifiers(request.user)
    qs = people_selectors.resident_list_for_actor(
        request.user, q=q, place_code=place, status=status
    )

    def audit_page(rows):
        from sunshine.core import audit

        audit.record(
            actor=request.user,
            action="resident.api_identifiers",
            sensitive=True,
            place_path=scoping.read_prefix(request.user) or "",
            changes={"ids": [r.pk for r in rows]},
        )

    return _MappedPage(qs, lambda r: _resident_out(r, full), audit_page if full else None)


class _MappedPage:
    """A queryset that ninja's pagination slices lazily; each page's rows go through `mapper`,
    and `on_page` sees them first (e.g. to audit a page of full identifiers)."""

    def __init__(self, qs, mapper, on_page=None):
        self.qs, self.mapper, self.on_page = qs, mapper, on_page

    def __len__(self):
        return self.qs.count()

    def __getitem__(self, item):
        rows = list(self.qs[item])
        if self.on_page is not None and rows:
            self.on_page(rows)
        return [self.mapper(r) for r in rows]


@staff.get("/residents/{resident_id}", response=ResidentOut, summary="一位居民")
def staff_resident(request, resident_id: ObjectId):
    from sunshine.people import selectors as people_selectors

    _require(request.user, "people.view")
    r = people_selectors.resident_get_for_actor(request.user, resident_id)
    full = people_selectors.can_see_identifiers(request.user)
    if full:
        people_selectors.resident_identifiers(request.user, r, reason="api")
    return _resident_out(r, full)


@staff.post("/residents", response={201: ResidentOut}, summary="登记一位居民")
def staff_resident_create(request, payload: ResidentIn):
    from sunshine.people import selectors as people_selectors
    from sunshine.people import services as people_services

    _require(request.user, "people.change")
    r = people_services.resident_create(actor=request.user, data=payload.dict())
    r = people_selectors.resident_get_for_actor(request.user, r.pk)
    return Status(201, _resident_out(r, people_selectors.can_see_identifiers(request.user)))


api.add_router("/", public)
api.add_router("/staff", staff)
api.add_router("/staff/precheck", precheck_api.router)
api.add_router("/staff/rh", rh_api.router)


ERROR_ANSWERS = {
    400: "请求被拒绝：detail 用中文说明原因",
    401: "未登录：请先登录工作人员账号",
    403: "您的角色不能使用这个接口",
    404: "没有找到，或不在您的管辖范围内",
    422: "参数格式或取值范围有误：detail 用中文指明哪个参数",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Query parameters that name an object: an unknown one is a 404, like a path parameter.
OBJECT_PARAMS = {"place", "place_code", "near_code", "slot_id"}


def _param_names(op) -> set[str]:
    names = set()
    for model in op.models:
        for field in model.model_fields.values():
            annotation = getattr(field.annotation, "model_fields", None)
            names.update(annotation or ())
        names.update(model.model_fields)
    return names


def error_answers(path: str, op, *, staff: bool) -> set[int]:
    """The error answers a route really gives, from what it declares: its parameters are
    validated (422), a path or object parameter may name nothing in scope (404), staff routes
    need a session (401) and a capability (403, except /me), a write may be refused (400)."""
    codes = set()
    names = _param_names(op)
    if op.models:
        codes.add(422)
    if "{" in path or names & OBJECT_PARAMS:
        codes.add(404)
    if staff:
        codes.add(401)
        if path != "/me":
            codes.add(403)
    if "POST" in op.methods or "year" in names:
        codes.add(400)
    return codes


def _document_error_answers() -> None:
    """Each route's OpenAPI entry lists the 400/401/403/404/422 answers it gives, with the
    {"detail": …} body every error handler above writes."""
    routers = [(public, False), (staff, True), (precheck_api.router, True), (rh_api.router, True)]
    for router, is_staff in routers:
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
                declared = set(op.response_models or {})
                responses = {
                    code: {
                        "description": ERROR_ANSWERS[code],
                        "content": {"application/json": {"schema": ERROR_SCHEMA}},
                    }
                    for code in sorted(error_answers(path, op, staff=is_staff))
                    if code not in declared
                }
                extra = dict(op.openapi_extra or {})
                extra["responses"] = {**responses, **extra.get("responses", {})}
                op.openapi_extra = extra


_document_error_answers()
