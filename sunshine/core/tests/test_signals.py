"""Log-in, log-out and refused log-ins are written to the audit log."""

import pytest
from django.contrib.auth import authenticate

from sunshine.core.models import AuditEntry
from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.django_db


class TestAuthSignals:
    def test_logout_is_recorded_with_the_users_place(self, client, world):
        client.post("/staff/login/", {"username": "village_cadre", "password": PASSWORD})
        client.post("/staff/logout/")
        entry = AuditEntry.objects.get(action="auth.logout")
        assert entry.actor == world.users["village_cadre"]
        assert entry.place_path == world.village.path

    def test_refused_login_records_the_username_tried_without_an_actor(self, world, rf):
        assert authenticate(rf.post("/"), username="nobody", password="x") is None
        entry = AuditEntry.objects.get(action="auth.login_failed")
        assert (entry.actor, entry.object_repr, entry.place_path) == (None, "nobody", "")

    def test_the_password_tried_is_never_stored(self, world, rf):
        authenticate(rf.post("/"), username="town_clerk", password="secret-guess-123")
        entry = AuditEntry.objects.get(action="auth.login_failed")
        assert "secret-guess-123" not in str(entry.changes) + entry.object_repr + entry.reason
