"""Rows per second of the resident import, against the bare database and the bare reader.

(a) import_csv_postgres: generated resident rows from CSV into PostgreSQL through
    sunshine.people.importing.import_residents, against a raw `COPY … FROM STDIN (FORMAT csv)`
    of the same file bytes into a bare table of the same columns (no indexes, no checks).
    Goal: ratio >= 1/3, and the import's peak memory under 500 MB.
(b) import_xlsx: the same kind of rows from .xlsx, imported into PostgreSQL, against a bare
    openpyxl read-only iteration of the same file. Goal: ratio >= 1/2.

A fresh scratch database (sunshine_bench_<pid> on BENCH_PG, default
postgres://postgres@127.0.0.1:5432) is migrated and given the demo county
(`build-demo --seed 1`); the rows come from the demo generator (people.demo.person_rows).
Each platform import runs in its own child process (bench/_import_child.py) on empty
resident tables; only the import_residents call is timed and the child's peak RSS
(ru_maxrss) is reported. Baseline runs alternate with platform runs; figures are medians.
For CSV each round also times a diagnostic, the database's share: the households and
residents the platform just wrote, dumped and COPYed back into the platform's own tables (all
indexes and deferred foreign-key checks, no Python), reported as "db_table_copy" with
"ratio_vs_table_copy". The database and temporary files are removed at the end. Each
benchmark prints one JSON line on stdout (nothing else goes there); progress goes to stderr.

    .venv/bin/python bench/import.py --quick       # 100k CSV + 20k xlsx rows, 1 round
    .venv/bin/python bench/import.py               # 1M CSV + 100k xlsx rows, 3 rounds
    .venv/bin/python bench/import.py --only csv --profile /tmp/prof   # + one cProfile run
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
CHILD = ROOT / "bench" / "_import_child.py"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BARE_TABLE = (
    "CREATE TABLE bare_resident (name text, sex text, birth_date date, id_number text, "
    "mobile text, place_code text, household_number text, residence_code text, "
    "hukou_type text, status text)"
)
BARE_COPY = "COPY bare_resident FROM STDIN WITH (FORMAT csv, HEADER true)"
RESET_PLATFORM = "TRUNCATE people_resident, people_household RESTART IDENTITY CASCADE"
CHILD_TIMEOUT = 3600  # seconds; a 1M-row import takes a few minutes
# What import_residents writes (sunshine.people.importing.RESIDENT_COLUMNS, HOUSEHOLD_COLUMNS).
TABLE_COPY = (
    (
        "people_household",
        ("id", "county_code", "number", "place_id", "place_path", "address", "created_at"),
    ),
    (
        "people_resident",
        (
            "name",
            "sex",
            "birth_date",
            "id_number",
            "mobile",
            "place_id",
            "place_path",
            "household_id",
            "residence_id",
            "hukou_type",
            "status",
            "created_at",
            "updated_at",
        ),
    ),
)
GOALS = {"csv": 1 / 3, "xlsx": 1 / 2}
RSS_GOAL_MB = 500


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def admin_sql(statement: sql.Composable) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def db_exec(dsn: str, *statements: str) -> None:
    """Autocommit statements on the scratch database (TRUNCATE, CHECKPOINT …)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for s in statements:
            conn.execute(s)


def db_count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()[0]


def child_env(tmp: Path, dsn: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("REDIS_URL", "SUNSHINE_LOG_LEVEL"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=dsn,
        SUNSHINE_VAR_DIR=str(tmp / "var"),
        SUNSHINE_DEBUG="0",
        SECRET_KEY="bench-only-not-secret",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_child(env: dict, args: list[str], what: str) -> dict:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(
            f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
        )
    return json.loads(lines[-1])


def build_db(env: dict) -> None:
    manage = str(ROOT / "manage.py")
    started = time.monotonic()
    for cmd in (["migrate", "--noinput", "-v0"], ["build-demo", "--seed", "1"]):
        done = subprocess.run(
            [sys.executable, manage, *cmd],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    log(f"data: migrated and built the demo county in {time.monotonic() - started:.1f} s")


# ---- measurements ---------------------------------------------------------------------------


def platform_import(env: dict, dsn: str, path: Path, rows: int, profile: str | None = None) -> dict:
    """One fresh import of `rows` new residents into empty tables, in a child process."""
    db_exec(dsn, RESET_PLATFORM, "CHECKPOINT")
    args = [str(CHILD), "import", str(path), "--error-dir", env["SUNSHINE_VAR_DIR"]]
    if profile:
        args += ["--profile", profile]
    out = run_child(env, args, "platform import")
    if out.get("created") != rows or out.get("error_rows"):
        raise SystemExit(f"platform import did not create {rows} residents: {out}")
    out["rows_per_s"] = rows / out["seconds"]
    out["peak_rss_mb"] = out["peak_rss_kb"] / 1024
    return out


def copy_baseline(dsn: str, path: Path, rows: int) -> float:
    """Raw COPY of the same file bytes into the bare table, end to end (connect … commit)."""
    db_exec(dsn, "TRUNCATE bare_resident", "CHECKPOINT")
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur, cur.copy(BARE_COPY) as copy, open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.commit()
    seconds = time.perf_counter() - started
    if (n := db_count(dsn, "bare_resident")) != rows:
        raise SystemExit(f"COPY loaded {n} rows, expected {rows}")
    return rows / seconds


def table_copy(dsn: str, tmp: Path, rows: int) -> float:
    """Diagnostic, the database's share: the rows the platform import just wrote (households and
    residents) are dumped, the tables emptied, and the dump COPYed back into the platform's own
    tables (all their indexes and deferred foreign-key checks), end to end (connect … commit)."""
    dumps = []
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for table, columns in TABLE_COPY:
            path = tmp / f"{table}.copy"
            stmt = f"COPY {table} ({', '.join(columns)}) TO STDOUT"
            with cur.copy(stmt) as copy, open(path, "wb") as fh:
                for data in copy:
                    fh.write(data)
            dumps.append((table, columns, path))
    db_exec(dsn, RESET_PLATFORM, "CHECKPOINT")
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            for table, columns, path in dumps:
                stmt = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                with cur.copy(stmt) as copy, open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
        conn.commit()
    seconds = time.perf_counter() - started
    for _table, _columns, path in dumps:
        path.unlink()
    if (n := db_count(dsn, "people_resident")) != rows:
        raise SystemExit(f"table COPY loaded {n} residents, expected {rows}")
    return rows / seconds


def openpyxl_baseline(path: Path, rows: int) -> float:
    from openpyxl import load_workbook

    started = time.perf_counter()
    wb = load_workbook(path, read_only=True)
    n = 0
    for _row in wb.active.iter_rows(values_only=True):
        n += 1
    wb.close()
    seconds = time.perf_counter() - started
    if n != rows + 1:  # + the header
        raise SystemExit(f"openpyxl read {n} rows, expected {rows + 1}")
    return rows / seconds


def bench(kind: str, env: dict, dsn: str, path: Path, rows: int, args) -> dict:
    platform, baseline, db_share = [], [], []
    for i in range(args.rounds):
        order = ("platform", "baseline") if i % 2 == 0 else ("baseline", "platform")
        for who in order:
            if who == "platform":
                r = platform_import(env, dsn, path, rows)
                platform.append(r)
                log(
                    f"{kind} round {i + 1}/{args.rounds} platform {r['rows_per_s']:10,.0f} rows/s"
                    f"  ({r['seconds']:.2f} s, {r['households']} households,"
                    f" peak RSS {r['peak_rss_mb']:.0f} MB)"
                )
                if kind == "csv":
                    rps = table_copy(dsn, path.parent, rows)
                    db_share.append(rps)
                    log(
                        f"{kind} round {i + 1}/{args.rounds} diagnostic: COPY of the same"
                        f" residents into people_resident {rps:10,.0f} rows/s"
                        f" ({rows / rps:.2f} s)"
                    )
            else:
                if kind == "csv":
                    rps = copy_baseline(dsn, path, rows)
                else:
                    rps = openpyxl_baseline(path, rows)
                baseline.append(rps)
                log(
                    f"{kind} round {i + 1}/{args.rounds} baseline {rps:10,.0f} rows/s"
                    f"  ({rows / rps:.2f} s, {'COPY' if kind == 'csv' else 'openpyxl'})"
                )
    if args.profile:
        out = Path(args.profile) / f"import_{kind}.prof"
        out.parent.mkdir(parents=True, exist_ok=True)
        r = platform_import(env, dsn, path, rows, profile=str(out))
        log(f"{kind} profiled run (not counted): {r['rows_per_s']:,.0f} rows/s → {out}")
        import pstats

        pstats.Stats(str(out), stream=sys.stderr).sort_stats("tottime").print_stats(25)

    value = statistics.median(r["rows_per_s"] for r in platform)
    base = statistics.median(baseline)
    ratio = value / base
    peak = max(r["peak_rss_mb"] for r in platform)
    goal = GOALS[kind]
    return {
        "bench": "import_csv_postgres" if kind == "csv" else "import_xlsx",
        "value": round(value),
        "unit": "rows/s",
        "baseline": round(base),
        "ratio": round(ratio, 3),
        "peak_rss_mb": round(peak),
        "rows": rows,
        "rounds": args.rounds,
        "database": "postgresql",
        "baseline_kind": "COPY FROM STDIN csv, bare table"
        if kind == "csv"
        else "openpyxl read_only iter_rows",
        "file_mb": round(path.stat().st_size / 2**20, 1),
        **(
            {
                # Diagnostic, the database's share: COPY of the platform's own output rows
                # into people_resident (rows/s), and the platform against that.
                "db_table_copy": round(statistics.median(db_share)),
                "ratio_vs_table_copy": round(value / statistics.median(db_share), 3),
            }
            if db_share
            else {}
        ),
        "goal_ratio": round(goal, 3),
        "goal_met": ratio >= goal and (kind != "csv" or peak < RSS_GOAL_MB),
    }


# ---- main -----------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="100k CSV + 20k xlsx rows, one round")
    p.add_argument("--only", choices=["csv", "xlsx"], help="run one benchmark only")
    p.add_argument("--csv-rows", type=int, help="CSV rows (1,000,000; 100,000 with --quick)")
    p.add_argument("--xlsx-rows", type=int, help="xlsx rows (100,000; 20,000 with --quick)")
    p.add_argument("--rounds", type=int, help="rounds of each (3; 1 with --quick)")
    p.add_argument("--profile", metavar="DIR", help="one extra cProfile'd import, not counted")
    args = p.parse_args(argv)
    args.csv_rows = args.csv_rows or (100_000 if args.quick else 1_000_000)
    args.xlsx_rows = args.xlsx_rows or (20_000 if args.quick else 100_000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    for name in ("csv_rows", "xlsx_rows", "rounds"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    # Bounded, whatever is asked: the generator's household numbers have 6 digits.
    args.csv_rows = min(args.csv_rows, 2_000_000)
    args.xlsx_rows = min(args.xlsx_rows, 1_000_000)
    args.rounds = min(args.rounds, 7)
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # so that `finally` drops the database
    kinds = [args.only] if args.only else ["csv", "xlsx"]
    dbname = f"sunshine_bench_{os.getpid()}"
    dsn = f"{PG}/{dbname}"
    log(
        f"import bench: {', '.join(kinds)}; csv {args.csv_rows:,} rows, xlsx {args.xlsx_rows:,}"
        f" rows; {args.rounds} round(s); database {dbname}"
    )
    load_avg = os.getloadavg()[0]
    if load_avg > 0.5:
        log(f"warning: load average {load_avg:.1f} before the run; figures will be noisy")
    created = False
    try:
        with tempfile.TemporaryDirectory(prefix="sunshine-bench-import-") as tmp_name:
            tmp = Path(tmp_name)
            (tmp / "var").mkdir()
            admin_sql(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            created = True
            env = child_env(tmp, dsn)
            build_db(env)
            db_exec(dsn, BARE_TABLE)

            csv_path, xlsx_path = tmp / "residents.csv", tmp / "residents.xlsx"
            gen = [str(CHILD), "gen", "--csv", str(csv_path), "--csv-rows"]
            gen.append(str(args.csv_rows if "csv" in kinds else 1))
            if "xlsx" in kinds:
                gen += ["--xlsx", str(xlsx_path), "--xlsx-rows", str(args.xlsx_rows)]
            g = run_child(env, gen, "row generator")
            log(f"data: generated files {g}")

            if "csv" in kinds:
                print(json.dumps(bench("csv", env, dsn, csv_path, args.csv_rows, args)), flush=True)
            if "xlsx" in kinds:
                print(
                    json.dumps(bench("xlsx", env, dsn, xlsx_path, args.xlsx_rows, args)), flush=True
                )
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if created:
            admin_sql(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
            log(f"dropped database {dbname}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
