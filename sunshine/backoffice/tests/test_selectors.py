"""The audit search behind the audit pages and the API: scoped, filtered, newest first."""

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from sunshine.backoffice import selectors
from sunshine.core import audit

pytestmark = pytest.mark.django_db


class TestAuditSearchForActor:
    def test_scoped_to_the_readers_place_and_newest_first(self, world):
        first = audit.record(actor=None, action="t.a", obj=world.village)
        second = audit.record(actor=None, action="t.b", obj=world.town)
        audit.record(actor=None, action="t.c", obj=world.other_village)
        entries = list(selectors.audit_search_for_actor(world.users["town_clerk"]))
        assert entries[:2] == [second, first]
        assert "t.c" not in {e.action for e in entries}

    def test_entries_without_a_place_are_for_superusers_without_a_place_only(self, world):
        audit.record(actor=None, action="auth.login_failed", object_repr="someone")
        assert not selectors.audit_search_for_actor(world.users["county_admin"]).filter(
            action="auth.login_failed"
        )

    def test_filters_combine(self, world):
        entry = audit.record(
            actor=world.users["town_clerk"], action="place.update", obj=world.village
        )
        audit.record(actor=None, action="place.create", obj=world.village)
        day = timezone.localtime(entry.at).date()
        found = selectors.audit_search_for_actor(
            world.users["county_admin"],
            q="本地town",
            action="place.update",
            date_from=day,
            date_to=day,
        )
        assert list(found) == [entry]
        later = day + dt.timedelta(days=1)
        assert not selectors.audit_search_for_actor(
            world.users["county_admin"], date_from=later
        ).exists()

    def test_ip_prefix_search(self, world):
        from sunshine.core import context

        token = context.set_current(context.RequestInfo(ip="10.20.30.40"))
        try:
            entry = audit.record(actor=None, action="t.ip", obj=world.village)
        finally:
            context.reset(token)
        assert list(selectors.audit_search_for_actor(world.users["county_admin"], q="10.20.")) == [
            entry
        ]

    def test_get_outside_scope_is_404(self, world):
        other = audit.record(actor=None, action="t", obj=world.other_village)
        with pytest.raises(Http404):
            selectors.audit_get_for_actor(world.users["town_clerk"], other.pk)
