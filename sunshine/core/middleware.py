import functools
import ipaddress

from django.conf import settings
from django.http import HttpResponse

from sunshine.core import context
from sunshine.core.text import size_text


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    """SUNSHINE_TRUSTED_PROXIES as networks; a malformed entry is left out (settings.py
    refuses it at start-up, so this only matters for values set later, in tests)."""
    nets = []
    for entry in proxies:
        try:
            nets.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            continue
    return tuple(nets)


def _address(value: str):
    """One address from a forwarded list: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
    `[2001:db8::1]:443`; None when it is none of these."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def _trusted(address, networks) -> bool:
    return address is not None and any(address in net for net in networks)


def client_ip(request) -> str:
    """The visitor's address, for the throttles, the log-in lockout (django-axes) and the audit
    log alike. The socket's address, unless it is one of SUNSHINE_TRUSTED_PROXIES: then
    X-Forwarded-For is read from the right (each proxy appends the address it received from),
    trusted hops are skipped, and the first address that is not a trusted proxy is the client.
    A malformed hop ends the walk at the last trusted proxy: nothing left of it can be believed.
    Nothing a visitor sends is believed unless a trusted proxy sent it on."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.SUNSHINE_TRUSTED_PROXIES))
    if not networks:
        return remote
    last = _address(remote)
    if not _trusted(last, networks):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            break
        last = address
        if not _trusted(address, networks):
            break
    return str(last)


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


class NoStoreMiddleware:
    """Staff pages and the staff API show full names, ID numbers and mobile numbers: no browser
    cache, back button or shared proxy may keep a copy (Cache-Control: no-store on every
    response under these prefixes, errors and redirects too)."""

    PREFIXES = STAFF_PREFIXES

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils.cache import add_never_cache_headers

        response = self.get_response(request)
        if request.path_info.startswith(self.PREFIXES):
            add_never_cache_headers(response)
        return response


def upload_limit(path: str) -> int:
    """The largest request body, in bytes, accepted at `path`: staff pages take spreadsheets and
    attachments (`SUNSHINE_MAX_UPLOAD_MB`); public pages only take short forms and SMS pushes
    (`SUNSHINE_MAX_PUBLIC_BODY_KB`)."""
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
