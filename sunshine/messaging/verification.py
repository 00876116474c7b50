"""SMS verification codes: a public form that acts for a mobile number (subscribe, unsubscribe,
withdraw) first sends a code to that number and acts only when the code comes back
(docs/public-forms.md). A code is 6 digits, valid SUNSHINE_SMS_CODE_MINUTES, for
SUNSHINE_SMS_CODE_TRIES tries, once, and only the newest one for a number and purpose counts.
Only a keyed hash (HMAC with the secret key) is stored. Codes per mobile and per address are
limited per hour. The SMS is an instant message: it goes during quiet hours too."""

import datetime as dt
import math
import secrets

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.core.masking import mask_mobile
from sunshine.core.validators import validate_mobile
from sunshine.messaging import rules, services
from sunshine.messaging.models import VerificationCode

PROGRAMME = "verification"
WRONG = "验证码错误或已过期，请重新获取。"
MOBILE_TOO_OFTEN = "这个手机号码获取验证码过于频繁，请{minutes}分钟后再试。"
ADDRESS_TOO_OFTEN = "获取验证码过于频繁，请{minutes}分钟后再试。"
WINDOW = dt.timedelta(hours=1)


def _hash(mobile: str, purpose: str, code: str) -> str:
    return salted_hmac(
        "sunshine.messaging.verification", f"{purpose}|{mobile}|{code}", algorithm="sha256"
    ).hexdigest()


def _mobile(mobile: str) -> str:
    try:
        return validate_mobile(mobile)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="mobile") from None


def _wait(rows, now: dt.datetime) -> int:
    """Minutes until the oldest of the window's codes leaves it."""
    oldest = min(r for r in rows)
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds() / 60))


@transaction.atomic
def code_send(
    *, mobile: str, purpose: str, what: str, ip: str = "", now: dt.datetime | None = None
) -> VerificationCode:
    """Send a new code to `mobile` for `purpose` (e.g. "subscribe:320324001"); `what` says in
    the SMS what it is for (e.g. "订阅本镇公示栏短信")."""
    now = now or timezone.now()
    mobile, purpose = _mobile(mobile), purpose[:80]
    recent = VerificationCode.objects.filter(created_at__gt=now - WINDOW)
    by_mobile = list(recent.filter(mobile=mobile).values_list("created_at", flat=True))
    if len(by_mobile) >= settings.SUNSHINE_SMS_CODES_PER_MOBILE_PER_HOUR:
        raise ServiceError(MOBILE_TOO_OFTEN.format(minutes=_wait(by_mobile, now)), field="mobile")
    if ip:
        by_ip = list(recent.filter(ip=ip).values_list("created_at", flat=True))
        if len(by_ip) >= settings.SUNSHINE_SMS_CODES_PER_ADDRESS_PER_HOUR:
            raise ServiceError(ADDRESS_TOO_OFTEN.format(minutes=_wait(by_ip, now)))
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = settings.SUNSHINE_SMS_CODE_MINUTES
    row = VerificationCode(
        mobile=mobile,
        purpose=purpose,
        code_hash=_hash(mobile, purpose, code),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=minutes),
        ip=ip[:45],
    )
    row.full_clean()
    row.save()
    services.message_enqueue(
        programme=PROGRAMME,
        mobile=mobile,
        body=f"验证码{code}，用于{what}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
        category=rules.INSTANT,
        source=f"verification:{row.pk}",
        now=now,
    )
    audit.record(actor=None, action="sms_code.send", obj=row, object_repr=f"{what} 短信验证码")
    return row


def code_check(*, mobile: str, purpose: str, code: str, now: dt.datetime | None = None) -> None:
    """Accept the newest code sent to `mobile` for `purpose`, once; else a ServiceError on
    the "code" field. Call it outside a transaction (views do): a wrong try is then counted
    even though the caller goes on to fail."""
    now = now or timezone.now()
    mobile, purpose = _mobile(mobile), purpose[:80]
    code = (code or "").strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise ServiceError(WRONG, field="code")
    if not _take(mobile, purpose, code, now):
        raise ServiceError(WRONG, field="code")


def _take(mobile: str, purpose: str, code: str, now: dt.datetime) -> bool:
    with transaction.atomic():
        row = (
            VerificationCode.objects.select_for_update()
            .filter(mobile=mobile, purpose=purpose)
            .order_by("-created_at", "-pk")
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at <= now:
            return False
        if row.tries >= settings.SUNSHINE_SMS_CODE_TRIES:
            return False
        row.tries += 1
        ok = constant_time_compare(row.code_hash, _hash(mobile, purpose, code))
        if ok:
            row.used_at = now
        row.save(update_fields=["tries", "used_at"])
        return ok


# The two steps of a form that acts for a mobile (no JavaScript): "send" asks for a code,
# "confirm" brings it back with the same fields.
SEND, CONFIRM = "send", "confirm"
CODE_SENT = "验证码已发到{mobile}，{minutes}分钟内有效。请输入短信里的6位数字后确认。"
CODE_REQUIRED = "请输入短信验证码（6位数字）。"


def step(request) -> str:
    return CONFIRM if request.POST.get("step") == CONFIRM else SEND


def confirming(request, note: str | None) -> bool:
    """Whether the page shows the code step: a code was just sent (`note`), or the visitor is
    on that step (confirming, asking again, or a new picture: the code field came with it)."""
    return bool(note) or step(request) == CONFIRM or "code" in request.POST


def code_sent_note(mobile: str) -> str:
    return CODE_SENT.format(mobile=mask_mobile(mobile), minutes=settings.SUNSHINE_SMS_CODE_MINUTES)


class CodeForm(forms.Form):
    """Base of a form of two steps: its own fields, then the same fields with the SMS code.
    The `code` field is required when the visitor confirms (`step=confirm` in the POST)."""

    code = forms.CharField(
        label="短信验证码",
        required=False,
        max_length=6,
        error_messages={"max_length": "验证码是6位数字。"},
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg",
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": "6",
            }
        ),
    )

    def clean_code(self):
        code = (self.cleaned_data.get("code") or "").strip()
        if self.data.get("step") == CONFIRM and not code:
            raise ValidationError(CODE_REQUIRED)
        return code
