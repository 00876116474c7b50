"""Pure validation of one resident's fields: the one place forms, the import and the API use.

Every error names the column (its Chinese header) and the reason.
"""

import datetime as dt
from dataclasses import dataclass

from sunshine.core.text import clean_text
from sunshine.core.validators import ID_CHECK, ID_WEIGHTS, mobile_problem

# field → accepted headers (first is the template's header)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名",),
    "sex": ("性别",),
    "birth_date": ("出生日期",),
    "id_number": ("身份证号码", "公民身份号码", "身份证号"),
    "mobile": ("手机号码", "手机", "联系电话"),
    "place_code": ("所在地编码", "村组编码", "区划代码"),
    "household_number": ("户号",),
    "residence_code": ("居住地编码",),
    "hukou_type": ("户籍类型",),
    "status": ("状态", "人口状态"),
}
REQUIRED = frozenset({"name", "sex", "id_number", "place_code"})
HEADERS = {field: names[0] for field, names in COLUMNS.items()}
TEMPLATE_EXAMPLE = {
    "name": "张三",
    "sex": "男",
    "birth_date": "1990-03-07",
    "id_number": "11010519491231002X",
    "mobile": "13800001234",
    "place_code": "990101001001001",
    "household_number": "0001",
    "residence_code": "",
    "hukou_type": "农村",
    "status": "在册",
}

SEX = {"男": "M", "女": "F", "m": "M", "f": "F", "M": "M", "F": "F", "1": "M", "2": "F"}
HUKOU = {
    "农村": "rural",
    "农业": "rural",
    "rural": "rural",
    "城镇": "urban",
    "非农业": "urban",
    "urban": "urban",
    "": "rural",
}
STATUS = {
    "在册": "resident",
    "": "resident",
    "resident": "resident",
    "迁出": "moved",
    "moved": "moved",
    "死亡": "deceased",
    "deceased": "deceased",
}
DIGITS = frozenset("0123456789")
PLACE_LEVELS = ("village", "group")


@dataclass(frozen=True, slots=True)
class PlaceRef:
    id: int
    path: str
    level: str


def id_error(value: str, today: dt.date) -> str | None:
    """The reason an ID number is invalid, or None. Fast: used on every imported row."""
    n = len(value)
    if n != 18:
        if n == 15 and set(value) <= DIGITS:
            return "是旧的15位号码，请换成18位的新号码"
        return f"应为18位，现在是{n}位"
    body = value[:17]
    if not set(body) <= DIGITS or value[17] not in "0123456789X":
        return "前17位应为数字，最后一位为数字或X"
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"出生日期{value[6:14]}不是真实日期"
    if birth > today or birth.year < 1880:
        return f"出生日期{value[6:14]}不合理"
    total = 0
    for d, w in zip(body, ID_WEIGHTS, strict=True):
        total += (ord(d) - 48) * w
    if ID_CHECK[total % 11] != value[17]:
        return "校验位不对，请核对是否抄错"
    return None


def parse_date(value: str) -> dt.date | None:
    value = value.strip()
    if (
        len(value) == 10
        and value[4] == value[7] == "-"
        and (value[:4] + value[5:7] + value[8:]).isdigit()
    ):
        try:  # the common ISO form, without strptime's cost
            return dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError:
            return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def clean_resident(
    raw: dict[str, str], *, places: dict[str, PlaceRef], scope_prefix: str | None, today: dt.date
) -> tuple[dict, list[tuple[str, str]]]:
    """(clean values, [(header, reason)]). `places` maps code → PlaceRef for the lookup;
    `scope_prefix` is the path the actor may write under ("" = everything, None = nothing)."""
    errors: list[tuple[str, str]] = []
    out: dict = {}
    name = clean_text(raw.get("name", ""))
    if not name:
        errors.append((HEADERS["name"], "不能为空"))
    elif len(name) > 50:
        errors.append((HEADERS["name"], "超过50个字"))
    out["name"] = name

    idn = raw.get("id_number", "").strip().upper()
    reason = id_error(idn, today) if idn else "不能为空"
    if reason:
        errors.append((HEADERS["id_number"], reason))
    out["id_number"] = idn

    sex_raw = raw.get("sex", "").strip()
    sex = SEX.get(sex_raw)
    if sex is None:
        errors.append((HEADERS["sex"], "应填“男”或“女”" if sex_raw else "不能为空"))
    elif not reason and ("M" if (ord(idn[16]) - 48) % 2 else "F") != sex:
        errors.append(
            (
                HEADERS["sex"],
                f"与身份证号码不一致（号码第17位表示{'男' if sex == 'F' else '女'}性）",
            )
        )
    out["sex"] = sex

    birth_raw = raw.get("birth_date", "").strip()
    id_birth = None if reason else dt.date(int(idn[6:10]), int(idn[10:12]), int(idn[12:14]))
    if birth_raw:
        birth = parse_date(birth_raw)
        if birth is None:
            errors.append((HEADERS["birth_date"], "日期格式应为 1990-03-07"))
        elif id_birth is not None and birth != id_birth:
            errors.append((HEADERS["birth_date"], "与身份证号码中的出生日期不一致"))
    out["birth_date"] = id_birth

    mobile = raw.get("mobile", "").strip()
    if mobile:
        mobile, problem = mobile_problem(mobile)
        if problem is not None:
            errors.append((HEADERS["mobile"], problem))
    out["mobile"] = mobile

    code = raw.get("place_code", "").strip()
    place = places.get(code) if code else None
    if not code:
        errors.append((HEADERS["place_code"], "不能为空"))
    elif place is None:
        errors.append((HEADERS["place_code"], f"区划编码 {code} 不存在，或不在您的管辖范围内"))
    elif place.level not in PLACE_LEVELS:
        errors.append((HEADERS["place_code"], f"区划编码 {code} 应为村（社区）或村民小组"))
    elif scope_prefix is None or not place.path.startswith(scope_prefix):
        errors.append((HEADERS["place_code"], f"区划编码 {code} 不在您的管辖范围内"))
    out["place"] = place

    rcode = raw.get("residence_code", "").strip()
    residence = places.get(rcode) if rcode else None
    if rcode and (residence is None or residence.level != "residence"):
        errors.append((HEADERS["residence_code"], f"居住地编码 {rcode} 不存在"))
    out["residence"] = residence

    hukou = HUKOU.get(raw.get("hukou_type", "").strip())
    if hukou is None:
        errors.append((HEADERS["hukou_type"], "应填“农村”或“城镇”"))
    out["hukou_type"] = hukou

    status = STATUS.get(raw.get("status", "").strip())
    if status is None:
        errors.append((HEADERS["status"], "应填“在册”“迁出”或“死亡”"))
    out["status"] = status

    household = clean_text(raw.get("household_number", ""))
    if len(household) > 32:
        errors.append((HEADERS["household_number"], "超过32个字符"))
    out["household_number"] = household
    return out, errors
