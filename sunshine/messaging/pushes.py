"""The provider's pushes, element by element: Alibaba's SmsReport (delivery receipts) and
SmsUp (replies). Pure: each element is read and checked, and a malformed one raises
Malformed with the reason, so that the caller logs and skips it and applies the rest.

SmsReport element: {"phone_number", "send_time", "report_time", "success", "err_code",
"err_msg", "sms_size", "biz_id", "out_id"}. SmsUp element: {"phone_number", "send_time",
"content", "sign_name", "dest_code", "sequence_id"}. Times are Beijing time,
"2017-01-01 00:00:00"."""

import datetime as dt
import math
import re
import unicodedata
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sunshine.core.validators import mobile_normalised

BEIJING = ZoneInfo("Asia/Shanghai")
MOBILE = re.compile(r"1[3-9]\d{9}")  # the provider's own format: 11 digits, no prefix
IDENT = re.compile(r"[\x21-\x7e]+")
MAX_PARTS = 20  # a 500-character message with its signature is 8 parts
CONTENT_MAX = 500


class Malformed(ValueError):
    pass


class ReceiptItem(NamedTuple):
    biz_id: str
    mobile: str
    out_id: str
    success: bool
    code: str
    detail: str
    parts: int


class ReplyItem(NamedTuple):
    sequence_id: str
    mobile: str
    content: str
    sent_at: dt.datetime | None


def _text(item: dict, key: str, *, required=False, limit=200, ident=True) -> str:
    """A string (or a whole number) field; an identifier is visible ASCII, free text has its
    control characters dropped and is cut at `limit`."""
    value = item.get(key)
    if value is None or value == "":
        if required:
            raise Malformed(f"缺少 {key}")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Malformed(f"{key} 应为字符串")
    value = str(value)
    if ident:
        if len(value) > limit or not IDENT.fullmatch(value):
            raise Malformed(f"{key} 格式不对")
        return value
    # free text: control characters (NUL above all, which PostgreSQL refuses) are dropped
    value = "".join(c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    return value[:limit]


def _mobile(item: dict) -> str:
    """The number as we store it, however the provider spells it (8613800138000, +86…)."""
    value = item.get("phone_number")
    if not isinstance(value, str) or len(value) > 20:
        raise Malformed("phone_number 不是11位手机号码")
    value = mobile_normalised(value)
    if not MOBILE.fullmatch(value):
        raise Malformed("phone_number 不是11位手机号码")
    return value


def _when(item: dict, key: str) -> dt.datetime | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Malformed(f"{key} 应为时间字符串")
    try:
        when = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise Malformed(f"{key} 不是“年-月-日 时:分:秒”格式的时间") from None
    return when.replace(tzinfo=BEIJING)


def _parts(item: dict) -> int:
    value = item.get("sms_size")
    if value is None or value == "":
        return 1
    if isinstance(value, bool):
        raise Malformed("sms_size 应为整数")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise Malformed("sms_size 应为整数")
        value = int(value)
    elif isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= 3):
            raise Malformed("sms_size 应为整数")
        value = int(value)
    elif not isinstance(value, int):
        raise Malformed("sms_size 应为整数")
    if not 1 <= value <= MAX_PARTS:
        raise Malformed(f"sms_size 应在 1 到 {MAX_PARTS} 之间")
    return value


def _success(item: dict) -> bool:
    value = item.get("success")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Malformed("success 应为 true 或 false")


def _object(item) -> dict:
    if not isinstance(item, dict):
        raise Malformed("不是 JSON 对象")
    return item


def receipt(item) -> ReceiptItem:
    item = _object(item)
    parsed = ReceiptItem(
        biz_id=_text(item, "biz_id", required=True, limit=60),
        mobile=_mobile(item),
        out_id=_text(item, "out_id", limit=40),
        success=_success(item),
        code=_text(item, "err_code", limit=40, ident=False),
        detail=_text(item, "err_msg", limit=200, ident=False),
        parts=_parts(item),
    )
    _when(item, "send_time")
    _when(item, "report_time")
    return parsed


def reply(item) -> ReplyItem:
    item = _object(item)
    content = item.get("content")
    if not isinstance(content, str):
        raise Malformed("缺少 content 或不是字符串")
    sequence_id = item.get("sequence_id")
    if isinstance(sequence_id, bool) or not isinstance(sequence_id, int | str):
        raise Malformed("sequence_id 应为数字或字符串")
    parsed = ReplyItem(
        sequence_id=_text(item, "sequence_id", required=True, limit=60),
        mobile=_mobile(item),
        content=_text(item, "content", limit=CONTENT_MAX, ident=False),
        sent_at=_when(item, "send_time"),
    )
    _text(item, "sign_name", limit=100, ident=False)
    _text(item, "dest_code", limit=40)
    return parsed
