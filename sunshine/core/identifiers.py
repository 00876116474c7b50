"""Identifiers inside any text: the one check public output passes (SPEC §0.2).

`find(text)` returns every ID number (GB 11643: 18 characters, a real birth date and a valid
ISO 7064 MOD 11-2 check character) and every mobile number (11 digits 1[3-9]…, also written
+86 / 86 / 0086 …) in a text, as a clerk may have typed or pasted them: with full-width
digits, in groups separated by spaces or dashes ("138 1234 5678", "320324-19700315-1124").
A number inside a longer run of digits is a different number (an order number, a bank
account) and is left alone, and so is an 18-digit number whose check character is wrong.

The check is pattern-based on purpose: it decides what must not be published, not whether a
mobile segment is assigned, so it stays the same whatever the mobile validator accepts.

- `mask_text(text)`: the text with each identifier replaced by its masked form (from
  sunshine.core.masking, the only masking functions), and how many of each kind;
- `mask_table(table)`: the same for a table {"headers": [...], "rows": [[...]]}; a column
  whose header names an ID number or a phone, or most of whose cells are one, is masked cell
  by cell even where a number is not valid (a mistyped ID is still someone's ID);
- `first_hit(text)`: the first identifier and its line number, for a refusal message
  (`refusal(label, hit)`) that names the field and the line;
- `count_masked(table)`: how many masked identifiers a stored table shows, for the notice on
  the staff preview;
- `describe(counts)`: "3 个身份证号码、1 个手机号码".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections import Counter

from sunshine.core.masking import mask_id_number, mask_mobile
from sunshine.core.validators import id_check_char

ID_NUMBER = "id_number"
MOBILE = "mobile"
LABELS = {ID_NUMBER: "身份证号码", MOBILE: "手机号码"}

_NORMAL = str.maketrans("０１２３４５６７８９ｘＸ＋", "0123456789XX+")
# One group of a number as typed: an optional plus sign, digits (ASCII or full-width) and, for
# an ID number, the check character X at its end (not the start of a word: "138…xyz").
_GROUP = re.compile(r"[+＋]?[0-9０-９]+(?:[xXｘＸ](?![A-Za-zＡ-Ｚａ-ｚ]))?")
# Between two groups of one number: one to three spaces or dashes ("138 1234 5678",
# "0516 - 8888", "320324－19700315－1124"). Anything else ends the number.
_JOIN = re.compile(r"[ \u00a0\u3000\-‐‑‒–—－]{1,3}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MASKED_ID = re.compile(r"(?<![0-9*])(?:[0-9]{6}\*{8}|\*{11,14})[0-9X]{4}(?![0-9*])")
_MASKED_MOBILE = re.compile(r"(?<![0-9*])1[0-9]{2}\*{4}[0-9]{4}(?![0-9*])")
COUNTRY_CODES = ("+86", "86", "0086")
MAX_CHARS = 18  # "+86" and 11 digits, "0086" and 11 digits, or an ID number
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—－]")

ID_HEADERS = ("身份证", "证件号", "公民身份号码", "身份号码", "证件号码")
PHONE_HEADERS = ("手机", "电话", "联系方式", "移动号码")


@dataclasses.dataclass(frozen=True)
class Hit:
    kind: str  # ID_NUMBER or MOBILE
    start: int
    end: int
    value: str  # normalised: ASCII digits, X upper case, without country code
    line: int = 1

    @property
    def masked(self) -> str:
        return mask_id_number(self.value) if self.kind == ID_NUMBER else mask_mobile(self.value)

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def is_id_number(value: str) -> bool:
    """18 characters, a real birth date, the right check character (no clock: a pure rule)."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    if value[0] == "0" or value[17] not in "0123456789X":
        return False
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return 1880 <= birth.year <= 2100 and id_check_char(value[:17]) == value[17]


def national_mobile(value: str) -> str | None:
    """The 11-digit mobile number a string of digits spells, with or without +86/86/0086."""
    for prefix in COUNTRY_CODES:
        if value.startswith(prefix) and len(value) == len(prefix) + 11:
            value = value[len(prefix) :]
            break
    return value if _MOBILE.fullmatch(value) else None


def _kind(value: str) -> tuple[str, str] | None:
    if is_id_number(value):
        return ID_NUMBER, value
    if not value.endswith("X") and (mobile := national_mobile(value)):
        return MOBILE, mobile
    return None


def _chains(text: str):
    """Runs of digit groups joined by spaces or dashes: [(start, end, normalised), ...]."""
    chain: list[tuple[int, int, str]] = []
    for m in _GROUP.finditer(text):
        if chain and not _JOIN.fullmatch(text, chain[-1][1], m.start()):
            yield chain
            chain = []
        if chain and m.group().startswith(("+", "＋")):
            yield chain
            chain = []
        chain.append((m.start(), m.end(), m.group().translate(_NORMAL).upper()))
    if chain:
        yield chain


def _plausible(chain, i: int, j: int, value: str) -> bool:
    """X only at the end, + only at the start, and a number typed in groups starts with a
    group of three digits or more ("138 1234 5678"), not with a stray "15" before "2000 …"."""
    if "X" in value[:-1] or "+" in value[1:]:
        return False
    first = i + 1 if j > i and chain[i][2] in COUNTRY_CODES else i
    return first == j or len(chain[first][2]) >= 3


def _in_chain(chain) -> list[Hit]:
    """The identifiers a run spells: from each group, the longest run of whole groups that is
    an ID or a mobile number (groups are never split: 20 digits are not an ID)."""
    hits, i = [], 0
    while i < len(chain):
        spans, value = [], ""
        for j in range(i, len(chain)):
            value += chain[j][2]
            if len(value) > MAX_CHARS:
                break
            spans.append((j, value))
        for j, value in reversed(spans):
            found = _kind(value) if _plausible(chain, i, j, value) else None
            end = chain[j][1]
            if found is None and value.endswith("X"):  # "13812345678x": X is not part of it
                found, end = _kind(value[:-1]), end - 1
                found = found if found and found[0] == MOBILE else None
            if found:
                hits.append(Hit(found[0], chain[i][0], end, found[1]))
                i = j + 1
                break
        else:
            i += 1
    return hits


def find(text: str | None) -> list[Hit]:
    """Every ID number and mobile number in the text, in order, with its line number."""
    text = text or ""
    if len(text) < 11:
        return []
    hits = [h for chain in _chains(text) for h in _in_chain(chain)]
    return [dataclasses.replace(h, line=text.count("\n", 0, h.start) + 1) for h in hits]


def first_hit(text: str | None) -> Hit | None:
    hits = find(text)
    return hits[0] if hits else None


def mask_text(text: str | None) -> tuple[str, Counter]:
    """The text with every identifier masked, and how many of each kind were masked."""
    text = text or ""
    hits = find(text)
    if not hits:
        return text, Counter()
    parts, at = [], 0
    for h in hits:
        parts += [text[at : h.start], h.masked]
        at = h.end
    parts.append(text[at:])
    return "".join(parts), Counter(h.kind for h in hits)


def header_kind(header: str) -> str | None:
    """ID_NUMBER or MOBILE for a column whose header names one ("身份证号码", "联系电话")."""
    header = _SEPARATORS.sub("", str(header or ""))
    if any(word in header for word in ID_HEADERS):
        return ID_NUMBER
    if any(word in header for word in PHONE_HEADERS):
        return MOBILE
    return None


def _bare(cell: str) -> str:
    return _SEPARATORS.sub("", cell).translate(_NORMAL).upper()


def content_kind(cells) -> str | None:
    """ID_NUMBER or MOBILE for a column more than half of whose filled cells are exactly one
    valid ID number (or mobile number): its other cells are then mistyped ones."""
    filled = [_bare(str(c)) for c in cells if str(c).strip()]
    if not filled:
        return None
    ids = sum(1 for v in filled if is_id_number(v))
    mobiles = sum(1 for v in filled if national_mobile(v))
    if ids * 2 > len(filled):
        return ID_NUMBER
    if mobiles * 2 > len(filled):
        return MOBILE
    return None


def _mask_cell(cell: str, kind: str | None) -> tuple[str, Counter]:
    if kind is not None and "*" not in cell:
        value = _bare(cell)
        if kind == ID_NUMBER and len(value) in (15, 18) and value[:-1].isdigit():
            if value[-1].isdigit() or value[-1] == "X":
                return mask_id_number(value), Counter({ID_NUMBER: 1})
        if kind == MOBILE and value.isdigit() and len(value) == 11 and value[0] == "1":
            return mask_mobile(value), Counter({MOBILE: 1})
    return mask_text(cell)


def mask_table(table: dict | None) -> tuple[dict, Counter]:
    """A table with its identifiers masked: a column recognised by its header or by most of
    its cells is masked whole, every other cell by its own content."""
    if not table or not table.get("headers"):
        return table or {}, Counter()
    columns = list(itertools.zip_longest(*table.get("rows", []), fillvalue=""))
    kinds = [
        header_kind(h) or (content_kind(columns[k]) if k < len(columns) else None)
        for k, h in enumerate(table["headers"])
    ]
    counts: Counter = Counter()
    headers = []
    for h in table["headers"]:
        masked, n = mask_text(str(h))
        headers.append(masked)
        counts += n
    rows = []
    for row in table.get("rows", []):
        out = []
        for k, cell in enumerate(row):
            masked, n = _mask_cell(str(cell), kinds[k] if k < len(kinds) else None)
            out.append(masked)
            counts += n
        rows.append(out)
    return {**table, "headers": headers, "rows": rows}, counts


def count_masked(table: dict | None) -> Counter:
    """How many masked ID numbers and mobile numbers a stored table shows."""
    counts: Counter = Counter()
    if not table or not table.get("headers"):
        return counts
    for row in table.get("rows", []):
        for cell in row:
            cell = str(cell)
            counts[ID_NUMBER] += len(_MASKED_ID.findall(cell))
            counts[MOBILE] += len(_MASKED_MOBILE.findall(cell))
    return +counts


def describe(counts: Counter | dict) -> str:
    """'3 个身份证号码、1 个手机号码' (empty when nothing)."""
    return "、".join(f"{counts[k]} 个{LABELS[k]}" for k in (ID_NUMBER, MOBILE) if counts.get(k))


def refusal(label: str, hit: Hit, *, lines: bool = True) -> str:
    """The Chinese message refusing a free text with an identifier in it, naming the field
    and the line."""
    where = f"{label}第{hit.line}行" if lines else label
    return (
        f"{where}有完整的{hit.label}（{hit.masked}）。公开的内容不能出现完整的身份证号码或"
        f"手机号码：请删去，或改写成隐去部分数字的形式（如 {hit.masked}）；"
        "名单请用“添加一人”，粘贴到表格里的号码会自动隐去。"
    )
