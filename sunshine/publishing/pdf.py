"""Print output of the publication pipeline (SPEC §0.3, §1): board posters and press copy.

Plain data in, bytes out, no models: the caller (a selector or a task) turns a place's board
into a `Board` of `PosterItem`s and gets back a print-ready PDF.

- `board_poster(board, size="A4"|"A3")`: one poster for a physical notice board (公示栏),
  continued on further pages when the items do not fit on one;
- `posters_zip(((filename, board), ...))`: a batch, one PDF per board, streamed into a zip file;
- `press_copy_text(...)` / `press_copy_pdf(...)`: press copy for the TV/radio/newspaper columns.

The layout is drawn straight on a reportlab canvas with a cheap CJK line breaker of its own
(no platypus): a poster costs about 1.5 times a bare `drawString` page of the same text
(bench/posters.py). Text is drawn, never parsed as markup, so `<`, `&` and `>`
in titles print as they are. The Chinese font is a TrueType font embedded as a subset, from
the settings `SUNSHINE_PDF_FONT` (path, a .ttf or .ttc) and `SUNSHINE_PDF_FONT_INDEX` (which
font in a .ttc); it is parsed once per process. Without a usable font the PDFs fall back to the
non-embedded CID font STSong-Light, with a warning in the log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import itertools
import logging
import os
import re
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from reportlab import rl_config
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.barcode.qrencoder import QRUtil
from reportlab.lib.pagesizes import A3, A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

logger = logging.getLogger(__name__)

DEFAULT_FONT = "/usr/share/fonts/truetype/arphic/uming.ttc"
FALLBACK_FONT = "STSong-Light"
PAGE_SIZES = {"A4": A4, "A3": A3}
CREATOR = "阳光计生 Sunshine"


# ---------------------------------------------------------------------------------------------
# Input


@dataclasses.dataclass
class PosterItem:
    """One published item as it appears on a board."""

    title: str
    date: dt.date
    category: str
    summary: str = ""
    is_notice: bool = False
    notice_ends: dt.date | None = None
    origin: str = ""  # e.g. the publishing place of an item inherited from above ("睢宁县")


@dataclasses.dataclass
class Board:
    """A place's board: its own items and those of its ancestors that target its level."""

    place_name: str
    level_label: str
    county_name: str
    url: str
    items: list[PosterItem]
    hotline: str
    generated_at: dt.datetime


# ---------------------------------------------------------------------------------------------
# Font


@functools.lru_cache(maxsize=8)
def _register_font(path: str, index: int) -> str:
    name = f"SunshineCJK-{zlib.crc32(path.encode()):08x}-{index}"
    if name in pdfmetrics.getRegisteredFontNames():
        return name
    try:
        font = TTFont(name, path, subfontIndex=index)
    except Exception as exc:  # missing file, not TrueType (CFF outlines), bad index, …
        logger.warning(
            "PDF 字体 %s（序号 %s）无法加载（%s）；改用不嵌入的 %s。请检查设置 SUNSHINE_PDF_FONT。",
            path,
            index,
            exc,
            FALLBACK_FONT,
        )
        if FALLBACK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
        return FALLBACK_FONT
    _slice_tables_lazily(font)
    pdfmetrics.registerFont(font)
    return name


class _TableView:
    """A table of the font file that is sliced only where read, never copied whole."""

    __slots__ = ("_data", "_length", "_pos")

    def __init__(self, data: bytes, pos: int, length: int):
        self._data, self._pos, self._length = data, pos, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("font table views only slice")
        start, stop, step = key.indices(self._length)
        return self._data[self._pos + start : self._pos + stop : step]


def _slice_tables_lazily(font: TTFont) -> None:
    """Stop reportlab copying the whole 'glyf' table (17 MB in uming.ttc) for each subset.

    Every embedded subset (256 characters) of every PDF calls face.get_table('glyf') and only
    slices glyphs out of it; a view makes that copy free. Other tables are small and returned
    as reportlab reads them. Only this font object is changed; any surprise leaves it as it was.
    """
    face = getattr(font, "face", None)
    data = getattr(face, "_ttf_data", None)
    if not isinstance(data, bytes) or not hasattr(face, "get_table_pos"):
        return
    get_table = face.get_table

    def table(tag):
        if tag in ("glyf", "post"):
            pos, length = face.get_table_pos(tag)
            return _TableView(data, pos, length)
        return get_table(tag)

    face.get_table = table


def chinese_font() -> str:
    """The registered name of the Chinese font for PDFs (registered once per path and index).

    Reads `settings.SUNSHINE_PDF_FONT` (default: Debian's AR PL UMing) and
    `settings.SUNSHINE_PDF_FONT_INDEX` (default 0, "AR PL UMing CN" in uming.ttc). Falls back
    to the CID font STSong-Light, with a logged warning, when the font cannot be loaded.
    """
    path = str(getattr(settings, "SUNSHINE_PDF_FONT", "") or DEFAULT_FONT)
    index = int(getattr(settings, "SUNSHINE_PDF_FONT_INDEX", 0) or 0)
    return _register_font(path, index)


chinese_font.cache_clear = _register_font.cache_clear  # type: ignore[attr-defined]


class _Metrics:
    """Character widths of one font at size 1, measured once per character."""

    def __init__(self, font: str):
        self.font = font
        self._w: dict[str, float] = {}

    def width(self, text: str, size: float) -> float:
        w = self._w
        total = 0.0
        for ch in text:
            x = w.get(ch)
            if x is None:
                x = w[ch] = pdfmetrics.stringWidth(ch, self.font, 1.0)
            total += x
        return total * size


@functools.cache
def _metrics(font: str) -> _Metrics:
    return _Metrics(font)


# ---------------------------------------------------------------------------------------------
# Text


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A run of Latin letters and digits (a number, a code, a URL) breaks as one piece; anything
# else (a Chinese character, a punctuation mark, a space) is a piece of its own.
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.\-/:%@#&+=?~_]*|\s|.", re.S)
# 避头尾: marks that may not start a line (the character before goes down with them) and
# marks that may not end one (they go down with the next piece).
_NO_START = frozenset("，。、；：！？）》」』】〕〉”’,.;:!?)]}%…—～·")
_NO_END = frozenset("（《「『【〔〈“‘([{")


def _clean(text: str, *, one_line: bool = False) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _CONTROL.sub("", text)
    if one_line:
        text = " ".join(text.split())
    return text


def _wrap_para(m: _Metrics, para: str, size: float, width: float, first: float) -> list[str]:
    """Break one paragraph into lines of at most `width` points (`first` for the first line)."""
    if m.width(para, size) <= first:
        return [para]
    lines: list[str] = []
    cur: list[str] = []
    cur_w = 0.0
    limit = first
    for tok in _TOKEN.findall(para):
        tw = m.width(tok, size)
        if cur_w + tw <= limit:
            if cur or not tok.isspace():
                cur.append(tok)
                cur_w += tw
            continue
        if tok.isspace():
            if cur:
                lines.append("".join(cur).rstrip())
            cur, cur_w, limit = [], 0.0, width
            continue
        if tok in _NO_START and cur:
            # the mark may not start the next line: take the last character down with it
            # (and any opening marks before that), or, if that is not possible, let it hang
            carry: list[str] = []
            if cur[-1] not in _NO_START:
                carry.append(cur.pop())
                while cur and cur[-1] in _NO_END:
                    carry.insert(0, cur.pop())
            if carry and cur:
                lines.append("".join(cur).rstrip())
                cur = [*carry, tok]
                cur_w, limit = m.width("".join(cur), size), width
            else:
                lines.append("".join([*cur, *carry, tok]))
                cur, cur_w, limit = [], 0.0, width
            continue
        if tw > width:  # a Latin run longer than a line: break it anywhere
            for ch in tok:
                cw = m.width(ch, size)
                if cur and cur_w + cw > limit:
                    lines.append("".join(cur))
                    cur, cur_w, limit = [], 0.0, width
                cur.append(ch)
                cur_w += cw
            continue
        carry = []
        while cur and cur[-1] in _NO_END and len(cur) > 1:
            carry.insert(0, cur.pop())
        if cur:
            lines.append("".join(cur).rstrip())
        cur = [*carry, tok]
        cur_w = m.width("".join(cur), size)
        limit = width
    if cur:
        lines.append("".join(cur).rstrip())
    return lines


def _wrap(m: _Metrics, text: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if para:
            lines.extend(_wrap_para(m, para, size, width, width))
    return lines


def _fit(m: _Metrics, text: str, size: float, width: float, smallest: float) -> float:
    """The largest size up to `size` (not below `smallest`) at which `text` fits `width`."""
    w = m.width(text, size)
    if w <= width:
        return size
    return max(smallest, size * width / w)


def _cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _local(moment: dt.datetime) -> dt.datetime:
    if timezone.is_aware(moment):
        return timezone.localtime(moment)
    return moment


# ---------------------------------------------------------------------------------------------
# Drawing helpers

RED = (0.714, 0.063, 0.098)  # the deep red of government notices
GOLD = (0.957, 0.816, 0.494)
INK = (0.1, 0.1, 0.1)
TEXT = (0.2, 0.2, 0.2)
GREY = (0.4, 0.4, 0.4)
RULE = (0.75, 0.75, 0.75)
WHITE = (1, 1, 1)
PALE_RED = (0.992, 0.949, 0.945)


class _Pen:
    """A canvas with the Chinese font and its metrics; text in one call.

    Remembers the font size and colours it has set, so that repeated settings are not written
    again (reset() after showPage(), which resets the canvas).
    """

    def __init__(self, canvas: Canvas, font: str):
        self.c = canvas
        self.font = font
        self.m = _metrics(font)
        self.reset()

    def reset(self) -> None:
        self._size = self._fill = self._stroke = self._line = None

    def fill(self, color) -> None:
        if color != self._fill:
            self.c.setFillColorRGB(*color)
            self._fill = color

    def stroke(self, color, width: float | None = None) -> None:
        if color != self._stroke:
            self.c.setStrokeColorRGB(*color)
            self._stroke = color
        if width is not None and width != self._line:
            self.c.setLineWidth(width)
            self._line = width

    def text(self, x, y, s, size, color=INK, *, bold=False, align="l"):
        c = self.c
        if align != "l":
            w = self.m.width(s, size)
            x -= w if align == "r" else w / 2
        if size != self._size:
            c.setFont(self.font, size)
            self._size = size
        self.fill(color)
        if bold:  # the Song face has no bold: fill and stroke the outline (仿粗体)
            self.stroke(color, size * 0.035)
            t = c.beginText(x, y)
            t.setTextRenderMode(2)
            t.textOut(s)
            t.setTextRenderMode(0)
            c.drawText(t)
        else:
            c.drawString(x, y, s)

    def tag(self, x, y, s, *, filled) -> float:
        """A small category tag with its left edge at x and its box bottom at y; its width."""
        size = _TAG_SIZE
        w = self.m.width(s, size) + 8
        self.stroke(RED, 0.8)
        self.fill(RED if filled else PALE_RED)
        self.c.rect(x, y, w, 14.5, stroke=1, fill=1)
        self.text(x + 4, y + 3.9, s, size, WHITE if filled else RED)
        return w


_SAVE_LOCK = threading.Lock()


def _save(c: Canvas) -> None:
    """Write the PDF with binary streams: reportlab's default also wraps every stream in
    ASCII85 (pure Python, a quarter larger), a 7-bit safety no PDF consumer needs today.

    The switch is reportlab's global setting, so it is set and put back under a lock."""
    with _SAVE_LOCK:
        saved = rl_config.useA85
        rl_config.useA85 = 0
        try:
            c.save()
        finally:
            rl_config.useA85 = saved


def _baseline(top: float, leading: float, size: float) -> float:
    """The baseline that centres a line of Chinese text of `size` in a row of `leading`."""
    return top - leading / 2 - 0.36 * size


_RUNS = re.compile(r"0{5,}|1{5,}")
_FINDER_LIKE = re.compile(r"(?=10111010000|00001011101)")


def _mask_penalty(rows: list[str]) -> int:
    """The mask penalty of ISO/IEC 18004 (rules N1–N4) of a matrix of "0"/"1" rows.

    N1, N2 and N4 score as reportlab's QRUtil.getLostPoint does; N3 counts the finder-like
    pattern with its light side before or after it, as the standard says (reportlab: after).
    """
    n = len(rows)
    score = 0
    for line in itertools.chain(rows, map("".join, zip(*rows, strict=True))):
        for run in _RUNS.finditer(line):  # N1: five or more alike in a row
            score += len(run.group()) - 2
        score += 40 * len(_FINDER_LIKE.findall(line))  # N3
    ints = [int(r, 2) for r in rows]
    full = (1 << (n - 1)) - 1
    for a, b in itertools.pairwise(ints):  # N2: 2×2 blocks of one colour
        same = ~(a ^ b)
        score += 3 * (~(a ^ (a >> 1)) & same & (same >> 1) & full).bit_count()
    dark = sum(r.count("1") for r in rows)  # N4: balance of dark and light
    score += 10 * (abs(dark * 100 // (n * n) - 50) // 5)
    return score


@functools.cache
def _mask_flips(version: int, positions: tuple[tuple[int, int], ...]) -> tuple:
    """Per mask k, per row: the bits that differ between mask 0 and mask k (data modules)."""
    n = version * 4 + 17
    masks = [QRUtil.getMask(k) for k in range(8)]
    flips = []
    for k in range(8):
        rows = [0] * n
        for col, row in positions:
            if masks[0](row, col) != masks[k](row, col):
                rows[row] |= 1 << (n - 1 - col)
        flips.append(tuple(rows))
    return tuple(flips)


@functools.lru_cache(maxsize=256)
def _qr_modules(url: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of a QR code (level M) for `url`, from reportlab's QrCodeWidget encoder.

    The mask is chosen as reportlab's make() does (least penalty), but from one trial matrix:
    the trial matrices differ only in data modules, where mask k is mask 0 with the modules
    flipped where the two mask functions differ.
    """
    qr = QrCodeWidget(url or " ", barLevel="M").qr
    qr.version = qr.calculate_version()
    qr.makeImpl(True, 0)
    n = qr.getModuleCount()
    base = [int("".join("1" if v else "0" for v in row), 2) for row in qr.modules]
    flips = _mask_flips(qr.version, tuple(qr.dataPosIterator()))
    scores = []
    for k in range(8):
        rows = [format(b ^ f, f"0{n}b") for b, f in zip(base, flips[k], strict=True)]
        scores.append(_mask_penalty(rows))
    qr.makeImpl(False, scores.index(min(scores)))
    return tuple(tuple(bool(v) for v in row) for row in qr.modules)


def _qr_form(c: Canvas, url: str, side: float) -> None:
    """Define the form "qr": a QR code for `url`, `side` points square, quiet zone outside.

    One path of rectangles (a run of dark modules each), written in module units under a
    scaling matrix: integers only, so no float formatting per rectangle.
    """
    modules = _qr_modules(url)
    n = len(modules)
    ops = [f"q {side / n:.4f} 0 0 {side / n:.4f} 0 0 cm 0 g"]
    for r, row in enumerate(modules):
        y = n - 1 - r
        col = 0
        for dark, run in itertools.groupby(row):
            width = sum(1 for _ in run)
            if dark:
                ops.append(f"{col} {y} {width} 1 re")
            col += width
    ops.append("f Q")
    c.beginForm("qr", 0, 0, side, side)
    c.addLiteral("\n".join(ops))
    c.endForm()


# ---------------------------------------------------------------------------------------------
# Board poster
#
# The layout is in A4 points; an A3 poster is the same layout scaled by √2, so it reads from
# further away on a big board.

_W, _H = A4
_M = 34.0  # page margin
_BAND_H = 86.0  # red title band
_INFO_H = 26.0  # the line under the band: level, count, page
_FOOT_H = 118.0  # footer: hotline, QR code
_QR = 84.0
_PAD = 8.0  # items inset from the margins
_BODY_TOP = _H - _M - _BAND_H - _INFO_H
_BODY_BOTTOM = _M + _FOOT_H + 6
_BODY_W = _W - 2 * _M - 2 * _PAD

_TITLE_SIZE, _TITLE_LEAD = 14.0, 20.0
_SUM_SIZE, _SUM_LEAD = 10.5, 16.0
_TAG_SIZE = 9.5
_DATE_SIZE = 9.5
_NOTICE_H = 18.0
_SEP_H = 13.0
_CONT_H = 18.0


def _item_rows(m: _Metrics, item: PosterItem, today: dt.date) -> tuple[list[tuple], int]:
    """The rows of one item (height, kind, data) and how many of them must stay together.

    The first title line starts after the tags ("公示", the category) and leaves room on the
    right for the origin and the date.
    """
    tags = []
    if item.is_notice:
        tags.append(("公示", True))
    category = _clean(item.category, one_line=True)
    if category:
        tags.append((category[:12], False))
    tags_w = sum(m.width(t, _TAG_SIZE) + 8 + 5 for t, _ in tags)
    origin = _clean(item.origin, one_line=True)
    right = (f"来源：{origin[:10]}　" if origin else "") + _cn_date(item.date)
    right_w = m.width(right, _DATE_SIZE) + 12
    title = _clean(item.title, one_line=True) or "（无标题）"
    first_w = max(_BODY_W - tags_w - right_w, _BODY_W / 3)
    lines = _wrap_para(m, title, _TITLE_SIZE, _BODY_W, first_w)
    rows: list[tuple] = [(_TITLE_LEAD + 4, "first", (tags, tags_w, lines[0], right))]
    rows += [(_TITLE_LEAD, "title", line) for line in lines[1:]]
    if item.is_notice and item.notice_ends:
        ends = item.notice_ends
        text = f"{ends.month}月{ends.day}日" if ends.year == today.year else _cn_date(ends)
        text = f"公示期至 {text}" + ("（已结束）" if ends < today else "")
        rows.append((_NOTICE_H, "notice", text))
    keep = len(rows) + 1
    for line in _wrap(m, _clean(item.summary), _SUM_SIZE, _BODY_W):
        rows.append((_SUM_LEAD, "text", line))
    return rows, min(keep, len(rows))


def _paginate(m: _Metrics, items: list[PosterItem], today: dt.date) -> list[list[tuple]]:
    """Rows per page. A short item (up to a third of a page) is kept whole; a longer one starts
    where its title and first summary line fit and goes on over the page, never leaving a
    single line behind or ahead."""
    room = _BODY_TOP - _BODY_BOTTOM - 4
    pages: list[list[tuple]] = [[]]
    left = room

    def new_page(item: PosterItem | None = None) -> None:
        nonlocal left
        pages.append([])
        left = room
        if item is not None:
            pages[-1].append((_CONT_H, "cont", "（接上页）" + _clean(item.title, one_line=True)))
            left -= _CONT_H

    for item in items:
        rows, keep = _item_rows(m, item, today)
        heights = [r[0] for r in rows]
        whole = sum(heights)
        if pages[-1]:
            if whole + _SEP_H > left and (whole <= room / 3 or sum(heights[:keep]) + _SEP_H > left):
                new_page()
            else:
                pages[-1].append((_SEP_H, "sep", None))
                left -= _SEP_H
        i = 0
        while i < len(rows):
            k, used = i, 0.0
            while k < len(rows) and used + heights[k] <= left:
                used += heights[k]
                k += 1
            if k < len(rows) and len(rows) - k < 2 and k - i > 2:
                k -= 1  # take a line over with the last one
                used -= heights[k]
            if k == i:
                if pages[-1]:
                    new_page(item if i else None)
                    continue
                k, used = i + 1, heights[i]  # a row taller than a page: cannot happen
            pages[-1].extend(rows[i:k])
            left -= used
            i = k
            if i < len(rows):
                new_page(item)
    return pages


def _draw_band(pen: _Pen, board: Board, page_no: int, pages: int, count: int) -> None:
    c = pen.c
    top = _H - _M
    pen.fill(RED)
    c.rect(_M, top - _BAND_H, _W - 2 * _M, _BAND_H, stroke=0, fill=1)
    pen.stroke(GOLD, 0.9)
    c.rect(_M + 4.5, top - _BAND_H + 4.5, _W - 2 * _M - 9, _BAND_H - 9, stroke=1, fill=0)
    county = _clean(board.county_name, one_line=True)
    kicker = f"{county} · 阳光计生公开" if county else "阳光计生公开"
    pen.text(_W / 2, top - 24, kicker, 12, GOLD, align="c")
    title = _clean(board.place_name, one_line=True) + "公示栏"
    size = _fit(pen.m, title, 30, _W - 2 * _M - 40, 12)
    pen.text(_W / 2, top - 64, title, size, WHITE, bold=True, align="c")
    # the double rule and the information line under the band
    y = top - _BAND_H - 3
    pen.stroke(RED, 1.6)
    c.line(_M, y, _W - _M, y)
    base = top - _BAND_H - 18
    level = _clean(board.level_label, one_line=True)
    if level:
        pen.text(_M + _PAD, base, f"公开层级：{level}", 10.5, GREY)
    right = f"共 {count} 项" + (f"　第 {page_no}/{pages} 页" if pages > 1 else "")
    pen.text(_W - _M - _PAD, base, right, 10.5, GREY, align="r")
    pen.stroke(RULE, 0.6)
    c.line(_M, _BODY_TOP + 2, _W - _M, _BODY_TOP + 2)


def _draw_footer(pen: _Pen, board: Board, generated: str) -> None:
    c = pen.c
    top = _M + _FOOT_H
    pen.stroke(RED, 1.6)
    c.line(_M, top, _W - _M, top)
    # QR code on the right, caption under it
    qx = _W - _M - _PAD - _QR
    qy = top - 10 - _QR
    c.saveState()
    c.translate(qx, qy)
    c.doForm("qr")
    c.restoreState()
    caption = "扫码查看详情、提出异议"
    cx = min(qx + _QR / 2, _W - _M - pen.m.width(caption, 9) / 2)
    pen.text(cx, qy - 17, caption, 9, INK, align="c")
    # the left column
    x = _M + _PAD
    width = qx - 16 - x
    y = top - 28
    hotline = _clean(board.hotline, one_line=True)
    if hotline:
        label = f"监督投诉电话：{hotline}"
        pen.text(x, y, label, _fit(pen.m, label, 18, width, 10), RED, bold=True)
        y -= 22
    note = "对公示内容有异议的，请在公示期内扫描右侧二维码在线提出，或拨打监督投诉电话反映。"
    for line in _wrap(pen.m, note, 9.5, width):
        pen.text(x, y, line, 9.5, TEXT)
        y -= 14
    url = _clean(board.url, one_line=True)
    if url:
        label = f"网址：{url}"
        pen.text(x, y, label, _fit(pen.m, label, 9, width, 5), GREY)
    county = _clean(board.county_name, one_line=True)
    pen.text(x, _M + 2, f"{county}阳光计生公开平台　{generated}生成", 8.5, GREY)


def _draw_rows(pen: _Pen, rows: list[tuple]) -> None:
    c = pen.c
    x = _M + _PAD
    right = _W - _M - _PAD
    y = _BODY_TOP - 2
    for height, kind, data in rows:
        if kind == "text":
            pen.text(x, _baseline(y, height, _SUM_SIZE), data, _SUM_SIZE, TEXT)
        elif kind == "title":
            pen.text(x, _baseline(y, height, _TITLE_SIZE), data, _TITLE_SIZE, INK, bold=True)
        elif kind == "first":
            tags, tags_w, line, meta = data
            base = _baseline(y - 4, height - 4, _TITLE_SIZE)
            tx = x
            for label, filled in tags:
                tx += pen.tag(tx, base - 2.2, label, filled=filled) + 5
            pen.text(x + tags_w, base, line, _TITLE_SIZE, INK, bold=True)
            pen.text(right, base, meta, _DATE_SIZE, GREY, align="r")
        elif kind == "notice":
            pen.text(x, _baseline(y, height, 10.5), data, 10.5, RED, bold=True)
        elif kind == "sep":
            mid = y - height / 2
            pen.stroke(RULE, 0.5)
            c.setDash(2, 2)
            c.line(x, mid, right, mid)
            c.setDash()
        elif kind == "cont":
            label = data
            while len(label) > 6 and pen.m.width(label, 9.5) > _BODY_W:
                label = label[:-2] + "…"
            pen.text(x, _baseline(y, height, 9.5), label, 9.5, GREY)
        y -= height


def _draw_empty(pen: _Pen) -> None:
    mid = (_BODY_TOP + _BODY_BOTTOM) / 2
    pen.text(_W / 2, mid + 10, "本公示栏暂无公开事项", 20, GREY, align="c")
    pen.text(
        _W / 2,
        mid - 16,
        "有新的公开事项时将在此张贴，也可扫描下方二维码随时查看。",
        10.5,
        GREY,
        align="c",
    )


def board_poster(board: Board, *, size: str = "A4") -> bytes:
    """A print-ready poster of `board` for a physical notice board: PDF bytes, A4 or A3."""
    size = (size or "A4").upper()
    if size not in PAGE_SIZES:
        raise ValueError(f"纸张大小只能是 A4 或 A3，收到的是 {size!r}。")
    page_w, page_h = PAGE_SIZES[size]
    scale = page_w / _W
    font = chinese_font()
    m = _metrics(font)
    generated = _local(board.generated_at)
    today = generated.date()
    pages = _paginate(m, list(board.items), today)
    stamp = f"{_cn_date(today)} {generated:%H:%M}"

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(page_w, page_h), initialFontName=font)
    place = _clean(board.place_name, one_line=True)
    c.setTitle(f"{place}公示栏")
    c.setAuthor(_clean(board.county_name, one_line=True))
    c.setSubject("公示栏张贴海报")
    c.setCreator(CREATOR)
    _qr_form(c, board.url, _QR)
    pen = _Pen(c, font)
    count = len(board.items)
    for no, rows in enumerate(pages, 1):
        if scale != 1:
            c.scale(scale, scale)
        _draw_band(pen, board, no, len(pages), count)
        if rows:
            _draw_rows(pen, rows)
        else:
            _draw_empty(pen)
        _draw_footer(pen, board, stamp)
        c.showPage()
        pen.reset()
    _save(c)
    return buf.getvalue()


def _zip_name(name: str, seen: set[str]) -> str:
    name = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", name).strip(" .") or "poster"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    stem, n = name[:-4], 1
    while name in seen:
        n += 1
        name = f"{stem}-{n}.pdf"
    seen.add(name)
    return name


def posters_zip(
    boards: Iterable[tuple[str, Board]],
    *,
    size: str = "A4",
    progress: Callable[[int, int | None], object] | None = None,
    dest: str | os.PathLike | None = None,
) -> Path:
    """A zip file of one poster PDF per `(filename, board)`; returns its path.

    The zip is written as it goes (one PDF in memory at a time) to `dest`, or to a new
    temporary file that the caller owns and removes. `progress(done, total)` is called once
    before the first poster and after each one; total is None when `boards` has no len().
    Names are made safe for a file system and unique ("-2", "-3", … on repeats).
    """
    total = len(boards) if hasattr(boards, "__len__") else None  # type: ignore[arg-type]
    if dest is None:
        fd, name = tempfile.mkstemp(prefix="posters-", suffix=".zip")
        os.close(fd)
        path = Path(name)
    else:
        path = Path(dest)
    seen: set[str] = set()
    done = 0
    if progress:
        progress(0, total)
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for filename, board in boards:
                zf.writestr(_zip_name(filename, seen), board_poster(board, size=size))
                done += 1
                if progress:
                    progress(done, total)
    except BaseException:
        if dest is None:
            path.unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------------------------------------
# Press copy (阳光计生专栏 / 《阳光计生双周刊》)


def _paragraphs(body: str) -> list[str]:
    return [p.strip(" \u3000") for p in _clean(body).split("\n") if p.strip(" \u3000")]


def press_copy_text(title: str, body: str, *, column: str, date: dt.date, source: str) -> str:
    """Plain-text press copy: column, title, date, indented paragraphs, "（来源：…）"."""
    lines = []
    column = _clean(column, one_line=True)
    if column:
        lines.append(f"栏目：{column}")
    lines += [_clean(title, one_line=True), _cn_date(date), ""]
    lines += ["\u3000\u3000" + p for p in _paragraphs(body)]
    source = _clean(source, one_line=True)
    if source:
        lines += ["", f"（来源：{source}）"]
    return "\n".join(lines) + "\n"


def press_copy_pdf(title: str, body: str, *, column: str, date: dt.date, source: str) -> bytes:
    """The same press copy as a simple A4 PDF (title, date and source, body with indents)."""
    font = chinese_font()
    m = _metrics(font)
    left, right, top, bottom = 72.0, _W - 72.0, _H - 64.0, 72.0
    width = right - left
    size, lead = 12.0, 22.0
    title = _clean(title, one_line=True)
    column = _clean(column, one_line=True)
    source = _clean(source, one_line=True)

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, initialFontName=font)
    c.setTitle(title)
    c.setSubject(column)
    c.setCreator(CREATOR)
    pen = _Pen(c, font)
    page = 1

    def start_page() -> float:
        if column:
            pen.text(left, top, column, 11, RED, bold=True)
        pen.text(right, top, _cn_date(date), 10, GREY, align="r")
        pen.stroke(RED, 1.2)
        c.line(left, top - 8, right, top - 8)
        pen.text(_W / 2, bottom - 30, f"— {page} —", 9, GREY, align="c")
        return top - 30

    y = start_page() - 14
    for line in _wrap(m, title, 20, width):
        pen.text(_W / 2, y, line, 20, INK, bold=True, align="c")
        y -= 30
    meta = "　".join(x for x in (_cn_date(date), f"来源：{source}" if source else "") if x)
    pen.text(_W / 2, y + 4, meta, 10.5, GREY, align="c")
    y -= 28
    lines: list[tuple[float, str]] = []
    for para in _paragraphs(body):
        wrapped = _wrap_para(m, para, size, width, width - 2 * size)
        lines.append((2 * size, wrapped[0]))
        lines.extend((0.0, line) for line in wrapped[1:])
    if source:
        lines.append((-1.0, f"（来源：{source}）"))
    for indent, line in lines:
        if y < bottom:
            c.showPage()
            pen.reset()
            page += 1
            y = start_page() - 14
        if indent < 0:
            pen.text(right, y, line, size, TEXT, align="r")
        else:
            pen.text(left + indent, y, line, size, INK)
        y -= lead
    c.showPage()
    _save(c)
    return buf.getvalue()
