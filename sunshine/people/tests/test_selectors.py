"""Reads of residents: scoped lists with filters, and the audited read of full identifiers."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from sunshine.core.models import AuditEntry
from sunshine.core.validators import id_check_char
from sunshine.people import selectors, services

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 28)


def add(name, body17, sex, code, **extra):
    return services.resident_create(
        actor=None,
        data={
            "name": name,
            "sex": sex,
            "id_number": body17 + id_check_char(body17),
            "place_code": code,
            **extra,
        },
        today=TODAY,
    )


def names(qs) -> list[str]:
    return [r.name for r in qs]


class TestResidentListForActor:
    def test_town_clerk_sees_the_residents_of_their_own_town_only(self, world):
        assert names(selectors.resident_list_for_actor(world.users["town_clerk"])) == [
            "本镇居民甲",
            "本镇居民乙",
        ]

    def test_village_cadre_sees_their_village_only(self, world):
        add("二村居民", "98010119700101011", "男", "980101100002")
        assert names(selectors.resident_list_for_actor(world.users["town_clerk"])) == [
            "本镇居民甲",
            "本镇居民乙",
            "二村居民",
        ]
        assert names(selectors.resident_list_for_actor(world.users["village_cadre"])) == [
            "本镇居民甲",
            "本镇居民乙",
        ]

    def test_county_staff_see_the_whole_county_but_not_another_county(self, world):
        add("乙县居民", "98010219700101011", "男", "980102100001")
        seen = names(selectors.resident_list_for_actor(world.users["county_admin"]))
        assert sorted(seen) == ["外镇居民丙", "本镇居民乙", "本镇居民甲"]

    @pytest.mark.parametrize("actor", [None, AnonymousUser()])
    def test_no_user_sees_nothing(self, world, actor):
        assert not selectors.resident_list_for_actor(actor).exists()

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("本镇居民", ["本镇居民甲", "本镇居民乙"]),
            (" 本镇居民乙 ", ["本镇居民乙"]),
            ("居民甲", []),  # the name is matched from its start only
            ("13800001234", ["本镇居民甲"]),
            ("1380000", []),  # a mobile only in full
            ("外镇居民丙", []),  # never outside the scope
        ],
    )
    def test_q_matches_a_name_prefix_or_a_full_mobile(self, world, q, expected):
        assert names(selectors.resident_list_for_actor(world.users["town_clerk"], q=q)) == expected

    def test_q_matches_a_full_id_number_in_any_case_but_not_a_part_of_it(self, world):
        x = add("带X的人", "98010119800101059", "男", "980101100001001")
        assert x.id_number.endswith("X")
        own = world.residents["own"]
        clerk = world.users["town_clerk"]
        assert names(selectors.resident_list_for_actor(clerk, q=own.id_number)) == ["本镇居民甲"]
        assert names(selectors.resident_list_for_actor(clerk, q=x.id_number.lower())) == ["带X的人"]
        assert names(selectors.resident_list_for_actor(clerk, q=own.id_number[:10])) == []

    def test_q_for_another_towns_full_id_number_finds_nothing(self, world):
        other = world.residents["other"]
        clerk = world.users["town_clerk"]
        assert not selectors.resident_list_for_actor(clerk, q=other.id_number).exists()

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("980101100001001", ["本镇居民甲"]),
            ("980101100001", ["本镇居民甲", "本镇居民乙"]),
            ("980101100002", []),
            ("980101109999", []),  # no such place
            ("980101101001001", []),  # another town's group is still outside the scope
        ],
    )
    def test_place_filter_keeps_residents_under_that_place(self, world, code, expected):
        qs = selectors.resident_list_for_actor(world.users["town_clerk"], place_code=code)
        assert names(qs) == expected

    def test_status_filter(self, world):
        own2 = world.residents["own2"]
        services.resident_update(
            actor=None,
            resident=own2,
            data={
                "name": own2.name,
                "sex": "女",
                "id_number": own2.id_number,
                "place_code": own2.place.code,
                "status": "迁出",
            },
            today=TODAY,
        )
        clerk = world.users["town_clerk"]
        assert names(selectors.resident_list_for_actor(clerk, status="moved")) == ["本镇居民乙"]
        assert names(selectors.resident_list_for_actor(clerk, status="resident")) == ["本镇居民甲"]
        assert names(selectors.resident_list_for_actor(clerk, status="deceased")) == []

    def test_filters_combine(self, world):
        clerk = world.users["town_clerk"]
        qs = selectors.resident_list_for_actor(
            clerk, q="本镇居民", place_code="980101100001002", status="resident"
        )
        assert names(qs) == ["本镇居民乙"]

    def test_rows_come_ordered_by_place_then_name(self, world):
        add("阿大", "98010119700101011", "男", "980101100001002")
        add("阿二", "98010119700101021", "男", "980101100001001")
        assert names(selectors.resident_list_for_actor(world.users["town_clerk"])) == [
            "本镇居民甲",
            "阿二",
            "本镇居民乙",
            "阿大",
        ]


class TestResidentGetForActor:
    def test_a_resident_outside_the_scope_is_404(self, world):
        with pytest.raises(Http404):
            selectors.resident_get_for_actor(world.users["town_clerk"], world.residents["other"].pk)

    def test_a_resident_inside_the_scope_comes_with_place_and_household(
        self, world, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            r = selectors.resident_get_for_actor(
                world.users["town_clerk"], world.residents["own"].pk
            )
            assert (r.place.code, r.household.number, r.residence) == (
                "980101100001001",
                "Hown",
                None,
            )


class TestResidentIdentifiers:
    @pytest.mark.parametrize("user", ["town_clerk", "county_clerk", "village_cadre"])
    def test_allowed_roles_get_the_full_values_and_each_read_is_audited(self, world, user):
        actor, r = world.users[user], world.residents["own"]
        values = selectors.resident_identifiers(actor, r, reason="上门随访")
        assert values == {"id_number": r.id_number, "mobile": "13800001234"}
        entry = AuditEntry.objects.get(action="resident.read_sensitive")
        assert entry.sensitive is True and entry.actor == actor
        assert (entry.object_type, entry.object_id) == ("people.resident", str(r.pk))
        assert entry.place_path == r.place_path and entry.reason == "上门随访"
        assert entry.changes == {"fields": ["id_number", "mobile"]}

    def test_two_reads_write_two_rows(self, world):
        actor, r = world.users["town_clerk"], world.residents["own"]
        selectors.resident_identifiers(actor, r)
        selectors.resident_identifiers(actor, r)
        assert AuditEntry.objects.filter(action="resident.read_sensitive").count() == 2

    @pytest.mark.parametrize(
        "user",
        ["county_admin", "clinic_doctor", "call_operator", "discipline_inspector", "observer"],
    )
    def test_roles_without_the_identifiers_capability_are_refused_and_nothing_is_audited(
        self, world, user
    ):
        with pytest.raises(PermissionDenied):
            selectors.resident_identifiers(world.users[user], world.residents["own"])
        assert not AuditEntry.objects.filter(sensitive=True).exists()

    @pytest.mark.parametrize("actor", [None, AnonymousUser()])
    def test_nobody_signed_in_is_refused(self, world, actor):
        with pytest.raises(PermissionDenied):
            selectors.resident_identifiers(actor, world.residents["own"])
        assert not selectors.can_see_identifiers(actor)


class TestCoupleListForActor:
    def test_couples_are_scoped_by_the_wifes_place(self, world):
        services.couple_create(
            actor=None, husband=world.residents["other"], wife=world.residents["own2"]
        )
        assert selectors.couple_list_for_actor(world.users["town_clerk"]).count() == 1
        assert selectors.couple_list_for_actor(world.users["outsider"]).count() == 0
