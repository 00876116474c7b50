import os

import pytest

os.environ.setdefault("SUNSHINE_HUEY_IMMEDIATE", "1")


@pytest.fixture(autouse=True)
def _media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()


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
