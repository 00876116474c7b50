"""Backup and restore: the database and the uploaded/generated files in one archive.

An archive is a .tar.gz holding
    database/sunshine.sqlite3   SQLite's online backup (consistent while the site runs), or
    database/postgres.dump      `pg_dump -Fc` taken in an exported snapshot
    media/…                     every file under MEDIA_ROOT (uploads, job results, posters)
    secrets/secret_key          only with --include-secrets
    manifest.json               last: created at, version, engine, migrations, row counts per
                                table (counted in the same snapshot as the dump), the audit
                                chain's head, and the size and sha256 of every other member.

Not in an archive: the secret key and any other `*secret*` file of SUNSHINE_VAR_DIR (unless
asked), huey's queue file (transient: jobs and messages live in the database, every task is
safe to run again), collected static files and test databases. See docs/audit.md.
"""

import hashlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connections

from sunshine.core.errors import ServiceError

FORMAT = "sunshine-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/sunshine.sqlite3"
POSTGRES_MEMBER = "database/postgres.dump"
PREFIXES = ("database/", "media/", "secrets/")
CHUNK = 1024 * 1024


# --- helpers ---------------------------------------------------------------------------------


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing exactly what went into the archive."""

    def __init__(self, fileobj):
        self._f = fileobj
        self.sha256 = hashlib.sha256()

    def readable(self):
        return True

    def read(self, size=-1):
        data = self._f.read(size)
        self.sha256.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str, members: dict) -> None:
    with path.open("rb") as f:
        info = tar.gettarinfo(fileobj=f, arcname=arcname)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _HashingReader(f)
        tar.addfile(info, reader)
    members[arcname] = {"size": info.size, "sha256": reader.sha256.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, data: bytes, arcname: str, mode=0o600) -> None:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode = len(data), mode
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {n: conn.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0] for n in names}


def _pg_counts(cur) -> dict[str, int]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    names = [r[0] for r in cur.fetchall()]
    counts = {}
    for n in names:
        cur.execute(f"SELECT count(*) FROM public.{_quote(n)}")
        counts[n] = cur.fetchone()[0]
    return counts


def _chain_head(query) -> dict:
    try:
        row = query("SELECT seq, hash FROM core_auditseal ORDER BY seq DESC LIMIT 1")
    except Exception:  # a database from before the chain
        return {}
    return {"links": row[0], "head_hash": row[1]} if row else {"links": 0, "head_hash": ""}


def _migrations(query_all) -> dict[str, str]:
    latest = {}
    for app, name in query_all("SELECT app, name FROM django_migrations ORDER BY app, name"):
        latest[app] = name
    return latest


def _version() -> str:
    try:
        return importlib.metadata.version("sunshine")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# --- PostgreSQL tools -----------------------------------------------------------------------


def _pg_settings(using: str) -> dict:
    return connections[using].settings_dict


def _pg_conninfo(db: dict, dbname: str | None = None) -> tuple[str, dict]:
    """A conninfo without the password (it goes in PGPASSWORD, out of the process list)."""
    from psycopg.conninfo import make_conninfo

    params = {
        "dbname": dbname or db["NAME"],
        "user": db.get("USER") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    params.update({k: v for k, v in (db.get("OPTIONS") or {}).items() if isinstance(v, str)})
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return make_conninfo(**{k: v for k, v in params.items() if v}), env


def _tool(name: str) -> tuple[str, int]:
    path = shutil.which(name)
    if not path:
        raise ServiceError(
            f"找不到 {name}：请安装与数据库服务器同一大版本的 PostgreSQL 客户端"
            "（Debian：apt-get install postgresql-client-15）。"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return path, int(match.group(1)) if match else 0


def _psycopg_connect(db: dict, dbname: str | None = None, **kwargs):
    import psycopg

    conninfo, _ = _pg_conninfo(db, dbname)
    return psycopg.connect(conninfo, password=db.get("PASSWORD") or None, **kwargs)


# --- backup -----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict


def default_output(now: datetime | None = None) -> Path:
    now = (now or datetime.now(UTC)).astimezone()
    return Path(settings.SUNSHINE_BACKUP_DIR) / f"sunshine-{now:%Y%m%d-%H%M%S}.tar.gz"


def backup_create(
    *, output: Path | None = None, include_secrets: bool = False, using: str = "default"
) -> BackupResult:
    """Write one archive of the database and MEDIA_ROOT; the file appears only when whole."""
    output = Path(output) if output else default_output()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    conn = connections[using]
    members: dict[str, dict] = {}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sunshine_version": _version(),
        "database": {"engine": conn.vendor},
        "includes_secrets": include_secrets,
        "excluded": [
            "密钥（SECRET_KEY、短信回调密钥等 var/ 下的 *secret* 文件）"
            if not include_secrets
            else "",
            "huey 任务队列（var/huey.sqlite3）：任务可重跑，数据以数据库为准",
            "静态文件（sunshine collectstatic 可重新生成）",
        ],
    }
    manifest["excluded"] = [x for x in manifest["excluded"] if x]
    with tempfile.TemporaryDirectory(prefix="sunshine-backup-", dir=output.parent) as tmp:
        if conn.vendor == "sqlite":
            db_file, db_member = Path(tmp) / "sunshine.sqlite3", SQLITE_MEMBER
            manifest["database"].update(_sqlite_dump(conn, db_file))
        elif conn.vendor == "postgresql":
            db_file, db_member = Path(tmp) / "postgres.dump", POSTGRES_MEMBER
            manifest["database"].update(_pg_dump(_pg_settings(using), db_file))
        else:
            raise ServiceError(f"不支持备份 {conn.vendor} 数据库。")
        manifest["database"]["member"] = db_member
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_file(tar, db_file, db_member, members)
                media = Path(settings.MEDIA_ROOT)
                if media.is_dir():
                    for path in sorted(media.rglob("*")):
                        if path.is_file() and not path.is_symlink():
                            rel = path.relative_to(media).as_posix()
                            _add_file(tar, path, f"media/{rel}", members)
                if include_secrets:
                    for name, data in _secrets().items():
                        arcname = f"secrets/{name}"
                        _add_bytes(tar, data, arcname)
                        members[arcname] = {
                            "size": len(data),
                            "sha256": hashlib.sha256(data).hexdigest(),
                        }
                manifest["members"] = members
                body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
                _add_bytes(tar, body.encode("utf-8"), MANIFEST, mode=0o644)
            os.replace(partial, output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(path=output, manifest=manifest)


def _secrets() -> dict[str, bytes]:
    found = {"secret_key": settings.SECRET_KEY.encode("utf-8")}
    var = Path(settings.VAR_DIR)
    for path in sorted(var.glob("*secret*")):
        if path.is_file() and path.name != "secret_key":
            found[path.name] = path.read_bytes()
    return found


def _sqlite_dump(conn, target: Path) -> dict:
    """SQLite's online backup API: one consistent copy while the site keeps writing."""
    # A connection of its own, outside any transaction of the caller's.
    source = sqlite3.connect(conn.settings_dict["NAME"], timeout=30)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
        source.close()
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        tables = _sqlite_counts(dest)
        chain = _chain_head(lambda sql: dest.execute(sql).fetchone())
        migrations = _migrations(lambda sql: dest.execute(sql).fetchall())
    finally:
        dest.close()
    return {
        "sqlite_version": sqlite3.sqlite_version,
        "tables": tables,
        "audit_chain": chain,
        "migrations": migrations,
    }


def _pg_dump(db: dict, target: Path) -> dict:
    """`pg_dump -Fc` in a snapshot exported by a transaction that also counts the rows."""
    pg_dump, dump_major = _tool("pg_dump")
    import psycopg

    with _psycopg_connect(db) as pg:
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pg.read_only = True
        with pg.cursor() as cur:
            cur.execute("SELECT current_setting('server_version_num')::int")
            server_num = cur.fetchone()[0]
            server_major = server_num // 10000
            if dump_major < server_major:
                raise ServiceError(
                    f"pg_dump 的版本（{dump_major}）低于数据库服务器（{server_major}），"
                    f"备不了：请安装 postgresql-client-{server_major}。"
                )
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            tables = _pg_counts(cur)

            def one(sql):
                cur.execute(sql)
                return cur.fetchone()

            def all_rows(sql):
                cur.execute(sql)
                return cur.fetchall()

            chain = _chain_head(one)
            migrations = _migrations(all_rows)
            conninfo, env = _pg_conninfo(db)
            done = subprocess.run(
                [pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(target), "-d", conninfo],
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise ServiceError(f"pg_dump 失败：{done.stderr.strip()}")
        pg.rollback()
    return {
        "server_version_num": server_num,
        "pg_dump_major": dump_major,
        "tables": tables,
        "audit_chain": chain,
        "migrations": migrations,
    }


# --- restore ----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict
    files: int = 0
    notes: list[str] = field(default_factory=list)


DAMAGED = "备份文件已损坏或不完整（{detail}），没有恢复任何内容。请换一份备份。"


def _member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or ".." in path.parts
        or not (name == MANIFEST or name.startswith(PREFIXES))
    ):
        raise ServiceError(DAMAGED.format(detail=f"不认识的成员 {name}"))
    return path


def _unpack(archive: Path, into: Path) -> dict[str, dict]:
    """Extract every member while hashing it; nothing outside `into` is written."""
    seen: dict[str, dict] = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for info in tar:
                if info.isdir():
                    continue
                if not info.isfile():
                    raise ServiceError(DAMAGED.format(detail=f"{info.name} 不是普通文件"))
                rel = _member_path(info.name)
                dest = into.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                src = tar.extractfile(info)
                with dest.open("wb") as out:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                seen[info.name] = {"size": info.size, "sha256": digest.hexdigest()}
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise ServiceError(DAMAGED.format(detail=type(exc).__name__)) from exc
    return seen


def _check_manifest(tmp: Path, seen: dict) -> dict:
    if MANIFEST not in seen:
        raise ServiceError(DAMAGED.format(detail="缺少 manifest.json"))
    try:
        manifest = json.loads((tmp / MANIFEST).read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError(DAMAGED.format(detail="manifest.json 无法读取")) from exc
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise ServiceError("这不是阳光平台的备份文件（或是更新版本做的备份），没有恢复任何内容。")
    listed = manifest.get("members") or {}
    for name, meta in listed.items():
        got = seen.get(name)
        if got is None:
            raise ServiceError(DAMAGED.format(detail=f"缺少 {name}"))
        if got["sha256"] != meta.get("sha256") or got["size"] != meta.get("size"):
            raise ServiceError(DAMAGED.format(detail=f"{name} 的校验值与清单不符"))
    extra = set(seen) - set(listed) - {MANIFEST}
    if extra:
        raise ServiceError(DAMAGED.format(detail=f"清单外的成员 {sorted(extra)[0]}"))
    return manifest


def _table_counts(using: str) -> dict[str, int]:
    conn = connections[using]
    with conn.cursor() as cur:
        names = conn.introspection.table_names(cur)
        counts = {}
        for name in names:
            cur.execute(f"SELECT count(*) FROM {conn.ops.quote_name(name)}")
            counts[name] = cur.fetchone()[0]
    return counts


def backup_restore(*, archive: Path, force: bool = False, using: str = "default") -> RestoreResult:
    """Check the archive, then restore the database and files; verify the row counts after.

    The site must be stopped while it runs. Without `force` the database must be empty."""
    archive = Path(archive)
    if not archive.is_file():
        raise ServiceError(f"找不到备份文件：{archive}")
    conn = connections[using]
    var = Path(settings.VAR_DIR)
    with tempfile.TemporaryDirectory(prefix="sunshine-restore-", dir=var) as tmp_name:
        tmp = Path(tmp_name)
        manifest = _check_manifest(tmp, _unpack(archive, tmp))
        db = manifest["database"]
        if db.get("engine") != conn.vendor:
            raise ServiceError(
                f"备份来自 {db.get('engine')} 数据库，当前配置的是 {conn.vendor}，"
                "没有恢复任何内容：请把 DATABASE_URL 指向同一类数据库。"
            )
        present = {name: n for name, n in _table_counts(using).items() if n}
        if present and not force:
            raise ServiceError(
                f"目标数据库已有数据（{len(present)} 张表有记录），没有恢复任何内容。"
                "确认要用备份覆盖它时，加 --force。"
            )
        result = RestoreResult(manifest=manifest)
        source = tmp.joinpath(*PurePosixPath(db["member"]).parts)
        if conn.vendor == "sqlite":
            _sqlite_restore(conn, source)
        else:
            _pg_restore(_pg_settings(using), source, db)
        result.files = _restore_files(tmp, force=force, notes=result.notes)
    after = _table_counts(using)
    wrong = [
        f"{name}：备份 {n} 行，恢复后 {after.get(name, '缺表')}"
        for name, n in db["tables"].items()
        if after.get(name) != n
    ]
    if wrong:
        raise ServiceError("恢复后的行数与备份清单不符：" + "；".join(wrong[:10]))
    return result


def _sqlite_restore(conn, source: Path) -> None:
    """Copy the archived database into the configured one page by page (the backup API
    again), which is safe with WAL files present, unlike replacing the file."""
    conn.close()
    conn.ensure_connection()
    src = sqlite3.connect(source)
    try:
        src.backup(conn.connection)
    finally:
        src.close()
    conn.close()


def _pg_restore(db: dict, dump: Path, meta: dict) -> None:
    """Empty the public schema and load the dump in ONE transaction: a failure anywhere
    leaves the database as it was."""
    pg_restore, restore_major = _tool("pg_restore")
    psql, _ = _tool("psql")
    if restore_major < meta.get("pg_dump_major", 0):
        raise ServiceError(
            f"pg_restore 的版本（{restore_major}）低于做备份的 pg_dump（{meta['pg_dump_major']}），"
            f"读不了这份备份：请安装 postgresql-client-{meta['pg_dump_major']}。"
        )
    connections_close = [c for c in connections.all(initialized_only=True)]
    for c in connections_close:
        c.close()
    conninfo, env = _pg_conninfo(db)
    loader = subprocess.Popen(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", conninfo],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    script = subprocess.Popen(
        [pg_restore, "--no-owner", "--no-privileges", "-f", "-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        loader.stdin.write(b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n")
        shutil.copyfileobj(script.stdout, loader.stdin, CHUNK)
        loader.stdin.close()
    except BrokenPipeError:
        pass
    script_err = script.stderr.read().decode(errors="replace")
    script.wait()
    load_err = loader.stderr.read().decode(errors="replace")
    loader.wait()
    if script.returncode != 0 or loader.returncode != 0:
        raise ServiceError(
            "恢复数据库失败，数据库保持原样：" + (load_err or script_err).strip()[:500]
        )


def _restore_files(tmp: Path, *, force: bool, notes: list[str]) -> int:
    count = 0
    media = Path(settings.MEDIA_ROOT)
    unpacked = tmp / "media"
    if unpacked.is_dir():
        for path in sorted(unpacked.rglob("*")):
            if path.is_file():
                dest = media / path.relative_to(unpacked)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
                count += 1
    secrets_dir = tmp / "secrets"
    if secrets_dir.is_dir():
        for path in sorted(secrets_dir.iterdir()):
            dest = Path(settings.VAR_DIR) / path.name
            if dest.exists() and not force:
                notes.append(f"{dest} 已存在，未用备份中的密钥覆盖（需要时加 --force）。")
                continue
            os.replace(path, dest)
            dest.chmod(0o600)
            notes.append(f"已恢复密钥文件 {dest}。")
    return count
