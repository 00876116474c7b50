"""The hash chain under concurrent writers and sealers, on PostgreSQL (docs/audit.md).

Writers never wait for the chain: an audited action does not queue behind a long import's
open transaction. Entries committed late are sealed in a later round; two sealers never fork
the chain. Skips on SQLite (one writer at a time there), fails under SUNSHINE_REQUIRE_POSTGRES=1.
"""

import os
import threading

import pytest
from django.db import connection, connections, transaction

from sunshine.core import audit, auditchain
from sunshine.core.models import AuditEntry, AuditSeal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        if os.environ.get("SUNSHINE_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL 未配置（SUNSHINE_REQUIRE_POSTGRES=1）")
        pytest.skip("concurrent writers need PostgreSQL")


def _in_thread(target, *args):
    errors = []

    def run():
        try:
            target(*args)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_a_writer_does_not_wait_for_a_long_transaction_and_the_late_entry_is_chained():
    opened, release = threading.Event(), threading.Event()
    long_entry = {}

    def long_import():
        with transaction.atomic():
            long_entry["id"] = audit.record(actor=None, action="people.import").pk
            opened.set()
            assert release.wait(30)

    thread, errors = _in_thread(long_import)
    assert opened.wait(30)
    try:
        # Under a lock held from the audit write to commit this would time out.
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '2s'")
            quick = audit.record(actor=None, action="place.update")
        assert auditchain.seal_pending() == 1  # the long import is not committed yet
        assert AuditSeal.objects.get().entry_id == quick.pk
    finally:
        release.set()
        thread.join(30)
    assert not errors
    assert long_entry["id"] < quick.pk
    assert auditchain.seal_pending() == 1
    late = AuditSeal.objects.get(entry_id=long_entry["id"])
    assert late.seq == 2 and late.prev_hash == AuditSeal.objects.get(seq=1).hash
    assert auditchain.verify().ok


def test_many_writers_and_two_sealers_make_one_unbroken_chain():
    writers, per_writer = 4, 40
    done = threading.Event()

    def write(n):
        for i in range(per_writer):
            with transaction.atomic():
                audit.record(actor=None, action=f"test.w{n}", object_repr=str(i))

    def seal():
        while not done.is_set():
            auditchain.seal_pending(batch=7)

    sealers = [_in_thread(seal) for _ in range(2)]
    threads = [_in_thread(write, n) for n in range(writers)]
    for thread, _ in threads:
        thread.join(120)
    done.set()
    for thread, _ in sealers:
        thread.join(120)
    assert not [e for _, errs in threads + sealers for e in errs]
    auditchain.seal_pending()
    total = AuditEntry.objects.count()
    assert total == writers * per_writer
    assert list(AuditSeal.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, total + 1)
    )
    assert AuditSeal.objects.values("entry_id").distinct().count() == total
    report = auditchain.verify()
    assert report.ok and report.links == total
