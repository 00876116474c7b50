"""Seconds to import the whole country's division table, the first time and again.

A synthetic table of the official shape (统计用区划代码, 名称, 城乡分类代码, 年份) with the
2022 table's size (31 provinces, ~333 cities, ~2,850 counties, ~38,600 towns, ~623,000
villages: 665,271 rows by default), the four cities without counties (东莞, 中山, 儋州, 嘉峪关)
included, is written as a UTF-8 CSV and imported into a fresh scratch database with
`sunshine.places.importing.import_division_table`, three times: the first import, the same
file again (nothing changes), and next year's file (every row's year changes, so every row is
updated). The floor is the same rows read from the same file and inserted with one
`executemany` into a bare table with the same unique indexes (code, path), in the same database.

    .venv/bin/python bench/division_import.py --quick             # 60k rows, SQLite
    .venv/bin/python bench/division_import.py --db postgres       # 665,271 rows, PostgreSQL

The scratch database is a temporary SQLite file, or sunshine_bench_places_<pid> on BENCH_PG
(default postgres://postgres@127.0.0.1:5432), removed at the end. Progress goes to stderr;
the last line on stdout is one JSON object.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
HEADERS = ["统计用区划代码", "名称", "城乡分类代码", "年份"]
COUNTYLESS = {"441900": "东莞市", "442000": "中山市", "460400": "儋州市", "620200": "嘉峪关市"}


def country_rows(total: int = 665_271, *, year: int = 2022, seed: int = 1):
    """Rows of a synthetic national table of about `total` rows, parents before children."""
    rng = random.Random(seed)
    # Shares of the 2022 table: 31 + 333 + 2,843 + 38,602 + 623,462 rows.
    provinces = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45]
    provinces += [46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65]
    cities_per_province = 11
    counties_wanted = max(4, total * 2_843 // 665_271)
    counties_per_city = max(1, round(counties_wanted / (31 * cities_per_province)))
    counties = 31 * cities_per_province * counties_per_city + len(COUNTYLESS)
    towns_per_county = max(1, round(total * 38_602 / 665_271 / counties))
    towns = counties * towns_per_county
    villages_per_town = max(
        1, -(-(total - 31 - 31 * cities_per_province - counties - towns) // towns)
    )
    rows, n_towns = [], 0

    def villages(town_code: str):
        for v in range(1, villages_per_town + 1):
            seg = v if v < 200 else 200 + v % 799
            urc = rng.choice(("111", "112", "121", "122", "210", "220", "220", "220"))
            name = "社区居委会" if urc[0] == "1" else "村委会"
            yield [f"{town_code[:9]}{seg:03d}", f"第{v}{name}", urc, str(year)]

    def towns(county6: str, count: int):
        nonlocal n_towns
        for t in range(count):
            seg = (1 + t) if t < 10 else (100 + t)
            code = f"{county6}{seg:03d}000"
            n_towns += 1
            yield [code, f"{'街道' if seg < 100 else '镇'}{t + 1}", "", str(year)]
            yield from villages(code)

    for p in provinces:
        rows.append([f"{p}0000000000", f"省{p}", "", str(year)])
        for c in range(1, cities_per_province + 1):
            city4 = f"{p}{c:02d}"
            if any(city6.startswith(city4) for city6 in COUNTYLESS):
                continue
            rows.append([f"{city4}00000000", f"市{city4}", "", str(year)])
            for k in range(1, counties_per_city + 1):
                county6 = f"{city4}{k:02d}"
                rows.append([f"{county6}000000", f"县{county6}", "", str(year)])
                rows.extend(towns(county6, towns_per_county))
        for city6, name in COUNTYLESS.items():
            if city6[:2] == str(p):
                rows.append([f"{city6}000000", name, "", str(year)])
                rows.extend(towns(city6, towns_per_county))
    return rows[:total]


def write_csv(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        w.writerows(rows)


def child(db_url: str, mode: str, path: str) -> float:
    env = dict(os.environ, DATABASE_URL=db_url, SUNSHINE_DEBUG="0", PYTHONPATH=str(ROOT))
    env.setdefault("SUNSHINE_SECRET_KEY", "bench-" + "x" * 50)
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, path],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    sys.stderr.write(out.stderr)
    return float(out.stdout.strip().splitlines()[-1])


def run_child(mode: str, path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    if mode == "migrate":
        call_command("migrate", verbosity=0)
        print(0)
        return
    t0 = time.perf_counter()
    if mode == "import":
        from sunshine.places import importing

        importing.import_division_table(actor=None, path=path)
    else:  # the floor: read the same file, one executemany into a bare indexed table
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bare_place")
            cur.execute(
                "CREATE TABLE bare_place (id integer PRIMARY KEY, code varchar(16) UNIQUE,"
                " path varchar(16) UNIQUE, name varchar(100), urban_rural_code varchar(3),"
                " code_year integer)"
            )
        t0 = time.perf_counter()
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            rows = [
                (i, code, code + "p", name, urc, int(year))
                for i, (code, name, urc, year) in enumerate(reader, start=1)
            ]
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany("INSERT INTO bare_place VALUES (%s, %s, %s, %s, %s, %s)", rows)
    print(time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="60,000 rows")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"))
    args = ap.parse_args()
    if args.child:
        run_child(*args.child)
        return
    total = args.rows or (60_000 if args.quick else 665_271)
    tmp = Path(tempfile.mkdtemp(prefix="bench-places-"))
    first, second = tmp / "2022.csv", tmp / "2023.csv"
    rows = country_rows(total, year=2022)
    write_csv(first, rows)
    write_csv(second, [[c, n, u, "2023"] for c, n, u, _ in rows])
    if args.db == "sqlite":
        db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        import psycopg

        name = f"sunshine_bench_places_{os.getpid()}"
        with psycopg.connect(PG + "/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        db_url = f"{PG}/{name}"
    try:
        child(db_url, "migrate", "")
        out = {}
        for label, mode, path in (
            ("first_import_s", "import", first),
            ("same_file_again_s", "import", first),
            ("next_year_s", "import", second),
            ("floor_s", "floor", first),
        ):
            out[label] = round(child(db_url, mode, str(path)), 2)
            print(f"{label}: {out[label]} s", file=sys.stderr)
    finally:
        if args.db == "postgres":
            import psycopg

            with psycopg.connect(PG + "/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
    print(
        json.dumps(
            {
                "bench": f"division_import_{args.db}",
                "rows": len(rows),
                **out,
                "value": out["first_import_s"],
                "unit": "s",
                "baseline": out["floor_s"],
                "ratio": round(out["floor_s"] / out["first_import_s"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
