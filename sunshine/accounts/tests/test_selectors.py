"""Staff lists and lookups, scoped by the reader's place."""

import pytest
from django.http import Http404

from sunshine.accounts import selectors

pytestmark = pytest.mark.django_db


class TestUserSelectors:
    def test_town_clerk_lists_the_towns_staff_only_ordered_by_place(self, world):
        users = list(selectors.user_list_for_actor(world.users["town_clerk"]))
        assert {u.username for u in users} == {
            "town_clerk",
            "clinic_doctor",
            "village_cadre",
            "probe",
        }
        assert [u.place.path for u in users] == sorted(u.place.path for u in users)

    def test_county_admin_does_not_list_the_other_county(self, world):
        names = {u.username for u in selectors.user_list_for_actor(world.users["county_admin"])}
        assert "outsider" in names and "other_county_admin" not in names

    def test_user_outside_scope_is_404(self, world):
        with pytest.raises(Http404):
            selectors.user_get_for_actor(world.users["town_clerk"], world.users["outsider"].pk)
        cadre = world.users["village_cadre"]
        assert selectors.user_get_for_actor(world.users["town_clerk"], cadre.pk) == cadre
