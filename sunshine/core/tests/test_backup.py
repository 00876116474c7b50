"""sunshine backup / sunshine restore, run as an operator would (separate processes): one
archive with a manifest, checked before anything is restored, restored into a fresh database
and compared row for row; the audit chain still verifies. SQLite always; PostgreSQL when it
answers (scratch databases sunshine_audit_restore*, created and dropped here)."""

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[3]
PG = os.environ.get("SUNSHINE_TEST_PG", "postgres://postgres@127.0.0.1:5432")
# Scratch databases named after the one under test (sunshine_audit → sunshine_audit_restore).
_UNDER_TEST = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/")
SCRATCH = f"{_UNDER_TEST}_restore" if _UNDER_TEST else f"sunshine_restore_{os.getpid()}"

SETUP = """
from pathlib import Path
from django.conf import settings
from sunshine.accounts.models import User
from sunshine.core import audit, auditchain
clerk = User.objects.create_user(username="clerk", password="backup-test-2026")
for i in range(3):
    audit.record(actor=clerk, action=f"test.backup{i}", changes={"n": i, "名": "值"})
auditchain.seal_pending()
audit.record(actor=None, action="test.unsealed")
out = Path(settings.MEDIA_ROOT) / "jobs" / "out"
out.mkdir(parents=True)
(out / "结果.xlsx").write_bytes(b"PK\\x03\\x04 not really a workbook")
"""

SAMPLES = [
    "SELECT id, action, actor_label, object_repr, changes FROM core_auditentry ORDER BY id",
    "SELECT seq, entry_id, prev_hash, hash FROM core_auditseal ORDER BY seq",
    "SELECT id, username, password FROM accounts_user ORDER BY id",
    "SELECT app, name FROM django_migrations ORDER BY id",
]


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ok(done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done


class Site:
    """One installation: a var directory and a database."""

    def __init__(self, var: Path, url: str):
        self.var, self.url = var, url
        var.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTEST_CURRENT_TEST")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=url,
            SUNSHINE_VAR_DIR=str(var),
            SECRET_KEY="backup-test-secret-key-value",
            PYTHONDONTWRITEBYTECODE="1",
        )
        self.env = env

    def manage(self, *args):
        return _manage(self.env, *args)

    def rows(self, sql):
        if self.url.startswith("sqlite"):
            path = self.var / "db.sqlite3"
            if not path.exists():
                return []
            with sqlite3.connect(path) as conn:
                return [tuple(r) for r in conn.execute(sql)]
        import psycopg

        with psycopg.connect(self.url) as conn:
            return [
                tuple(json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in r)
                for r in conn.execute(sql)
            ]

    def tables(self):
        if self.url.startswith("sqlite"):
            return self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        return self.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")


def _pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(statement)


def _pg_database(name: str):
    try:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if os.environ.get("SUNSHINE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL 无法连接（{PG}）：{exc} (SUNSHINE_REQUIRE_POSTGRES=1)")
        pytest.skip(f"PostgreSQL 无法连接（{PG}）：{exc}")
    return f"{PG}/{name}"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def engine(request):
    return request.param


@pytest.fixture(scope="module")
def source(engine, tmp_path_factory):
    """A migrated installation with residents of the log, a sealed chain and a job file."""
    var = tmp_path_factory.mktemp(f"source-{engine}")
    if engine == "sqlite":
        site = Site(var, f"sqlite:///{var}/db.sqlite3")
    else:
        site = Site(var, _pg_database(f"{SCRATCH}_src"))
    _ok(site.manage("migrate", "--noinput", "-v", "0"))
    _ok(site.manage("shell", "-c", SETUP))
    archive = var / "backup.tar.gz"
    done = _ok(site.manage("backup", "--output", str(archive)))
    assert "已备份到" in done.stdout and "不含密钥" in done.stdout
    site.archive = archive
    yield site
    if engine == "postgresql":
        _pg_admin(f'DROP DATABASE IF EXISTS "{SCRATCH}_src" WITH (FORCE)')


@pytest.fixture
def target(engine, tmp_path):
    if engine == "sqlite":
        yield Site(tmp_path / "target", f"sqlite:///{tmp_path}/target/db.sqlite3")
    else:
        yield Site(tmp_path / "target", _pg_database(SCRATCH))
        _pg_admin(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')


def _rewrite(archive: Path, out: Path, change) -> None:
    """Copy an archive member by member, letting `change(name, data)` alter a member."""
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for info in src:
            data = change(info.name, src.extractfile(info).read())
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


class TestBackup:
    def test_one_archive_with_database_files_and_a_manifest_of_counts_and_hashes(
        self, source, engine
    ):
        members = _members(source.archive)
        names = list(members)
        assert names[-1] == "manifest.json"
        manifest = json.loads(members["manifest.json"])
        assert set(manifest["members"]) == set(names) - {"manifest.json"}
        for name, meta in manifest["members"].items():
            assert hashlib.sha256(members[name]).hexdigest() == meta["sha256"], name
        assert "media/jobs/out/结果.xlsx" in names
        db = manifest["database"]
        assert db["engine"] == engine
        assert db["tables"]["core_auditentry"] == 4 and db["tables"]["accounts_user"] == 1
        assert db["audit_chain"]["links"] == 3
        core_migrations = Path(__file__).resolve().parents[1] / "migrations"
        assert db["migrations"]["core"] == max(p.stem for p in core_migrations.glob("0*.py"))
        assert manifest["created_at"] and manifest["sunshine_version"]
        assert oct(source.archive.stat().st_mode & 0o777) == "0o600"

    def test_secrets_stay_out_unless_asked(self, source, tmp_path):
        assert b"backup-test-secret-key-value" not in b"".join(_members(source.archive).values())
        with_secrets = tmp_path / "with-secrets.tar.gz"
        _ok(source.manage("backup", "--output", str(with_secrets), "--include-secrets"))
        members = _members(with_secrets)
        assert members["secrets/secret_key"] == b"backup-test-secret-key-value"


class TestRestore:
    def test_into_a_fresh_database_the_rows_files_and_chain_come_back(self, source, target):
        done = _ok(target.manage("restore", str(source.archive)))
        assert "行数与清单一致" in done.stdout and "哈希链完好：共 3 环" in done.stdout
        for sql in SAMPLES:
            assert target.rows(sql) == source.rows(sql), sql
        assert (target.var / "media/jobs/out/结果.xlsx").read_bytes().startswith(b"PK")
        # The restored log keeps chaining: the unsealed entry is sealed, the chain verifies.
        verify = _ok(target.manage("audit-verify"))
        assert "先封存了 1 条" in verify.stdout and "共 4 环" in verify.stdout

    def test_a_changed_member_is_refused_before_anything_is_restored(
        self, source, target, tmp_path
    ):
        bad = tmp_path / "bad.tar.gz"
        _rewrite(
            source.archive,
            bad,
            lambda name, data: (
                data.replace(b"not really", b"NOT REALLY") if name.startswith("media/") else data
            ),
        )
        done = target.manage("restore", str(bad))
        assert done.returncode != 0
        assert "备份文件已损坏" in done.stderr and "校验值与清单不符" in done.stderr
        assert not (target.var / "media" / "jobs").exists()
        assert target.tables() == []

    def test_a_truncated_archive_is_refused(self, source, target, tmp_path):
        cut = tmp_path / "cut.tar.gz"
        cut.write_bytes(source.archive.read_bytes()[: source.archive.stat().st_size // 2])
        done = target.manage("restore", str(cut))
        assert done.returncode != 0 and "备份文件已损坏或不完整" in done.stderr
        assert "Traceback" not in done.stderr
        assert target.tables() == []

    def test_a_database_with_data_is_only_overwritten_with_force(self, source, target):
        _ok(target.manage("migrate", "--noinput", "-v", "0"))
        _ok(target.manage("shell", "-c", SETUP.replace('"clerk"', '"other"')))
        refused = target.manage("restore", str(source.archive))
        assert refused.returncode != 0 and "目标数据库已有数据" in refused.stderr
        _ok(target.manage("restore", str(source.archive), "--force"))
        for sql in SAMPLES:
            assert target.rows(sql) == source.rows(sql), sql
