"""Streaming .xlsx and CSV responses for any list a clerk uses (SPEC §0.5), and exports as
background jobs.

An export is a registered source: `@exports.source("people.residents", filename="居民")` on a
function `(actor, params) -> Table` that reads through the app's scoped selectors. The view
calls `accounts.access.export_start(request, "people.residents", "xlsx")`: a table of up to
SUNSHINE_EXPORT_INLINE_ROWS rows is answered at once; a larger one becomes a job ("core.export")
that the task worker writes row by row to a file (openpyxl write-only / csv writer: constant
memory, no web timeout), with the same progress page as imports and a download link for the
person who asked for it. A source's audit row is written when it is asked for, in the request
(who, from where, which filter); a file holding full identifiers is audited again when it is
downloaded.
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils.encoding import escape_uri_path
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from sunshine.core import jobs


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


def xlsx_write(headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "数据", out=None):
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
    out = out if out is not None else tempfile.TemporaryFile()
    wb.save(out)
    out.seek(0)
    return out


def csv_write(headers: Sequence[str], rows: Iterable[Sequence], *, out) -> None:
    """The same bytes as csv_response, into a binary file (UTF-8 with BOM, formula-safe)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    text.flush()
    text.detach()
    out.seek(0)


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


# Exports as jobs ------------------------------------------------------------------------

FORMATS = ("xlsx", "csv")


@dataclass
class Table:
    """What a source answers: the rows (lazy: read once, while being written) and facts about
    them. `count` decides between answering at once and a background job (None: always a
    job). `audit` holds the keyword arguments of the audit row written when a person asks for
    the export; `sensitive` marks full identifiers, whose file download is audited too."""

    headers: Sequence[str]
    rows: Iterable[Sequence]
    count: int | None = None
    title: str = "数据"
    audit: dict | None = None
    sensitive: bool = False


@dataclass(frozen=True)
class Source:
    name: str
    filename: str  # without extension, e.g. "居民"
    build: Callable  # (actor, params: QueryDict) -> Table


_SOURCES: dict[str, Source] = {}


def source(name: str, *, filename: str):
    def register(build):
        _SOURCES[name] = Source(name=name, filename=filename, build=build)
        return build

    return register


def source_get(name: str) -> Source:
    return _SOURCES[name]


def table_response(source: Source, table: Table, fmt: str):
    filename = f"{source.filename}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, table.headers, table.rows)
    return xlsx_response(filename, table.headers, table.rows, title=table.title)


def _counted(rows: Iterable[Sequence], report: Callable[[int], None], every: int = 1000):
    n = 0
    for row in rows:
        yield row
        n += 1
        if n % every == 0:
            report(n)
    report(n)


@jobs.runner("core.export")
def run_export(job, progress) -> str:
    from django.core.files import File
    from django.http import QueryDict

    src = source_get(job.options["source"])
    fmt = job.options["format"]
    table = src.build(job.created_by, QueryDict(job.options.get("query", "")))
    total = table.count or 0
    written = 0

    def report(n: int) -> None:
        nonlocal written
        written = n
        progress(n, max(total, n), "导出")

    progress(0, total, "导出")
    rows: Iterator = _counted(table.rows, report)
    filename = f"{src.filename}.{fmt}"
    with tempfile.TemporaryFile() as fh:
        if fmt == "csv":
            csv_write(table.headers, rows, out=fh)
        else:
            xlsx_write(table.headers, rows, title=table.title, out=fh)
        job.result_file.save(filename, File(fh), save=False)
    job.result = {"total": written, "filename": filename, "sensitive": table.sensitive}
    return f"已导出 {written} 行，请下载文件。"
