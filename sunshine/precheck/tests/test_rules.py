"""The pure rules of results and risk: ranges, blood types, levels, couple rules, override."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sunshine.precheck import catalogue, rules


@dataclass
class Item:
    number: int
    code: str
    name: str
    kind: str
    applies_to: str
    result_type: str
    unit: str
    ref_low: Decimal | None
    ref_high: Decimal | None
    abnormal_risk: str
    description: str = ""


@dataclass
class R:
    item: Item
    subject: str
    value: str
    is_abnormal: bool


def _items() -> dict[str, Item]:
    out = {}
    for n, code, name, kind, applies, rtype, unit, low, high, risk, desc in catalogue.ITEMS:
        out[code] = Item(
            n,
            code,
            name,
            kind,
            applies,
            rtype,
            unit,
            None if low is None else Decimal(low),
            None if high is None else Decimal(high),
            risk,
            desc,
        )
    return out


ITEMS = _items()
GLUCOSE, ALT, HB, TSH = ITEMS["glucose"], ITEMS["liver"], ITEMS["blood"], ITEMS["thyroid"]


def complete(**abnormal) -> list[R]:
    """A full set of normal results; `abnormal={"hbv": "FM"}` marks partners abnormal; a
    value may be given as code=("F", "value")."""
    out = []
    for item in ITEMS.values():
        if not rules.is_result_item(item):
            continue
        for s in ("F", "M"):
            if not rules.applies(item, s):
                continue
            bad = s in abnormal.get(item.code.replace("-", "_"), "")
            if item.result_type == rules.VALUE:
                value = str(item.ref_high + 1 if bad else item.ref_high)
            elif item.code == rules.BLOOD_TYPE:
                value = "A型 RhD阴性" if bad else "A型 RhD阳性"
            elif item.result_type == rules.FLAG:
                value = rules.flag_value(bad)
            else:
                value = "已完成"
            out.append(R(item, s, value, bad))
    return out


class TestValueRanges:
    @pytest.mark.parametrize(
        "value,abnormal",
        [
            ("3.9", False),  # lower bound is normal
            ("6.1", False),  # upper bound is normal
            ("3.89", True),
            ("6.11", True),
            ("5", False),
            ("0", True),
            ("６．０", False),  # full-width digits
            (" 5.2 mmol/L ", False),  # the unit may be typed
            ("+5.2", False),
        ],
    )
    def test_glucose_range_boundaries(self, value, abnormal):
        assert rules.is_abnormal(GLUCOSE, value) is abnormal

    def test_no_lower_bound_below_zero_is_refused_and_zero_is_normal(self):
        assert rules.is_abnormal(ALT, "0") is False
        assert rules.is_abnormal(ALT, "40") is False
        assert rules.is_abnormal(ALT, "40.001") is True
        with pytest.raises(ValueError, match="负数"):
            rules.is_abnormal(ALT, "-1")

    def test_item_without_any_bound_is_never_abnormal(self):
        item = Item(99, "x", "某值", "exam", "B", rules.VALUE, "", None, None, rules.COUNSEL)
        assert rules.is_abnormal(item, "123456") is False

    @pytest.mark.parametrize("value", ["", "abc", "5,2", "5.2.1", "约5", "NaN", "inf", "1e3", "."])
    def test_unparseable_number_is_a_chinese_value_error_naming_the_item(self, value):
        with pytest.raises(ValueError) as exc:
            rules.is_abnormal(HB, value)
        assert "血液常规检验" in str(exc.value)

    def test_huge_number_is_refused(self):
        with pytest.raises(ValueError, match="太大"):
            rules.is_abnormal(HB, "99999999")

    def test_is_abnormal_refuses_a_non_value_item(self):
        with pytest.raises(ValueError):
            rules.is_abnormal(ITEMS["hbv"], "正常")

    @given(st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False))
    def test_any_number_is_abnormal_exactly_outside_the_range(self, d):
        assert rules.is_abnormal(HB, str(d)) is (d < 110 or d > 150)

    def test_range_labels(self):
        assert rules.range_label(HB) == "110–150 g/L"
        assert rules.range_label(ALT) == "≤40 U/L"
        assert rules.range_label(TSH) == "0.27–4.2 mIU/L"
        assert rules.range_label(ITEMS["hbv"]) == ""

    def test_normalised_value_keeps_decimals_and_drops_unit(self):
        assert rules.normalise_value(GLUCOSE, "５.２0 mmol/L") == "5.20"
        assert rules.normalise_value(GLUCOSE, "+5") == "5"
        assert rules.normalise_value(ITEMS["blood-type"], "o-") == "O型 RhD阴性"


class TestBloodType:
    @pytest.mark.parametrize(
        "text,expected",
        [
            ("A型 RhD阴性", ("A", "-")),
            ("A型RhD阳性", ("A", "+")),
            ("O+", ("O", "+")),
            ("O-", ("O", "-")),
            ("AB型Rh阴性", ("AB", "-")),
            ("ab型 rh阳性", ("AB", "+")),
            ("B型，Rh(D)阳性", ("B", "+")),
            ("B型（RhD）阴性", ("B", "-")),
            ("Ｏ型　ＲｈＤ－", ("O", "-")),  # full-width
            ("0型 Rh+", ("O", "+")),  # a zero written for O
            ("Rh阴性 AB型", ("AB", "-")),
            ("RhD+ A", ("A", "+")),
            ("A Rh negative", ("A", "-")),
            ("B pos", ("B", "+")),
            ("AB血型 D阴性", ("AB", "-")),
        ],
    )
    def test_spellings_are_read(self, text, expected):
        assert rules.parse_blood_type(text) == expected

    @pytest.mark.parametrize("text", ["", "A型", "Rh阴性", "C型 Rh阳性", "A+B-", "熊猫血", "AO+"])
    def test_incomplete_or_wrong_is_refused_in_chinese(self, text):
        with pytest.raises(ValueError, match="无法识别"):
            rules.parse_blood_type(text)

    def test_rh_negative_is_abnormal_and_positive_normal(self):
        bt = ITEMS["blood-type"]
        assert rules.computed_abnormal(bt, "O型 RhD阴性") is True
        assert rules.computed_abnormal(bt, "AB型 RhD阳性") is False

    def test_rh_negative_reason_names_the_monitoring(self):
        reason = rules.result_reason(ITEMS["blood-type"], "F", "O型 RhD阴性")
        assert "Rh阴性，孕期需监测抗体" in reason and reason.startswith("女方")

    def test_flag_and_text_items_are_the_doctors_call(self):
        assert rules.computed_abnormal(ITEMS["hbv"], "正常") is None
        assert rules.computed_abnormal(ITEMS["history"], "无特殊") is None


class TestAssess:
    def test_all_normal_is_normal_without_reasons(self):
        assert rules.assess(complete()) == (rules.NORMAL, [])

    def test_one_counsel_item_gives_counsel_with_a_reason_naming_the_item_and_value(self):
        level, reasons = rules.assess(complete(glucose="F"))
        assert level == rules.COUNSEL
        assert reasons == ["女方血清葡萄糖高于参考范围：7.1 mmol/L（参考 3.9–6.1 mmol/L）。"]

    def test_low_value_says_below(self):
        results = complete()
        for r in results:
            if r.item.code == "blood":
                r.value, r.is_abnormal = "95", True
        assert "低于参考范围" in rules.assess(results)[1][0]

    def test_highest_level_wins(self):
        level, reasons = rules.assess(complete(glucose="F", syphilis="M"))
        assert level == rules.HIGH
        assert len(reasons) == 2 and "男方梅毒螺旋体筛查异常" in reasons[1]

    def test_high_risk_items(self):
        for code in ("syphilis", "cmv", "toxoplasma"):
            assert rules.assess(complete(**{code: "F"}))[0] == rules.HIGH, code

    def test_normal_risk_item_abnormal_keeps_normal_level_but_gives_a_reason(self):
        level, reasons = rules.assess(complete(education="F"))
        assert level == rules.NORMAL and len(reasons) == 1

    def test_one_partner_hbv_is_counsel_both_is_high(self):
        assert rules.assess(complete(hbv="F"))[0] == rules.COUNSEL
        assert rules.assess(complete(hbv="M"))[0] == rules.COUNSEL
        level, reasons = rules.assess(complete(hbv="FM"))
        assert level == rules.HIGH and rules.HBV_BOTH_REASON in reasons

    def test_rubella_negative_woman_is_counsel_with_vaccination_advice(self):
        level, reasons = rules.assess(complete(rubella="F"))
        assert level == rules.COUNSEL
        assert reasons == [rules.RUBELLA_REASON]
        assert "建议接种风疹疫苗，3个月后再怀孕" in reasons[0]

    def test_rh_negative_woman_with_positive_man_is_incompatibility(self):
        level, reasons = rules.assess(complete(blood_type="F"))
        assert level == rules.COUNSEL
        assert rules.RH_INCOMPATIBLE_REASON in reasons

    def test_both_rh_negative_is_no_incompatibility(self):
        level, reasons = rules.assess(complete(blood_type="FM"))
        assert level == rules.COUNSEL
        assert rules.RH_INCOMPATIBLE_REASON not in reasons
        assert len(reasons) == 2

    def test_rh_negative_man_alone_is_counsel_without_incompatibility(self):
        level, reasons = rules.assess(complete(blood_type="M"))
        assert level == rules.COUNSEL and len(reasons) == 1

    def test_incompatibility_does_not_lower_high(self):
        assert rules.assess(complete(blood_type="F", cmv="F"))[0] == rules.HIGH

    def test_items_18_and_19_are_ignored(self):
        results = complete()
        results.append(R(ITEMS["counselling"], "F", "x", True))
        assert rules.assess(results) == (rules.NORMAL, [])


class TestMissing:
    def test_complete_set_has_nothing_missing(self):
        assert rules.missing(complete(), ITEMS.values()) == []

    def test_missing_lists_item_and_partner_and_skips_18_19(self):
        results = [r for r in complete() if not (r.item.code == "hbv" and r.subject == "M")]
        results = [r for r in results if r.item.code != "glucose"]
        gaps = rules.missing(results, ITEMS.values())
        assert [(i.code, s) for i, s in gaps] == [("glucose", "F"), ("hbv", "M")]
        assert rules.missing_label(gaps) == "女方「血清葡萄糖」、男方「乙型肝炎血清学五项」"

    def test_nothing_entered_misses_every_applicable_item_but_not_18_19(self):
        gaps = rules.missing([], ITEMS.values())
        codes = {i.code for i, _ in gaps}
        assert "counselling" not in codes and "followup" not in codes
        # 17 result items: 1,2,3,7,9,10,13 for both (14 cells) + 10 woman-only = 24 cells.
        assert len(codes) == 17 and len(gaps) == 24


class TestOverride:
    def test_no_override_keeps_the_rules_level(self):
        assert rules.final_level(rules.COUNSEL, None) == rules.COUNSEL
        assert rules.final_level(rules.COUNSEL, "") == rules.COUNSEL

    @pytest.mark.parametrize(
        "computed,override",
        [("normal", "counsel"), ("normal", "high"), ("counsel", "high"), ("high", "high")],
    )
    def test_raising_or_same_is_allowed(self, computed, override):
        assert rules.final_level(computed, override) == override

    @pytest.mark.parametrize(
        "computed,override", [("counsel", "normal"), ("high", "counsel"), ("high", "normal")]
    )
    def test_lowering_is_refused(self, computed, override):
        with pytest.raises(ValueError, match="不能调低"):
            rules.final_level(computed, override)

    def test_unknown_level_is_refused(self):
        with pytest.raises(ValueError, match="风险等级只能是"):
            rules.final_level(rules.NORMAL, "low")
