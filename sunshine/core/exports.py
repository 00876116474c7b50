"""Streaming .xlsx and CSV responses for any list a clerk uses (SPEC §0.5)."""

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse, StreamingHttpResponse
from django.utils.encoding import escape_uri_path
from openpyxl import Workbook
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


def _as_text_if_formula(ws, value):
    """openpyxl turns any string starting with "=" into a live formula: keep it as text."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_write(headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "数据"):
    """A write-only workbook in a temporary file (constant memory), rewound for reading."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    bold = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell

    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([_as_text_if_formula(ws, v) for v in row])
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
