"""Streaming .xlsx and CSV responses for any list a clerk uses (SPEC §0.5)."""

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse, StreamingHttpResponse
from django.utils.encoding import escape_uri_path
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font


def _disposition(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{escape_uri_path(filename)}"


class _Echo:
    def write(self, value):
        return value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A cell Excel will not run as a formula: text starting with = + - @ gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """UTF-8 with BOM, which Excel on Chinese Windows opens without garbling."""
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff" + writer.writerow(headers)
        for row in rows:
            yield writer.writerow([csv_safe(v) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _disposition(filename)
    return response


def xlsx_cell(ws, value):
    """One cell for a write-only sheet that Excel never runs and openpyxl can always write.

    openpyxl stores any text starting with "=" as a live formula; text starting with + - @,
    a tab or a carriage return is stored as text but Excel evaluates it once a clerk edits the
    cell. Such text is written as a text cell with Excel's "quote prefix" (shown as typed,
    kept as text on editing), so the value itself is unchanged and can be imported again.
    Control characters that the file format cannot hold are dropped rather than failing."""
    if not isinstance(value, str):
        return value
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_START):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def xlsx_row(ws, values: Iterable) -> list:
    """A row for `ws.append`, every cell through `xlsx_cell`."""
    return [xlsx_cell(ws, v) for v in values]


def xlsx_write(headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "数据"):
    """A write-only workbook in a temporary file (constant memory), rewound for reading."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = xlsx_cell(ws, h)
        if not hasattr(cell, "data_type"):
            cell = WriteOnlyCell(ws, value=cell)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append(xlsx_row(ws, row))
    out = tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out


def xlsx_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "数据"
):
    fh = xlsx_write(headers, rows, title=title)
    response = FileResponse(
        fh, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = _disposition(filename)
    return response


def rows_to_csv_text(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue()
