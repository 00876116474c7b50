from sunshine.core import context


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


class NoStoreMiddleware:
    """Staff pages and the staff API show full names, ID numbers and mobile numbers: no browser
    cache, back button or shared proxy may keep a copy (Cache-Control: no-store on every
    response under these prefixes, errors and redirects too)."""

    PREFIXES = ("/staff/", "/api/staff/", "/admin/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils.cache import add_never_cache_headers

        response = self.get_response(request)
        if request.path_info.startswith(self.PREFIXES):
            add_never_cache_headers(response)
        return response
