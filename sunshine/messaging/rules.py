"""Pure rules of the SMS engine (DOMAIN 'SMS in mainland China'): length and billing,
quiet hours, templates, opt-out words, retry backoff, late enrolment."""

import datetime as dt
import functools
import itertools
import os
import re
import string
import time
from decimal import Decimal

SINGLE_LIMIT = 70  # characters in one billed message, signature included
LONG_PART = 67  # characters per part of a long message
MAX_LENGTH = 500
OPT_OUT_WORDS = frozenset({"TD", "T", "N", "R", "退订", "退定", "取消"})
OPT_IN_WORDS = frozenset({"订阅", "恢复", "DY"})
ESSENTIAL, NON_ESSENTIAL = "essential", "nonessential"
# A verification code (sunshine.messaging.verification): essential, and sent during quiet hours
# too, for the person is waiting for it; one that could not go out within INSTANT_MAX_WAIT is
# worthless and never goes.
INSTANT = "instant"

QUEUED, SENDING, SENT, DELIVERED, FAILED, CANCELLED = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "failed",
    "cancelled",
)
STATUS_LABELS = {
    QUEUED: "排队中",
    SENDING: "发送中",
    SENT: "已发送",
    DELIVERED: "已送达",
    FAILED: "失败",
    CANCELLED: "已取消",
}


def signed(text: str, signature: str) -> str:
    """The text as the phone shows it: 【signature】 then the body."""
    sig = signature.strip().strip("【】")
    return f"【{sig}】{text}" if sig else text


def length(text: str, signature: str = "") -> int:
    """Every character counts one: Chinese, Latin, digit, punctuation, full- or half-width."""
    return len(text) + _signature_length(signature)


@functools.lru_cache(maxsize=64)  # a batch's messages share one or two signatures
def _signature_length(signature: str) -> int:
    return len(signed("", signature))


def out_id_prefix() -> str:
    """The first 12 hex digits of a new OutId: the time in milliseconds."""
    return f"{int(time.time() * 1000) & 0xFFFFFFFFFFFF:012x}"


def new_out_id() -> str:
    """One OutId: 32 hex digits like uuid4().hex, but rising — the time in milliseconds (12
    digits), then 80 random bits — so that new rows append at the right edge of the outbox's
    unique OutId index instead of landing on random pages (an insert costs several times less
    once the index outgrows memory). Bulk writers use campaigns._OutIds, the same shape."""
    return out_id_prefix() + os.urandom(10).hex()


def segments(text: str, signature: str = "") -> int:
    n = length(text, signature)
    if n <= SINGLE_LIMIT:
        return 1
    return -(-n // LONG_PART)


def cost(text: str, signature: str, per_segment: Decimal) -> Decimal:
    return per_segment * segments(text, signature)


def in_quiet_hours(moment: dt.datetime, start: dt.time, end: dt.time) -> bool:
    """Quiet hours may cross midnight (21:00–08:00) or not (12:00–13:30)."""
    t = moment.timetz().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def next_send_time(moment: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime:
    """`moment` itself when it is outside quiet hours, else the moment the window opens.
    `moment` must be aware and in the local time zone."""
    if not in_quiet_hours(moment, start, end):
        return moment
    opens = moment.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if opens <= moment:
        opens += dt.timedelta(days=1)
    return opens


_FIELD = re.compile(r"\{(\w+)\}")


def template_params(body: str) -> list[str]:
    """The named parameters a template uses, in order, once each: "{name}您好" → ["name"]."""
    return list(_template_params(body))


@functools.lru_cache(maxsize=512)  # a send renders the same few templates thousands of times
def _template_params(body: str) -> tuple[str, ...]:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(body) if f is not None]
    except ValueError as exc:
        raise ValueError(f"模板格式有误：{exc}（大括号要成对）") from None
    out = []
    for name in names:
        if not name or not re.fullmatch(r"\w+", name) or name[0].isdigit():
            raise ValueError(
                f"模板参数“{{{name}}}”的写法不对：要以字母开头，只含字母、数字和下划线。"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


def render(body: str, params: dict) -> str:
    return _renderer(body)(params)


@functools.lru_cache(maxsize=512)
def _renderer(body: str):
    """The body's render function, made once: the dispatcher renders a template for every
    message it sends."""
    names = _template_params(body)
    fill = body.format_map

    def render(params: dict) -> str:
        for name in names:
            value = params.get(name)
            if value is None or value == "":
                missing = [p for p in names if params.get(p) in (None, "")]
                raise KeyError("缺少模板参数：" + "、".join(missing))
        # format() of a JSON value (text, number, true/false, list) is its str(): no conversion.
        return fill(params)

    return render


# An objection to a public notice by SMS: "YY 内容" or "异议：内容" (SPEC §1), optionally with the
# notice's public number first ("YY a3f09b12c4 内容"); the rest is the objection's text.
_OBJECTION = re.compile(r"^\s*(?:YY|异议)\s*[:：,，]?\s*(.*)$", re.IGNORECASE | re.DOTALL)


def reply_intent(content: str) -> tuple[str, str]:
    """("optout" | "optin" | "answer" | "objection" | "text", normalised content); for an
    objection, the text after its keyword."""
    text = (content or "").strip().upper().replace("　", "")
    if text in OPT_OUT_WORDS:
        return "optout", text
    if text in OPT_IN_WORDS:
        return "optin", text
    if text.isdigit() and len(text) <= 2:
        return "answer", text
    if m := _OBJECTION.match(content or ""):
        return "objection", m.group(1).strip()
    return "text", (content or "").strip()


def retry_delay(attempt: int, base_seconds: int = 60, cap_seconds: int = 3600) -> dt.timedelta:
    """Exponential backoff after the n-th failed attempt (1 → 1 min, 2 → 2 min, 3 → 4 min …)."""
    return dt.timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1)))


def late_enrolment_plan(
    due: list[tuple[int, dt.datetime]], now: dt.datetime
) -> tuple[list[int], int | None]:
    """Someone enrolled after some events were due: skip all past events but the latest one,
    which is sent now (not silence, not a burst). `due` is [(event id, due time)].
    Returns (ids to skip, id to send now or None)."""
    past = sorted((d, i) for i, d in due if d <= now)
    if not past:
        return [], None
    return [i for _, i in past[:-1]], past[-1][1]


CALLBACK_TOKEN_MIN_LENGTH = 32
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")


def callback_token_problem(token: str) -> str:
    """Why a callback token is too weak to guard the receipt and reply addresses ("" when it
    is fine). Refused: short ones, characters that do not belong in a URL path, few distinct
    characters, repeated pieces, and runs such as aaaaaa or abcdef (a random token — secrets.token_urlsafe,
    or even uuid4().hex — has these with a chance well under one in ten thousand)."""
    token = token or ""
    if not token:
        return "没有设置"
    if not _TOKEN_CHARS.fullmatch(token):
        return "只能由字母、数字和 - _ . ~ 组成"
    if len(token) < CALLBACK_TOKEN_MIN_LENGTH:
        return f"只有 {len(token)} 位，至少要 {CALLBACK_TOKEN_MIN_LENGTH} 位"
    if len(set(token)) < 8:
        return "重复的字符太多，不够随机"
    trigrams = [token[i : i + 3] for i in range(len(token) - 2)]
    if len(set(trigrams)) < 0.75 * len(trigrams):
        return "含有重复的片段，不够随机"
    run, longest = 1, 1
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(token)]
    for previous, step in itertools.pairwise(steps):
        run = run + 1 if step == previous and abs(step) <= 1 else 1
        longest = max(longest, run)
    if longest + 1 >= 6:  # six characters or more in a row such as aaaaaa or abcdef
        return "含有连续或重复的字符，不够随机"
    return ""
