"""The backends the platform runs on: the database it was pointed at, and huey on SQLite or
Redis. Locally a missing PostgreSQL or Redis skips; under CI (SUNSHINE_REQUIRE_*=1) it fails."""

import os
import socket

import pytest
from django.conf import settings
from django.db import connection


def _require(name: str, reason: str):
    if os.environ.get(f"SUNSHINE_REQUIRE_{name}") == "1":
        pytest.fail(f"{reason} (SUNSHINE_REQUIRE_{name}=1)")
    pytest.skip(reason)


def _redis_url() -> str:
    return settings.REDIS_URL or "redis://127.0.0.1:6379/15"


def _redis_up(url: str) -> bool:
    from urllib.parse import urlparse

    u = urlparse(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_it_was_asked_for():
    wanted = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    if os.environ.get("SUNSHINE_REQUIRE_POSTGRES") == "1":
        wanted = "postgresql"
    assert connection.vendor == wanted


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    opts = settings.DATABASES["default"]["OPTIONS"]
    assert opts["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in opts["init_command"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_server_answers():
    if connection.vendor != "postgresql":
        _require("POSTGRES", "PostgreSQL 未配置（DATABASE_URL 不是 postgres://）")
    with connection.cursor() as cur:
        cur.execute("select current_setting('server_version_num')::int")
        assert cur.fetchone()[0] >= 130000


def _roundtrip(huey):
    @huey.task()
    def add(a, b):
        return a + b

    result = add(2, 3)
    task = huey.dequeue()
    assert task is not None
    huey.execute(task)
    assert result.get() == 5


def test_huey_on_sqlite_storage_runs_a_task(tmp_path):
    from huey import SqliteHuey

    _roundtrip(SqliteHuey("sunshine-test", filename=str(tmp_path / "huey.sqlite3")))


@pytest.mark.redis
def test_huey_on_redis_storage_runs_a_task():
    url = _redis_url()
    if not _redis_up(url):
        _require("REDIS", f"Redis 不可用（{url}）")
    from huey import PriorityRedisHuey

    huey = PriorityRedisHuey(f"sunshine-test-{os.getpid()}", url=url)
    huey.flush()
    try:
        _roundtrip(huey)
    finally:
        huey.flush()


def test_settings_pick_huey_storage_from_redis_url():
    expected = "huey.PriorityRedisHuey" if settings.REDIS_URL else "huey.SqliteHuey"
    assert settings.HUEY["huey_class"] == expected
    if os.environ.get("SUNSHINE_REQUIRE_REDIS") == "1":
        assert settings.REDIS_URL, "CI 的第二轮应通过 REDIS_URL 使用 Redis"
