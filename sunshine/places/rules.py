"""Pure rules of the division-code tree (SPEC §0.1, DOMAIN 'Division codes')."""

import re

from sunshine.core.errors import ServiceError

PROVINCE, CITY, COUNTY, TOWN, VILLAGE, GROUP, UNIT, RESIDENCE = (
    "province",
    "city",
    "county",
    "town",
    "village",
    "group",
    "unit",
    "residence",
)
LEVEL_LABELS = {
    PROVINCE: "省",
    CITY: "市",
    COUNTY: "县",
    TOWN: "乡镇",
    VILLAGE: "村（社区）",
    GROUP: "村民小组",
    UNIT: "单位",
    RESIDENCE: "居住地",
}
# The seed's six publication levels: 六级同步公开.
PUBLICATION_LEVELS = (COUNTY, TOWN, VILLAGE, GROUP, UNIT, RESIDENCE)
DIVISION_LEVELS = (PROVINCE, CITY, COUNTY, TOWN, VILLAGE)
# Significant digits of a 12-digit code at each level: its scoping prefix.
PREFIX_LEN = {PROVINCE: 2, CITY: 4, COUNTY: 6, TOWN: 9, VILLAGE: 12, GROUP: 15}
ATTACHED_MARK = {UNIT: "U", RESIDENCE: "R"}
# Prefecture-level cities without counties (不设区的地级市): their towns sit directly under
# the city, with 00 as county digits (东莞 441900003000 东城街道). In our tree such a city is
# the county: level COUNTY, path its 6 digits, parent the province. Its towns' 9-digit paths
# then start with the city's path, and nothing outside the city does.
COUNTYLESS_CITIES = {
    "441900": "东莞市",
    "442000": "中山市",
    "460400": "儋州市",
    "620200": "嘉峪关市",
}

# [0-9], not \d: \d and str.isdigit() also accept full-width and other Unicode digits.
CODE12 = re.compile(r"[0-9]{12}")
CODE15 = re.compile(r"[0-9]{15}")
ATTACHED = re.compile(r"([0-9]{9}|[0-9]{12})([UR])([0-9]{3})")
DIGITS = re.compile(r"[0-9]+")


def level_of_code(code: str) -> str:
    """The level a code names; raises ServiceError naming the code when it is malformed."""
    code = (code or "").strip()
    if CODE15.fullmatch(code):
        if code[12:] == "000":
            raise ServiceError(f"编码 {code}：村民小组编码的最后3位不能是000。")
        return GROUP
    m = ATTACHED.fullmatch(code)
    if m:
        if len(m.group(1)) == 12 and m.group(1)[9:] == "000":
            # Under a town the 9-digit form is the one code: 320324110000U001 would share
            # the path of 320324110U001.
            raise ServiceError(
                f"编码 {code}：单位、居住地编码应为乡镇编码前9位或村编码12位，加U或R和3位序号。"
            )
        return UNIT if m.group(2) == "U" else RESIDENCE
    if not DIGITS.fullmatch(code):
        raise ServiceError(
            f"编码 {code}：只能包含数字（单位、居住地编码为上级编码加U或R和3位序号）。"
        )
    if len(code) != 12:
        raise ServiceError(f"编码 {code}：统计用区划代码应为12位，现在是{len(code)}位。")
    if code[2:] == "0000000000":
        return PROVINCE
    if code[6:] == "000000" and code[:6] in COUNTYLESS_CITIES:
        return COUNTY
    if code[4:] == "00000000":
        return CITY
    if code[6:] == "000000":
        return COUNTY
    if code[9:] == "000":
        return TOWN
    return VILLAGE


def path_of_code(code: str, *, level: str | None = None) -> str:
    """The scoping prefix: every descendant's path starts with it (`level`: of the code, when
    already known)."""
    level = level or level_of_code(code)
    if level in PREFIX_LEN and level != GROUP:
        return code[: PREFIX_LEN[level]]
    if level in ATTACHED_MARK:
        m = ATTACHED.fullmatch(code)
        base = m.group(1)
        base_path = path_of_code(base if len(base) == 12 else base + "000")
        return base_path + m.group(2) + m.group(3)
    return code


def parent_code(code: str, *, level: str | None = None) -> str | None:
    """The code of the place directly above, or None for a province."""
    level = level or level_of_code(code)
    if level == PROVINCE:
        return None
    if level == CITY:
        return code[:2] + "0" * 10
    if level == COUNTY:
        if code[:6] in COUNTYLESS_CITIES:
            return code[:2] + "0" * 10
        return code[:4] + "0" * 8
    if level == TOWN:
        return code[:6] + "0" * 6
    if level == VILLAGE:
        return code[:9] + "000"
    if level == GROUP:
        return code[:12]
    base = ATTACHED.fullmatch(code).group(1)
    return base if len(base) == 12 else base + "000"


ALLOWED_PARENT_LEVELS = {
    PROVINCE: (),
    CITY: (PROVINCE,),
    COUNTY: (CITY, PROVINCE),  # a province only above a city without counties
    TOWN: (COUNTY,),
    VILLAGE: (TOWN,),
    GROUP: (VILLAGE,),
    UNIT: (TOWN, VILLAGE),
    RESIDENCE: (TOWN, VILLAGE),
}


def is_countyless_city(code: str) -> bool:
    """A prefecture-level city without counties, which acts as the county of our tree."""
    return len(code) == 12 and code[6:] == "000000" and code[:6] in COUNTYLESS_CITIES


def parent_problem(code: str, parent_level: str | None, *, level: str | None = None) -> str | None:
    """Why a place cannot sit under its parent (whose level is given, None when it is not
    there), in Chinese naming both codes; None when it can."""
    level = level or level_of_code(code)
    allowed = ALLOWED_PARENT_LEVELS[level]
    if not allowed:
        return None
    pcode = parent_code(code, level=level)
    if parent_level is None:
        return f"编码 {code}：上级 {pcode} 不存在，请先导入上级区划。"
    if parent_level in allowed:
        return None
    if level == TOWN and code[4:6] == "00":
        names = "、".join(f"{name} {c}" for c, name in COUNTYLESS_CITIES.items())
        return f"编码 {code}：县级代码为00的乡镇只能直属于不设区的地级市（{names}），{pcode} 不是。"
    return f"编码 {code}：不在上级 {pcode}（{LEVEL_LABELS[parent_level]}）之下。"


def town_kind(code: str) -> str:
    """街道 / 镇 / 乡 / 园区 from the township segment (DOMAIN: 001–099, 100–199, 200–399)."""
    seg = int(code[6:9])
    if seg < 100:
        return "街道"
    if seg < 200:
        return "镇"
    if seg < 400:
        return "乡"
    return "园区"
