"""Reading spreadsheets that clerks bring: .xlsx and CSV (UTF-8 with or without BOM, GBK/GB18030).

Every failure is a TableError with a Chinese message; nothing here writes to the database.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sunshine.core.text import size_text

XLSX_MAGIC = b"PK\x03\x04"
# A real workbook has a few dozen parts and its XML compresses 5–30 times; a "zip bomb" has
# thousands of parts or a part that unpacks hundreds of times larger than it is stored.
XLSX_MAX_ENTRIES = 2000
XLSX_MAX_RATIO = 200  # checked on parts of more than XLSX_RATIO_FLOOR bytes
XLSX_RATIO_FLOOR = 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old .xls


class TableError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number as the clerk sees it, cells)
    kind: str  # "xlsx" | "csv"
    encoding: str = ""
    size: int = 0  # bytes of the file
    total_rows: int | None = None  # known for .xlsx with a dimension record
    _counter: "_CountingReader | None" = None

    def fraction_read(self) -> float:
        """How far through the file the reader is (CSV), for progress bars."""
        if self._counter is not None and self.size:
            return min(1.0, self._counter.count / self.size)
        return 0.0


class _CountingReader(io.RawIOBase):
    def __init__(self, raw):
        self.raw, self.count = raw, 0

    def readable(self):
        return True

    def readinto(self, b):
        n = self.raw.readinto(b)
        self.count += n or 0
        return n

    def close(self):
        self.raw.close()
        super().close()


def detect_encoding(head: bytes) -> str:
    """utf-8-sig when a BOM is present, utf-8 when the sample decodes, else gb18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    sample = head
    # A multi-byte character may be cut at the sample's end: trim up to 3 bytes.
    for cut in range(4):
        try:
            (sample[: len(sample) - cut] if cut else sample).decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            continue
    try:
        head.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise TableError(
            "无法识别文件编码：请在 Excel 中另存为“CSV UTF-8”或 .xlsx 后重试。"
        ) from None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def open_table(path: str | Path, *, filename: str | None = None) -> Table:
    path = Path(path)
    name = (filename or path.name).lower()
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if not head.strip():
        raise TableError("文件是空的，请选择填好数据的表格。")
    if head.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise TableError("这是旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 后重试。")
    if head.startswith(XLSX_MAGIC):
        return _open_xlsx(path)
    if name.endswith(".xlsx"):
        raise TableError("文件扩展名是 .xlsx，但内容不是 Excel 表格，文件可能已损坏。")
    if b"\x00" in head:
        raise TableError("这不是表格文件：请上传 .xlsx 或 .csv 文件。")
    return _open_csv(path, detect_encoding(head))


def _open_csv(path: Path, encoding: str) -> Table:
    # Count the bytes read so that progress bars know how far through the file we are.
    counter = _CountingReader(open(path, "rb"))  # closed with fh, by the generator
    fh = io.TextIOWrapper(io.BufferedReader(counter, 256 * 1024), encoding=encoding, newline="")
    reader = csv.reader(fh)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        fh.close()
        raise TableError("文件是空的，请选择填好数据的表格。") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise TableError(
            f"CSV 文件无法读取（{exc.__class__.__name__}），请另存为 .xlsx 后重试。"
        ) from None

    def rows():
        try:
            for number, row in enumerate(reader, start=2):
                if any(c.strip() for c in row):
                    yield number, [c.strip() for c in row]
        except UnicodeDecodeError:
            raise TableError(
                "CSV 文件中途出现无法识别的字符，请另存为“CSV UTF-8”后重试。"
            ) from None
        except csv.Error as exc:
            raise TableError(f"CSV 文件格式有误：{exc}") from None
        finally:
            fh.close()

    return Table(
        headers=headers,
        rows=rows(),
        kind="csv",
        encoding=encoding,
        size=path.stat().st_size,
        _counter=counter,
    )


def check_xlsx_size(path: Path, *, max_unpacked: int | None = None) -> None:
    """Refuse, before openpyxl reads anything, a workbook that would unpack into more than the
    limit (`SUNSHINE_XLSX_MAX_UNPACKED_MB`: worksheets plus the shared-strings table, which
    openpyxl holds in memory whole), that has too many parts, or a part compressed suspiciously
    well. The sizes are the zip directory's own; Python's zipfile never unpacks a part past its
    recorded size, so a file cannot lie its way through."""
    if max_unpacked is None:
        from django.conf import settings

        max_unpacked = settings.SUNSHINE_XLSX_MAX_UNPACKED_MB * 1024 * 1024
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TableError(
            f"Excel 文件已损坏或不是 .xlsx 格式（{exc.__class__.__name__}）。"
        ) from None
    if len(infos) > XLSX_MAX_ENTRIES:
        raise TableError(
            f"Excel 文件内部有 {len(infos)} 个部件，不像正常的表格：请在 Excel 中另存为新的 .xlsx 后重试。"
        )
    unpacked = 0
    for info in infos:
        name = info.filename.lower()
        if name.startswith("xl/worksheets/") or name == "xl/sharedstrings.xml":
            unpacked += info.file_size
        if info.file_size > XLSX_RATIO_FLOOR and info.file_size > XLSX_MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise TableError(
                f"Excel 文件中的“{info.filename}”解压后约 {size_text(info.file_size)}，是压缩后的"
                f" {info.file_size // max(info.compress_size, 1)} 倍，不像正常的表格："
                "请检查文件是否有超长的单元格，或在 Excel 中另存为新的 .xlsx 后重试。"
            )
    if unpacked > max_unpacked:
        raise TableError(
            f"Excel 表格内容太大（解压后约 {size_text(unpacked)}，上限 {size_text(max_unpacked)}）："
            "请删除多余的行、列和超长的单元格，或拆分成几个文件，也可另存为 CSV 后导入。"
        )


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    check_xlsx_size(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(
            f"Excel 文件已损坏或不是 .xlsx 格式（{exc.__class__.__name__}）。"
        ) from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        first = next(it)
    except StopIteration:
        wb.close()
        raise TableError("Excel 表格是空的，请在第一个工作表中填好数据。") from None
    headers = [_cell(v) for v in first]
    while headers and not headers[-1]:
        headers.pop()
    if "" in headers:
        wb.close()
        col = headers.index("") + 1
        raise TableError(
            f"表头第{col}列是空的（可能是合并单元格）：请取消合并，每列填一个表头后重试。"
        )

    def rows():
        try:
            for number, row in enumerate(it, start=2):
                cells = [_cell(v) for v in row]
                if not any(cells):
                    continue
                if any(cells[len(headers) :]):
                    col = (
                        len(headers) + next(i for i, c in enumerate(cells[len(headers) :]) if c) + 1
                    )
                    raise TableError(
                        f"第{number}行第{col}列有数据，但这一列没有表头（可能是合并单元格）：请每列填一个表头后重试。"
                    )
                for col, c in enumerate(cells):
                    if c.startswith("="):
                        raise TableError(
                            f"第{number}行第{col + 1}列是公式（{c[:30]}）：请复制后“选择性粘贴为数值”再导入。"
                        )
                yield number, cells
        finally:
            wb.close()

    total = ws.max_row - 1 if ws.max_row else None
    return Table(
        headers=headers, rows=rows(), kind="xlsx", size=path.stat().st_size, total_rows=total
    )


def column_map(
    headers: list[str], columns: dict[str, tuple[str, ...]], required: set[str]
) -> dict[str, int]:
    """Map field → column index by accepted header names; missing required columns raise."""
    normal = [h.replace(" ", "").replace("\u3000", "").lower() for h in headers]
    out: dict[str, int] = {}
    for field, names in columns.items():
        for name in names:
            key = name.replace(" ", "").lower()
            if key in normal:
                out[field] = normal.index(key)
                break
    missing = [columns[f][0] for f in columns if f in required and f not in out]
    if missing:
        raise TableError("缺少必需的列：" + "、".join(missing) + "。请下载模板核对表头。")
    return out
