import pytest


def pytest_configure(config):
    # Tasks run inline, on huey's in-memory storage, so tests need no consumer process.
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True


@pytest.fixture(autouse=True)
def _media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = True
    # Two-factor log-in is required in production (config.settings) and off here, so that the
    # suite can sign in with force_login; the tests of two-factor log-in turn it back on.
    settings.SUNSHINE_REQUIRE_2FA = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache
    from huey.contrib.djhuey import HUEY

    from sunshine.publishing.selectors import forget_generation

    cache.clear()
    HUEY.flush()
    forget_generation()


@pytest.fixture
def world(db):
    from sunshine.core.testing import build_world

    return build_world()


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    return [
        f"sunshine database: {engine} ({db.get('HOST') or db['NAME']})",
        f"sunshine redis: {settings.REDIS_URL or 'not used (huey on SQLite)'}",
    ]
