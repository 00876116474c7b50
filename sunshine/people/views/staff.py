from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sunshine.accounts.access import export_start, staff_required, start_upload_job
from sunshine.core import exports
from sunshine.core.errors import ServiceError
from sunshine.people import exports as people_exports
from sunshine.people import forms, rules, selectors, services
from sunshine.places import scoping

PAGE_SIZE = 50


def _rows(request):
    return people_exports.resident_filtered(request.user, request.GET)


@staff_required("people.view")
def resident_list(request):
    form, qs = _rows(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "people/_resident_rows.html" if request.htmx else "people/resident_list.html"
    return render(request, template, {"form": form, "page": page})


EXPORT_HEADERS = people_exports.HEADERS


@staff_required("people.view")
def resident_export_xlsx(request):
    return export_start(request, "people.residents", "xlsx")


@staff_required("people.view")
def resident_export_csv(request):
    return export_start(request, "people.residents", "csv")


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
