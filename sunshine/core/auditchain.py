"""The audit log's hash chain: sealing and verification (docs/audit.md).

Entries are written by `sunshine.core.audit.record` inside the services' own transactions
and never wait for the chain. A database trigger queues each new entry (core_auditpending)
in the inserting transaction, so a queued entry is always a committed one. The sealer
(`seal_pending`, a periodic task, and the first step of `sunshine audit-verify`) takes the
queue in entry-id order, one sealer at a time, and appends one `AuditSeal` per entry:

    hash(n) = link_hash(hash(n-1), canonical(seq n, sealed_at, entry))

An entry committed late (a long import) is simply sealed in a later round, further down the
chain. `verify` walks the chain from the start and reports the first broken link.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from sunshine.core.models import AuditEntry, AuditPending, AuditSeal

HASH_NAME = "SHA-256"
GENESIS = "0" * 64
# The chain's record format. Changing the fields below is a new version: old links keep
# verifying with the fields they were sealed with.
RECORD_VERSION = 1
ENTRY_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "place_path",
    "sensitive",
    "reason",
    "ip",
    "user_agent",
    "path",
    "changes",
)
# pg_advisory_xact_lock key of the sealer ("SEAL" in ASCII): one sealer at a time.
SEAL_LOCK = 0x5345414C
BATCH = 1000


def link_hash(prev_hash: str, record: bytes) -> str:
    """The one hash of the chain. SHA-256 today; the next step keys it (HMAC-SM3, a key kept
    outside the database) here and nowhere else."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + record).hexdigest()


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(*, seq: int, sealed_at: datetime, entry: AuditEntry) -> bytes:
    """An entry and its place in the chain as bytes that are the same on SQLite and
    PostgreSQL: datetimes in UTC ISO form with microseconds, JSON with sorted keys."""
    data = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    data["at"] = _utc(entry.at)
    record = {"v": RECORD_VERSION, "seq": seq, "sealed_at": _utc(sealed_at), "entry": data}
    text = json.dumps(
        record, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def _lock() -> None:
    """One sealer at a time. On SQLite the IMMEDIATE transaction already holds the write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])


def _seal_batch(*, now: datetime, batch: int) -> int:
    with transaction.atomic():
        _lock()
        ids = list(
            AuditPending.objects.order_by("entry_id").values_list("entry_id", flat=True)[:batch]
        )
        if not ids:
            return 0
        head = AuditSeal.objects.order_by("-seq").only("seq", "hash").first()
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
        entries = AuditEntry.objects.in_bulk(ids)
        already = set(AuditSeal.objects.filter(entry_id__in=ids).values_list("entry_id", flat=True))
        seals = []
        for entry_id in ids:
            entry = entries.get(entry_id)
            if entry is None or entry_id in already:
                continue  # a queue row without an entry to seal: nothing to chain
            seq += 1
            digest = link_hash(prev, canonical(seq=seq, sealed_at=now, entry=entry))
            seals.append(
                AuditSeal(seq=seq, entry=entry, prev_hash=prev, hash=digest, sealed_at=now)
            )
            prev = digest
        AuditSeal.objects.bulk_create(seals)
        AuditPending.objects.filter(entry_id__in=ids).delete()
        return len(ids)


def seal_pending(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Chain every committed, unsealed entry; returns how many queue rows were taken."""
    now = now or timezone.now()
    total = 0
    while True:
        taken = _seal_batch(now=now, batch=batch)
        total += taken
        if taken < batch:
            return total


@dataclass
class Report:
    links: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    broken: str = ""  # the first broken link, in Chinese; empty when the chain holds
    broken_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.broken


def verify(*, chunk: int = 2000) -> Report:
    """Walk the chain from its first link; stop at the first one that does not hold. Then
    every entry must be sealed or queued: one that is neither bypassed the trigger."""
    report = Report()
    prev, expected = GENESIS, 1
    while True:
        seals = list(AuditSeal.objects.filter(seq__gte=expected).order_by("seq")[:chunk])
        if not seals:
            break
        entries = AuditEntry.objects.in_bulk([s.entry_id for s in seals])
        for seal in seals:
            problem = _check_link(seal, expected, prev, entries.get(seal.entry_id))
            if problem:
                report.broken, report.broken_seq = problem, expected
                return report
            prev = seal.hash
            report.links, report.head_seq, report.head_hash = seal.seq, seal.seq, seal.hash
            expected += 1
    stray = (
        AuditEntry.objects.filter(seal__isnull=True)
        .exclude(pk__in=AuditPending.objects.values("entry_id"))
        .order_by("id")
        .first()
    )
    if stray is not None:
        report.broken = (
            f"审计日志 #{stray.pk}（{timezone.localtime(stray.at):%Y-%m-%d %H:%M:%S}，"
            f"{stray.action}）没有封存，也不在待封存队列中：它是绕过数据库触发器写入的，"
            "或者它的队列记录被删除了。"
        )
        return report
    return report


def overdue(*, now: datetime | None = None, limit: int = 20) -> list[tuple[int, datetime]]:
    """Queued entries older than the grace period: the periodic sealer is not running."""
    now = now or timezone.now()
    grace = timedelta(minutes=settings.SUNSHINE_AUDIT_SEAL_GRACE_MINUTES)
    return list(
        AuditEntry.objects.filter(
            pk__in=AuditPending.objects.values("entry_id"), at__lt=now - grace
        )
        .order_by("id")
        .values_list("id", "at")[:limit]
    )


def _check_link(seal: AuditSeal, expected: int, prev: str, entry: AuditEntry | None) -> str:
    where = f"第 {expected} 环"
    if seal.seq != expected:
        return (
            f"{where}缺失：链在第 {expected - 1} 环之后直接跳到第 {seal.seq} 环，封存记录被删除过。"
        )
    if seal.prev_hash != prev:
        return f"{where}（审计日志 #{seal.entry_id}）记录的前一环哈希与第 {expected - 1} 环不符：封存记录被改动过。"
    if entry is None:
        return f"{where}封存的审计日志 #{seal.entry_id} 已不存在：日志被删除过。"
    if link_hash(prev, canonical(seq=seal.seq, sealed_at=seal.sealed_at, entry=entry)) != seal.hash:
        return (
            f"{where}（审计日志 #{entry.pk}，{timezone.localtime(entry.at):%Y-%m-%d %H:%M:%S}，"
            f"{entry.action}）的内容与封存时的哈希不符：日志或封存记录被改动过。"
        )
    return ""
