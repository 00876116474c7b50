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
    if code[4:] == "00000000":
        return CITY
    if code[6:] == "000000":
        return COUNTY
    if code[9:] == "000":
        return TOWN
    return VILLAGE


def path_of_code(code: str) -> str:
    """The scoping prefix: every descendant's path starts with it."""
    level = level_of_code(code)
    if level in PREFIX_LEN and level != GROUP:
        return code[: PREFIX_LEN[level]]
    if level in ATTACHED_MARK:
        m = ATTACHED.fullmatch(code)
        base = m.group(1)
        base_path = path_of_code(base if len(base) == 12 else base + "000")
        return base_path + m.group(2) + m.group(3)
    return code


def parent_code(code: str) -> str | None:
    """The code of the place directly above, or None for a province."""
    level = level_of_code(code)
    if level == PROVINCE:
        return None
    if level == CITY:
        return code[:2] + "0" * 10
    if level == COUNTY:
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
    COUNTY: (CITY,),
    TOWN: (COUNTY,),
    VILLAGE: (TOWN,),
    GROUP: (VILLAGE,),
    UNIT: (TOWN, VILLAGE),
    RESIDENCE: (TOWN, VILLAGE),
}


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
