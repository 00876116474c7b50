"""SPEC §12: the SMS outbox is safe with many workers — none lost when a worker dies, no
message sent twice by two live workers.

Real processes on a real PostgreSQL: a scratch database of its own (sunshine_crash_<pid>,
migrated by `manage.py migrate`), the real HTTP simulator (in this process, so the test can
read which OutIds it received), and three `manage.py sms-dispatch --loop` workers. Messages
are queued with services.message_enqueue; while they go out, a worker holding a batch is
killed with SIGKILL at a random moment (no cleanup) and a new worker is started in its place.
On PostgreSQL a worker's batch is the rows its open transaction holds locked (SELECT … FOR
UPDATE SKIP LOCKED): the victim is stopped (SIGSTOP) for the instant it takes to count them
with pgrowlocks, then killed, so "in flight" is exactly what it held when it died. At the end
every message must be sent and received by the simulator, and the only resends allowed are of
rows a killed worker held when it died.

Skips when PostgreSQL is unreachable, unless SUNSHINE_REQUIRE_POSTGRES=1 (then it fails).
PostgreSQL is found at SUNSHINE_TEST_PG (default postgres://postgres@127.0.0.1:5432).
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")
from psycopg import sql  # noqa: E402

from sunshine.messaging.simulator_server import start_server  # noqa: E402

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("SUNSHINE_TEST_PG", "postgres://postgres@127.0.0.1:5432")
SEED = 20260607
MESSAGES = 3000
WORKERS = 3
MAX_KILLS = 5
LEASE_SECONDS = 30  # the idle-in-transaction limit; a killed worker's rows are freed at once
BATCH = 50
DEADLINE = 120  # seconds for the whole run once the workers start
UNFINISHED = "SELECT count(*) FROM messaging_message WHERE status IN ('queued', 'sending')"
# Row locks and the backends holding them (pgrowlocks); a worker's backend carries its name as
# application_name while it holds a batch (services.dispatch_batch).
LOCKS = (
    "SELECT a.application_name FROM pgrowlocks('messaging_message') r "
    "JOIN pg_stat_activity a ON a.pid = ANY(r.pids)"
)
HELD = f"SELECT count(*) FROM ({LOCKS}) l WHERE application_name = %s"
HOLDERS = f"SELECT DISTINCT application_name FROM ({LOCKS}) l"

# Run in a child process with the scratch database's environment: queue the messages the
# way the platform does (services.message_enqueue, a non-essential template with parameters).
ENQUEUE = """
import django
django.setup()
from django.db import transaction
from sunshine.messaging import rules, services
from sunshine.messaging.models import Template

# The on-commit nudge to a huey consumer (none runs here; the workers under test poll) would
# write 3,000 tasks to huey's SQLite file, one fsync each: most of the setup time.
services._dispatch_soon = lambda: None

template = Template.objects.create(
    code="crash-test",
    name="孕前检查提醒",
    body="{name}您好，请于{date}到乡镇卫生院参加免费孕前优生健康检查。",
    params=["name", "date"],
    category=rules.NON_ESSENTIAL,
)
with transaction.atomic():
    for i in range(%(n)d):
        services.message_enqueue(
            programme="crash-test",
            mobile=f"139{i:08d}",
            template=template,
            params={"name": f"居民{i}", "date": "6月9日"},
        )
"""


def _require_postgres(reason: str):
    if os.environ.get("SUNSHINE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (SUNSHINE_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


def _admin(statement) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(statement)


@pytest.fixture
def scratch_db():
    """A migrated PostgreSQL database of this test's own; dropped afterwards."""
    name = f"sunshine_crash_{os.getpid()}"
    try:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        _require_postgres(f"PostgreSQL 无法连接（{PG}）：{exc}")
    try:
        yield f"{PG}/{name}"
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _env(dsn: str, sim_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTEST_CURRENT_TEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=dsn,
        SUNSHINE_VAR_DIR=str(var_dir),
        SECRET_KEY="crash-test-not-secret",
        SUNSHINE_SMS_BACKEND="simulator",
        SUNSHINE_SMS_SIMULATOR_URL=sim_url,
        SUNSHINE_SMS_LEASE_SECONDS=str(LEASE_SECONDS),
        SUNSHINE_SMS_QUIET_START="00:00",  # start == end: never quiet
        SUNSHINE_SMS_QUIET_END="00:00",
        SUNSHINE_SMS_PER_NUMBER_PER_DAY="1000000",
        SUNSHINE_SMS_BATCH=str(BATCH),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _run(env: dict, args: list[str], timeout: float) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args[:2]} failed:\n{done.stdout}\n{done.stderr}"


class Workers:
    """`sms-dispatch --loop` processes; each is its own session so nothing outlives the test."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.live: list[subprocess.Popen] = []
        self.dead: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        n = len(self.live) + len(self.dead)
        with open(self.log_dir / f"worker-{n}.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "sms-dispatch", "--loop", "--idle", "0.1"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.live.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)  # stopped or not
        proc.wait(timeout=10)
        self.live.remove(proc)
        self.dead.append(proc)

    def stop_all(self) -> None:
        for proc in self.live:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.live:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def test_no_message_is_lost_and_only_a_killed_workers_batch_is_resent(scratch_db, tmp_path, capsys):
    rng = random.Random(SEED)
    server, _ = start_server("127.0.0.1", 0, receipt_delay=0.05, seed=SEED)
    env = _env(scratch_db, server.url, tmp_path)
    workers = Workers(env, tmp_path)
    kills: list[dict] = []
    try:
        _run(env, ["manage.py", "migrate", "--noinput", "-v", "0"], timeout=120)
        with psycopg.connect(scratch_db, autocommit=True) as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS pgrowlocks")
        started = time.monotonic()
        _run(env, ["-c", ENQUEUE % {"n": MESSAGES}], timeout=120)
        enqueue_s = time.monotonic() - started
        with psycopg.connect(scratch_db, autocommit=True) as db:
            out_ids = {r[0] for r in db.execute("SELECT out_id FROM messaging_message")}
            assert len(out_ids) == MESSAGES

            def unfinished() -> int:
                return db.execute(UNFINISHED).fetchone()[0]

            # Kill points: random shares of the work done (seeded), so kills land while there
            # is work however fast the workers are.
            points = sorted(rng.uniform(0.05, 0.85) for _ in range(MAX_KILLS))
            for _ in range(WORKERS):
                workers.start()
            started = time.monotonic()
            deadline = started + DEADLINE
            while unfinished() and time.monotonic() < deadline:
                done = 1 - unfinished() / MESSAGES
                if points and done >= points[0]:
                    points.pop(0)
                    by_name = {f"{socket.gethostname()}:{p.pid}": p for p in workers.live}
                    holders = [by_name[h] for (h,) in db.execute(HOLDERS) if h in by_name]
                    victim = rng.choice(holders or workers.live)
                    name = f"{socket.gethostname()}:{victim.pid}"
                    time.sleep(rng.uniform(0, 0.05))  # a random moment inside the batch
                    victim.send_signal(signal.SIGSTOP)
                    # Stopped, it can neither commit nor claim: the rows its transaction holds
                    # are exactly what it has in flight when it dies.
                    held = db.execute(HELD, [name]).fetchone()[0]
                    workers.kill(victim)
                    kills.append({"done": round(done, 2), "in_flight": held})
                    workers.start()
                time.sleep(0.01)
            left = unfinished()
            dispatch_s = time.monotonic() - started
            statuses = dict(
                db.execute("SELECT status, count(*) FROM messaging_message GROUP BY status")
            )
            sent_ids = {
                r[0]
                for r in db.execute(
                    "SELECT out_id FROM messaging_message WHERE status IN ('sent', 'delivered')"
                )
            }
            unsent = db.execute(
                "SELECT count(*) FROM messaging_message "
                "WHERE status = 'sent' AND (sent_at IS NULL OR claimed_by = '')"
            ).fetchone()[0]
            call_tasks = db.execute("SELECT count(*) FROM messaging_calltask").fetchone()[0]
        with server.state.lock:
            seen = dict(server.state.seen)
        stats = server.state.stats()
    finally:
        workers.stop_all()
        server.stop()

    in_flight = sum(k["in_flight"] for k in kills)
    figures = (
        f"\nsms crash: {MESSAGES} messages, {WORKERS} workers, kills={len(kills)} "
        f"in_flight={in_flight} {kills} received={stats['received']} "
        f"unique={stats['unique']} duplicates={stats['duplicates']} statuses={statuses} "
        f"enqueue={enqueue_s:.1f}s dispatch={dispatch_s:.1f}s"
    )
    with capsys.disabled():
        print(figures)
    assert left == 0, f"{left} messages still queued or sending after {DEADLINE} s{figures}"
    assert kills, f"no worker was killed while messages were going out{figures}"
    assert out_ids == sent_ids, f"{len(out_ids - sent_ids)} messages not sent{figures}"
    assert out_ids <= set(seen), f"{len(out_ids - set(seen))} never reached the gateway{figures}"
    assert set(seen) <= out_ids, f"the gateway received unknown OutIds{figures}"
    assert stats["duplicates"] == sum(n - 1 for n in seen.values())
    assert stats["duplicates"] <= in_flight, f"resent more than the killed held{figures}"
    assert unsent == 0, f"{unsent} sent messages without their time or worker{figures}"
    assert call_tasks == 0, f"{call_tasks} call tasks: some sends failed{figures}"
