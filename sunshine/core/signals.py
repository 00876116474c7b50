"""Log-in, log-out and refused log-ins go to the audit log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from sunshine.core import audit


def _path(user) -> str:
    place = getattr(user, "place", None)
    return place.path if place is not None else ""


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit.record(actor=user, action="auth.login", obj=user, place_path=_path(user))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action="auth.logout", obj=user, place_path=_path(user))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    # A wrong second-factor code (backoffice.login_views) counts as a failed log-in too.
    action = "auth.2fa_failed" if credentials.get("second_factor") else "auth.login_failed"
    audit.record(actor=None, action=action, object_repr=username, place_path="")
