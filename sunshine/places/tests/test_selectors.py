"""Reads of the place tree: public lookups, children, ancestors, scoped lists, contacts."""

import pytest
from django.http import Http404

from sunshine.places import selectors, services
from sunshine.places.models import Place

pytestmark = pytest.mark.django_db


class TestPublicLookups:
    def test_place_is_found_by_code_with_its_parent(self, world, django_assert_num_queries):
        with django_assert_num_queries(1):
            place = selectors.place_get_public("980101100001")
            assert place.parent.name == "本镇"

    def test_unknown_code_is_404_in_chinese(self, world):
        with pytest.raises(Http404, match="没有这个地方"):
            selectors.place_get_public("999999999999")

    def test_inactive_place_is_404(self, world):
        Place.objects.filter(code="980101100002").update(is_active=False)
        with pytest.raises(Http404):
            selectors.place_get_public("980101100002")

    def test_root_list_is_the_counties(self, world):
        assert [p.name for p in selectors.place_root_list()] == ["甲县", "乙县"]


class TestTree:
    def test_children_are_direct_only_ordered_by_level_then_path_with_counts(self, world):
        children = list(selectors.place_children(world.town))
        assert [c.code for c in children] == [
            "980101100R001",
            "980101100U001",
            "980101100001",
            "980101100002",
        ]
        counts = {c.code: c.child_count for c in children}
        assert counts["980101100001"] == 3 and counts["980101100002"] == 0

    def test_inactive_children_are_left_out_and_not_counted(self, world):
        Place.objects.filter(code="980101100001001").update(is_active=False)
        village = next(c for c in selectors.place_children(world.town) if c.code == "980101100001")
        assert village.child_count == 2
        assert "980101100001001" not in {c.code for c in selectors.place_children(world.village)}

    def test_ancestors_are_top_first_without_the_place_itself(self, world):
        group = Place.objects.get(code="980101100001001")
        assert [p.name for p in selectors.place_ancestors(group)] == [
            "测试省",
            "测试市",
            "甲县",
            "本镇",
            "本镇一村",
        ]

    def test_ancestors_of_a_town_unit(self, world):
        unit = Place.objects.get(code="980101100U001")
        assert [p.name for p in selectors.place_ancestors(unit)][-1] == "本镇"

    def test_province_has_no_ancestors(self, world):
        assert selectors.place_ancestors(Place.objects.get(code="980000000000")) == []

    def test_subtree_includes_the_place_and_everything_below_only(self, world):
        codes = set(selectors.place_subtree(world.village).values_list("code", flat=True))
        assert codes == {"980101100001", "980101100001001", "980101100001002", "980101100001R001"}

    def test_level_counts_use_chinese_labels_and_exclude_the_place(self, world):
        assert selectors.place_level_counts(world.town) == {
            "村（社区）": 2,
            "村民小组": 2,
            "单位": 1,
            "居住地": 2,
        }


class TestPlaceListForActor:
    def test_list_is_scoped_and_ordered_by_path(self, world):
        places = list(selectors.place_list_for_actor(world.users["town_clerk"]))
        assert places[0] == world.town
        assert [p.path for p in places] == sorted(p.path for p in places)
        assert not any("外镇" in p.name for p in places)

    def test_level_filter(self, world):
        places = selectors.place_list_for_actor(world.users["county_admin"], level="village")
        assert {p.name for p in places} == {"本镇一村", "本镇二村", "外镇一村"}

    def test_q_matches_name_or_code_prefix(self, world):
        admin = world.users["county_admin"]
        assert {p.code for p in selectors.place_list_for_actor(admin, q="二村")} == {"980101100002"}
        by_code = {p.code for p in selectors.place_list_for_actor(admin, q="980101101")}
        assert by_code and all(c.startswith("980101101") for c in by_code)

    def test_q_cannot_reach_outside_scope(self, world):
        assert not selectors.place_list_for_actor(world.users["town_clerk"], q="外镇").exists()

    def test_get_for_actor_is_404_outside_scope(self, world):
        with pytest.raises(Http404):
            selectors.place_get_for_actor(world.users["town_clerk"], "980101101001")
        assert selectors.place_get_for_actor(world.users["town_clerk"], "980101100001") == (
            world.village
        )


class TestContacts:
    def test_public_contacts_are_this_place_and_above(self, world):
        services.contact_create(
            actor=None, place=world.county, department="县监督电话", phone="12", kind="hotline"
        )
        names = [c.department for c in selectors.contact_list_public(world.village)]
        assert set(names) == {"本镇卫健办", "县监督电话"}

    def test_public_contacts_never_include_a_sibling_town(self, world):
        names = {c.department for c in selectors.contact_list_public(world.town)}
        assert "外镇卫健办" not in names

    def test_staff_contacts_are_scoped(self, world):
        assert [
            c.department for c in selectors.contact_list_for_actor(world.users["town_clerk"])
        ] == ["本镇卫健办"]
