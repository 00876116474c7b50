import re

from django.core.cache import cache
from django.http import HttpResponse

BOARD_PATH = re.compile(r"^/p/([0-9UR]{6,20})/$")


class BoardCacheMiddleware:
    """Serve a cached board page before sessions, CSRF, auth and the rest run: boards are the
    portal's busiest pages and the same for every visitor. A miss falls through to the view,
    which renders and caches the page. Place it right after WhiteNoise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            match = BOARD_PATH.match(request.path_info)
            if match:
                from sunshine.portal.views import board_cache_key

                html = cache.get(board_cache_key(request, match.group(1))[0])
                if html is not None:
                    response = HttpResponse(html)
                    response["X-Frame-Options"] = "DENY"  # what XFrameOptionsMiddleware would add
                    response["Vary"] = "Cookie"
                    return response
        return self.get_response(request)
