"""The demo county: deterministic, Suining-shaped, with demo accounts that can log in."""

import random
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from sunshine.demo import builder
from sunshine.places import rules
from sunshine.places.models import Place


def _levels(rows):
    return Counter(rules.level_of_code(r.code) for r in rows)


class TestCountyRows:
    def test_same_seed_gives_the_same_codes_and_names(self):
        first = builder.county_rows(1, random.Random(1))
        second = builder.county_rows(1, random.Random(1))
        assert [(r.code, r.name, r.urban_rural_code) for r in first] == [
            (r.code, r.name, r.urban_rural_code) for r in second
        ]

    def test_another_seed_gives_other_names(self):
        first = builder.county_rows(1, random.Random(1))
        other = builder.county_rows(1, random.Random(2))
        assert [r.name for r in first] != [r.name for r in other]

    def test_the_county_has_suinings_shape(self):
        levels = _levels(builder.county_rows(1, random.Random(1)))
        assert levels[rules.COUNTY] == 1
        assert 18 <= levels[rules.TOWN] <= 22
        assert levels[rules.VILLAGE] == 383
        assert 2500 <= levels[rules.GROUP] <= 3500
        assert levels[rules.UNIT] > 0 and levels[rules.RESIDENCE] > 0

    def test_codes_are_unique_valid_and_every_parent_is_in_the_rows(self):
        rows = builder.county_rows(1, random.Random(1))
        codes = [r.code for r in rows]
        assert len(set(codes)) == len(codes)
        paths = [rules.path_of_code(c) for c in codes]
        assert len(set(paths)) == len(paths)
        have = set(codes) | {builder.CITY_CODE}
        assert all(rules.parent_code(c) in have for c in codes)

    def test_town_segments_follow_the_street_town_rule(self):
        rows = builder.county_rows(1, random.Random(1))
        towns = [r for r in rows if rules.level_of_code(r.code) == rules.TOWN]
        for town in towns:
            kind = rules.town_kind(town.code)
            assert town.name.endswith(kind), (town.code, town.name)

    def test_names_are_marked_as_synthetic(self):
        rows = builder.county_rows(1, random.Random(1))
        assert rows[0].name == "阳光县（演示）"
        assert builder.county_rows(2, random.Random(1))[0].name == "阳光2县（演示）"
        assert all(r.code.startswith("99") for r in rows)  # not a real province


@pytest.mark.django_db
class TestBuild:
    def test_build_creates_the_tree_contacts_and_users_who_can_log_in(self, client):
        report = builder.build(seed=1)
        assert builder.demo_exists()
        expected = len(builder.county_rows(1, random.Random(1)))
        assert report.places == expected
        assert Place.objects.filter(code__startswith="990101").count() == expected
        assert Place.objects.filter(level=rules.VILLAGE).count() == 383
        assert [u for u, _, _ in report.users] == [u[0] for u in builder.DEMO_USERS]
        response = client.post(
            "/staff/login/", {"username": "town", "password": builder.DEMO_PASSWORD}
        )
        assert response.status_code == 302 and response["Location"] == "/staff/"
        assert "乡镇专干（演示）" in client.get("/staff/").content.decode()
        county = Place.objects.get(code="990101000000")
        assert county.contacts.filter(kind="hotline").count() == 1

    def test_county_count_outside_1_to_99_is_refused(self):
        with pytest.raises(ValueError, match="1 到 99"):
            builder.build(counties=0)
        assert not builder.demo_exists()


@pytest.mark.django_db
class TestBuildDemoCommand:
    def test_if_absent_twice_builds_once(self, capsys):
        call_command("build-demo", "--if-absent")
        count = Place.objects.count()
        call_command("build-demo", "--if-absent")
        out = capsys.readouterr().out
        assert "已生成 1 个演示县" in out and "演示县已存在，跳过生成" in out
        assert Place.objects.count() == count

    def test_second_run_without_if_absent_is_a_command_error(self):
        call_command("build-demo")
        with pytest.raises(CommandError, match="演示县已存在"):
            call_command("build-demo")

    def test_bad_county_count_is_a_command_error(self):
        with pytest.raises(CommandError, match="1 到 99"):
            call_command("build-demo", "--counties", "100")
