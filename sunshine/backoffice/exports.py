"""The places and audit-log exports (registered core.exports sources): the lists' filters,
scoped. The whole country's division table is 665,271 rows: never written inside a request."""

from sunshine.backoffice import forms, selectors
from sunshine.core import exports
from sunshine.places import selectors as place_selectors

PLACE_HEADERS = ["编码", "名称", "层级", "上级编码", "城乡分类代码", "代码年份"]
AUDIT_HEADERS = [
    "时间",
    "操作人",
    "动作",
    "对象类型",
    "对象编号",
    "对象",
    "区划前缀",
    "敏感",
    "事由",
    "来源地址",
]


def place_filtered(actor, params):
    form = forms.PlaceFilterForm(params or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = place_selectors.place_list_for_actor(
        actor, level=data.get("level", ""), q=data.get("q", "")
    )
    return form, qs


def audit_filtered(actor, params):
    form = forms.AuditFilterForm(params or None)
    data = form.cleaned_data if form.is_valid() else {}
    return form, selectors.audit_search_for_actor(actor, **data).select_related("actor")


@exports.source("backoffice.places", filename="地方")
def place_export(actor, params) -> exports.Table:
    _, qs = place_filtered(actor, params)

    def rows():
        for p in qs.iterator(chunk_size=2000):
            yield [
                p.code,
                p.name,
                p.level_label,
                p.parent.code if p.parent else "",
                p.urban_rural_code,
                p.code_year or "",
            ]

    return exports.Table(PLACE_HEADERS, rows(), count=qs.count(), title="地方")


@exports.source("backoffice.audit", filename="审计日志")
def audit_export(actor, params) -> exports.Table:
    _, qs = audit_filtered(actor, params)

    def rows():
        for e in qs.iterator(chunk_size=2000):
            yield [
                e.at.isoformat(),
                e.actor_label,
                e.action,
                e.object_type,
                e.object_id,
                e.object_repr,
                e.place_path,
                "是" if e.sensitive else "",
                e.reason,
                e.ip,
            ]

    return exports.Table(AUDIT_HEADERS, rows(), count=qs.count(), title="审计日志")
