"""Pure rules of the results and the risk assessment (风险评估) of 好孕好运: no database, no clock.

- A VALUE item is abnormal outside its reference range (the bounds themselves are normal).
- The blood-type item (7) is read into (ABO, RhD); RhD negative is recorded as abnormal so
  that the pregnancy is managed (DOMAIN "Rh-negative blood").
- The couple's level is the highest `abnormal_risk` among abnormal results
  (normal < counsel < high), raised by couple-level rules. Reasons are Chinese sentences for
  the doctor; they name items and values and never go into an SMS.

Items are anything with CheckItem's attributes (code, name, result_type, applies_to, unit,
ref_low, ref_high, abnormal_risk); results anything with item, subject, value, is_abnormal.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

WOMAN, MAN = "F", "M"
SUBJECT_LABEL = {WOMAN: "女方", MAN: "男方"}
FLAG, VALUE, TEXT = "flag", "value", "text"
NORMAL, COUNSEL, HIGH = "normal", "counsel", "high"
LEVELS = (NORMAL, COUNSEL, HIGH)
LEVEL_LABEL = {NORMAL: "一般人群", COUNSEL: "有风险因素，需咨询指导", HIGH: "高风险"}

# Catalogue codes the rules know by name (catalogue.py).
BLOOD_TYPE, HBV, RUBELLA = "blood-type", "hbv", "rubella"
# Items 18 and 19 are services done after the results (the assessment itself, the follow-up):
# they are never entered as results.
NOT_RESULTS = frozenset({"counselling", "followup"})

FLAG_NORMAL, FLAG_ABNORMAL = "正常", "异常"
RH_NEGATIVE_REASON = "Rh阴性，孕期需监测抗体"
RUBELLA_REASON = "女方风疹病毒IgG抗体阴性：建议接种风疹疫苗，3个月后再怀孕。"
RH_INCOMPATIBLE_REASON = (
    "女方RhD阴性、男方RhD阳性：存在母胎Rh血型不合的风险，孕期需监测抗D抗体，"
    "必要时按规定注射抗D免疫球蛋白。"
)
HBV_BOTH_REASON = "夫妇双方乙型肝炎血清学五项均异常：高风险，需专科评估母婴阻断方案。"


def rank(level: str) -> int:
    return LEVELS.index(level)


def higher(a: str, b: str) -> str:
    return a if rank(a) >= rank(b) else b


def is_result_item(item) -> bool:
    return item.code not in NOT_RESULTS


def applies(item, subject: str) -> bool:
    return item.applies_to in ("B", subject)


def _plain(text: str) -> str:
    """Full-width to half-width, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def _fmt(d: Decimal | None) -> str:
    if d is None:
        return ""
    return format(d.normalize(), "f")


def range_label(item) -> str:
    """ "110–150 g/L", "≤40 U/L", "" when the item has no range."""
    low, high = item.ref_low, item.ref_high
    if low is None and high is None:
        return ""
    if low is None or (low == 0 and high is not None):
        text = f"≤{_fmt(high)}"
    elif high is None:
        text = f"≥{_fmt(low)}"
    else:
        text = f"{_fmt(low)}–{_fmt(high)}"
    return f"{text} {item.unit}".strip()


def _number_text(item, value: str) -> str:
    """A VALUE result without spaces, full-width forms and a trailing unit."""
    text = _plain(value)
    unit = _plain(item.unit)
    if unit and text.lower().endswith(unit.lower()):
        text = text[: -len(unit)]
    return text


def parse_number(item, value: str) -> Decimal:
    """The number in a VALUE result ("5.2", "５.２", "5.2 mmol/L"), or ValueError in Chinese."""
    text = _number_text(item, value)
    hint = f"，如 {_fmt(item.ref_high) or '5.2'}" + (f"（单位 {item.unit}）" if item.unit else "")
    if not text:
        raise ValueError(f"「{item.name}」没有填写数值。")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise ValueError(f"「{item.name}」的结果“{value.strip()[:20]}”不是数字，请填写数字{hint}。")
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only numbers
        raise ValueError(f"「{item.name}」的结果不是数字，请填写数字{hint}。") from None
    if number < 0:
        raise ValueError(f"「{item.name}」的结果不能是负数。")
    if number >= Decimal("1e7"):
        raise ValueError(f"「{item.name}」的结果 {text} 太大，请核对。")
    return number


# ABO then RhD, or RhD then ABO; "0" is often written for O.
_ABO = r"(AB|A|B|O|0)"
_RH = r"(?:RHD|RH|D)?(阳性|阴性|\+|-|POSITIVE|NEGATIVE|POS|NEG)"
_BLOOD_TYPE_PATTERNS = (
    re.compile(rf"^{_ABO}{_RH}$"),
    re.compile(rf"^{_RH}{_ABO}$"),
)
_NEGATIVE = {"阴性", "-", "NEGATIVE", "NEG"}


def parse_blood_type(value: str) -> tuple[str, str]:
    """("A" | "B" | "O" | "AB", "+" | "-") from "A型 RhD阴性", "O+", "AB型Rh阴性", "Rh阳性B型"…;
    ValueError with a Chinese message otherwise."""
    text = _plain(value).upper()
    for junk in ("血型", "型", "(", ")", ":", ",", "，", "、", "/", ";", "；"):
        text = text.replace(junk, "")
    text = text.replace("－", "-").replace("—", "-").replace("＋", "+")
    for i, pattern in enumerate(_BLOOD_TYPE_PATTERNS):
        m = pattern.match(text)
        if m:
            abo, rh = (m.group(1), m.group(2)) if i == 0 else (m.group(2), m.group(1))
            abo = "O" if abo == "0" else abo
            return abo, "-" if rh in _NEGATIVE else "+"
    raise ValueError(
        f"血型“{(value or '').strip()[:20]}”无法识别，请写明ABO血型和RhD，"
        "如“A型 RhD阳性”“O型 RhD阴性”或“AB+”。"
    )


def blood_type_label(abo: str, rh: str) -> str:
    return f"{abo}型 RhD{'阴性' if rh == '-' else '阳性'}"


def computed_abnormal(item, value: str) -> bool | None:
    """The abnormal flag the rules decide (VALUE items and the blood type), or None when it is
    the doctor's call (normal/abnormal items and free text). ValueError for a bad value."""
    if item.result_type == VALUE:
        return is_abnormal(item, value)
    if item.code == BLOOD_TYPE:
        return parse_blood_type(value)[1] == "-"
    return None


def is_abnormal(item, value: str) -> bool:
    """A VALUE item's result is abnormal outside ref_low..ref_high (bounds are normal)."""
    if item.result_type != VALUE:
        raise ValueError(f"「{item.name}」不是数值型项目。")
    number = parse_number(item, value)
    if item.ref_low is not None and number < Decimal(item.ref_low):
        return True
    return item.ref_high is not None and number > Decimal(item.ref_high)


def normalise_value(item, value: str) -> str:
    """The text stored for a result: a number as written (half-width), a blood type in one
    spelling, a flag as 正常/异常 (see flag_value), free text trimmed."""
    if item.result_type == VALUE:
        return _plain_number(item, value)
    if item.code == BLOOD_TYPE:
        return blood_type_label(*parse_blood_type(value))
    return (value or "").strip()


def _plain_number(item, value: str) -> str:
    """Keep the doctor's decimals ("5.20" stays "5.20"), drop the unit and full-width forms."""
    parse_number(item, value)
    return _number_text(item, value).lstrip("+")


def flag_value(is_abnormal_: bool) -> str:
    return FLAG_ABNORMAL if is_abnormal_ else FLAG_NORMAL


def result_reason(item, subject: str, value: str) -> str:
    """One sentence for the doctor on one abnormal result."""
    who = SUBJECT_LABEL[subject]
    if item.code == BLOOD_TYPE:
        try:
            abo, rh = parse_blood_type(value)
        except ValueError:
            return f"{who}{item.name}异常：{value}"
        if rh == "-":
            return f"{who}{blood_type_label(abo, rh)}：{RH_NEGATIVE_REASON}。"
        return f"{who}{item.name}异常：{value}"
    if item.result_type == VALUE:
        try:
            number = parse_number(item, value)
        except ValueError:
            return f"{who}{item.name}异常：{value}"
        side = ""
        if item.ref_low is not None and number < Decimal(item.ref_low):
            side = "低于"
        elif item.ref_high is not None and number > Decimal(item.ref_high):
            side = "高于"
        unit = f" {item.unit}" if item.unit else ""
        return f"{who}{item.name}{side}参考范围：{value}{unit}（参考 {range_label(item)}）。"
    if item.code == RUBELLA and subject == WOMAN:
        return RUBELLA_REASON
    detail = "" if item.result_type == FLAG or not value else f"：{value}"
    return f"{who}{item.name}异常{detail}。"


def missing(results, items) -> list[tuple[object, str]]:
    """(item, subject) pairs that apply and have no result; items 18 and 19 are not results."""
    have = {(r.item.code, r.subject) for r in results}
    out = []
    for item in items:
        if not is_result_item(item):
            continue
        for subject in (WOMAN, MAN):
            if applies(item, subject) and (item.code, subject) not in have:
                out.append((item, subject))
    return out


def missing_label(pairs) -> str:
    return "、".join(f"{SUBJECT_LABEL[s]}「{item.name}」" for item, s in pairs)


def _rh(results, subject: str) -> str | None:
    for r in results:
        if r.item.code == BLOOD_TYPE and r.subject == subject:
            try:
                return parse_blood_type(r.value)[1]
            except ValueError:
                return None
    return None


def assess(results, items=None) -> tuple[str, list[str]]:
    """(level, reasons) for a couple's results. `items` is accepted for symmetry with
    `missing` (the results carry their items); completeness is checked there."""
    results = [r for r in results if is_result_item(r.item)]
    level, reasons = NORMAL, []
    for r in sorted(results, key=lambda r: (r.item.number, r.subject != WOMAN)):
        if not r.is_abnormal:
            continue
        level = higher(level, r.item.abnormal_risk)
        reasons.append(result_reason(r.item, r.subject, r.value))
    abnormal = {(r.item.code, r.subject) for r in results if r.is_abnormal}
    if (HBV, WOMAN) in abnormal and (HBV, MAN) in abnormal:
        level = HIGH
        reasons.append(HBV_BOTH_REASON)
    if (RUBELLA, WOMAN) in abnormal:
        level = higher(level, COUNSEL)
    if _rh(results, WOMAN) == "-" and _rh(results, MAN) == "+":
        level = higher(level, COUNSEL)
        reasons.append(RH_INCOMPATIBLE_REASON)
    return level, reasons


def final_level(computed: str, override: str | None) -> str:
    """A doctor may raise the rules' level, never lower it (ValueError in Chinese)."""
    if not override or override == computed:
        return computed
    if override not in LEVELS:
        raise ValueError("风险等级只能是：一般人群、有风险因素需咨询指导、高风险。")
    if rank(override) < rank(computed):
        raise ValueError(
            f"按检查结果评定为“{LEVEL_LABEL[computed]}”，医生可以调高等级，但不能调低到"
            f"“{LEVEL_LABEL[override]}”。"
        )
    return override
