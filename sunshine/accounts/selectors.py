from dataclasses import dataclass

from axes import helpers as axes_helpers
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from sunshine.accounts.models import User
from sunshine.places import scoping


def user_list_for_actor(actor) -> QuerySet[User]:
    return scoping.scope(User.objects.select_related("place"), actor).order_by(
        "place__path", "username"
    )


def user_get_for_actor(actor, user_id: int) -> User:
    return scoping.get_for_actor(
        User.objects.select_related("place", "view_place"), actor, pk=user_id
    )


@dataclass(frozen=True)
class Lockout:
    attempt: AccessAttempt
    user: User

    @property
    def until(self):
        return self.attempt.attempt_time + axes_helpers.get_cool_off()


def lockout_list_for_actor(actor, *, now=None) -> list[Lockout]:
    """Log-ins locked now (django-axes: too many failures for one user name from one address)
    of staff in the actor's scope, newest first. Attempts at names that are nobody's lock no
    one out and are left to expire."""
    now = now or timezone.now()
    users = {u.username: u for u in user_list_for_actor(actor)}
    attempts = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=now - axes_helpers.get_cool_off(),
        username__in=list(users),
    ).order_by("-attempt_time")
    return [Lockout(attempt=a, user=users[a.username]) for a in attempts]


def lockout_get_for_actor(actor, attempt_id: int, *, now=None) -> Lockout:
    for lockout in lockout_list_for_actor(actor, now=now):
        if lockout.attempt.pk == attempt_id:
            return lockout
    raise Http404("没有找到这条锁定记录，或它已解除、已过期。")


@dataclass(frozen=True)
class TwoFactorStatus:
    required: bool
    enrolled: bool
    recovery_codes_left: int


def two_factor_status(user: User) -> TwoFactorStatus:
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from sunshine.accounts import roles

    return TwoFactorStatus(
        required=bool(settings.SUNSHINE_REQUIRE_2FA)
        and roles.needs_two_factor(user.role, is_superuser=user.is_superuser),
        enrolled=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        recovery_codes_left=StaticToken.objects.filter(
            device__user=user, device__confirmed=True
        ).count(),
    )
