"""The audit log: who, from where, what changed; append-only in the ORM and in the database."""

import contextlib

import pytest
from django.db import DatabaseError, connection, transaction

from sunshine.core import audit, context
from sunshine.core.models import AuditEntry
from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_context():
    token = context.set_current(
        context.RequestInfo(ip="10.2.3.4", user_agent="测试浏览器", path="/staff/places/")
    )
    yield
    context.reset(token)


class TestRecord:
    @pytest.mark.usefixtures("request_context")
    def test_actor_ip_user_agent_and_path_come_from_the_request_context(self, world):
        clerk = world.users["town_clerk"]
        entry = audit.record(actor=clerk, action="place.update", obj=world.village)
        entry.refresh_from_db()
        assert entry.actor == clerk
        assert entry.actor_label == "本地town_clerk"
        assert (entry.ip, entry.user_agent, entry.path) == (
            "10.2.3.4",
            "测试浏览器",
            "/staff/places/",
        )

    def test_object_type_id_repr_and_place_path_are_taken_from_the_object(self, world):
        entry = audit.record(actor=None, action="place.update", obj=world.village)
        assert entry.object_type == "places.place"
        assert entry.object_id == str(world.village.pk)
        assert entry.object_repr == "本镇一村"
        assert entry.place_path == world.village.path

    def test_place_path_follows_scope_path_through_a_relation(self, world):
        contact = world.town.contacts.get()
        entry = audit.record(actor=None, action="contact.update", obj=contact)
        assert entry.place_path == world.town.path

    def test_without_an_actor_or_request_it_is_the_system_with_no_address(self, world):
        entry = audit.record(actor=None, action="demo.build")
        assert entry.actor is None and entry.actor_label == "系统"
        assert (entry.ip, entry.path, entry.object_type) == ("", "", "")

    def test_anonymous_user_is_recorded_as_the_system(self, world):
        from django.contrib.auth.models import AnonymousUser

        entry = audit.record(actor=AnonymousUser(), action="x.y")
        assert entry.actor is None and entry.actor_label == "系统"

    def test_long_repr_and_reason_are_cut_to_fit(self, world):
        entry = audit.record(actor=None, action="x.y", object_repr="长" * 300, reason="因" * 300)
        assert len(entry.object_repr) == 200 and len(entry.reason) == 200

    def test_a_request_through_the_middleware_fills_ip_and_path(self, client, world):
        client.post(
            "/staff/login/",
            {"username": "town_clerk", "password": PASSWORD},
            REMOTE_ADDR="10.9.8.7",
            HTTP_USER_AGENT="村里的电脑",
        )
        entry = AuditEntry.objects.get(action="auth.login")
        assert entry.actor == world.users["town_clerk"]
        assert (entry.ip, entry.path, entry.user_agent) == (
            "10.9.8.7",
            "/staff/login/",
            "村里的电脑",
        )
        assert entry.place_path == world.town.path

    def test_the_middleware_clears_the_context_after_the_request(self, client, world):
        client.get("/", REMOTE_ADDR="10.9.8.7")
        assert context.current() == context.RequestInfo()


class TestRecordRead:
    def test_sensitive_read_is_marked_and_names_the_fields(self, world):
        entry = audit.record_read(
            actor=world.users["county_admin"], obj=world.village, fields=["name"], reason="核查"
        )
        assert entry.sensitive is True
        assert entry.action == "place.read_sensitive"
        assert entry.changes == {"fields": ["name"]}
        assert entry.reason == "核查"


class TestDiffAndSnapshot:
    def test_only_changed_fields_appear_as_old_and_new_strings(self, world):
        place = world.village
        before = audit.snapshot(place, ["name", "address", "parent"])
        place.name = "新名字"
        assert audit.diff(place, ["name", "address", "parent"], before) == {
            "name": ["本镇一村", "新名字"]
        }

    def test_foreign_keys_are_compared_by_primary_key(self, world):
        place = world.village
        before = audit.snapshot(place, ["parent"])
        assert before == {"parent": world.town.pk}
        place.parent = world.other_town
        assert audit.diff(place, ["parent"], before) == {
            "parent": [str(world.town.pk), str(world.other_town.pk)]
        }


@pytest.fixture
def entry(db):
    return audit.record(actor=None, action="test.append_only", object_repr="原始记录")


class TestAppendOnlyInTheOrm:
    def test_saving_an_existing_entry_is_refused(self, entry):
        entry.object_repr = "改过的"
        with pytest.raises(PermissionError, match="只能追加"):
            entry.save()
        assert AuditEntry.objects.get(pk=entry.pk).object_repr == "原始记录"

    def test_deleting_an_entry_is_refused(self, entry):
        with pytest.raises(PermissionError, match="不能删除"):
            entry.delete()
        assert AuditEntry.objects.filter(pk=entry.pk).exists()

    def test_queryset_update_is_refused(self, entry):
        with pytest.raises(PermissionError):
            AuditEntry.objects.filter(pk=entry.pk).update(object_repr="改过的")
        assert AuditEntry.objects.get(pk=entry.pk).object_repr == "原始记录"

    def test_queryset_delete_is_refused(self, entry):
        with pytest.raises(PermissionError):
            AuditEntry.objects.all().delete()
        assert AuditEntry.objects.filter(pk=entry.pk).exists()

    def test_bulk_update_is_refused(self, entry):
        entry.object_repr = "改过的"
        # bulk_update runs in an atomic block of its own: keep the failure in a savepoint.
        with pytest.raises(PermissionError), transaction.atomic():
            AuditEntry.objects.bulk_update([entry], ["object_repr"])
        assert AuditEntry.objects.get(pk=entry.pk).object_repr == "原始记录"


class TestAppendOnlyInTheDatabase:
    """The triggers of migration 0002 stop raw SQL too (a DBA console, a bug elsewhere)."""

    def _raw(self, sql, params):
        # On PostgreSQL the failed statement aborts the transaction: keep it in a savepoint.
        with pytest.raises(DatabaseError) as exc, transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql, params)
        return str(exc.value)

    def test_raw_update_is_refused_by_the_trigger(self, entry):
        table = AuditEntry._meta.db_table
        message = self._raw(
            f"UPDATE {table} SET object_repr = %s WHERE id = %s", ["改过的", entry.pk]
        )
        assert "append-only" in message
        assert AuditEntry.objects.get(pk=entry.pk).object_repr == "原始记录"

    def test_raw_delete_is_refused_by_the_trigger(self, entry):
        table = AuditEntry._meta.db_table
        message = self._raw(f"DELETE FROM {table} WHERE id = %s", [entry.pk])
        assert "append-only" in message
        assert AuditEntry.objects.filter(pk=entry.pk).exists()

    def test_raw_insert_is_still_allowed(self, entry):
        before = AuditEntry.objects.count()
        audit.record(actor=None, action="test.second")
        assert AuditEntry.objects.count() == before + 1


COLUMNS = (
    "at, actor_label, action, object_type, object_id, object_repr, place_path, sensitive, "
    "reason, ip, user_agent, path, changes"
)
REWRITTEN = COLUMNS.replace("object_repr", "'改过的'")


class TestNoRewriteThroughConflictClauses:
    """Conflict clauses that turn an INSERT into a rewrite of an existing entry (issue 15 §6):
    SQLite's REPLACE deletes the old row without firing the delete trigger."""

    def _raw(self, sql, params):
        with pytest.raises(DatabaseError) as exc, transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql, params)
        return str(exc.value)

    def _sqlite_only(self):
        if connection.vendor != "sqlite":
            pytest.skip("SQLite syntax")

    def _unchanged(self, entry):
        assert AuditEntry.objects.get(pk=entry.pk).object_repr == "原始记录"
        assert AuditEntry.objects.filter(pk=entry.pk).count() == 1

    @pytest.mark.parametrize("verb", ["INSERT OR REPLACE INTO", "REPLACE INTO"])
    def test_sqlite_replace_of_an_existing_entry_is_refused(self, entry, verb):
        self._sqlite_only()
        message = self._raw(
            f"{verb} core_auditentry (id, {COLUMNS}) "
            f"SELECT id, {REWRITTEN} FROM core_auditentry WHERE id = %s",
            [entry.pk],
        )
        assert "append-only" in message
        self._unchanged(entry)

    def test_sqlite_update_or_replace_is_refused(self, entry):
        self._sqlite_only()
        other = audit.record(actor=None, action="test.other")
        message = self._raw(
            "UPDATE OR REPLACE core_auditentry SET id = %s WHERE id = %s", [entry.pk, other.pk]
        )
        assert "append-only" in message
        self._unchanged(entry)

    def test_upsert_on_conflict_do_update_is_refused(self, entry):
        # The same statement on SQLite (3.24+) and PostgreSQL.
        message = self._raw(
            f"INSERT INTO core_auditentry (id, {COLUMNS}) "
            f"SELECT id, {COLUMNS} FROM core_auditentry WHERE id = %s "
            "ON CONFLICT (id) DO UPDATE SET object_repr = '改过的'",
            [entry.pk],
        )
        assert "append-only" in message
        self._unchanged(entry)

    def test_upsert_on_conflict_do_nothing_changes_nothing(self, entry):
        # PostgreSQL does nothing; SQLite's insert trigger refuses the statement outright.
        with contextlib.suppress(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO core_auditentry (id, {COLUMNS}) "
                f"SELECT id, {REWRITTEN} FROM core_auditentry WHERE id = %s "
                "ON CONFLICT (id) DO NOTHING",
                [entry.pk],
            )
        self._unchanged(entry)

    def test_a_plain_insert_with_a_new_id_is_still_allowed(self, entry):
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO core_auditentry (id, {COLUMNS}) "
                f"SELECT id + 1000, {COLUMNS} FROM core_auditentry WHERE id = %s",
                [entry.pk],
            )
        assert AuditEntry.objects.filter(pk=entry.pk + 1000).exists()
