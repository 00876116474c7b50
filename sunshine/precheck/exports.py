"""The registrations export (a registered core.exports source). Identifiers are masked: a
full list of couples is not needed to run the checks (PIPL minimum necessary); one couple's
numbers are revealed on its page, audited. The export itself is audited all the same."""

from django.utils import timezone

from sunshine.core import exports
from sunshine.core.masking import mask_id_number, mask_mobile
from sunshine.places import scoping
from sunshine.precheck import forms, selectors

HEADERS = [
    "登记编号",
    "状态",
    "登记渠道",
    "女方姓名",
    "女方身份证号码",
    "女方手机号码",
    "男方姓名",
    "男方身份证号码",
    "男方手机号码",
    "现居住地编码",
    "现居住地",
    "同意短信",
    "登记时间",
]


def registration_filtered(actor, params):
    """The registrations list as filtered by `params` (a QueryDict): the form and queryset."""
    form = forms.RegistrationFilterForm(params or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.registration_list_for_actor(
        actor,
        q=data.get("q", ""),
        status=data.get("status", ""),
        place_code=data.get("place", ""),
    )
    return form, qs


@exports.source("precheck.registrations", filename="孕前优生登记")
def registration_export(actor, params) -> exports.Table:
    _, qs = registration_filtered(actor, params)

    def rows():
        for r in qs.iterator(chunk_size=2000):
            yield [
                r.number,
                r.get_status_display(),
                r.get_channel_display(),
                r.woman_name,
                mask_id_number(r.woman_id_number),
                mask_mobile(r.woman_mobile),
                r.man_name,
                mask_id_number(r.man_id_number),
                mask_mobile(r.man_mobile),
                r.place.code,
                r.place.name,
                "是" if r.consent_sms else "否",
                timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M"),
            ]

    return exports.Table(
        HEADERS,
        rows(),
        count=qs.count(),
        title="孕前优生登记",
        audit={
            "action": "precheck_registration.export",
            "place_path": scoping.read_prefix(actor) or "",
            "changes": {"query": params.urlencode()},
        },
    )
