"""Public pages of 熊猫血友会 (/rh/): what it is, joining, withdrawing. No page ever says
whether an ID number is registered: joining twice and withdrawing with a wrong pair answer
the same neutral words, and the registered mobile gets the SMS."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from sunshine.core import publicforms
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.messaging import verification
from sunshine.rhregistry import forms, rules, selectors, services

JOIN_DONE = (
    "您的登记已提交。登记成功后，会有一条短信发到您填写的手机号码；"
    "如果这个身份证号码以前已经登记过，短信会发到原来登记的手机号码。"
)
WITHDRAW_DONE = (
    "如信息匹配，您的登记已撤回，您的信息已删除，并会有一条短信发到登记的手机号码。"
    "如果没有收到短信，说明填写的身份证号码和手机号码与登记的不一致，请核对后再试，"
    "或打电话请工作人员帮助撤回。"
)

# Withdrawing needs the ID number, the mobile and the SMS code sent to that mobile
# (sunshine.messaging.verification): nobody can withdraw someone else.
WITHDRAW_PURPOSE = "rh-withdraw"
WITHDRAW_WHAT = "撤回熊猫血友会登记"


@require_GET
def about(request):
    return render(request, "rhregistry/about.html", {"disclaimer": rules.DISCLAIMER})


@require_http_methods(["GET", "POST"])
def join(request):
    guard = publicforms.Guard(request, publicforms.RH_JOIN)
    form = forms.DonorForm(request.POST or None, place_choices=selectors.village_choices_public())
    if guard.allows(form):
        data = form.cleaned_data
        try:
            services.donor_register(
                actor=None,
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
        except services.DuplicateDonor as exc:
            services.donor_remind_registered(donor_id=exc.donor_id)
            return redirect(reverse("rhregistry:join") + "?done=1")
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            return redirect(reverse("rhregistry:join") + "?done=1")
    return render(
        request,
        "rhregistry/join.html",
        {
            "form": form,
            "guard": guard,
            "done": JOIN_DONE if request.GET.get("done") else "",
            "consent_text": rules.CONSENT_TEXT,
            "consent_version": rules.CONSENT_VERSION,
        },
    )


@require_http_methods(["GET", "POST"])
def withdraw(request):
    """Two steps, no JavaScript: the ID number and mobile ask for an SMS code (sent to the
    number typed, whether or not it is registered: the page tells nothing), then the code
    withdraws when the pair matches. Either way the answer is the same."""
    guard = publicforms.Guard(request, publicforms.RH_WITHDRAW)
    form = forms.WithdrawForm(request.POST or None)
    step = verification.step(request)
    note = ""
    if guard.allows(form):
        data = form.cleaned_data
        try:
            if step == verification.SEND:
                verification.code_send(
                    mobile=data["mobile"], purpose=WITHDRAW_PURPOSE, what=WITHDRAW_WHAT, ip=guard.ip
                )
                note = verification.code_sent_note(data["mobile"])
            else:
                verification.code_check(
                    mobile=data["mobile"], purpose=WITHDRAW_PURPOSE, code=data["code"]
                )
                services.donor_withdraw_public(id_number=data["id_number"], mobile=data["mobile"])
                return redirect(reverse("rhregistry:withdraw") + "?done=1")
        except ServiceError as exc:
            form_add_error(form, exc)
    return render(
        request,
        "rhregistry/withdraw.html",
        {
            "form": form,
            "guard": guard,
            "note": note,
            "confirming": verification.confirming(request, note),
            "done": WITHDRAW_DONE if request.GET.get("done") else "",
        },
    )
