from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

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
