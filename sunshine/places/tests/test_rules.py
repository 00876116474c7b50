"""Pure rules of the division-code tree: levels, scoping paths, parents, township kinds."""

import pytest

from sunshine.core.errors import ServiceError
from sunshine.places import rules

# code, level, path, parent
TREE = [
    ("320000000000", rules.PROVINCE, "32", None),
    ("320300000000", rules.CITY, "3203", "320000000000"),
    ("320324000000", rules.COUNTY, "320324", "320300000000"),
    ("320324110000", rules.TOWN, "320324110", "320324000000"),
    ("320324110201", rules.VILLAGE, "320324110201", "320324110000"),
    ("320324110201003", rules.GROUP, "320324110201003", "320324110201"),
    ("320324110U001", rules.UNIT, "320324110U001", "320324110000"),
    ("320324110R002", rules.RESIDENCE, "320324110R002", "320324110000"),
    ("320324110201U001", rules.UNIT, "320324110201U001", "320324110201"),
    ("320324110201R001", rules.RESIDENCE, "320324110201R001", "320324110201"),
]


class TestLevelOfCode:
    @pytest.mark.parametrize("code,level", [(c, lv) for c, lv, _, _ in TREE])
    def test_each_level_is_recognised(self, code, level):
        assert rules.level_of_code(code) == level

    def test_surrounding_spaces_are_ignored(self):
        assert rules.level_of_code(" 320324000000 ") == rules.COUNTY

    @pytest.mark.parametrize("code", ["32032411000", "3203241100001", "3203241102010031"])
    def test_wrong_length_is_rejected_naming_code_and_length(self, code):
        with pytest.raises(ServiceError) as exc:
            rules.level_of_code(code)
        assert code in exc.value.message and f"现在是{len(code)}位" in exc.value.message

    @pytest.mark.parametrize("code", ["32032411000A", "3203-2411000", "320324110X001"])
    def test_non_digits_are_rejected_naming_the_code(self, code):
        with pytest.raises(ServiceError) as exc:
            rules.level_of_code(code)
        assert code in exc.value.message and "只能包含数字" in exc.value.message

    def test_group_with_000_sequence_is_rejected_naming_the_code(self):
        with pytest.raises(ServiceError) as exc:
            rules.level_of_code("320324110201000")
        assert "320324110201000" in exc.value.message and "000" in exc.value.message

    @pytest.mark.parametrize("code", ["", None])
    def test_empty_code_is_rejected(self, code):
        with pytest.raises(ServiceError):
            rules.level_of_code(code)

    @pytest.mark.parametrize(
        "code",
        ["３２０３２４１１０２０１", "３２０３２４１１０２０１００３", "３２０３２４１１０U001"],
    )
    def test_full_width_digits_are_rejected(self, code):
        # \\d and str.isdigit() accept them; stored, they would never match an ASCII search.
        with pytest.raises(ServiceError) as exc:
            rules.level_of_code(code)
        assert code in exc.value.message

    @pytest.mark.parametrize("code", ["320324110000U001", "320324000000R001"])
    def test_unit_hung_on_a_12_digit_town_or_county_code_is_rejected(self, code):
        # 320324110000U001 would share the path 320324110U001 with the town's own unit.
        with pytest.raises(ServiceError) as exc:
            rules.level_of_code(code)
        assert code in exc.value.message


class TestPathAndParent:
    @pytest.mark.parametrize("code,path", [(c, p) for c, _, p, _ in TREE])
    def test_path_is_the_significant_prefix(self, code, path):
        assert rules.path_of_code(code) == path

    @pytest.mark.parametrize("code,parent", [(c, p) for c, _, _, p in TREE])
    def test_parent_code_is_the_place_directly_above(self, code, parent):
        assert rules.parent_code(code) == parent

    @pytest.mark.parametrize("code", [c for c, _, _, p in TREE if p])
    def test_every_path_starts_with_its_parents_path(self, code):
        assert rules.path_of_code(code).startswith(rules.path_of_code(rules.parent_code(code)))

    def test_paths_of_distinct_codes_are_distinct(self):
        paths = [rules.path_of_code(c) for c, *_ in TREE]
        assert len(set(paths)) == len(paths)

    def test_sibling_towns_paths_do_not_prefix_each_other(self):
        # A town path of 9 digits: 320324110 does not start 320324111's subtree.
        assert not rules.path_of_code("320324111001").startswith(rules.path_of_code("320324110000"))

    def test_bad_code_raises_from_path_and_parent_too(self):
        for fn in (rules.path_of_code, rules.parent_code):
            with pytest.raises(ServiceError, match="12345"):
                fn("12345")

    def test_parent_of_each_level_is_an_allowed_parent_level(self):
        for _code, level, _, parent in TREE:
            if parent:
                assert rules.level_of_code(parent) in rules.ALLOWED_PARENT_LEVELS[level]


class TestTownKind:
    @pytest.mark.parametrize(
        "segment,kind",
        [
            ("001", "街道"),
            ("099", "街道"),
            ("100", "镇"),
            ("199", "镇"),
            ("200", "乡"),
            ("399", "乡"),
            ("400", "园区"),
        ],
    )
    def test_township_segment_gives_the_kind(self, segment, kind):
        assert rules.town_kind(f"320324{segment}000") == kind
