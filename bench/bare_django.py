"""The portal benchmark's baseline: a bare Django WSGI app in one file.

One view, no database, no middleware, no installed apps. It returns the bytes of the file
named by BENCH_PAGE_FILE (bench/portal.py saves the real board page there, so both servers
send the same page), or a generated page of about the board page's size.

    gunicorn --chdir bench bare_django:application
"""

import os

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_I18N=False,
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def _page() -> bytes:
    name = os.environ.get("BENCH_PAGE_FILE", "")
    if name:
        with open(name, "rb") as f:
            return f.read()
    rows = "".join(f"<li><a href='/p/{i:012d}/'>第{i}组</a></li>\n" for i in range(120))
    return f"<!doctype html><html lang='zh'><body><ul>\n{rows}</ul></body></html>".encode()


PAGE = _page()


def page(request, code):
    return HttpResponse(PAGE, content_type="text/html; charset=utf-8")


urlpatterns = [path("p/<str:code>/", page)]

application = get_wsgi_application()
