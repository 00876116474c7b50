"""The couple's own pages (phone-first, no JavaScript needed): register with a slot, then look
up the registration with its number and the woman's mobile, rebook or cancel. Nothing public
shows a full name, ID number or mobile."""

import time

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sunshine.core import publicforms, throttle, validators
from sunshine.core.errors import ServiceError
from sunshine.core.middleware import client_ip
from sunshine.places.models import Place
from sunshine.precheck import forms, selectors, services
from sunshine.precheck.models import Registration

DONE_KEY = "precheck_done"
MY_KEY = "precheck_my"
MY_SECONDS = 30 * 60
LOOKUP_LIMIT = 10  # failed look-ups per address per hour
LOOKUP_WINDOW = 3600
NOT_FOUND = "登记编号或手机号码不对，请核对后再试。"
TOO_MANY = "查询失败次数太多，请一小时后再试，或联系村（居）干部。"
SAME_WOMAN = (
    "女方已有未结束的孕前优生登记，不能重复登记。如是您本人登记的，请用登记编号和手机号码查询；"
    "如有疑问请联系村（居）干部或检查机构。"
)


def _town(code: str) -> Place | None:
    if not code:
        return None
    return selectors.public_towns().filter(code=code).first()


@require_http_methods(["GET", "POST"])
def register(request):
    town = _town(request.POST.get("town") or request.GET.get("town", ""))
    if town is None:
        return render(request, "precheck/register_town.html", {"towns": selectors.public_towns()})
    slots = selectors.slots_open_for_place(town)
    guard = publicforms.Guard(request, publicforms.PRECHECK_REGISTER)
    form = forms.PublicRegisterForm(request.POST or None, town=town, slots=slots)
    if guard.allows(form):
        data = form.couple_data()
        place = selectors.place_for_registration(form.cleaned_data["village"])
        try:
            reg = services.registration_create_and_book(
                actor=None, channel=Registration.ONLINE, place=place, slot=form.chosen(), **data
            )
        except services.DuplicateRegistration as exc:
            old = exc.existing
            if (
                old.woman_mobile == validators.mobile_normalised(data["woman_mobile"])
                and old.man_id_number == (data["man_id_number"] or "").strip().upper()
            ):
                # The same couple again (a double submit, or they forgot): show their number.
                request.session[DONE_KEY] = old.pk
                return redirect("precheck:register-done")
            form.add_error("woman_id_number", SAME_WOMAN)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            request.session[DONE_KEY] = reg.pk
            return redirect("precheck:register-done")
    return render(request, "precheck/register.html", {"form": form, "town": town, "guard": guard})


def register_done(request):
    reg_id = request.session.get(DONE_KEY)
    reg = selectors.registration_get_public(reg_id) if reg_id else None
    if reg is None:
        return redirect("precheck:register")
    return render(
        request,
        "precheck/register_done.html",
        {
            "reg": reg,
            "appointment": selectors.registration_active_appointment(reg),
            "bring": services.DEFAULT_BRING,
        },
    )


def _failures_key(request) -> str:
    return f"precheck:lookup-fail:{client_ip(request)}"


def _my_registration(request) -> Registration | None:
    held = request.session.get(MY_KEY)
    if not held or held.get("until", 0) < time.time():
        request.session.pop(MY_KEY, None)
        return None
    return selectors.registration_get_public(held["id"])


MY_NOTES = {
    "booked": "已改约。新的检查通知短信稍后发到您的手机。",
    "cancelled": "预约已取消。需要时可以重新预约。",
}


@require_http_methods(["GET", "POST"])
def my(request):
    action = request.POST.get("action", "lookup")
    reg = _my_registration(request)
    if request.method == "POST" and action == "logout":
        request.session.pop(MY_KEY, None)
        return redirect("precheck:my")
    if reg is None:
        return _lookup(request)
    active = selectors.registration_active_appointment(reg)
    can_book = reg.status in services.BOOKABLE_STATUSES
    slots = selectors.slots_for_booking(reg, active)
    form = forms.BookForm(request.POST if action == "rebook" else None, slots=slots)
    error = ""
    if request.method == "POST":
        try:
            if action == "rebook" and form.is_valid():
                services.appointment_book(actor=None, registration=reg, slot=form.chosen())
                return redirect(f"{request.path}?done=booked")
            if action == "cancel" and active is not None:
                services.appointment_cancel(actor=None, appointment=active)
                return redirect(f"{request.path}?done=cancelled")
        except ServiceError as exc:
            error = exc.message
    return render(
        request,
        "precheck/my.html",
        {
            "reg": reg,
            "active": active,
            "form": form,
            "can_book": can_book,
            "error": error,
            "note": MY_NOTES.get(request.GET.get("done", "")),
        },
    )


def _lookup(request):
    guard = publicforms.Guard(request, publicforms.PRECHECK_LOOKUP)
    form = forms.LookupForm(request.POST or None)
    error = ""
    if request.method == "POST":
        key = _failures_key(request)
        if throttle.exhausted(key, LOOKUP_LIMIT):
            error = TOO_MANY
        elif guard.allows(form):
            reg = selectors.registration_lookup_public(
                form.cleaned_data["number"], form.cleaned_data["mobile"]
            )
            if reg is not None:
                request.session[MY_KEY] = {"id": reg.pk, "until": time.time() + MY_SECONDS}
                return redirect("precheck:my")
            throttle.count(key, LOOKUP_WINDOW)
            error = NOT_FOUND
    return render(
        request, "precheck/my_lookup.html", {"form": form, "error": error, "guard": guard}
    )
