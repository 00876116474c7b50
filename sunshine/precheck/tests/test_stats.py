"""Statistics of 好孕好运 (sunshine/precheck/stats.py) on a small world with exact numbers."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from sunshine.core.validators import id_check_char
from sunshine.messaging import rules as sms_rules
from sunshine.messaging.models import Message
from sunshine.precheck import content, stats
from sunshine.precheck.models import Appointment, Assessment, Registration, Target
from sunshine.precheck.tests.test_content import make_institution, make_slot

pytestmark = pytest.mark.django_db

YEAR = 2025


def at(month, day=10, hour=9, year=YEAR):
    return timezone.make_aware(dt.datetime(year, month, day, hour, 0))


def registration(place, n, *, woman_mobile="", man_mobile=""):
    woman, man = f"98010119950101{n:03d}", f"98010119930101{n:03d}"
    return Registration.objects.create(
        number=f"ST{n:04d}",
        woman_name=f"女{n}",
        woman_id_number=woman + id_check_char(woman),
        woman_mobile=woman_mobile,
        man_name=f"男{n}",
        man_id_number=man + id_check_char(man),
        man_mobile=man_mobile,
        place=place,
        place_path=place.path,
        channel=Registration.CLINIC,
    )


def appointment(reg, inst, when, status=Appointment.ATTENDED):
    slot = make_slot(inst, when)
    return Appointment.objects.create(
        registration=reg, slot=slot, place_path=reg.place_path, status=status
    )


def assessment(reg, level, when, doctor):
    return Assessment.objects.create(
        registration=reg,
        place_path=reg.place_path,
        level=level,
        assessed_by=doctor,
        assessed_at=when,
    )


def message(
    mobile, place, *, when, segments=1, cost="0.06", status=sms_rules.SENT, programme="precheck"
):
    return Message.objects.create(
        out_id=uuid.uuid4().hex,
        mobile=mobile,
        place_path=place.path,
        programme=programme,
        status=status,
        due_at=when,
        sent_at=when if status in (sms_rules.SENT, sms_rules.DELIVERED) else None,
        segments=segments,
        cost=Decimal(cost),
    )


@pytest.fixture
def small(world):
    return build_small(world)


def build_small(world):
    """Town A (本镇): three couples — r1 checked in March, r2 in March and again in April, r3
    missed its appointment (and was checked in 2024); town B (外镇): r4 checked in May."""
    doctor = world.users["clinic_doctor"]
    v, ov = world.village, world.other_village
    inst_a, inst_b = make_institution(world.town), make_institution(world.other_town)
    r1 = registration(v, 1, woman_mobile="13700000001")
    r2 = registration(v, 2, man_mobile="13700000002")
    r3 = registration(v, 3, woman_mobile="13700000003")
    r4 = registration(ov, 4, woman_mobile="13700000004")
    appointment(r1, inst_a, at(3, 2))
    appointment(r2, inst_a, at(3, 20))
    appointment(r2, inst_a, at(4, 5))
    appointment(r3, inst_a, at(5, 5), status=Appointment.MISSED)
    appointment(r3, inst_a, at(11, 5, year=YEAR - 1))
    appointment(r4, inst_b, at(5, 8))
    # 1 January 00:30 Beijing time is still 31 December in UTC: it belongs to January here.
    r5 = registration(v, 5)
    appointment(r5, inst_a, timezone.make_aware(dt.datetime(YEAR, 1, 1, 0, 30)))
    assessment(r1, "normal", at(3, 25), doctor)
    assessment(r2, "high", at(4, 25), doctor)
    assessment(r3, "counsel", at(12, 1, year=YEAR - 1), doctor)
    assessment(r4, "counsel", at(5, 20), doctor)
    for d in (1, 2, 3):
        message("13700000001", v, when=at(3, d))
    message("13700000002", v, when=at(4, 1), segments=2, cost="0.12")
    message("13700000003", v, when=at(4, 1), status=sms_rules.QUEUED)  # not billed
    message("13700000003", v, when=at(4, 1), programme="reward")  # another programme
    message("13700000001", v, when=at(12, 30, year=YEAR - 1))  # another year
    message("13700000004", ov, when=at(5, 8), segments=1, cost="0.06")
    Target.objects.create(place=world.town, place_path=world.town.path, year=YEAR, couples=6)
    return world


def rows_by_label(data):
    return {t.label: t for t in data.towns}


class TestStatsNumbers:
    def test_checks_per_town_and_month(self, small):
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
        towns = rows_by_label(data)
        assert set(towns) == {"本镇", "外镇"}
        a, b = towns["本镇"], towns["外镇"]
        assert a.months == [1, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]
        assert a.checked == 3  # r1, r2 (twice, counted once), r5; r3 missed
        assert b.months[4] == 1 and b.checked == 1
        assert data.total.checked == 4 and sum(data.total.months) == 5

    def test_coverage_with_and_without_a_target(self, small):
        towns = rows_by_label(stats.stats_for_actor(small.users["county_clerk"], year=YEAR))
        assert towns["本镇"].target == 6 and towns["本镇"].coverage == Decimal("50.0")
        assert towns["外镇"].target is None and towns["外镇"].coverage is None
        total = stats.stats_for_actor(small.users["county_clerk"], year=YEAR).total
        assert total.target == 6 and total.coverage == Decimal("50.0")  # only towns with a target

    def test_no_target_anywhere_is_not_a_division_by_zero(self, small):
        Target.objects.all().delete()
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
        assert data.total.coverage is None
        _, _, rows = stats.table_rows(data, "coverage")
        assert rows[0][-1] == "未设目标"

    def test_risk_mix_counts_and_percentages(self, small):
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
        assert data.total.risk == {"normal": 1, "counsel": 1, "high": 1}
        assert [pct for *_, pct in data.total.risk_rows] == [Decimal("33.3")] * 3
        assert rows_by_label(data)["本镇"].risk == {"normal": 1, "counsel": 0, "high": 1}

    def test_sms_count_cost_and_cost_per_participant(self, small):
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
        a = rows_by_label(data)["本镇"]
        assert (a.messages, a.segments, a.cost, a.participants) == (4, 5, Decimal("0.30"), 2)
        assert a.cost_per_participant == Decimal("0.15")
        assert a.messages_per_participant == Decimal("2.0")
        t = data.total
        assert (t.messages, t.cost, t.participants) == (5, Decimal("0.36"), 3)
        assert t.cost_per_participant == Decimal("0.12")

    def test_another_year_is_separate(self, small):
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR - 1)
        a = rows_by_label(data)["本镇"]
        assert (a.checked, a.months[10], a.risk["counsel"], a.messages) == (1, 1, 1, 1)
        assert a.target is None

    def test_a_bounded_number_of_queries(self, small, django_assert_max_num_queries):
        for i in range(5):  # more towns and rows must not mean more queries
            registration(small.village, 10 + i, woman_mobile=f"1370000010{i}")
        with django_assert_max_num_queries(8):
            stats.stats_for_actor(small.users["county_clerk"], year=YEAR)


class TestStatsScope:
    def test_town_clerk_sees_only_their_town(self, small):
        data = stats.stats_for_actor(small.users["town_clerk"], year=YEAR)
        assert [t.label for t in data.towns] == ["本镇"]
        assert data.total.checked == 3 and data.total.messages == 4 and data.total.participants == 2
        assert data.total.risk == {"normal": 1, "counsel": 0, "high": 1}

    def test_outsider_sees_only_the_other_town(self, small):
        data = stats.stats_for_actor(small.users["outsider"], year=YEAR)
        assert [t.label for t in data.towns] == ["外镇"]
        assert (data.total.checked, data.total.messages, data.total.participants) == (1, 1, 1)

    def test_data_of_a_place_above_the_towns_gets_its_own_row(self, small):
        reg = registration(small.county, 30)
        appointment(reg, make_institution(small.county), at(6, 1))
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
        assert data.towns[-1].key == stats.OTHER_KEY and data.towns[-1].checked == 1
        town_view = stats.stats_for_actor(small.users["town_clerk"], year=YEAR)
        assert all(t.key != stats.OTHER_KEY for t in town_view.towns)


class TestTablesAndCharts:
    def test_every_table_has_a_row_per_town_and_a_total(self, small):
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
        for table in stats.TABLES:
            title, headers, rows = stats.table_rows(data, table)
            assert str(YEAR) in title
            assert [r[0] for r in rows] == ["本镇", "外镇", "合计"]
            assert all(len(r) == len(headers) for r in rows)
        with pytest.raises(KeyError):
            stats.table_rows(data, "nope")

    def test_charts_carry_the_table_numbers(self, small):
        data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
        charts = stats.charts(data)
        assert charts["months"]["values"] == data.total.months
        assert charts["coverage"] == {**charts["coverage"], "labels": ["本镇"], "values": [50.0]}
        assert charts["sms"]["values"] == [0.15, 0.06]
        assert sum(charts["risk"]["values"]) == 3

    def test_the_seed_figure_is_ten_fen_a_message(self):
        assert stats.YearStats(year=YEAR, towns=[], total=stats.TownStats("t", "t")).seed_note[
            "per_message"
        ] == Decimal("0.10")


def test_targets_module_and_stats_agree_on_towns(small):
    towns = content.town_list_for_actor(small.users["county_clerk"])
    data = stats.stats_for_actor(small.users["county_clerk"], year=YEAR)
    assert [t.name for t in towns] == [t.label for t in data.towns]


class TestStatsApi:
    def test_town_clerk_gets_their_town_as_json(self, client, small):
        client.force_login(small.users["town_clerk"])
        resp = client.get(f"/api/staff/precheck/stats?year={YEAR}")
        assert resp.status_code == 200
        body = resp.json()
        assert [t["label"] for t in body["towns"]] == ["本镇"]
        assert body["total"]["checked"] == 3 and body["total"]["cost_per_participant"] == 0.15
        assert body["towns"][0]["coverage"] == 50.0

    def test_bad_year_is_400_and_observer_is_403(self, client, small):
        client.force_login(small.users["county_clerk"])
        assert client.get("/api/staff/precheck/stats?year=abc").status_code == 400
        client.force_login(small.users["observer"])
        assert client.get("/api/staff/precheck/stats").status_code == 403
