"""ID numbers (GB 11643) and mobile numbers: the checks every form, import and API call uses."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from sunshine.core import validators

TODAY = dt.date(2026, 6, 30)
DOMAIN_EXAMPLES = ["11010519491231002X", "440524188001010014", "370101190102039973"]


def _message(exc_info) -> str:
    return " ".join(exc_info.value.messages)


def make_id(address="320324", birth="19900101", seq="123") -> str:
    first17 = address + birth + seq
    return first17 + validators.id_check_char(first17)


class TestIdCheckChar:
    @pytest.mark.parametrize("number", DOMAIN_EXAMPLES)
    def test_check_char_of_domain_examples_matches_their_last_character(self, number):
        assert validators.id_check_char(number[:17]) == number[17]

    def test_remainder_two_gives_x(self):
        # Y = 2 → "X": the example 11010519491231002X is exactly that case.
        assert validators.id_check_char("11010519491231002") == "X"


class TestValidateIdNumber:
    @pytest.mark.parametrize("number", DOMAIN_EXAMPLES)
    def test_domain_examples_are_accepted_unchanged(self, number):
        assert validators.validate_id_number(number, today=TODAY) == number

    @pytest.mark.parametrize(
        "birth,seq", [("19900101", "123"), ("20000229", "002"), ("19491001", "999")]
    )
    def test_generated_numbers_are_accepted(self, birth, seq):
        number = make_id(birth=birth, seq=seq)
        assert validators.validate_id_number(number, today=TODAY) == number

    def test_lowercase_x_is_accepted_and_normalised_to_upper_case(self):
        assert (
            validators.validate_id_number("11010519491231002x", today=TODAY) == "11010519491231002X"
        )

    def test_surrounding_spaces_are_stripped(self):
        assert validators.validate_id_number(" 440524188001010014 ", today=TODAY) == (
            "440524188001010014"
        )

    def test_wrong_check_character_is_rejected_as_a_copying_error(self):
        with pytest.raises(ValidationError) as exc:
            validators.validate_id_number("440524188001010015", today=TODAY)
        assert "校验位" in _message(exc)

    @pytest.mark.parametrize("length", [17, 19])
    def test_wrong_length_is_rejected_stating_the_length(self, length):
        number = (make_id() + "1")[:length]
        with pytest.raises(ValidationError) as exc:
            validators.validate_id_number(number, today=TODAY)
        assert f"现在是{length}位" in _message(exc)

    def test_old_15_digit_number_is_rejected_saying_it_is_the_old_format(self):
        with pytest.raises(ValidationError) as exc:
            validators.validate_id_number("110105491231002", today=TODAY)
        assert "旧的15位" in _message(exc)

    @pytest.mark.parametrize("number", ["3201A3199001011234", "32032419900101123Y"])
    def test_letters_other_than_a_final_x_are_rejected(self, number):
        with pytest.raises(ValidationError) as exc:
            validators.validate_id_number(number, today=TODAY)
        assert "前17位应为数字" in _message(exc)

    @pytest.mark.parametrize("first17", ["３２０３２４19900101123", "320324199００101123"])
    def test_full_width_digits_are_rejected_not_stored(self, first17):
        # Python's isdigit()/int() accept full-width digits: with a matching check character
        # such a number must still be refused, or it is stored in a form no one can search.
        number = first17 + validators.id_check_char(first17)
        with pytest.raises(ValidationError) as exc:
            validators.validate_id_number(number, today=TODAY)
        assert "前17位应为数字" in _message(exc)

    def test_other_unicode_digits_are_rejected_not_crashing(self):
        # "²".isdigit() is True but int("²") fails: must be a ValidationError, never a 500.
        with pytest.raises(ValidationError):
            validators.validate_id_number("²" + make_id()[1:], today=TODAY)

    @pytest.mark.parametrize("birth", ["19900230", "19901301", "19000229", "20230229"])
    def test_impossible_birth_date_is_rejected_naming_it(self, birth):
        with pytest.raises(ValidationError) as exc:
            validators.validate_id_number(make_id(birth=birth), today=TODAY)
        assert birth in _message(exc) and "不是真实日期" in _message(exc)

    def test_birth_date_after_today_is_rejected(self):
        with pytest.raises(ValidationError) as exc:
            validators.validate_id_number(make_id(birth="20260701"), today=TODAY)
        assert "20260701" in _message(exc) and "不合理" in _message(exc)

    def test_birth_today_is_accepted(self):
        number = make_id(birth="20260630")
        assert validators.validate_id_number(number, today=TODAY) == number

    def test_birth_before_1880_is_rejected(self):
        with pytest.raises(ValidationError):
            validators.validate_id_number(make_id(birth="18791231"), today=TODAY)

    def test_empty_and_none_are_rejected_with_a_length_message(self):
        for value in ("", None):
            with pytest.raises(ValidationError) as exc:
                validators.validate_id_number(value, today=TODAY)
            assert "现在是0位" in _message(exc)


class TestIdNumberHelpers:
    def test_odd_sequence_digit_is_male(self):
        assert validators.id_number_sex("370101190102039973") == "M"  # 7 is odd

    def test_even_sequence_digit_is_female(self):
        assert validators.id_number_sex("11010519491231002X") == "F"  # 2 is even

    @pytest.mark.parametrize("digit,sex", [(str(d), "M" if d % 2 else "F") for d in range(10)])
    def test_sex_follows_the_17th_character_only(self, digit, sex):
        assert validators.id_number_sex(make_id(seq="00" + digit)) == sex

    def test_birth_date_is_read_from_characters_7_to_14(self):
        assert validators.id_number_birth_date("11010519491231002X") == dt.date(1949, 12, 31)


DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def first17_with_valid_date(draw):
    address = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    birth = draw(st.dates(min_value=dt.date(1880, 1, 1), max_value=TODAY))
    seq = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return address + birth.strftime("%Y%m%d") + seq


class TestIdNumberProperties:
    @given(first17_with_valid_date())
    def test_appending_the_check_char_gives_a_valid_number(self, first17):
        number = first17 + validators.id_check_char(first17)
        assert validators.validate_id_number(number, today=TODAY) == number

    @given(first17_with_valid_date(), st.sampled_from(list("0123456789X")))
    def test_any_other_check_char_is_rejected(self, first17, other):
        assume(other != validators.id_check_char(first17))
        with pytest.raises(ValidationError):
            validators.validate_id_number(first17 + other, today=TODAY)

    @given(first17_with_valid_date(), st.integers(min_value=0, max_value=16), DIGITS)
    def test_a_single_changed_digit_is_caught(self, first17, position, digit):
        # MOD 11-2 detects every single-digit substitution.
        number = first17 + validators.id_check_char(first17)
        assume(number[position] != digit)
        changed = number[:position] + digit + number[position + 1 :]
        with pytest.raises(ValidationError):
            validators.validate_id_number(changed, today=TODAY)


class TestValidateMobile:
    @pytest.mark.parametrize(
        "raw,clean",
        [
            ("13800138000", "13800138000"),
            ("19912345678", "19912345678"),
            ("+8613800138000", "13800138000"),
            ("8613800138000", "13800138000"),
            ("008613800138000", "13800138000"),
            ("0086 138 0013 8000", "13800138000"),
            ("138 0013 8000", "13800138000"),
            ("138-0013-8000", "13800138000"),
            (" +86 138 0013 8000 ", "13800138000"),
            ("(+86) 138-0013-8000", "13800138000"),
            ("１３８００１３８０００", "13800138000"),  # full-width digits, as Chinese IMEs type
            ("＋８６　１３８　００１３　８０００", "13800138000"),  # full-width + and space
            ("13８00138000", "13800138000"),  # one full-width digit among ASCII ones
            ("16212345678", "16212345678"),  # virtual-operator segment
            ("19212345678", "19212345678"),  # China Broadnet
        ],
    )
    def test_valid_numbers_in_every_spelling_are_normalised_to_11_digits(self, raw, clean):
        assert validators.validate_mobile(raw) == clean

    @pytest.mark.parametrize(
        "raw,reason",
        [
            ("138001380001", "手机号码应为11位数字，现在是12位"),
            ("1380013800", "手机号码应为11位数字，现在是10位"),
            ("12345", "手机号码应为11位数字，现在是5位"),
            ("+85213800138000", "应为中国大陆手机号码（+86）"),
            ("02512345678", "不能是固定电话号码"),
            ("025-1234 5678", "不能是固定电话号码"),
            ("1380013800a", "只能包含数字"),
            ("1380013800一", "只能包含数字"),
            ("", "不能为空"),
            (None, "不能为空"),
        ],
    )
    def test_malformed_numbers_are_rejected_naming_the_reason(self, raw, reason):
        with pytest.raises(ValidationError) as exc:
            validators.validate_mobile(raw)
        assert reason in _message(exc)

    @pytest.mark.parametrize(
        "raw",
        [
            "15412345678",  # 154 was never assigned
            "14012345678",  # 140 is not a mobile segment
            "17912345678",
            "12800138000",
            "10800138000",
            "+8615412345678",
            "0086 154 1234 5678",
        ],
    )
    def test_unassigned_segments_are_rejected_as_such(self, raw):
        # The old pattern 1[3-9]xxxxxxxxx accepted 154, 140 and 179.
        with pytest.raises(ValidationError) as exc:
            validators.validate_mobile(raw)
        assert "号段不存在" in _message(exc)

    @given(st.from_regex(r"1[0-9]{10}", fullmatch=True))
    def test_the_fast_path_agrees_with_the_phonenumbers_parser(self, number):
        import phonenumbers

        try:
            parsed = phonenumbers.parse("+86" + number, None)
            expected = (
                phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
                and str(parsed.national_number) == number
            )
        except phonenumbers.NumberParseException:
            expected = False
        assert (validators.mobile_problem(number)[1] is None) == expected

    def test_mobile_normalised_matches_any_spelling_and_leaves_the_rest_alone(self):
        assert validators.mobile_normalised("+86 138-0013-8000") == "13800138000"
        assert validators.mobile_normalised(" 12345 ") == "12345"
