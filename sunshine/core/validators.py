"""Validators shared by forms, imports and the API. Each error says, in Chinese, what is wrong."""

import datetime as dt
import re

from django.core.exceptions import ValidationError

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# [0-9], not \d: \d and str.isdigit() also accept full-width and other Unicode digits.
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
ASCII_DIGITS = frozenset("0123456789")


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


def validate_mobile(value: str) -> str:
    value = (value or "").strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if not MOBILE_RE.fullmatch(value):
        raise ValidationError("手机号码应为11位数字，以13–19开头。")
    return value
