"""gunicorn's access log without the SMS callback secret. The provider pushes to
/sms/receipts/<token>/ and /sms/replies/<token>/, and an access log line names the path:
whoever reads the log could push forged replies. `sunshine run` logs with this class; in
production run gunicorn with ``--logger-class sunshine.messaging.accesslog.TokenMaskingLogger``."""

from gunicorn.glogging import Logger

MASK = "<token>"


def _token() -> str:
    from django.conf import settings

    return getattr(settings, "SUNSHINE_SMS_CALLBACK_TOKEN", "") if settings.configured else ""


class TokenMaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        token = _token()
        if token:
            for key, value in atoms.items():
                if isinstance(value, str) and token in value:
                    atoms[key] = value.replace(token, MASK)
        return atoms
