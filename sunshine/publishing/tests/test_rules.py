"""The pure rules of the publication pipeline: transitions, target levels, notice periods."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from sunshine.places import rules as place_rules
from sunshine.publishing import rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
STATUSES = list(rules.STATUS_LABELS)


class TestTransitions:
    @pytest.mark.parametrize(
        ("current", "target", "capability"),
        [
            (rules.DRAFT, rules.REVIEW, "publishing.draft"),
            (rules.REVIEW, rules.DRAFT, "publishing.review"),
            (rules.REVIEW, rules.PUBLISHED, "publishing.review"),
            (rules.REVIEW, rules.SCHEDULED, "publishing.review"),
            (rules.SCHEDULED, rules.PUBLISHED, "publishing.review"),
            (rules.PUBLISHED, rules.WITHDRAWN, "publishing.review"),
            (rules.PUBLISHED, rules.ARCHIVED, "publishing.review"),
            (rules.WITHDRAWN, rules.ARCHIVED, "publishing.review"),
        ],
    )
    def test_each_allowed_transition_names_the_capability_it_needs(
        self, current, target, capability
    ):
        assert rules.can_transition(current, target) == capability

    def test_every_other_pair_is_refused(self):
        allowed = set(rules.TRANSITIONS)
        for pair in itertools.product(STATUSES, STATUSES):
            if pair not in allowed:
                assert rules.can_transition(*pair) is None, pair

    def test_a_draft_cannot_skip_review(self):
        assert rules.can_transition(rules.DRAFT, rules.PUBLISHED) is None

    def test_nothing_leaves_the_archive(self):
        assert all(rules.can_transition(rules.ARCHIVED, s) is None for s in STATUSES)

    def test_only_published_items_are_public(self):
        assert rules.PUBLIC_STATUSES == (rules.PUBLISHED,)

    def test_every_status_and_kind_has_a_chinese_label(self):
        assert set(rules.STATUS_LABELS) == {
            "draft",
            "review",
            "scheduled",
            "published",
            "withdrawn",
            "archived",
        }
        assert rules.KIND_LABELS[rules.KIND_NOTICE] == "公示"


class TestLevels:
    def test_a_county_may_target_all_six_levels(self):
        assert rules.levels_below(place_rules.COUNTY) == list(place_rules.PUBLICATION_LEVELS)

    def test_a_town_targets_its_own_level_and_below(self):
        assert rules.levels_below(place_rules.TOWN) == [
            "town",
            "village",
            "group",
            "unit",
            "residence",
        ]

    def test_a_village_cannot_target_the_town(self):
        assert place_rules.TOWN not in rules.levels_below(place_rules.VILLAGE)

    def test_a_residence_targets_only_itself(self):
        assert rules.levels_below(place_rules.RESIDENCE) == ["residence"]

    @pytest.mark.parametrize("level", [place_rules.PROVINCE, place_rules.CITY])
    def test_a_province_or_city_may_target_every_publication_level(self, level):
        assert rules.levels_below(level) == list(place_rules.PUBLICATION_LEVELS)

    def test_an_unknown_level_targets_nothing(self):
        assert rules.levels_below("") == []

    def test_levels_are_stored_in_tree_order_with_commas_around(self):
        assert rules.encode_levels(["group", "town", "village"]) == ",town,village,group,"

    def test_no_levels_store_as_empty(self):
        assert rules.encode_levels([]) == ""

    def test_unknown_levels_are_dropped_when_encoding(self):
        assert rules.encode_levels(["village", "moon"]) == ",village,"

    @pytest.mark.parametrize(
        "levels", [[], ["town"], ["county", "residence"], list(place_rules.PUBLICATION_LEVELS)]
    )
    def test_decoding_gives_back_what_was_encoded(self, levels):
        assert rules.decode_levels(rules.encode_levels(levels)) == levels

    def test_decoding_nothing_gives_an_empty_list(self):
        assert rules.decode_levels(None) == [] and rules.decode_levels("") == []


class TestNoticePeriod:
    def test_a_seven_day_notice_runs_to_the_end_of_the_seventh_day(self):
        published = dt.datetime(2026, 3, 2, 15, 30, tzinfo=SHANGHAI)
        assert rules.notice_ends(published, 7) == dt.datetime(
            2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI
        )

    def test_a_notice_published_just_before_midnight_still_gets_full_days(self):
        published = dt.datetime(2026, 3, 2, 23, 59, tzinfo=SHANGHAI)
        assert rules.notice_ends(published, 1).date() == dt.date(2026, 3, 3)

    def test_the_period_crosses_month_ends(self):
        published = dt.datetime(2026, 2, 25, 9, 0, tzinfo=SHANGHAI)
        assert rules.notice_ends(published, 7).date() == dt.date(2026, 3, 4)

    def test_the_end_keeps_the_timezone_of_publication(self):
        published = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
        assert rules.notice_ends(published, 7).tzinfo is SHANGHAI

    def test_the_notice_is_open_up_to_its_last_second(self):
        ends = dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)
        assert rules.notice_is_open(ends, ends)
        assert not rules.notice_is_open(ends, ends + dt.timedelta(seconds=1))

    def test_without_an_end_a_notice_is_not_open(self):
        assert not rules.notice_is_open(None, dt.datetime(2026, 1, 1, tzinfo=SHANGHAI))


class TestCanFinalise:
    ENDS = dt.datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)

    def test_an_open_objection_blocks_finalising_and_says_how_many(self):
        reason = rules.can_finalise(
            ends_at=self.ENDS, now=self.ENDS + dt.timedelta(days=1), open_objections=2
        )
        assert reason == "还有 2 条异议没有答复，答复后才能办结公示。"

    def test_a_running_period_blocks_finalising_and_names_the_end_date(self):
        reason = rules.can_finalise(ends_at=self.ENDS, now=self.ENDS, open_objections=0)
        assert reason == "公示期到 2026年03月09日 才结束，期满后才能办结。"

    def test_after_the_period_with_every_objection_answered_it_may_be_finalised(self):
        now = self.ENDS + dt.timedelta(seconds=1)
        assert rules.can_finalise(ends_at=self.ENDS, now=now, open_objections=0) is None

    def test_objections_are_reported_before_the_period(self):
        reason = rules.can_finalise(ends_at=self.ENDS, now=self.ENDS, open_objections=1)
        assert "异议" in reason


class TestTrackingCode:
    def test_codes_are_ten_characters_without_look_alikes(self):
        codes = {rules.tracking_code() for _ in range(200)}
        assert len(codes) == 200
        for code in codes:
            assert len(code) == 10 and set(code) <= set(rules.TRACKING_ALPHABET)
            assert not set(code) & set("01IO")
