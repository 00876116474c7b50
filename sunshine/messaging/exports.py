"""The outbox export (a registered core.exports source): the outbox's filters, scoped; mobiles
always masked — a file travels further than a page."""

from django.utils import timezone

from sunshine.core import exports
from sunshine.core.masking import mask_mobile
from sunshine.messaging import forms, selectors

HEADERS = [
    "发送编号",
    "创建时间",
    "手机号码",
    "居民",
    "地方编码",
    "地方",
    "项目",
    "类别",
    "状态",
    "内容",
    "计费条数",
    "费用（元）",
    "发送时间",
    "送达时间",
    "说明",
]


def local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def outbox_filtered(actor, params):
    """The outbox as filtered by `params` (a QueryDict): the form and the queryset."""
    form = forms.OutboxFilterForm(params or None, programmes=selectors.programme_choices(actor))
    if form.is_bound and not form.is_valid():
        return form, selectors.message_list_for_actor(actor).none()
    data = form.cleaned_data if form.is_bound else {}
    qs = selectors.message_list_for_actor(
        actor,
        status=data.get("status", ""),
        programme=data.get("programme", ""),
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        mobile=data.get("mobile", ""),
    )
    return form, qs


@exports.source("messaging.outbox", filename="短信发件箱")
def outbox_export(actor, params) -> exports.Table:
    _, qs = outbox_filtered(actor, params)

    def rows():
        for m in qs.iterator(chunk_size=2000):
            yield [
                m.out_id,
                local(m.created_at),
                mask_mobile(m.mobile),
                m.resident.name if m.resident_id else "",
                m.place.code if m.place_id else "",
                m.place.name if m.place_id else "",
                selectors.programme_label(m.programme),
                m.get_category_display(),
                m.get_status_display(),
                m.body or (f"模板：{m.template.name}" if m.template_id else ""),
                m.segments,
                m.cost,
                local(m.sent_at),
                local(m.delivered_at),
                m.error,
            ]

    return exports.Table(HEADERS, rows(), count=qs.count(), title="短信")
