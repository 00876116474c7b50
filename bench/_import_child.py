"""Child process for bench/import.py: runs inside the platform (Django set up from the
environment that bench/import.py gives it) and prints one JSON line on stdout.

    _import_child.py gen --csv PATH --csv-rows N [--xlsx PATH --xlsx-rows M]
    _import_child.py import PATH [--profile OUT.prof]

`gen` writes resident rows made by the demo generator (sunshine.people.demo.person_rows) for
the groups of the demo county, with the template's Chinese headers. `import` times only the
import_residents call and reports the process's peak RSS (the whole child, Django included).
"""

import argparse
import csv
import datetime as dt
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from sunshine.people import demo, rules  # noqa: E402
from sunshine.places.models import Place  # noqa: E402

COUNTY_CODE = "990101000000"
# Fixed so that the same --rows always makes the same file; every birth date is before it.
GEN_TODAY = dt.date(2025, 1, 1)


def _groups() -> list[Place]:
    county = Place.objects.get(code=COUNTY_CODE)
    return list(Place.objects.filter(path__startswith=county.path, level="group").order_by("path"))


def gen(args) -> dict:
    groups = _groups()
    header = [rules.HEADERS[f] for f in rules.COLUMNS]
    out = {"groups": len(groups)}
    started = time.perf_counter()
    with open(args.csv, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(demo.person_rows(1, args.csv_rows, groups, GEN_TODAY))
    out["csv_s"] = round(time.perf_counter() - started, 2)
    out["csv_bytes"] = os.path.getsize(args.csv)
    if args.xlsx:
        from openpyxl import Workbook

        started = time.perf_counter()
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("居民")
        ws.append(header)
        for row in demo.person_rows(2, args.xlsx_rows, groups, GEN_TODAY):
            ws.append(row)
        wb.save(args.xlsx)
        out["xlsx_s"] = round(time.perf_counter() - started, 2)
        out["xlsx_bytes"] = os.path.getsize(args.xlsx)
    return out


def run_import(args) -> dict:
    from sunshine.people.importing import ImportRefused, import_residents

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    started = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        result = import_residents(actor=None, path=args.path, error_dir=args.error_dir)
    except ImportRefused as exc:
        return {"error": str(exc), "errors": exc.result.errors[:5]}
    finally:
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - started
    if profiler:
        profiler.dump_stats(args.profile)
    return {
        "seconds": seconds,
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "households": result.households_created,
        "error_rows": result.error_rows,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--csv", required=True)
    g.add_argument("--csv-rows", type=int, required=True)
    g.add_argument("--xlsx")
    g.add_argument("--xlsx-rows", type=int, default=0)
    i = sub.add_parser("import")
    i.add_argument("path")
    i.add_argument("--profile")
    i.add_argument("--error-dir")
    args = p.parse_args()
    out = gen(args) if args.cmd == "gen" else run_import(args)
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if "error" in out else 0


if __name__ == "__main__":
    sys.exit(main())
