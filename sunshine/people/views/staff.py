from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sunshine.accounts.access import staff_required, start_upload_job
from sunshine.core import audit, exports
from sunshine.core.errors import ServiceError
from sunshine.core.masking import mask_id_number, mask_mobile
from sunshine.people import forms, rules, selectors, services
from sunshine.places import scoping

PAGE_SIZE = 50


def _rows(request):
    form = forms.ResidentFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.resident_list_for_actor(
        request.user,
        q=data.get("q", ""),
        place_code=data.get("place", ""),
        status=data.get("status", ""),
    )
    return form, qs


@staff_required("people.view")
def resident_list(request):
    form, qs = _rows(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "people/_resident_rows.html" if request.htmx else "people/resident_list.html"
    return render(request, template, {"form": form, "page": page})


EXPORT_HEADERS = [
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


def _export_rows(request):
    _, qs = _rows(request)
    full = selectors.can_see_identifiers(request.user)
    if full:
        # Audited here, not inside the generator: a streamed CSV is read after the request
        # context (IP, path) has been reset.
        audit.record(
            actor=request.user,
            action="resident.export_identifiers",
            place_path=scoping.read_prefix(request.user) or "",
            sensitive=True,
            changes={"query": request.GET.urlencode(), "count": qs.count()},
        )
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

    return rows()


@staff_required("people.view")
def resident_export_xlsx(request):
    return exports.xlsx_response("居民.xlsx", EXPORT_HEADERS, _export_rows(request), title="居民")


@staff_required("people.view")
def resident_export_csv(request):
    return exports.csv_response("居民.csv", EXPORT_HEADERS, _export_rows(request))


@staff_required("people.view")
def resident_detail(request, resident_id):
    resident = selectors.resident_get_for_actor(request.user, resident_id)
    return render(
        request,
        "people/resident_detail.html",
        {
            "resident": resident,
            "can_reveal": selectors.can_see_identifiers(request.user),
            "can_edit": request.user.can("people.change")
            and scoping.path_in_scope(request.user, resident.place_path, write=True),
        },
    )


@staff_required("people.identifiers")
@require_POST
def resident_identifiers(request, resident_id):
    resident = selectors.resident_get_for_actor(request.user, resident_id)
    values = selectors.resident_identifiers(
        request.user, resident, reason=request.POST.get("reason", "")[:200]
    )
    if request.htmx:
        return render(request, "people/_identifiers.html", {"values": values})
    return render(
        request,
        "people/resident_detail.html",
        {
            "resident": resident,
            "values": values,
            "can_reveal": True,
        },
    )


def _initial(resident) -> dict:
    return {
        "name": resident.name,
        "sex": resident.get_sex_display(),
        "id_number": resident.id_number,
        "mobile": resident.mobile,
        "place_code": resident.place.code,
        "household_number": resident.household.number if resident.household else "",
        "residence_code": resident.residence.code if resident.residence else "",
        "hukou_type": resident.get_hukou_type_display(),
        "status": resident.get_status_display(),
    }


def _save(request, form, resident=None):
    try:
        if resident is None:
            return services.resident_create(actor=request.user, data=form.cleaned_data)
        return services.resident_update(
            actor=request.user, resident=resident, data=form.cleaned_data
        )
    except ServiceError as exc:
        # One message under each field it concerns (the service names fields by their headers).
        for header, message in exc.errors or [(exc.field, exc.message)]:
            form.add_error(forms.ResidentForm.field_for_header.get(header), message)
        return None


@staff_required("people.change")
def resident_create(request):
    form = forms.ResidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        resident = _save(request, form)
        if resident is not None:
            return redirect("people:staff-resident-detail", resident_id=resident.pk)
    return render(request, "people/resident_form.html", {"form": form, "resident": None})


@staff_required("people.change")
def resident_edit(request, resident_id):
    resident = selectors.resident_get_for_actor(request.user, resident_id)
    if not scoping.path_in_scope(request.user, resident.place_path, write=True):
        raise Http404("不在您的管辖范围内。")
    form = forms.ResidentForm(request.POST or None, initial=_initial(resident))
    form.fields["id_number"].disabled = True
    if request.method == "POST" and form.is_valid():
        if _save(request, form, resident) is not None:
            return redirect("people:staff-resident-detail", resident_id=resident.pk)
    return render(request, "people/resident_form.html", {"form": form, "resident": resident})


@staff_required("people.import")
def resident_import(request):
    form = (
        forms.ImportForm(request.POST, request.FILES)
        if request.method == "POST"
        else forms.ImportForm()
    )
    if form.is_bound and form.is_valid():
        started = start_upload_job(
            request,
            form,
            kind="people.import",
            title="导入居民",
            options={"partial": form.cleaned_data["partial"]},
        )
        if started is not None:
            return started
    return render(
        request,
        "people/resident_import.html",
        {
            "form": form,
            "headers": list(rules.HEADERS.values()),
            "required": [rules.HEADERS[f] for f in rules.REQUIRED],
        },
    )


@staff_required("people.import")
def resident_import_template(request):
    headers = [rules.HEADERS[f] for f in rules.COLUMNS]
    example = [rules.TEMPLATE_EXAMPLE[f] for f in rules.COLUMNS]
    fh = exports.xlsx_write(headers, [example], title="居民")
    return FileResponse(fh, as_attachment=True, filename="居民导入模板.xlsx")
