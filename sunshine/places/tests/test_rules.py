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
    # Prefecture-level cities without counties: the city is the county of the tree.
    ("440000000000", rules.PROVINCE, "44", None),
    ("441900000000", rules.COUNTY, "441900", "440000000000"),  # 东莞
    ("441900003000", rules.TOWN, "441900003", "441900000000"),  # 东城街道
    ("441900003002", rules.VILLAGE, "441900003002", "441900003000"),
    ("441900003002001", rules.GROUP, "441900003002001", "441900003002"),
    ("441900003U001", rules.UNIT, "441900003U001", "441900003000"),
    ("441900401000", rules.TOWN, "441900401", "441900000000"),  # a park (4xx)
    ("442000000000", rules.COUNTY, "442000", "440000000000"),  # 中山
    ("442000100000", rules.TOWN, "442000100", "442000000000"),
    ("460400000000", rules.COUNTY, "460400", "460000000000"),  # 儋州
    ("460400100000", rules.TOWN, "460400100", "460400000000"),
    ("620200000000", rules.COUNTY, "620200", "620000000000"),  # 嘉峪关
    ("620200100201", rules.VILLAGE, "620200100201", "620200100000"),
    ("441300000000", rules.CITY, "4413", "440000000000"),  # 惠州: an ordinary city
    ("441302000000", rules.COUNTY, "441302", "441300000000"),
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


class TestCitiesWithoutCounties:
    def test_the_chain_of_a_village_under_such_a_city_ends_at_the_province(self):
        from sunshine.places.models import Place

        assert Place(code="441900003002").ancestor_paths() == [
            "44",
            "441900",
            "441900003",
            "441900003002",
        ]

    def test_a_town_with_00_county_digits_under_an_ordinary_city_is_refused_by_name(self):
        problem = rules.parent_problem("441300001000", rules.CITY)
        assert "441300001000" in problem and "不设区的地级市" in problem and "东莞市" in problem

    def test_a_town_of_such_a_city_is_accepted_under_it(self):
        assert rules.parent_problem("441900003000", rules.COUNTY) is None

    def test_a_county_code_inside_such_a_city_is_refused(self):
        # 441901 would sit under 东莞 as a county of a county.
        assert "不在上级 441900000000（县）之下" in rules.parent_problem(
            "441901000000", rules.COUNTY
        )

    @pytest.mark.parametrize("city", sorted(rules.COUNTYLESS_CITIES))
    def test_no_code_outside_such_a_city_falls_under_its_path(self, city):
        path = rules.path_of_code(city + "000000")
        neighbours = [city[:4] + "01000000", city[:4] + "99001000", city[:5] + "1001000"]
        neighbours.append(str(int(city) + 100) + "000000")  # the next city
        for code in neighbours:
            try:
                other = rules.path_of_code(code)
            except ServiceError:
                continue
            assert not other.startswith(path), (code, other)

    def test_kind_label_of_such_a_city_is_city(self):
        from sunshine.places.models import Place

        place = Place(code="441900000000", level=rules.COUNTY)
        assert place.kind_label == "市"
        assert Place(code="320324000000", level=rules.COUNTY).kind_label == "县"


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
