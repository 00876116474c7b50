"""The one scoping mechanism: capture scope for writes, view scope for reads, 404 outside."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from sunshine.accounts import roles
from sunshine.accounts import services as account_services
from sunshine.accounts.models import User
from sunshine.core import audit
from sunshine.core.models import AuditEntry
from sunshine.places import scoping
from sunshine.places.models import Contact, Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def wide_reader(world):
    """A town clerk who may read the whole county but change only the town."""
    return account_services.user_create(
        actor=None,
        username="wide",
        password="wide-pass-2026",
        role=roles.TOWN_CLERK,
        place=world.town,
        view_place=world.county,
    )


def _codes(qs):
    return set(qs.values_list("code", flat=True))


class TestScope:
    def test_town_user_reads_only_their_towns_subtree(self, world):
        codes = _codes(scoping.scope(Place.objects.all(), world.users["town_clerk"]))
        assert codes and all(c.startswith("980101100") for c in codes)
        assert "980101100001001" in codes and "980101100U001" in codes

    def test_view_scope_reads_more_but_writes_less(self, world, wide_reader):
        reads = _codes(scoping.scope(Place.objects.all(), wide_reader))
        writes = _codes(scoping.scope(Place.objects.all(), wide_reader, write=True))
        assert "980101101001" in reads and "980101101001" not in writes
        assert writes < reads
        assert all(c.startswith("980101100") for c in writes)
        assert not any(c.startswith("980102") for c in reads)  # not the other county

    def test_scope_follows_relations_declared_by_scope_path(self, world):
        contacts = scoping.scope(Contact.objects.all(), world.users["town_clerk"])
        assert [c.department for c in contacts] == ["本镇卫健办"]
        users = scoping.scope(User.objects.all(), world.users["town_clerk"])
        assert "outsider" not in {u.username for u in users}

    def test_audit_entries_are_scoped_by_their_place_path(self, world):
        audit.record(actor=None, action="t.own", obj=world.village)
        audit.record(actor=None, action="t.other", obj=world.other_village)
        actions = set(
            scoping.scope(AuditEntry.objects.all(), world.users["town_clerk"]).values_list(
                "action", flat=True
            )
        )
        assert "t.own" in actions and "t.other" not in actions

    def test_superuser_without_a_place_sees_everything(self, world):
        root = User.objects.create(username="root", is_superuser=True, is_staff=True)
        assert scoping.scope(Place.objects.all(), root).count() == Place.objects.count()
        assert scoping.path_in_scope(root, "980102", write=True)

    def test_superuser_with_a_place_is_scoped_like_anyone(self, world):
        codes = _codes(scoping.scope(Place.objects.all(), world.users["probe"]))
        assert "980101101000" not in codes and "980101100000" in codes

    def test_staff_without_a_place_sees_nothing(self, world):
        nobody = User.objects.create(username="noplace", role=roles.COUNTY_ADMIN)
        assert not scoping.scope(Place.objects.all(), nobody).exists()

    def test_inactive_user_sees_nothing(self, world):
        user = world.users["county_admin"]
        user.is_active = False
        assert not scoping.scope(Place.objects.all(), user).exists()
        assert not scoping.path_in_scope(user, world.county.path)

    @pytest.mark.parametrize("actor", [None, AnonymousUser()])
    def test_anonymous_sees_nothing(self, world, actor):
        assert not scoping.scope(Place.objects.all(), actor).exists()
        assert scoping.read_prefix(actor) is None and scoping.write_prefix(actor) is None

    def test_a_model_without_scope_path_cannot_be_scoped(self, world):
        from django.contrib.contenttypes.models import ContentType

        with pytest.raises(TypeError, match="scope_path"):
            scoping.scope(ContentType.objects.all(), world.users["county_admin"])


class TestGetForActor:
    def test_object_inside_scope_is_returned(self, world):
        place = scoping.get_for_actor(
            Place.objects.all(), world.users["town_clerk"], code="980101100001"
        )
        assert place == world.village

    def test_object_outside_scope_is_404_not_403(self, world):
        with pytest.raises(Http404):
            scoping.get_for_actor(
                Place.objects.all(), world.users["town_clerk"], code="980101101001"
            )

    def test_view_scope_object_is_readable_but_404_for_writing(self, world, wide_reader):
        qs = Place.objects.all()
        assert scoping.get_for_actor(qs, wide_reader, code="980101101001") == world.other_village
        with pytest.raises(Http404):
            scoping.get_for_actor(qs, wide_reader, write=True, code="980101101001")

    def test_malformed_lookup_value_is_404_not_500(self, world):
        with pytest.raises(Http404):
            scoping.get_for_actor(Place.objects.all(), world.users["county_admin"], pk="abc")

    def test_unknown_object_is_404(self, world):
        with pytest.raises(Http404):
            scoping.get_for_actor(Place.objects.all(), world.users["county_admin"], code="0")


class TestPathInScope:
    def test_paths_under_the_place_are_in_scope(self, world):
        clerk = world.users["town_clerk"]
        assert scoping.path_in_scope(clerk, "980101100", write=True)
        assert scoping.path_in_scope(clerk, "980101100001001", write=True)

    def test_parent_and_sibling_paths_are_not(self, world):
        clerk = world.users["town_clerk"]
        assert not scoping.path_in_scope(clerk, "980101")
        assert not scoping.path_in_scope(clerk, "980101101001")
        assert not scoping.path_in_scope(clerk, "")
