"""Staff pages of the registration and appointment desk (/staff/precheck/): registrations,
booking, institutions and slots, the clinic's day list, and couples' change requests."""

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sunshine.accounts.access import export_start, staff_required
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.places.models import Place
from sunshine.precheck import exports as precheck_exports
from sunshine.precheck import forms, selectors, services
from sunshine.precheck.models import Appointment, Registration

PAGE_SIZE = 50


def _flash_error(request, exc: ServiceError) -> None:
    messages.error(request, exc.message)


# -- registrations ---------------------------------------------------------------------------


def _rows(request):
    return precheck_exports.registration_filtered(request.user, request.GET)


@staff_required("precheck.view")
def registration_list(request):
    form, qs = _rows(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "precheck/_registration_rows.html" if request.htmx else "precheck/registration_list.html"
    )
    return render(request, template, {"form": form, "page": page})


EXPORT_HEADERS = precheck_exports.HEADERS


@staff_required("precheck.view")
def registration_export_xlsx(request):
    return export_start(request, "precheck.registrations", "xlsx")


@staff_required("precheck.view")
def registration_export_csv(request):
    return export_start(request, "precheck.registrations", "csv")


def _register_places(actor):
    prefix = scoping.write_prefix(actor)
    if prefix is None:
        return Place.objects.none()
    return (
        Place.objects.filter(level=place_rules.VILLAGE, is_active=True, path__startswith=prefix)
        .select_related("parent")
        .order_by("path")
    )


@staff_required("precheck.register")
def registration_create(request):
    places = list(_register_places(request.user))
    form = forms.StaffRegistrationForm(request.POST or None, places=places)
    channel = services.staff_channel(request.user)
    if request.method == "POST" and form.is_valid():
        place = next((p for p in places if p.code == form.cleaned_data["place"]), None)
        try:
            reg = services.registration_create(
                actor=request.user, channel=channel, place=place, **form.couple_data()
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"已登记，编号{reg.number}。请为这对夫妇预约检查时间。")
            return redirect("precheck_staff:registration-book", registration_id=reg.pk)
    return render(
        request,
        "precheck/registration_form.html",
        {"form": form, "channel_label": dict(Registration.CHANNEL_CHOICES)[channel]},
    )


TIMELINE_LABELS = {
    "precheck_registration.create": "登记",
    "precheck_registration.close": "结束登记",
    "precheck_appointment.book": "预约",
    "precheck_appointment.rebook": "改约",
    "precheck_appointment.cancel": "取消预约",
    "precheck_appointment.answer": "短信回复",
    "precheck_appointment.mark": "登记到检情况",
    # The results services write these on the registration too (no values in the log).
    "precheck.results_save": "录入检查结果",
    "precheck.assessment_make": "风险评估",
}


def _detail_context(request, reg, **extra):
    appointments = list(selectors.registration_appointments(reg))
    timeline = selectors.registration_timeline(reg, appointments)
    for entry in timeline:
        entry.label = TIMELINE_LABELS.get(entry.action, entry.action)
    # Revealing the numbers and registering take the same right: precheck.register, in place.
    can_register = selectors.can_reveal(request.user, reg)
    return {
        "reg": reg,
        "appointments": appointments,
        "timeline": timeline,
        "can_reveal": can_register,
        "can_register": can_register,
        "can_book": reg.status in services.BOOKABLE_STATUSES,
        "close_form": forms.ReasonForm(),
        **extra,
    }


@staff_required("precheck.view")
def registration_detail(request, registration_id):
    reg = selectors.registration_get_for_actor(request.user, registration_id)
    return render(request, "precheck/registration_detail.html", _detail_context(request, reg))


@staff_required("precheck.register")
@require_POST
def registration_identifiers(request, registration_id):
    reg = selectors.registration_get_for_actor(request.user, registration_id, write=True)
    values = selectors.registration_identifiers(
        request.user, reg, reason=request.POST.get("reason", "")[:200]
    )
    if request.htmx:
        return render(request, "precheck/_identifiers.html", {"values": values, "reg": reg})
    return render(
        request, "precheck/registration_detail.html", _detail_context(request, reg, values=values)
    )


@staff_required("precheck.register")
def registration_book(request, registration_id):
    reg = selectors.registration_get_for_actor(request.user, registration_id, write=True)
    can_book = reg.status in services.BOOKABLE_STATUSES
    active = selectors.registration_active_appointment(reg)
    form = forms.BookForm(request.POST or None, slots=selectors.slots_for_booking(reg, active))
    if request.method == "POST" and form.is_valid():
        try:
            appt = services.appointment_book(
                actor=request.user, registration=reg, slot=form.chosen()
            )
        except ServiceError as exc:
            form.add_error("slot", exc.message)
        else:
            messages.success(
                request,
                f"已预约 {services.slot_time_text(appt.slot.starts_at)}，检查通知已发出。",
            )
            return redirect("precheck_staff:registration-detail", registration_id=reg.pk)
    return render(
        request,
        "precheck/registration_book.html",
        {
            "reg": reg,
            "form": form,
            "can_book": can_book,
            "active": active,
        },
    )


@staff_required("precheck.register")
@require_POST
def registration_close(request, registration_id):
    reg = selectors.registration_get_for_actor(request.user, registration_id, write=True)
    form = forms.ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "结束登记需要填写原因。")
    else:
        try:
            services.registration_close(
                actor=request.user, registration=reg, reason=form.cleaned_data["reason"]
            )
            messages.success(request, "登记已结束。")
        except ServiceError as exc:
            _flash_error(request, exc)
    return redirect("precheck_staff:registration-detail", registration_id=reg.pk)


# -- appointments ------------------------------------------------------------------------------


@staff_required("precheck.register")
@require_POST
def appointment_cancel(request, appointment_id):
    appt = selectors.appointment_get_for_actor(request.user, appointment_id, write=True)
    try:
        services.appointment_cancel(
            actor=request.user, appointment=appt, reason=request.POST.get("reason", "")
        )
        messages.success(request, "预约已取消，名额已释放。")
    except ServiceError as exc:
        _flash_error(request, exc)
    return redirect("precheck_staff:registration-detail", registration_id=appt.registration_id)


@staff_required("precheck.manage")
@require_POST
def appointment_mark(request, appointment_id):
    appt = selectors.appointment_get_for_actor(request.user, appointment_id, write=True)
    outcome = request.POST.get("outcome", "")
    if outcome not in ("attended", "missed"):
        messages.error(request, "请选择“已到检”或“未到检”。")
    else:
        try:
            services.appointment_mark(
                actor=request.user, appointment=appt, attended=outcome == "attended"
            )
            messages.success(request, f"{appt.registration.number} 已登记到检情况。")
        except ServiceError as exc:
            _flash_error(request, exc)
    day = timezone.localdate(appt.slot.starts_at)
    url = reverse("precheck_staff:appointment-day", args=[appt.slot.institution_id])
    return redirect(f"{url}?date={day:%Y-%m-%d}")


@staff_required("precheck.register")
def appointment_changes(request):
    qs = selectors.appointment_change_requests_for_actor(request.user)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "precheck/appointment_changes.html", {"page": page})


# -- institutions and slots ----------------------------------------------------------------------


def _institution_places(actor):
    prefix = scoping.write_prefix(actor)
    if prefix is None:
        return []
    levels = (place_rules.COUNTY, place_rules.TOWN, place_rules.VILLAGE, place_rules.UNIT)
    return list(
        Place.objects.filter(level__in=levels, is_active=True, path__startswith=prefix).order_by(
            "path"
        )[:2000]
    )


@staff_required("precheck.view")
def institution_list(request):
    rows = list(selectors.institution_list_for_actor(request.user))
    for inst in rows:
        inst.can_manage = selectors.can_manage_institution(request.user, inst)
    return render(request, "precheck/institution_list.html", {"institutions": rows})


def _institution_form(request, institution=None):
    places = _institution_places(request.user)
    initial = {}
    if institution is not None:
        initial = {
            "name": institution.name,
            "place": institution.place.code,
            "address": institution.address,
            "phone": institution.phone,
            "hours": institution.hours,
            "instructions": institution.instructions,
            "is_active": institution.is_active,
        }
    form = forms.InstitutionForm(request.POST or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        place = next((p for p in places if p.code == d["place"]), None)
        try:
            inst = services.institution_save(
                actor=request.user,
                institution=institution,
                name=d["name"],
                place=place,
                address=d["address"],
                phone=d["phone"],
                hours=d["hours"],
                instructions=d["instructions"],
                is_active=d["is_active"],
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("precheck_staff:institution-detail", institution_id=inst.pk)
    return render(
        request, "precheck/institution_form.html", {"form": form, "institution": institution}
    )


@staff_required("precheck.manage")
def institution_create(request):
    return _institution_form(request)


@staff_required("precheck.manage")
def institution_edit(request, institution_id):
    inst = selectors.institution_get_for_actor(request.user, institution_id, write=True)
    return _institution_form(request, inst)


@staff_required("precheck.view")
def institution_detail(request, institution_id):
    inst = selectors.institution_get_for_actor(request.user, institution_id)
    return _institution_page(request, inst)


def _institution_page(request, inst, slot_form=None):
    can_manage = selectors.can_manage_institution(request.user, inst)
    if slot_form is None and can_manage:
        slot_form = forms.SlotOpenForm()
        start, end = slot_form.initial_dates()
        slot_form.initial.update(start_date=start, end_date=end)
    page = Paginator(selectors.slot_list_for_institution(inst), 100).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "precheck/institution_detail.html",
        {"inst": inst, "page": page, "can_manage": can_manage, "slot_form": slot_form},
    )


@staff_required("precheck.manage")
@require_POST
def slot_open(request, institution_id):
    inst = selectors.institution_get_for_actor(request.user, institution_id, write=True)
    form = forms.SlotOpenForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            slots = services.slot_create_many(
                actor=request.user,
                institution=inst,
                start_date=d["start_date"],
                end_date=d["end_date"],
                weekdays=d["weekdays"],
                times=d["times"],
                capacity=d["capacity"],
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, f"已开放{len(slots)}个时段（已有的时段不重复开放）。")
            return redirect("precheck_staff:institution-detail", institution_id=inst.pk)
    return _institution_page(request, inst, slot_form=form)


@staff_required("precheck.manage")
@require_POST
def slot_close(request, slot_id):
    slot = selectors.slot_get_for_actor(request.user, slot_id, write=True)
    try:
        services.slot_close(actor=request.user, slot=slot)
        messages.success(request, "该时段已停止预约，已约的群众不受影响。")
    except ServiceError as exc:
        _flash_error(request, exc)
    return redirect("precheck_staff:institution-detail", institution_id=slot.institution_id)


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()  # a mangled date in the address: show today


@staff_required("precheck.manage")
def appointment_day(request, institution_id):
    inst = selectors.institution_get_for_actor(request.user, institution_id, write=True)
    day = _day(request.GET.get("date", ""))
    rows = list(selectors.appointment_day_list(inst, day))
    return render(
        request,
        "precheck/appointment_day.html",
        {
            "inst": inst,
            "day": day,
            "rows": rows,
            "prev": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "markable": {Appointment.BOOKED, Appointment.CONFIRMED, Appointment.CHANGE_REQUESTED},
            "today": timezone.localdate(),
        },
    )
