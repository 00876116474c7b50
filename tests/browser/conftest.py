"""Browser tests: Playwright for Python (sync API) driving Debian chromium (STYLE 'Stack').

Never `playwright install`: the browser is the system's /usr/bin/chromium. When it is
missing the tests skip, unless SUNSHINE_REQUIRE_BROWSER=1 (CI), where they fail.
"""

import importlib
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures
# (build_world) would otherwise be refused as "called from an async context".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
try:
    import playwright.sync_api  # noqa: F401
except ImportError:  # the dev extras are not installed
    if os.environ.get("SUNSHINE_REQUIRE_BROWSER") != "1":
        collect_ignore_glob = ["test_*.py"]

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def _unavailable(reason: str):
    if os.environ.get("SUNSHINE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SUNSHINE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _empty_audit_log_on_sqlite():
    """Let the end-of-test flush pass the audit log's append-only triggers.

    pytest-django empties a transactional database with DELETE on SQLite, which the
    triggers of core/0002 refuse; PostgreSQL's flush uses TRUNCATE, which row triggers
    let through. Empty the table with the triggers lifted, then put them back.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    triggers = importlib.import_module("sunshine.core.migrations.0002_audit_append_only")
    with connection.cursor() as cursor:
        for sql in triggers.SQLITE_REVERSE:
            cursor.execute(sql)
        cursor.execute("DELETE FROM core_auditentry")
        for sql in triggers.SQLITE:
            cursor.execute(sql)


@pytest.fixture
def live_db(transactional_db):
    """Committed data (the live server's thread must see it), emptied after the test."""
    yield
    _empty_audit_log_on_sqlite()


@pytest.fixture
def live_world(live_db):
    """The shared test world, committed so the live server's thread can read it."""
    from sunshine.core.testing import build_world

    return build_world()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in fresh browser contexts (cookies and all) pointed at the live server."""
    contexts = []

    def make(*, phone: bool = False, javascript: bool = True):
        options = dict(PHONE if phone else DESKTOP)
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            java_script_enabled=javascript,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
