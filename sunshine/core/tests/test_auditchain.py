"""The audit log's hash chain: sealing, the canonical record, verification, audit-verify."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sunshine.core import audit, auditchain
from sunshine.core.models import AuditEntry, AuditPending, AuditSeal

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=UTC)


def _entries(n=3):
    return [
        audit.record(actor=None, action=f"test.step{i}", object_repr=f"第{i}条") for i in range(n)
    ]


def _raw(*statements):
    """Run SQL as someone who can lift the triggers would (inside the test's transaction)."""
    with connection.cursor() as cur:
        for sql, params in statements:
            cur.execute(sql, params)


def _without_triggers(sql, params=()):
    """A change made with the append-only triggers lifted: what the chain must reveal."""
    if connection.vendor == "sqlite":
        lift = [
            ("DROP TRIGGER IF EXISTS core_auditentry_no_update", []),
            ("DROP TRIGGER IF EXISTS core_auditentry_no_delete", []),
            ("DROP TRIGGER IF EXISTS core_auditseal_no_update", []),
            ("DROP TRIGGER IF EXISTS core_auditseal_no_delete", []),
        ]
    else:
        # A superuser's way round every trigger (foreign keys included), for this transaction.
        lift = [("SET LOCAL session_replication_role = replica", [])]
    _raw(*lift, (sql, list(params)))
    if connection.vendor == "postgresql":
        _raw(("SET LOCAL session_replication_role = DEFAULT", []))


class TestCanonicalRecord:
    def _entry(self, **changes):
        return AuditEntry(
            id=7,
            at=AT,
            actor_id=None,
            actor_label="系统",
            action="place.update",
            object_type="places.place",
            object_id="12",
            object_repr="本镇一村",
            place_path="980101100001",
            sensitive=False,
            reason="",
            ip="10.0.0.1",
            user_agent="",
            path="/staff/",
            changes=changes or {"name": ["旧", "新"], "address": [None, "路"]},
        )

    def test_the_record_is_sorted_json_with_utc_datetimes(self):
        shanghai = timezone.get_fixed_timezone(480)
        record = auditchain.canonical(seq=3, sealed_at=AT.astimezone(shanghai), entry=self._entry())
        assert (
            record
            == (
                '{"entry":{"action":"place.update","actor_id":null,"actor_label":"系统",'
                '"at":"2026-12-05T01:02:03.456789Z","changes":{"address":[null,"路"],'
                '"name":["旧","新"]},"id":7,"ip":"10.0.0.1","object_id":"12",'
                '"object_repr":"本镇一村","object_type":"places.place","path":"/staff/",'
                '"place_path":"980101100001","reason":"","sensitive":false,"user_agent":""},'
                '"sealed_at":"2026-12-05T01:02:03.456789Z","seq":3,"v":1}'
            ).encode()
        )

    def test_the_hash_is_sha256_of_the_previous_hash_and_the_record(self):
        # A fixed vector: a change of serialisation or hash breaks every chain ever sealed.
        assert auditchain.link_hash(auditchain.GENESIS, b"{}") == (
            "5649d09ed68c17156095d175eef152856c5b1a81c117c409c1e00f096aa6838e"
        )

    def test_the_record_read_back_from_the_database_is_the_one_written(self):
        entry = audit.record(
            actor=None,
            action="x.y",
            object_repr="记录",
            changes={"z": 1, "a": {"c": [1, 2.5, "三"], "b": None}, "m": True},
        )
        stored = AuditEntry.objects.get(pk=entry.pk)
        assert auditchain.canonical(seq=1, sealed_at=AT, entry=stored) == auditchain.canonical(
            seq=1, sealed_at=AT, entry=entry
        )


class TestSealPending:
    def test_every_insert_is_queued_by_the_database_even_raw_sql(self):
        entry = audit.record(actor=None, action="x.y")
        _raw(
            (
                "INSERT INTO core_auditentry (at, actor_label, action, object_type, object_id, "
                "object_repr, place_path, sensitive, reason, ip, user_agent, path, changes) "
                "VALUES (%s, '', 'raw.insert', '', '', '', '', %s, '', '', '', '', '{}')",
                [AT, False],
            )
        )
        raw = AuditEntry.objects.get(action="raw.insert")
        assert set(AuditPending.objects.values_list("entry_id", flat=True)) >= {entry.pk, raw.pk}

    def test_entries_are_chained_in_id_order_from_the_genesis_hash(self):
        entries = _entries(3)
        assert auditchain.seal_pending(now=AT) == 3
        seals = list(AuditSeal.objects.order_by("seq"))
        assert [s.entry_id for s in seals] == [e.pk for e in entries]
        assert [s.seq for s in seals] == [1, 2, 3]
        assert seals[0].prev_hash == auditchain.GENESIS
        assert [s.prev_hash for s in seals[1:]] == [s.hash for s in seals[:-1]]
        assert not AuditPending.objects.exists()

    def test_a_second_round_seals_only_what_came_after(self):
        _entries(2)
        auditchain.seal_pending(now=AT)
        assert auditchain.seal_pending(now=AT) == 0
        late = audit.record(actor=None, action="x.late")
        assert auditchain.seal_pending(now=AT) == 1
        assert AuditSeal.objects.get(entry=late).seq == 3

    def test_an_entry_committed_late_is_sealed_further_down_the_chain(self):
        # A long transaction commits entry #n after #n+1 was sealed: it gets the next link.
        first, second = _entries(2)
        AuditPending.objects.filter(entry_id=first.pk).delete()
        auditchain.seal_pending(now=AT)
        AuditPending.objects.create(entry_id=first.pk)
        auditchain.seal_pending(now=AT)
        assert list(AuditSeal.objects.order_by("seq").values_list("entry_id", flat=True)) == [
            second.pk,
            first.pk,
        ]
        assert auditchain.verify().ok

    def test_batches_continue_the_same_chain(self):
        _entries(5)
        assert auditchain.seal_pending(now=AT, batch=2) == 5
        assert list(AuditSeal.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
        assert auditchain.verify().ok

    def test_a_seal_cannot_be_changed_deleted_or_replaced(self):
        from django.db import DatabaseError, transaction

        _entries(1)
        auditchain.seal_pending(now=AT)
        seal = AuditSeal.objects.get()
        with pytest.raises(PermissionError):
            seal.save()
        with pytest.raises(PermissionError):
            seal.delete()
        statements = ["UPDATE core_auditseal SET hash = 'x'", "DELETE FROM core_auditseal"]
        if connection.vendor == "sqlite":
            statements.append(
                "INSERT OR REPLACE INTO core_auditseal (seq, entry_id, prev_hash, hash, sealed_at)"
                " SELECT seq, entry_id, prev_hash, 'x', sealed_at FROM core_auditseal"
            )
        else:
            statements.append(
                "INSERT INTO core_auditseal (seq, entry_id, prev_hash, hash, sealed_at)"
                " SELECT seq, entry_id, prev_hash, 'x', sealed_at FROM core_auditseal"
                " ON CONFLICT (seq) DO UPDATE SET hash = 'x'"
            )
        for sql in statements:
            with pytest.raises(DatabaseError), transaction.atomic():
                _raw((sql, []))
        assert AuditSeal.objects.get().hash == seal.hash


class TestVerify:
    @pytest.fixture
    def sealed(self):
        entries = _entries(4)
        auditchain.seal_pending(now=AT)
        return entries

    def test_an_untouched_log_verifies_with_its_head(self, sealed):
        report = auditchain.verify()
        assert report.ok and report.links == 4
        assert report.head_hash == AuditSeal.objects.get(seq=4).hash

    def test_an_empty_log_verifies(self):
        assert auditchain.verify().ok

    def test_a_changed_entry_is_the_first_broken_link(self, sealed):
        _without_triggers(
            "UPDATE core_auditentry SET object_repr = '改过的' WHERE id = %s", [sealed[2].pk]
        )
        report = auditchain.verify()
        assert not report.ok and report.broken_seq == 3 and report.links == 2
        assert f"#{sealed[2].pk}" in report.broken and "不符" in report.broken

    def test_rehashing_the_changed_link_breaks_the_next_one(self, sealed):
        _without_triggers(
            "UPDATE core_auditentry SET object_repr = '改过的' WHERE id = %s", [sealed[1].pk]
        )
        seal = AuditSeal.objects.get(seq=2)
        forged = auditchain.link_hash(
            seal.prev_hash,
            auditchain.canonical(
                seq=2, sealed_at=seal.sealed_at, entry=AuditEntry.objects.get(pk=sealed[1].pk)
            ),
        )
        _without_triggers("UPDATE core_auditseal SET hash = %s WHERE seq = 2", [forged])
        report = auditchain.verify()
        assert report.broken_seq == 3 and "前一环哈希" in report.broken

    def test_a_deleted_entry_is_reported(self, sealed):
        _raw(
            (
                "CREATE TEMP TABLE kept AS SELECT * FROM core_auditentry WHERE id = %s",
                [sealed[1].pk],
            )
        )
        _without_triggers("DELETE FROM core_auditentry WHERE id = %s", [sealed[1].pk])
        report = auditchain.verify()
        assert report.broken_seq == 2 and "已不存在" in report.broken
        # Put it back: the test database checks its foreign keys before rolling back.
        _raw(("INSERT INTO core_auditentry SELECT * FROM kept", []), ("DROP TABLE kept", []))

    def test_a_deleted_link_is_reported(self, sealed):
        _without_triggers("DELETE FROM core_auditseal WHERE seq = 2")
        report = auditchain.verify()
        assert report.broken_seq == 2 and "缺失" in report.broken

    def test_an_entry_slipped_in_past_the_queue_trigger_is_reported(self, sealed):
        stray = audit.record(actor=None, action="x.stray")
        AuditPending.objects.filter(entry_id=stray.pk).delete()
        report = auditchain.verify()
        assert not report.ok and f"#{stray.pk}" in report.broken


class TestOverdue:
    def test_entries_queued_past_the_grace_period_are_listed(self, settings):
        settings.SUNSHINE_AUDIT_SEAL_GRACE_MINUTES = 10
        entry = audit.record(actor=None, action="x.y")
        assert auditchain.overdue(now=entry.at + timedelta(minutes=9)) == []
        assert [i for i, _ in auditchain.overdue(now=entry.at + timedelta(minutes=11))] == [
            entry.pk
        ]


class TestAuditVerifyCommand:
    def test_it_seals_then_reports_an_intact_chain(self, capsys):
        _entries(2)
        call_command("audit-verify")
        out = capsys.readouterr().out
        assert "先封存了 2 条" in out and "哈希链完好：共 2 环" in out

    def test_a_broken_chain_exits_non_zero_naming_the_link(self, capsys):
        entries = _entries(3)
        call_command("audit-verify")
        _without_triggers(
            "UPDATE core_auditentry SET reason = '改过' WHERE id = %s", [entries[0].pk]
        )
        with pytest.raises(SystemExit) as exc:
            call_command("audit-verify")
        assert exc.value.code == 1
        err = capsys.readouterr().err
        assert "哈希链断开：第 1 环" in err

    def test_an_idle_sealer_is_reported(self, capsys, settings):
        settings.SUNSHINE_AUDIT_SEAL_GRACE_MINUTES = 0
        _entries(1)
        call_command("audit-verify")
        assert "超过预期时间仍未封存" in capsys.readouterr().err


class TestPeriodicSealer:
    def test_the_worker_task_seals_what_is_queued(self):
        from sunshine.core import tasks

        _entries(2)
        tasks.seal_audit_log()  # huey runs inline in tests
        assert AuditSeal.objects.count() == 2 and not AuditPending.objects.exists()
