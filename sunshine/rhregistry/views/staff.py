"""Staff pages of 熊猫血友会 (/staff/rh/). Every view is hidden: a role without `rh.registry`
gets 404, as if the registry did not exist. Every page that shows donors writes an audit row;
identifiers are masked except after an audited reveal."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from sunshine.accounts.access import staff_required
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.rhregistry import forms, rules, selectors, services
from sunshine.rhregistry.models import ContactRequest

CAP = "rh.registry"
PAGE_SIZE = 50


@staff_required(CAP, hidden=True)
@require_http_methods(["GET"])
def donor_list(request):
    form = forms.DonorFilterForm(
        request.GET or None, place_choices=selectors.place_choices_for_actor(request.user)
    )
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.donor_list_for_actor(
        request.user, abo=data.get("abo", ""), place_code=data.get("place", "")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.donor_list_audit(
        request.user,
        what="list_read",
        count=page.paginator.count,
        filters={k: v for k, v in data.items() if v},
        ids=[d.pk for d in page],
    )
    return render(
        request,
        "rhregistry/donor_list.html",
        {"form": form, "page": page, "counts": selectors.donor_counts(request.user)},
    )


@staff_required(CAP, hidden=True)
@require_http_methods(["GET", "POST"])
def donor_create(request):
    choices = selectors.place_choices_for_actor(
        request.user, write=True, levels=services.REGISTER_LEVELS
    )
    form = forms.DonorForm(request.POST or None, place_choices=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donor = services.donor_register(
                actor=request.user,
                name=data["name"],
                id_number=data["id_number"],
                mobile=data["mobile"],
                abo=data["abo"],
                rhd=data["rhd"],
                rh_note=data["rh_note"],
                place=selectors.place_get(data["place"], levels=services.REGISTER_LEVELS),
                consent=data["consent"],
                consent_scope=data["consent_scope"],
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "已代为登记，并已给志愿者发送登记短信。")
            return redirect("rhregistry_staff:donor-detail", donor_id=donor.pk)
    return render(
        request,
        "rhregistry/donor_form.html",
        {
            "form": form,
            "consent_text": rules.CONSENT_TEXT,
            "consent_version": rules.CONSENT_VERSION,
        },
    )


def _detail(request, donor, **extra):
    return render(
        request,
        "rhregistry/donor_detail.html",
        {"donor": donor, "withdraw_form": forms.StaffWithdrawForm(), **extra},
    )


@staff_required(CAP, hidden=True)
@require_http_methods(["GET"])
def donor_detail(request, donor_id):
    return _detail(request, selectors.donor_get_for_actor(request.user, donor_id))


@staff_required(CAP, hidden=True)
@require_POST
def donor_identifiers(request, donor_id):
    reason = request.POST.get("reason", "")[:200]
    # One audit row per reveal: the identifiers alone for the htmx swap, everything shown
    # for the whole page.
    shown = selectors.IDENTIFIERS + ([] if request.htmx else selectors.DONOR_FIELDS)
    donor = selectors.donor_get_for_actor(request.user, donor_id, reason=reason, fields=shown)
    values = selectors.donor_identifiers(donor)
    if request.htmx:
        return render(request, "people/_identifiers.html", {"values": values})
    return _detail(request, donor, values=values)


@staff_required(CAP, hidden=True)
@require_POST
def donor_withdraw(request, donor_id):
    donor = selectors.donor_get_for_actor(request.user, donor_id)
    form = forms.StaffWithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.donor_withdraw(actor=request.user, donor=donor, reason=reason)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("rhregistry_staff:donor-detail", donor_id=donor.pk)
    messages.success(request, "登记已撤回：志愿者的信息已删除，不会再被查找；已发短信告知本人。")
    return redirect("rhregistry_staff:donor-list")


@staff_required(CAP, hidden=True)
@require_http_methods(["GET", "POST"])
def search(request):
    choices = selectors.place_choices_for_actor(request.user)
    form = forms.SearchForm(request.POST or None, place_choices=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        levels = selectors.SEARCH_LEVELS
        try:
            found, _ = services.donor_search(
                actor=request.user,
                patient_abo=data["patient_abo"],
                patient_rhd=data["patient_rhd"],
                place=selectors.place_get(data["place"], levels=levels),
                near=selectors.place_get(data["near"], levels=levels),
                hospital=data["hospital"],
                contact_phone=data["contact_phone"],
                patient_ref=data["patient_ref"],
                reason=data["reason"],
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            return redirect("rhregistry_staff:search-results", search_id=found.pk)
    recent = selectors.search_list_for_actor(request.user)[:10]
    return render(
        request,
        "rhregistry/search.html",
        {"form": form, "recent": recent, "disclaimer": rules.DISCLAIMER},
    )


@staff_required(CAP, hidden=True)
@require_http_methods(["GET"])
def search_results(request, search_id):
    found = selectors.search_get_for_actor(request.user, search_id)
    donors = selectors.search_results(request.user, found)
    requested = set(found.requests.values_list("donor_id", flat=True))
    return render(
        request,
        "rhregistry/search_results.html",
        {
            "search": found,
            "donors": donors,
            "requested": requested,
            "disclaimer": rules.DISCLAIMER,
        },
    )


@staff_required(CAP, hidden=True)
@require_POST
def search_request(request, search_id):
    found = selectors.search_get_for_actor(request.user, search_id)
    try:
        made = services.contact_request(
            actor=request.user, search=found, donor_ids=request.POST.getlist("donor")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("rhregistry_staff:search-results", search_id=found.pk)
    messages.success(
        request,
        f"已提出 {len(made)} 条联系申请。确认后才会发送短信。"
        if made
        else "所选志愿者已申请过联系。",
    )
    return redirect("rhregistry_staff:request-list")


@staff_required(CAP, hidden=True)
@require_http_methods(["GET"])
def request_list(request):
    status = request.GET.get("status", ContactRequest.PENDING)
    qs = selectors.request_list_for_actor(request.user, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    selectors.donor_list_audit(
        request.user,
        what="request_list_read",
        count=page.paginator.count,
        filters={"status": status},
        ids=[r.donor_id for r in page],
    )
    return render(
        request,
        "rhregistry/request_list.html",
        {"page": page, "status": status, "statuses": ContactRequest.STATUS_CHOICES},
    )


def _request_action(request, request_id, action, done: str):
    req = selectors.request_get_for_actor(request.user, request_id)
    try:
        action(actor=request.user, request=req)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("rhregistry_staff:request-list")


@staff_required(CAP, hidden=True)
@require_POST
def request_confirm(request, request_id):
    return _request_action(
        request, request_id, services.contact_confirm, "已确认，联系短信已安排发送。"
    )


@staff_required(CAP, hidden=True)
@require_POST
def request_cancel(request, request_id):
    return _request_action(request, request_id, services.contact_cancel, "联系申请已取消。")
