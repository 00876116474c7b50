"""The staff items export (a registered core.exports source): the list's filters, scoped."""

from django.utils import timezone

from sunshine.core import exports
from sunshine.places import rules as place_rules
from sunshine.publishing import forms, selectors

HEADERS = [
    "编号",
    "标题",
    "类别",
    "类型",
    "发布地方",
    "地方编码",
    "同步公开层级",
    "状态",
    "版本",
    "首次发布时间",
    "公示截止",
    "待答复异议",
    "起草人",
    "更新时间",
]


def item_filtered(actor, params):
    """The staff item list as filtered by `params` (a QueryDict): the form and the queryset."""
    form = forms.ItemFilterForm(params or None, categories=selectors.category_list())
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.item_list_for_actor(
        actor,
        status=data.get("status", ""),
        category=data.get("category", ""),
        q=data.get("q", "").strip(),
    )
    return form, qs


def _local(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@exports.source("publishing.items", filename="公开事项")
def item_export(actor, params) -> exports.Table:
    _, qs = item_filtered(actor, params)

    def rows():
        for item in qs.iterator(chunk_size=1000):
            yield [
                item.public_id,
                item.current.title if item.current_id else "",
                item.category.name,
                item.get_kind_display(),
                item.place.name,
                item.place.code,
                "、".join(place_rules.LEVEL_LABELS[lv] for lv in item.levels),
                item.get_status_display(),
                item.current.number if item.current_id else "",
                _local(item.published_at),
                _local(item.notice_ends_at),
                item.open_objections,
                str(item.created_by or ""),
                _local(item.updated_at),
            ]

    return exports.Table(HEADERS, rows(), count=qs.count(), title="公开事项")
