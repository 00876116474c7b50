"""Validators shared by forms, imports and the API. Each error says, in Chinese, what is wrong."""

import datetime as dt
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ASCII_DIGITS = frozenset("0123456789")
# Mobiles are checked against the segments that the maintained `phonenumbers` library (Google's
# libphonenumber metadata) lists as assigned to mobile networks in mainland China; upgrading the
# library brings newly opened segments. Its pattern for the 11-digit national number is used
# directly for the common case (a plain 11-digit number), the library's parser for the rest.
_CN_MOBILE = re.compile(
    phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern
)
# Separators people type inside a number ("138 0013-8000", "(+86)13800138000").
_MOBILE_SEPARATORS = re.compile(r"[\s\-().]")
# After NFKC: full-width digits and ＋ are ASCII. [0-9], not \d: \d also accepts other digits.
_MOBILE_TEXT = re.compile(r"\+?[0-9]+")


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    """GB 11643: 18 characters, a real birth date, ISO 7064 MOD 11-2 check character."""
    value = (value or "").strip().upper()
    if len(value) == 15 and value.isdigit():
        raise ValidationError("身份证号码是旧的15位号码，请换成18位的新号码。")
    if len(value) != 18:
        raise ValidationError(f"身份证号码应为18位，现在是{len(value)}位。")
    if not set(value[:17]) <= ASCII_DIGITS or value[17] not in ASCII_DIGITS | {"X"}:
        raise ValidationError("身份证号码前17位应为数字，最后一位为数字或X。")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(f"身份证号码中的出生日期{value[6:14]}不是真实日期。") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1880:
        raise ValidationError(f"身份证号码中的出生日期{value[6:14]}不合理。")
    expected = id_check_char(value[:17])
    if value[17] != expected:
        raise ValidationError("身份证号码校验位不对，请核对是否抄错。")
    return value


def id_number_birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def id_number_sex(value: str) -> str:
    """'M' for an odd sequence digit, 'F' for an even one."""
    return "M" if int(value[16]) % 2 == 1 else "F"


def mobile_problem(value) -> tuple[str, str | None]:
    """The one check of a mainland mobile number: (the 11-digit national number, None) when it
    is one, else (the text as cleaned, the reason in Chinese, to be read after "手机号码").

    Accepts +86, 86 and 0086 prefixes, spaces, dashes and brackets, full-width digits; refuses
    other countries, landlines and segments not assigned to mobile networks."""
    text = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value or "")))
    if not text:
        return "", "不能为空"
    if not _MOBILE_TEXT.fullmatch(text):
        return text, "只能包含数字，可带+86、空格或短横线"
    if len(text) == 11 and text[0] == "1":
        national = text  # the common case, without the parser's cost (tested to agree with it)
    else:
        try:
            number = phonenumbers.parse(text, "CN")
        except phonenumbers.NumberParseException:
            return text, f"应为11位数字，现在是{len(text.lstrip('+'))}位"
        if number.country_code != 86:
            return text, "应为中国大陆手机号码（+86）"
        if phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.FIXED_LINE:
            return text, "不能是固定电话号码"
        national = str(number.national_number)
        if len(national) != 11:
            return text, f"应为11位数字，现在是{len(national)}位"
    if national[0] != "1":
        return national, "应以1开头"
    if not _CN_MOBILE.fullmatch(national):
        return national, f"号段不存在（{national[:3]}开头的号码不是已分配的手机号段），请核对"
    return national, None


def validate_mobile(value: str) -> str:
    """The 11-digit national number of a mainland mobile, or ValidationError saying why not."""
    number, problem = mobile_problem(value)
    if problem is not None:
        raise ValidationError(f"手机号码{problem}。")
    return number


def mobile_normalised(value) -> str:
    """For matching and look-ups: the 11-digit number when `value` is a valid mobile in any
    accepted spelling, else the text stripped (so that it matches nothing stored)."""
    number, problem = mobile_problem(value)
    return number if problem is None else str(value or "").strip()
