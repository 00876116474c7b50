"""Staff log-in in two steps: the password, then the second factor.

After the password the session only remembers who is waiting (for a few minutes); Django's
`login()` runs once the code from the authenticator app (or a recovery code) is accepted, so a
password alone never makes a signed-in session. A member of staff whose role requires two-factor
log-in (accounts.roles) and who has no authenticator yet is sent to add one: a QR code and the
key in text, a first code to confirm it, then ten recovery codes shown once. Wrong codes count
as failed log-ins for django-axes (same user name and address), so they lock like passwords.
"""

import time
from urllib.parse import urlencode

import segno
from axes import helpers as axes_helpers
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import user_has_device

from sunshine.accounts import roles
from sunshine.accounts import services as account_services
from sunshine.accounts.models import User
from sunshine.backoffice import forms as office_forms
from sunshine.core import audit
from sunshine.core.errors import ServiceError

PENDING = "sunshine_2fa_pending"
NEW_CODES = "sunshine_2fa_new_codes"


def two_factor_wanted(user) -> bool:
    """Ask for a second factor: the role requires it (when enforced), or the user has one."""
    required = settings.SUNSHINE_REQUIRE_2FA and roles.needs_two_factor(
        user.role, is_superuser=user.is_superuser
    )
    return required or user_has_device(user)


class LoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    authentication_form = office_forms.LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # Django's LoginView puts the request's host in `site_name`; show ours.
        return {**super().get_context_data(**kwargs), "site_name": settings.SUNSHINE_SITE_NAME}

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor_wanted(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        audit.record(
            actor=None,
            action="auth.password_ok",
            obj=user,
            object_repr=user.username,
            place_path=user.place.path if user.place else "",
        )
        if user_has_device(user):
            return redirect("backoffice:login-verify")
        return redirect("backoffice:login-enrol")


def _pending_user(request) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > settings.SUNSHINE_2FA_PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, {}
    user = User.objects.filter(pk=pending["user"], is_active=True).select_related("place").first()
    return user, pending


def _credentials(user) -> dict:
    return {"username": user.username}


def _locked(request, user) -> bool:
    return AxesProxyHandler.is_locked(request, _credentials(user))


def _failed(request, user):
    """A wrong code: one failed log-in for axes, and a row in the audit log."""
    user_login_failed.send(
        sender=__name__, credentials={**_credentials(user), "second_factor": True}, request=request
    )


def _finish(request, user, device, pending):
    """The second factor is in: sign in, and mark the session verified by `device`."""
    user.backend = pending["backend"]
    user.otp_device = device  # django-otp stores it in the session on login
    auth.login(request, user, backend=pending["backend"])
    request.session.pop(PENDING, None)
    target = pending.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse(settings.LOGIN_REDIRECT_URL)
    return target


class CodeForm(forms.Form):
    code = forms.CharField(
        label="验证码",
        max_length=40,
        error_messages={"required": "请输入验证码。"},
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg",
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
            }
        ),
    )


@never_cache
@sensitive_post_parameters("code")
def login_verify(request):
    user, pending = _pending_user(request)
    if user is None:
        return redirect("backoffice:login")
    if not user_has_device(user):
        return redirect("backoffice:login-enrol")
    if _locked(request, user):
        return axes_helpers.get_lockout_response(request, None, _credentials(user))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        device = account_services.otp_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            return redirect(_finish(request, user, device, pending))
        _failed(request, user)
        if _locked(request, user):
            return axes_helpers.get_lockout_response(request, None, _credentials(user))
        form.add_error(
            "code",
            "验证码不正确或已用过。请输入验证器上当前的 6 位数字，或一个未用过的恢复码。",
        )
    return render(request, "backoffice/login_verify.html", {"form": form, "pending_user": user})


def _qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(
        scale=5, border=4, omitsize=True, title="扫码绑定验证器"
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@sensitive_post_parameters("code")
def login_enrol(request):
    user, pending = _pending_user(request)
    if user is None:
        return redirect("backoffice:login")
    if user_has_device(user):
        return redirect("backoffice:login-verify")
    if _locked(request, user):
        return axes_helpers.get_lockout_response(request, None, _credentials(user))
    device = account_services.totp_enrol_start(actor=user)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        try:
            codes = account_services.totp_enrol_confirm(
                actor=user, device=device, code=form.cleaned_data["code"]
            )
        except ServiceError as exc:
            _failed(request, user)
            if _locked(request, user):
                return axes_helpers.get_lockout_response(request, None, _credentials(user))
            form.add_error("code", exc.message)
        else:
            device.refresh_from_db()
            target = _finish(request, user, device, pending)
            request.session[NEW_CODES] = {"codes": codes, "next": target}
            return redirect("backoffice:login-recovery-codes")
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "backoffice/login_enrol.html",
        {
            "form": form,
            "pending_user": user,
            "qr_svg": _qr_svg(device.config_url),
            "secret": _grouped(secret),
        },
    )


@never_cache
def login_recovery_codes(request):
    """The recovery codes, once, right after enrolling."""
    if not request.user.is_authenticated:
        return redirect("backoffice:login")
    shown = request.session.pop(NEW_CODES, None)
    if not shown:
        return redirect("backoffice:dashboard")
    return render(
        request,
        "backoffice/login_recovery_codes.html",
        {"codes": shown["codes"], "next": shown["next"]},
    )


def admin_login(request):
    """Django's admin has its own password-only login form: send it to ours."""
    target = request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:index")
    return redirect(f"{reverse('backoffice:login')}?{urlencode({'next': target})}")
