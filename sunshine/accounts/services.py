from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sunshine.accounts import roles
from sunshine.accounts.models import User
from sunshine.core import audit, validators
from sunshine.core.errors import ServiceError
from sunshine.places import rules, scoping
from sunshine.places.models import Place

# The level a role's place must be at: a town clerk serves a town, and so on.
ROLE_PLACE_LEVELS = {
    roles.COUNTY_ADMIN: (rules.PROVINCE, rules.CITY, rules.COUNTY),
    roles.COUNTY_CLERK: (rules.COUNTY,),
    roles.TOWN_CLERK: (rules.TOWN,),
    roles.VILLAGE_CADRE: (rules.VILLAGE,),
    roles.CLINIC_DOCTOR: (rules.COUNTY, rules.TOWN, rules.UNIT),
    roles.CALL_OPERATOR: (rules.COUNTY,),
    roles.DISCIPLINE_INSPECTOR: (rules.COUNTY,),
    roles.OBSERVER: (rules.COUNTY, rules.TOWN),
}


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    place: Place,
    full_name: str = "",
    view_place: Place | None = None,
    mobile: str = "",
    title: str = "",
) -> User:
    if role not in roles.ROLE_LABELS:
        raise ServiceError(f"角色 {role} 不存在。", field="role")
    if place.level not in ROLE_PLACE_LEVELS[role]:
        allowed = "、".join(rules.LEVEL_LABELS[lv] for lv in ROLE_PLACE_LEVELS[role])
        raise ServiceError(
            f"{roles.ROLE_LABELS[role]}的管辖地方应为{allowed}，{place.name}是{place.level_label}。",
            field="place",
        )
    if view_place is not None and not place.path.startswith(view_place.path):
        raise ServiceError("可查看范围必须包含管辖地方。", field="view_place")
    if actor is not None and not scoping.path_in_scope(actor, place.path, write=True):
        raise ServiceError("只能在您管辖的地方之下开设账号。", field="place")
    if (
        actor is not None
        and view_place is not None
        and not scoping.path_in_scope(actor, view_place.path)
    ):
        raise ServiceError("可查看范围不能超出您自己的查看范围。", field="view_place")
    if User.objects.filter(username=username).exists():
        raise ServiceError(f"用户名 {username} 已被使用。", field="username")
    if mobile:
        try:
            mobile = validators.validate_mobile(mobile)
        except ValidationError as exc:
            raise ServiceError(exc.messages[0], field="mobile") from None
    user = User(
        username=username,
        role=role,
        place=place,
        view_place=view_place,
        full_name=full_name,
        mobile=mobile,
        title=title,
        is_staff=roles.has_capability(role, "admin.use"),
    )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError("密码不符合要求：" + "；".join(exc.messages), field="password") from None
    user.set_password(password)
    try:
        user.full_clean()
    except ValidationError as exc:
        raise ServiceError("；".join(exc.messages)) from None
    user.save()
    audit.record(
        actor=actor, action="user.create", obj=user, changes={"role": role, "place": place.code}
    )
    return user


@transaction.atomic
def user_deactivate(*, actor, user: User, reason: str) -> User:
    if actor is not None and not scoping.path_in_scope(
        actor, user.place.path if user.place else "", write=True
    ):
        raise ServiceError("只能停用您管辖范围内的账号。")
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(actor=actor, action="user.deactivate", obj=user, reason=reason)
    return user


# Two-factor log-in (django-otp). A member of staff has at most one authenticator app (a TOTP
# device) and one set of recovery codes (a static device); enrolling makes both.
RECOVERY_CODE_COUNT = 10


def _clean_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()[:32]


@transaction.atomic
def totp_enrol_start(*, actor: User) -> TOTPDevice:
    """The authenticator app a member of staff is about to add: an unconfirmed TOTP device,
    the same one until it is confirmed (so reloading the page shows the same QR code)."""
    if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise ServiceError("您已绑定验证器，如需更换请联系县级管理员重置。")
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=actor, name="验证器", confirmed=False)
        audit.record(
            actor=actor, action="auth.2fa_enrol_start", obj=actor, place_path=_path_of(actor)
        )
    return device


@transaction.atomic
def totp_enrol_confirm(*, actor: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the app with its first code; returns the new recovery codes (shown once)."""
    if device.user_id != actor.pk or device.confirmed:
        raise ServiceError("绑定已失效，请重新登录。")
    if not device.verify_token(_clean_code(code)):
        raise ServiceError("验证码不正确，请核对手机上验证器显示的 6 位数字后重新输入。")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=actor).delete()
    static = StaticDevice.objects.create(user=actor, name="恢复码", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    audit.record(
        actor=actor,
        action="auth.2fa_enrol",
        obj=actor,
        place_path=_path_of(actor),
        changes={"recovery_codes": len(codes)},
    )
    return codes


@transaction.atomic
def otp_verify(*, user: User, code: str):
    """The confirmed device that accepts `code` (a 6-digit app code, or a recovery code, which
    is used up), or None. The caller counts a None as a failed log-in."""
    code = _clean_code(code)
    if not code:
        return None
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        if device.verify_token(code):
            kind = "recovery" if isinstance(device, StaticDevice) else "totp"
            changes = {"device": kind}
            if kind == "recovery":
                changes["recovery_codes_left"] = device.token_set.count()
            audit.record(
                actor=user,
                action="auth.2fa_verify",
                obj=user,
                place_path=_path_of(user),
                changes=changes,
            )
            return device
    return None


@transaction.atomic
def two_factor_reset(*, actor, user: User, reason: str = "") -> int:
    """Remove a member of staff's authenticator and recovery codes (a lost phone): they enrol
    again at their next log-in. Returns the number of devices removed."""
    if actor is not None and not scoping.path_in_scope(
        actor, user.place.path if user.place else "", write=True
    ):
        raise ServiceError("只能重置您管辖范围内的账号。")
    removed = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        removed += 1
    audit.record(
        actor=actor,
        action="auth.2fa_reset",
        obj=user,
        changes={"devices": removed},
        reason=reason,
    )
    return removed


def _path_of(user) -> str:
    return user.place.path if getattr(user, "place", None) is not None else ""


@transaction.atomic
def lockout_release(*, actor, attempt, user: User) -> None:
    """Unlock one locked log-in (one user name from one address) before its cool-off ends."""
    from axes.handlers.proxy import AxesProxyHandler

    if actor is not None and not scoping.path_in_scope(
        actor, user.place.path if user.place else "", write=True
    ):
        raise ServiceError("只能解锁您管辖范围内的账号。")
    AxesProxyHandler.reset_attempts(ip_address=attempt.ip_address, username=attempt.username)
    audit.record(
        actor=actor,
        action="auth.unlock",
        obj=user,
        changes={"ip": attempt.ip_address, "failures": attempt.failures_since_start},
    )
