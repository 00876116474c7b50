"""Messages for bench/sms_dispatch.py, and the child process that queues them.

    _sms_child.py enqueue N --seed S     (Django set up from the environment bench gives it)
    _sms_child.py raw --claim C          (a bare outbox worker: psycopg and the HTTP client)

The rows are what services.message_enqueue writes for a campaign reminder (a non-essential
template with parameters, rendered at send time, a 'queued' Attempt each), made with
bulk_create so that building 100,000 of them takes seconds. They are due tomorrow: the bench
starts the workers, waits until they poll, then makes every message due at once. `messages()`
needs no Django, so the bench's baseline sends exactly the same OutIds, numbers and texts.

`raw` is the floor for the same raw work on this machine, a diagnostic: the fewest statements
an outbox worker can do per claim, the way the platform claims on PostgreSQL — in one
transaction, claim C messages (SELECT … FOR UPDATE SKIP LOCKED), render, send them through the
same HTTP client in calls of 100, mark them sent (one UPDATE … FROM jsonb_to_recordset(…)),
commit — with no Django and no rules (opt-out, daily limit, quiet hours, staleness).
"""

import json
import os
import random
import sys
import time

TEMPLATE_CODE = "bench-reminder"
TEMPLATE_BODY = "{name}您好，请于{date}到{clinic}参加免费孕前优生健康检查，请带身份证。"
SIGNATURE = "阳光计生"


def messages(n: int, seed: int) -> list[tuple[str, str, dict]]:
    """(out_id, mobile, params) for n messages to n distinct mobiles."""
    rng = random.Random(seed)
    prefixes = ("139", "158", "186", "177", "135")
    out = []
    for i in range(n):
        params = {"name": f"居民{i}", "date": f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"}
        params["clinic"] = f"{rng.choice('东南西北中')}镇卫生院"
        mobile = f"{prefixes[i % len(prefixes)]}{i:08d}"
        # Rising OutIds of the platform's shape (rules.new_out_id, campaigns._OutIds): a time
        # prefix, a counter and random bits; fixed by the seed so the baseline sends the same.
        out_id = f"{0x019A00000000 + seed:012x}{i:08x}{rng.getrandbits(48):012x}"
        out.append((out_id, mobile, params))
    return out


def text(params: dict) -> str:
    return TEMPLATE_BODY.format(**params)


def enqueue(n: int, seed: int) -> dict:
    import datetime as dt

    from django.utils import timezone

    from sunshine.messaging import rules
    from sunshine.messaging.models import Attempt, Message, Template

    started = time.perf_counter()
    template = Template.objects.create(
        code=TEMPLATE_CODE,
        name="孕前检查提醒",
        body=TEMPLATE_BODY,
        params=["name", "date", "clinic"],
        category=rules.NON_ESSENTIAL,
    )
    held = timezone.now() + dt.timedelta(days=1)
    rows = messages(n, seed)
    for start in range(0, n, 5000):
        made = Message.objects.bulk_create(
            Message(
                out_id=out_id,
                mobile=mobile,
                place_path="",
                programme="bench",
                category=rules.NON_ESSENTIAL,
                template=template,
                params=params,
                signature=SIGNATURE,
                status=rules.QUEUED,
                due_at=held,
                source="bench",
            )
            for out_id, mobile, params in rows[start : start + 5000]
        )
        Attempt.objects.bulk_create(Attempt(message=m, event="queued") for m in made)
    return {"enqueued": n, "enqueue_s": round(time.perf_counter() - started, 2)}


RAW_CLAIM = """
WITH q AS (
    SELECT ctid AS row, message_id FROM messaging_sendqueue
    WHERE due_at <= now() ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED
), m AS (
    SELECT id, out_id, mobile, params FROM messaging_message
    WHERE id = ANY(ARRAY(SELECT message_id FROM q)) AND status = 'queued' FOR UPDATE SKIP LOCKED
), taken AS (
    DELETE FROM messaging_sendqueue
    WHERE ctid = ANY(ARRAY(SELECT q.row FROM q JOIN m ON m.id = q.message_id))
)
SELECT * FROM m
"""
RAW_SENT = """
UPDATE messaging_message AS m SET status = 'sent', sent_at = now(), claimed_until = NULL,
  claimed_by = %s, error = '', attempts = m.attempts + 1, provider_id = v.provider_id,
  segments = v.segments, cost = v.segments * 0.06, body = v.body
FROM jsonb_to_recordset(%s::jsonb)
     AS v(id bigint, provider_id varchar, segments smallint, body text)
WHERE m.id = v.id AND m.status = 'queued'
"""


def raw(claim: int) -> None:
    """Send until SIGTERM; the bench watches the table and stops it. Claims `claim` messages
    at a time and posts them in calls of the gateway's largest batch, as the platform does."""
    import signal

    import psycopg

    from sunshine.messaging.backends.simulator import SimulatorGateway

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    worker = f"raw:{os.getpid()}"
    gateway = SimulatorGateway(url=os.environ["SUNSHINE_SMS_SIMULATOR_URL"], timeout=30)
    with psycopg.connect(os.environ["BENCH_DSN"]) as db:
        while not stop:
            with db.transaction():  # the claim's row locks last until the batch is recorded
                claimed = db.execute(RAW_CLAIM, [claim]).fetchall()
                if claimed:
                    db.execute(RAW_SENT, [worker, json.dumps(send(gateway, claimed))])
            if not claimed:
                time.sleep(0.05)


def send(gateway, claimed: list) -> list[dict]:
    """Render, post in calls of the gateway's largest batch; the rows to mark sent."""
    from sunshine.messaging.backends.base import Outgoing
    from sunshine.messaging.rules import segments

    texts = {out_id: text(params) for _, out_id, _, params in claimed}
    outgoing = [
        Outgoing(out_id, mobile, texts[out_id], SIGNATURE, params=params)
        for _, out_id, mobile, params in claimed
    ]
    results = []
    for start in range(0, len(outgoing), gateway.max_batch):
        results += gateway.send(outgoing[start : start + gateway.max_batch])
    ids = {out_id: pk for pk, out_id, _, _ in claimed}
    rows = []
    for r in results:
        assert r.ok, r
        body = texts[r.out_id]
        rows.append(
            {
                "id": ids[r.out_id],
                "provider_id": r.provider_id,
                "segments": segments(body, SIGNATURE),
                "body": body,
            }
        )
    return rows


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["enqueue", "raw"])
    parser.add_argument("count", type=int, nargs="?")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--claim", type=int, default=500)
    args = parser.parse_args()
    if args.command == "raw":
        raw(args.claim)
    else:
        print(json.dumps(enqueue(args.count, args.seed)))
