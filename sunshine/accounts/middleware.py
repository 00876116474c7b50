"""A session that skipped the second factor is no session.

Log-in through the staff login page signs a member of staff in only after their code
(backoffice.login_views). Any other way to a password-only session — Django's admin login, an
old session, `client.login` — is treated as anonymous here wherever two-factor log-in is
required of the user's role: every staff page, the admin and the staff API then ask for the
log-in again. Runs after django-otp's OTPMiddleware, which knows whether the session was
verified.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from sunshine.accounts import roles


def _verified_or_anonymous(user):
    if (
        settings.SUNSHINE_REQUIRE_2FA
        and user.is_authenticated
        and roles.needs_two_factor(user.role, is_superuser=user.is_superuser)
        and not user.is_verified()
    ):
        return AnonymousUser()
    return user


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.user = SimpleLazyObject(lambda: _verified_or_anonymous(user))
        return self.get_response(request)
