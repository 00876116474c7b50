"""One protection for every public form (docs/public-forms.md).

Every public POST goes through a `Guard`: it counts the post against the visitor's address
(proxy-aware: sunshine.core.middleware.client_ip), asks for a picture challenge
(django-simple-captcha) once an address has posted to the form a few times within the hour,
refuses an address over its hourly limit, and refuses a mobile number named in too many
submissions of the day. Forms that act for a mobile number (subscribe, unsubscribe, withdraw)
also ask for the SMS code sent to it (sunshine.messaging.verification).

    guard = publicforms.Guard(request, publicforms.OBJECTION)
    form = ObjectionForm(request.POST or None)
    if guard.allows(form):
        ...  # call the service
    render(..., {"form": form, "guard": guard})

and in the template, inside the <form>: `{% include "_captcha.html" %}` before the submit
buttons and `{% include "_captcha_refresh.html" %}` after them (the refresh is a plain submit
button, so it works without JavaScript; placed after the form's own button, Enter still
submits the form).

The limits are settings (SUNSHINE_FORM_*); the counters live in the cache (Redis when
REDIS_URL is set; without it, each process counts for itself).
"""

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.conf import settings
from django.utils import timezone

from sunshine.core import throttle
from sunshine.core.middleware import client_ip

HOUR = 3600
DAY = 24 * 3600

TOO_OFTEN = "提交过于频繁，请{minutes}分钟后再试。"
MOBILE_TOO_OFTEN = (
    "这个手机号码提交次数过多，请{hours}小时后再试；如需帮助请联系村（居）干部或拨打服务热线。"
)
CAPTCHA_REQUIRED = "请输入图中的字符。"
CAPTCHA_WRONG = "图中的字符输入不对，请看清新的图片后重新输入。"
REFRESH = "captcha_refresh"


@dataclass(frozen=True)
class Policy:
    """One public form: its name (the counters' key) and the fields that hold the mobile
    numbers it acts for (each limited per day)."""

    name: str
    mobile_fields: tuple[str, ...] = ()


OBJECTION = Policy("objection")
PRECHECK_REGISTER = Policy("precheck-register", mobile_fields=("woman_mobile", "man_mobile"))
# The look-up of a registration by its number and the woman's mobile (it writes nothing, and
# its failures have their own limit): the challenge and the address limit only.
PRECHECK_LOOKUP = Policy("precheck-lookup")
RH_JOIN = Policy("rh-join", mobile_fields=("mobile",))
RH_WITHDRAW = Policy("rh-withdraw", mobile_fields=("mobile",))
BOARD_SUBSCRIBE = Policy("board-subscribe", mobile_fields=("mobile",))


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def too_often(seconds: int) -> str:
    return TOO_OFTEN.format(minutes=minutes(seconds))


def _mobile_key(value) -> str:
    """The number a mobile field names, however it was typed (spaces, dashes, +86, full-width
    digits): the last 11 digits."""
    digits = "".join(c for c in unicodedata.normalize("NFKC", str(value or "")) if c.isdigit())
    return digits[-11:] if len(digits) >= 11 else digits


class _Widget(CaptchaTextInput):
    template_name = "core/captcha_widget.html"


class CaptchaForm(forms.Form):
    """The challenge, as a form of its own next to the page's form (no form class changes)."""

    captcha = CaptchaField(
        label="请输入图中的字符",
        widget=_Widget(attrs={"class": "form-control form-control-lg captcha-answer"}),
        error_messages={"required": CAPTCHA_REQUIRED, "invalid": CAPTCHA_WRONG},
    )


class Guard:
    """The protection of one public form for one request (see the module's docstring)."""

    def __init__(self, request, policy: Policy, *, now: dt.datetime | None = None):
        self.request = request
        self.policy = policy
        self.ip = client_ip(request)
        self.now = (now or timezone.now()).timestamp()
        self._address_key = f"form:{policy.name}:ip:{self.ip}"
        before = throttle.seen(self._address_key, HOUR, now=self.now)
        self.posted = request.method == "POST"
        self.refresh = self.posted and REFRESH in request.POST
        # The challenge this request must answer (POST) or show (the page): decided by the
        # posts before this one, so a script that never reads the page meets it too.
        self.needs_captcha = before >= settings.SUNSHINE_FORM_CAPTCHA_AFTER
        data = request.POST if self.posted and not self.refresh else None
        self.captcha = CaptchaForm(data) if self.needs_captcha else None

    def _count_address(self) -> int:
        """Seconds to wait when the address is over its hourly limit, else 0."""
        count, left = throttle.hit(self._address_key, HOUR, now=self.now)
        if count > settings.SUNSHINE_FORM_POSTS_PER_HOUR:
            return left
        if count >= settings.SUNSHINE_FORM_CAPTCHA_AFTER and self.captcha is None:
            self.captcha = CaptchaForm()  # the page that answers this post shows it
        return 0

    def _count_mobiles(self, form) -> tuple[str, int]:
        """The first mobile field over its daily limit and the seconds to wait, else ("", 0)."""
        for field in self.policy.mobile_fields:
            mobile = _mobile_key(form.cleaned_data.get(field))
            if not mobile:
                continue
            key = f"form:{self.policy.name}:mobile:{mobile}"
            count, left = throttle.hit(key, DAY, now=self.now)
            if count > settings.SUNSHINE_FORM_POSTS_PER_MOBILE_PER_DAY:
                return field, left
        return "", 0

    def allows(self, form) -> bool:
        """True when this is a POST the view may act on: the form is valid, the address is
        under its limit, the challenge (when asked) is answered, and no mobile is over its
        limit. Otherwise the reasons are on the form (or on the challenge) and the view shows
        the page again with what was typed. A "换一张" post counts for nothing."""
        if not self.posted:
            return False
        valid = form.is_valid()
        if self.refresh:
            return False
        wait = self._count_address()
        if wait:
            form.add_error(None, too_often(wait))
            return False
        if self.captcha is not None and self.captcha.is_bound and not self.captcha.is_valid():
            return False
        if not valid:
            return False
        field, wait = self._count_mobiles(form)
        if field:
            form.add_error(field, MOBILE_TOO_OFTEN.format(hours=max(1, math.ceil(wait / HOUR))))
            return False
        return True
