"""The residents export (a registered core.exports source): the list's filters, scoped to the
actor; full identifiers only for a role that may see them, and then audited."""

from sunshine.core import exports
from sunshine.core.masking import mask_id_number, mask_mobile
from sunshine.people import forms, selectors
from sunshine.places import scoping

HEADERS = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号码",
    "手机号码",
    "所在地编码",
    "所在地",
    "户号",
    "户籍类型",
    "状态",
]


def resident_filtered(actor, params):
    """The residents list as filtered by `params` (a QueryDict): the form and the queryset."""
    form = forms.ResidentFilterForm(params or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.resident_list_for_actor(
        actor,
        q=data.get("q", ""),
        place_code=data.get("place", ""),
        status=data.get("status", ""),
    )
    return form, qs


@exports.source("people.residents", filename="居民")
def resident_export(actor, params) -> exports.Table:
    _, qs = resident_filtered(actor, params)
    full = selectors.can_see_identifiers(actor)
    count = qs.count()
    show_id = (lambda v: v) if full else mask_id_number
    show_mobile = (lambda v: v) if full else mask_mobile

    def rows():
        for r in qs.iterator(chunk_size=2000):
            yield [
                r.name,
                r.get_sex_display(),
                r.birth_date,
                show_id(r.id_number),
                show_mobile(r.mobile),
                r.place.code,
                r.place.name,
                r.household.number if r.household else "",
                r.get_hukou_type_display(),
                r.get_status_display(),
            ]

    audit = None
    if full:
        audit = {
            "action": "resident.export_identifiers",
            "place_path": scoping.read_prefix(actor) or "",
            "sensitive": True,
            "changes": {"query": params.urlencode(), "count": count},
        }
    return exports.Table(HEADERS, rows(), count=count, title="居民", audit=audit, sensitive=full)
