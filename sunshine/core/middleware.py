from django.http import HttpResponse

from sunshine.core import context
from sunshine.core.text import size_text


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.set_current(
            context.RequestInfo(
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
                path=request.path[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            context.reset(token)


class DatabaseBusyMiddleware:
    """SQLite allows one writer at a time: a request that still finds the database locked after
    the busy timeout (a long import holds it) gets a Chinese 'busy, try again' page, not a 500.
    Nothing was written: its transaction was rolled back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import OperationalError
        from django.shortcuts import render

        if isinstance(exception, OperationalError) and "locked" in str(exception):
            response = render(request, "busy.html", status=503)
            response["Retry-After"] = "30"
            return response
        return None


STAFF_PREFIXES = ("/staff/", "/api/staff/", "/admin/")


def upload_limit(path: str) -> int:
    """The largest request body, in bytes, accepted at `path`: staff pages take spreadsheets and
    attachments (`SUNSHINE_MAX_UPLOAD_MB`); public pages only take short forms and SMS pushes
    (`SUNSHINE_MAX_PUBLIC_BODY_KB`)."""
    from django.conf import settings

    if path.startswith(STAFF_PREFIXES):
        return settings.SUNSHINE_MAX_UPLOAD_MB * 1024 * 1024
    return settings.SUNSHINE_MAX_PUBLIC_BODY_KB * 1024


class UploadLimitMiddleware:
    """Refuses a request whose declared `Content-Length` is over the limit with a Chinese 413
    page, before anything reads the body: Django would otherwise stream every uploaded file of a
    multipart body to disk, for any POST, before a view could look at it. A body without a
    length is read by Django as empty, so the declared length is the whole story. Placed
    before the CSRF middleware, which reads the form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = upload_limit(request.path_info)
        if length > limit:
            from django.template.loader import render_to_string

            html = render_to_string(
                "413.html", {"limit": size_text(limit), "size": size_text(length)}, request=request
            )
            response = HttpResponse(html, status=413)
            response["Connection"] = "close"
            return response
        return self.get_response(request)
