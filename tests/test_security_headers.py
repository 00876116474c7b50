"""Content-Security-Policy on every page (issue 15 §4): public pages (boards too, answered from
the cache before the middleware stack), staff pages, the admin and the API docs; scripts only
from our static files, never inline, no framing. The browser side (htmx and ECharts under the
policy) is tests/browser/test_csp.py."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_strict(response):
    csp = policy(response)
    assert csp["script-src"] == ["'self'"], csp
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["style-src-elem"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


class TestEveryPageHasThePolicy:
    @pytest.mark.parametrize(
        "path", ["/", "/contacts/", "/precheck/", "/spokesperson/", "/staff/login/"]
    )
    def test_public_pages(self, client, world, path):
        response = client.get(path)
        assert response.status_code == 200
        assert_strict(response)

    def test_a_board_answered_from_the_cache_too(self, client, world):
        first = client.get(f"/p/{world.village.code}/")
        again = client.get(f"/p/{world.village.code}/")
        assert first.status_code == again.status_code == 200
        assert_strict(first)
        assert_strict(again)

    def test_not_found_pages(self, client, world):
        response = client.get("/no-such-page/")
        assert response.status_code == 404
        assert_strict(response)

    @pytest.mark.parametrize(
        "path", ["/staff/", "/staff/places/", "/staff/sms/ledger/", "/staff/precheck/stats/"]
    )
    def test_staff_pages(self, client, world, path):
        client.force_login(world.users["county_clerk"])
        response = client.get(path)
        assert response.status_code == 200
        assert_strict(response)

    @pytest.mark.parametrize("path", ["/admin/", "/admin/places/place/"])
    def test_admin_pages(self, client, world, path):
        client.force_login(world.users["county_admin"])
        response = client.get(path)
        assert response.status_code == 200
        assert_strict(response)

    def test_the_api(self, client, world):
        assert_strict(client.get("/api/open/items"))

    def test_the_api_docs_relax_styles_only(self, client, world):
        response = client.get("/api/docs")
        assert response.status_code == 200
        csp = policy(response)
        assert csp["script-src"] == ["'self'"]
        assert "'unsafe-inline'" in csp["style-src-elem"]
        assert csp["frame-ancestors"] == ["'none'"]
        # Swagger UI comes from ninja's static files, not a CDN.
        assert "cdn" not in response.content.decode().lower()


TEMPLATE_DIRS = [
    Path(settings.BASE_DIR) / "templates",
    *Path(settings.BASE_DIR).glob("sunshine/*/templates"),
]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S)


def _templates():
    for d in TEMPLATE_DIRS:
        yield from sorted(d.rglob("*.html"))


def test_the_templates_are_found():
    assert len(list(_templates())) > 50


@pytest.mark.parametrize("path", list(_templates()), ids=lambda p: p.name)
def test_no_template_has_inline_script_or_event_handlers(path):
    """Under the policy an inline script or onclick= is refused by the browser: it must not
    exist. Data for a script goes in data-* attributes or json_script."""
    text = path.read_text()
    for attrs in SCRIPT_TAG.findall(text):
        assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs)
    assert not EVENT_HANDLER.search(text), path
    assert "javascript:" not in text.lower(), path
