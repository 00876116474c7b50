"""Campaign messages written per second by enrolment (sunshine.messaging.campaigns.enrol_many),
against a raw COPY of the same message rows into a bare table.

A fresh scratch database (sunshine_bench_campaign_<pid> on BENCH_PG, default
postgres://postgres@127.0.0.1:5432) is migrated and given a small place tree, N residents
(bulk-created, untimed) and the seeded 20-event pregnancy campaign ("孕期保健短信"). Each
round, on empty campaign tables:

- value: one `enrol_many` call enrolling every resident, their last menstrual period 0–27
  days before now, so all 20 events are still ahead: N × 20 messages, each with its own OutId,
  due time, parameters and source; plus the enrolments and one audit row. Timed alone: the
  rows handed to it are built beforehand.
- baseline: the messages just written, dumped (same columns) and COPYed FROM STDIN into a
  bare table of the same column types (no keys, no indexes, no checks), connect … commit.
- diagnostic, the database's share: the same dump COPYed into messaging_message itself
  (its primary key, unique OutId and enrolment indexes).
- diagnostic, the deferred cost: a message enters the send queue (the claim index) only
  two days before it is due (campaigns.messages_make_ready, run by every dispatch round).
  After the rounds, the messages of the first --ready-sample enrolments (10,000: 200,000
  messages) are made ready at once, timed: "make_ready_per_s" in the JSON line.

Platform and baseline alternate in order round by round; figures are medians. Progress goes to
stderr; one JSON line goes last on stdout. The scratch database is dropped at the end.

    .venv/bin/python bench/campaign.py --quick    # 10,000 people × 20 events, 1 round
    .venv/bin/python bench/campaign.py            # 100,000 people × 20 events, 3 rounds

Goal: ratio >= 1/3.
"""

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
GOAL = 1 / 3
RESET = (
    "TRUNCATE messaging_attempt, messaging_calltask, messaging_message, messaging_enrolment "
    "RESTART IDENTITY CASCADE"
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def admin_sql(statement: sql.Composable) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def db_exec(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for s in statements:
            conn.execute(s)


def db_count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        return conn.execute(query).fetchone()[0]


def django_setup(dsn: str, var_dir: Path) -> None:
    for name in ("REDIS_URL", "SUNSHINE_LOG_LEVEL"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=dsn,
        SUNSHINE_VAR_DIR=str(var_dir),
        SUNSHINE_DEBUG="0",
        SECRET_KEY="bench-only-not-secret",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build_data(people: int) -> tuple:
    """Places, residents and the pregnancy campaign; returns (campaign, resident rows)."""
    from django.core.management import call_command

    from sunshine.messaging import seeds
    from sunshine.people.models import Resident
    from sunshine.places import services as place_services
    from sunshine.places.models import Place
    from sunshine.places.services import PlaceRow

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    rows = [
        PlaceRow("990000000000", "演示省"),
        PlaceRow("990100000000", "演示市"),
        PlaceRow("990101000000", "阳光县（测速）"),
    ]
    for t in range(2):
        town = f"990101{101 + t:03d}000"
        rows.append(PlaceRow(town, f"测速{t + 1}镇"))
        rows += [
            PlaceRow(town[:9] + f"{200 + v:03d}", f"测速{t + 1}镇{v + 1}村") for v in range(20)
        ]
    place_services.place_bulk_create(actor=None, rows=rows, action="bench.build")
    villages = list(Place.objects.filter(level="village").values_list("id", "path"))
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "秀英桂芳玉兰红梅丽华静敏燕霞"
    batch = []
    for i in range(people):
        place_id, path = villages[i % len(villages)]
        batch.append(
            Resident(
                name=surnames[i % 20] + given[(i // 20) % 14] + given[(i // 280) % 14],
                sex="F",
                birth_date=dt.date(1990 + i % 10, 1 + i % 12, 1 + i % 28),
                id_number=f"99{i:016d}",  # unique; the bench skips validation
                mobile=f"13{i % 10}{i:08d}",
                place_id=place_id,
                place_path=path,
            )
        )
        if len(batch) == 5000:
            Resident.objects.bulk_create(batch)
            batch = []
    Resident.objects.bulk_create(batch)
    campaign = seeds.pregnancy_campaign_seed(actor=None)
    residents = list(
        Resident.objects.order_by("id").values_list(
            "id", "name", "mobile", "place_id", "place_path"
        )
    )
    log(
        f"data: migrated, {len(rows)} places, {len(residents):,} residents and the"
        f" {campaign.events.count()}-event campaign in {time.monotonic() - started:.1f} s"
    )
    return campaign, residents


def enrol_rows(residents: list, today: dt.date) -> list:
    from sunshine.messaging import campaigns

    return [
        campaigns.EnrolmentRow(
            anchor_date=today - dt.timedelta(days=i % 28),
            resident_id=rid,
            name=name,
            mobile=mobile,
            place_id=place_id,
            place_path=path,
            source=f"bench:{rid}",
        )
        for i, (rid, name, mobile, place_id, path) in enumerate(residents)
    ]


def platform_round(dsn: str, campaign, residents: list, events: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from sunshine.messaging import campaigns

    connection.close()
    db_exec(dsn, RESET, "CHECKPOINT")
    now = timezone.now()
    rows = enrol_rows(residents, timezone.localdate(now))
    started = time.perf_counter()
    result = campaigns.enrol_many(actor=None, campaign=campaign, rows=rows, now=now)
    seconds = time.perf_counter() - started
    expected = len(residents) * events
    if result.messages != expected or db_count(dsn, "messaging_message") != expected:
        raise SystemExit(f"enrol_many wrote {result.messages} messages, expected {expected}")
    return {"seconds": seconds, "events_per_s": expected / seconds, "people": result.enrolled}


def dump_messages(dsn: str, path: Path, columns: list[str]) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur, open(path, "wb") as fh:
        with cur.copy(f"COPY messaging_message ({', '.join(columns)}) TO STDOUT") as copy:
            for data in copy:
                fh.write(data)


def copy_into(dsn: str, table: str, columns: list[str], path: Path, rows: int) -> float:
    """COPY the dump into `table`, end to end (connect … commit); rows per second."""
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            open(path, "rb") as fh,
        ):
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        conn.commit()
    seconds = time.perf_counter() - started
    if (n := db_count(dsn, table)) != rows:
        raise SystemExit(f"COPY into {table} loaded {n} rows, expected {rows}")
    return rows / seconds


def make_ready_round(dsn: str, sample: int) -> tuple[int, float]:
    """Make the messages of the first `sample` enrolments ready, as the dispatch rounds would
    over the campaign's months; (messages, messages per second)."""
    from django.db import connection
    from django.utils import timezone

    from sunshine.messaging import campaigns

    connection.close()
    db_exec(
        dsn,
        "UPDATE messaging_enrolment SET next_ready_at = NULL WHERE id NOT IN"
        f" (SELECT id FROM messaging_enrolment ORDER BY id LIMIT {int(sample)})",
        # As autovacuum would have long before the messages come due: planner statistics.
        "VACUUM ANALYZE messaging_enrolment",
        "ANALYZE messaging_message",
        "CHECKPOINT",
    )
    later = timezone.now() + dt.timedelta(days=400)
    started = time.perf_counter()
    made = campaigns.messages_make_ready(now=later)
    return made, made / (time.perf_counter() - started)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10,000 people, one round")
    p.add_argument("--people", type=int, help="people to enrol (100,000; 10,000 with --quick)")
    p.add_argument("--rounds", type=int, help="rounds (3; 1 with --quick)")
    p.add_argument(
        "--ready-sample", type=int, default=10_000, help="enrolments made ready (10,000)"
    )
    args = p.parse_args(argv)
    args.people = min(max(args.people or (10_000 if args.quick else 100_000), 1), 1_000_000)
    args.rounds = min(max(args.rounds or (1 if args.quick else 3), 1), 7)
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # so that `finally` drops the database
    dbname = f"sunshine_bench_campaign_{os.getpid()}"
    dsn = f"{PG}/{dbname}"
    log(f"campaign bench: {args.people:,} people, {args.rounds} round(s); database {dbname}")
    if os.getloadavg()[0] > 0.5:
        log(f"warning: load average {os.getloadavg()[0]:.1f} before the run; figures will be noisy")
    created = False
    try:
        with tempfile.TemporaryDirectory(prefix="sunshine-bench-campaign-") as tmp_name:
            tmp = Path(tmp_name)
            (tmp / "var").mkdir()
            admin_sql(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            created = True
            django_setup(dsn, tmp / "var")
            from sunshine.messaging import campaigns

            campaign, residents = build_data(args.people)
            events = campaign.events.filter(is_active=True).count()
            from sunshine.messaging.models import Message

            columns = [Message._meta.get_field(f).column for f in campaigns._MESSAGE_COLUMNS]
            db_exec(
                dsn,
                f"CREATE TABLE bare_message AS SELECT {', '.join(columns)} "
                "FROM messaging_message WITH NO DATA",
            )
            dump = tmp / "messages.copy"
            rows = args.people * events
            platform, baseline, db_share = [], [], []
            for i in range(args.rounds):
                order = ("platform", "baseline") if i % 2 == 0 else ("baseline", "platform")
                if i == 0:
                    order = ("platform", "baseline")  # the baseline copies what it wrote
                for who in order:
                    if who == "platform":
                        r = platform_round(dsn, campaign, residents, events)
                        platform.append(r["events_per_s"])
                        log(
                            f"round {i + 1}/{args.rounds} platform {r['events_per_s']:10,.0f}"
                            f" events/s  ({r['seconds']:.2f} s, {r['people']:,} people)"
                        )
                        dump_messages(dsn, dump, columns)
                        db_exec(
                            dsn,
                            "TRUNCATE messaging_attempt, messaging_calltask, messaging_message"
                            " CASCADE",
                            "CHECKPOINT",
                        )
                        eps = copy_into(dsn, "messaging_message", columns, dump, rows)
                        db_share.append(eps)
                        log(
                            f"round {i + 1}/{args.rounds} diagnostic: COPY of the same rows into"
                            f" messaging_message {eps:10,.0f} rows/s ({rows / eps:.2f} s)"
                        )
                    else:
                        db_exec(dsn, "TRUNCATE bare_message", "CHECKPOINT")
                        eps = copy_into(dsn, "bare_message", columns, dump, rows)
                        baseline.append(eps)
                        log(
                            f"round {i + 1}/{args.rounds} baseline {eps:10,.0f} rows/s"
                            f"  ({rows / eps:.2f} s, COPY into a bare table)"
                        )
            ready_n, ready_rate = make_ready_round(dsn, min(args.ready_sample, args.people))
            log(f"diagnostic: {ready_n:,} messages made ready at {ready_rate:,.0f}/s")
            from django.db import connections

            connections.close_all()
            value, base = statistics.median(platform), statistics.median(baseline)
            share = statistics.median(db_share)
            ratio = value / base
            print(
                json.dumps(
                    {
                        "bench": "campaign",
                        "value": round(value),
                        "unit": "events/s",
                        "baseline": round(base),
                        "ratio": round(ratio, 3),
                        "people": args.people,
                        "events": rows,
                        "rounds": args.rounds,
                        "database": "postgresql",
                        "baseline_kind": "COPY FROM STDIN text, bare table, same columns",
                        "db_table_copy": round(share),
                        "ratio_vs_table_copy": round(value / share, 3),
                        "make_ready_messages": ready_n,
                        "make_ready_per_s": round(ready_rate),
                        "goal_ratio": round(GOAL, 3),
                        "goal_met": ratio >= GOAL,
                    }
                ),
                flush=True,
            )
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if created:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # Django may not be set up yet
                pass
            admin_sql(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )
            log(f"dropped database {dbname}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
