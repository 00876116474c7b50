"""The one check public output passes: ID numbers with a valid check character and mobile
numbers, found in any text as clerks type or paste them, masked or reported by line."""

import pytest

from sunshine.core import identifiers
from sunshine.core.validators import id_check_char

ID = "320324197003151124"  # the number the probe found on a public page
ID_MASKED = "320324********1124"
X_BASE = next(
    f"11010519900101{n:03d}" for n in range(1000) if id_check_char(f"11010519900101{n:03d}") == "X"
)
ID_X = X_BASE + "X"


def wrong_check(value: str) -> str:
    """The same 18 digits with a check character that does not fit."""
    bad = next(c for c in "0123456789" if c != value[17])
    return value[:17] + bad


def full_width(value: str) -> str:
    return value.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


class TestFindIdNumbers:
    def test_the_probe_number_is_found_inside_chinese_text(self):
        hits = identifiers.find(f"张三，身份证{ID}号，已核实")
        assert [(h.kind, h.value, h.masked) for h in hits] == [("id_number", ID, ID_MASKED)]

    def test_a_number_with_a_wrong_check_digit_is_not_an_id_and_is_left_alone(self):
        order = wrong_check(ID)
        assert identifiers.find(f"订单号 {order}") == []
        assert identifiers.mask_text(f"订单号 {order}")[0] == f"订单号 {order}"

    def test_an_impossible_birth_date_is_not_an_id(self):
        body = "32032419701332"  # month 13
        value = body + "112" + id_check_char(body + "112")
        assert identifiers.find(value) == []

    @pytest.mark.parametrize("x", ["X", "x", "Ｘ", "ｘ"])
    def test_the_check_character_x_in_either_case_and_width(self, x):
        hits = identifiers.find(f"证件号码：{X_BASE}{x}。")
        assert [h.value for h in hits] == [ID_X]
        assert hits[0].masked == ID_X[:6] + "********" + ID_X[-4:]

    def test_full_width_digits_are_found_and_masked_in_ascii(self):
        text, counts = identifiers.mask_text(f"身份证{full_width(ID)}")
        assert text == f"身份证{ID_MASKED}" and counts["id_number"] == 1

    @pytest.mark.parametrize(
        "typed", [f"{ID[:6]} {ID[6:14]} {ID[14:]}", f"{ID[:6]}-{ID[6:14]}-{ID[14:]}"]
    )
    def test_an_id_typed_in_groups_is_found_whole(self, typed):
        text, counts = identifiers.mask_text(f"号码 {typed} 。")
        assert text == f"号码 {ID_MASKED} 。" and counts["id_number"] == 1

    def test_an_id_inside_a_longer_run_of_digits_is_another_number(self):
        assert identifiers.find("6222" + ID) == []
        assert identifiers.find(ID + "7") == []

    def test_already_masked_ids_are_left_as_they_are(self):
        assert identifiers.mask_text(f"身份证 {ID_MASKED}") == (f"身份证 {ID_MASKED}", {})


class TestFindMobiles:
    @pytest.mark.parametrize(
        "typed",
        [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "8613812345678",
            "0086 13812345678",
            "１３８１２３４５６７８",
            "＋86－138－1234－5678",
        ],
    )
    def test_a_mobile_as_people_write_it_is_masked(self, typed):
        text, counts = identifiers.mask_text(f"联系人王五，电话{typed}。")
        assert text == "联系人王五，电话138****5678。" and counts["mobile"] == 1

    def test_several_mobiles_in_one_line_are_each_masked(self):
        text, counts = identifiers.mask_text("13912345678 13712345678、15012345678")
        assert text == "139****5678 137****5678、150****5678" and counts["mobile"] == 3

    @pytest.mark.parametrize(
        "text",
        [
            "12812345678",  # no mobile segment starts with 12
            "1381234567",  # ten digits
            "138123456789",  # twelve
            "0516-88881234",  # a landline
            "15 2000 12345",  # three numbers in a sentence, not one mobile
            "金额 13,812,345,678 元",
            "2026-12-05",
        ],
    )
    def test_numbers_that_are_not_mobiles_are_left_alone(self, text):
        assert identifiers.mask_text(text) == (text, {})

    def test_lines_are_counted_for_the_refusal_message(self):
        hit = identifiers.first_hit("第一段\n\n第三段 13812345678")
        assert (hit.kind, hit.line) == ("mobile", 3)
        message = identifiers.refusal("正文", hit)
        assert "正文第3行" in message and "138****5678" in message
        assert "13812345678" not in message


class TestMaskTable:
    def test_an_id_column_is_masked_by_its_header_even_where_the_number_is_mistyped(self):
        table = {
            "headers": ["序号", "姓名", "身份证号码", "金额"],
            "rows": [["1", "张三", ID, "3000"], ["2", "李四", wrong_check(ID), "3000"]],
        }
        masked, counts = identifiers.mask_table(table)
        assert masked["rows"] == [
            ["1", "张三", ID_MASKED, "3000"],
            ["2", "李四", ID[:6] + "********" + wrong_check(ID)[-4:], "3000"],
        ]
        assert counts == {"id_number": 2}

    def test_a_column_without_a_telling_header_is_masked_by_content(self):
        table = {"headers": ["人员", "号码"], "rows": [["张三", ID], ["李四", "13812345678"]]}
        masked, counts = identifiers.mask_table(table)
        assert masked["rows"] == [["张三", ID_MASKED], ["李四", "138****5678"]]
        assert counts == {"id_number": 1, "mobile": 1}

    def test_a_column_mostly_of_ids_is_masked_whole_mistyped_ones_too(self):
        table = {
            "headers": ["号码"],
            "rows": [[ID], [X_BASE + "X"], [wrong_check(ID)], [""]],
        }
        masked, counts = identifiers.mask_table(table)
        assert [r[0] for r in masked["rows"]] == [
            ID_MASKED,
            ID_X[:6] + "********" + ID_X[-4:],
            ID[:6] + "********" + wrong_check(ID)[-4:],
            "",
        ]
        assert counts == {"id_number": 3}

    def test_a_column_of_order_numbers_with_one_lucky_check_digit_keeps_the_others(self):
        orders = [wrong_check(ID), "12345678901234567X", ID[:16] + "01"]
        table = {"headers": ["编号"], "rows": [[o] for o in orders] + [[ID]]}
        masked, _ = identifiers.mask_table(table)
        assert [r[0] for r in masked["rows"]] == [*orders, ID_MASKED]

    def test_short_rows_do_not_hide_a_column(self):
        table = {"headers": ["姓名", "号码"], "rows": [["张三", ID], ["李四"]]}
        masked, _ = identifiers.mask_table(table)
        assert masked["rows"] == [["张三", ID_MASKED], ["李四"]]

    def test_a_mobile_column_header_masks_the_numbers_and_keeps_landlines(self):
        table = {
            "headers": ["单位", "联系电话"],
            "rows": [["村委会", "0516-88881234"], ["王五", "138 1234 5678"]],
        }
        masked, counts = identifiers.mask_table(table)
        assert [r[1] for r in masked["rows"]] == ["0516-88881234", "138****5678"]
        assert counts == {"mobile": 1}

    def test_an_order_number_column_is_not_touched(self):
        table = {"headers": ["订单号"], "rows": [[wrong_check(ID)], ["12345678901234567890"]]}
        assert identifiers.mask_table(table) == (table, {})

    def test_masking_twice_changes_nothing_more(self):
        table = {"headers": ["身份证号", "手机"], "rows": [[ID, "13812345678"]]}
        once, _ = identifiers.mask_table(table)
        assert identifiers.mask_table(once) == (once, {})
        assert identifiers.count_masked(once) == {"id_number": 1, "mobile": 1}

    @pytest.mark.parametrize(
        "header,kind",
        [
            ("身份证号码", "id_number"),
            ("公民身份号码", "id_number"),
            ("证件号码", "id_number"),
            ("身份证号", "id_number"),
            ("手机号码", "mobile"),
            ("联系电话", "mobile"),
            ("电话", "mobile"),
            ("姓名", None),
            ("金额（元）", None),
        ],
    )
    def test_headers_are_recognised(self, header, kind):
        assert identifiers.header_kind(header) == kind


def test_describe_names_the_counts_in_chinese():
    assert identifiers.describe({"id_number": 3, "mobile": 1}) == "3 个身份证号码、1 个手机号码"
    assert identifiers.describe({}) == ""
