"""Masking for public output (DOMAIN 'Masking'): surname kept, birth date and sequence hidden."""

import pytest

from sunshine.core import masking


class TestMaskName:
    @pytest.mark.parametrize(
        "name,masked",
        [
            ("张", "张"),
            ("张三", "张*"),
            ("张三丰", "张*丰"),
            ("欧阳娜娜", "欧**娜"),
            ("  李四  ", "李*"),
        ],
    )
    def test_surname_and_last_character_are_kept(self, name, masked):
        assert masking.mask_name(name) == masked

    @pytest.mark.parametrize("empty", ["", None, "   "])
    def test_empty_name_gives_empty_string(self, empty):
        assert masking.mask_name(empty) == ""

    def test_masked_name_never_contains_the_middle_characters(self):
        assert "三" not in masking.mask_name("张三丰")


class TestMaskIdNumber:
    def test_18_character_number_hides_birth_date_and_sequence(self):
        assert masking.mask_id_number("320324199001011234") == "320324********1234"

    def test_birth_date_does_not_survive_masking(self):
        assert "19491231" not in masking.mask_id_number("11010519491231002X")

    def test_other_lengths_keep_only_the_last_four(self):
        assert masking.mask_id_number("110105491231002") == "*" * 11 + "1002"

    def test_short_values_are_fully_hidden(self):
        assert masking.mask_id_number("1234") == "****"

    @pytest.mark.parametrize("empty", ["", None])
    def test_empty_gives_empty_string(self, empty):
        assert masking.mask_id_number(empty) == ""


class TestMaskMobile:
    def test_11_digit_mobile_hides_the_middle_four(self):
        assert masking.mask_mobile("13812341234") == "138****1234"

    def test_other_lengths_keep_only_the_last_four(self):
        assert masking.mask_mobile("051612345678") == "********5678"

    @pytest.mark.parametrize("empty", ["", None])
    def test_empty_gives_empty_string(self, empty):
        assert masking.mask_mobile(empty) == ""
