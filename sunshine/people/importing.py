"""Streaming import of residents from .xlsx or CSV (foundation for every service module).

One pass over the file: every row is validated (people.rules); valid new residents stream
straight into the table (PostgreSQL COPY, SQLite batched INSERT), rows whose ID number is
already registered are spilled to a temporary file and applied as one UPDATE at the end.
Everything happens in one transaction: with any bad row (default mode) nothing is written,
and a killed import leaves the database as it was. Bad rows go to an error workbook with the
clerk's own columns plus the reason, ready to fix and import again.
"""

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from sunshine.core import audit, exports
from sunshine.core.errors import ServiceError
from sunshine.core.tabular import TableError, column_map, open_table
from sunshine.people import rules
from sunshine.places import scoping
from sunshine.places.models import Place

RESIDENT_COLUMNS = (
    "name",
    "sex",
    "birth_date",
    "id_number",
    "mobile",
    "place_id",
    "place_path",
    "household_id",
    "residence_id",
    "hukou_type",
    "status",
    "created_at",
    "updated_at",
)
HOUSEHOLD_COLUMNS = (
    "id",
    "county_code",
    "number",
    "place_id",
    "place_path",
    "address",
    "created_at",
)
BATCH = 5000
KEEP_ERRORS = 200  # shown on the page; the workbook has them all


class ImportRefused(ServiceError):
    def __init__(self, message: str, result: "ImportResult"):
        super().__init__(message)
        self.result = result


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    households_created: int = 0
    error_rows: int = 0
    errors: list[dict] = field(default_factory=list)  # the first KEEP_ERRORS
    error_file: str | None = None  # path of the error workbook, when there were errors
    partial: bool = False

    @property
    def written(self) -> int:
        return self.created + self.updated


def id_key(idn: str) -> int:
    """An ID number as one int: 17 digits and the check value (X = 10). Sets of ints are small."""
    return int(idn[:17]) * 11 + (10 if idn[17] == "X" else ord(idn[17]) - 48)


class ErrorBook:
    """The error workbook, written as rows arrive (constant memory); created at the first error."""

    def __init__(self, headers: list[str]):
        self.headers = headers
        self.wb = self.ws = None
        self.count = 0
        self.kept: list[dict] = []

    def _open(self) -> None:
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet("错误行")
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
        head = [
            WriteOnlyCell(self.ws, value=exports.xlsx_cell(self.ws, h) if h else h)
            for h in ["原行号", "错误说明", *self.headers]
        ]
        for c in head:
            c.font = bold
        head[1].fill = fill
        self.ws.append(head)

    def add(self, row_no: int, errors: list[tuple[str, str]], cells: list[str]) -> None:
        if self.wb is None:
            self._open()
        self.count += 1
        text = "；".join(f"{col}：{reason}" for col, reason in errors)
        # The clerk's own cells, as text: a cell "=HYPERLINK(…)" must not come back as a link.
        self.ws.append(exports.xlsx_row(self.ws, [row_no, text, *cells[: len(self.headers)]]))
        for col, reason in errors:
            if len(self.kept) < KEEP_ERRORS:
                self.kept.append({"row": row_no, "column": col, "reason": reason})

    def save(self, directory: str | None = None) -> str:
        fd, path = tempfile.mkstemp(prefix="import-errors-", suffix=".xlsx", dir=directory)
        os.close(fd)
        self.wb.save(path)
        return path


class _Writer:
    """Appends rows to a table inside the current transaction."""

    def __init__(self, table: str, columns: tuple[str, ...]):
        self.table, self.columns = table, columns
        self.count = 0

    def write(self, row: tuple) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def abort(self, exc: BaseException) -> None:
        pass


_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPE)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


class _CopyWriter(_Writer):
    """COPY … FROM STDIN in text format, lines built here: psycopg's write_row costs about
    twice as much per row, and most values (dates, `now`) repeat or need no escaping."""

    def __init__(self, cursor, table, columns):
        super().__init__(table, columns)
        self._ctx = cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
        self._copy = self._ctx.__enter__()
        self._buf: list[str] = []
        self._memo: dict = {}

    def write(self, row):
        memo = self._memo
        parts = []
        for v in row:
            if isinstance(v, str):
                parts.append(v.translate(_COPY_ESCAPE))
            else:
                text = memo.get(v)
                if text is None:
                    text = memo[v] = copy_field(v)
                    if len(memo) > 50_000:
                        memo.clear()
                parts.append(text)
        self._buf.append("\t".join(parts))
        self.count += 1
        if len(self._buf) >= 2000:
            self._flush()

    def _flush(self):
        if self._buf:
            self._copy.write("\n".join(self._buf) + "\n")
            self._buf = []

    def close(self):
        self._flush()
        self._ctx.__exit__(None, None, None)

    def abort(self, exc):
        try:
            self._ctx.__exit__(type(exc), exc, exc.__traceback__)
        except Exception:  # the transaction is rolled back anyway
            pass


class _InsertWriter(_Writer):
    def __init__(self, cursor, table, columns):
        super().__init__(table, columns)
        self.cursor, self.buf = cursor, []
        self.sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"

    def write(self, row):
        self.buf.append(row)
        self.count += 1
        if len(self.buf) >= BATCH:
            self.cursor.executemany(self.sql, self.buf)
            self.buf = []

    def close(self):
        if self.buf:
            self.cursor.executemany(self.sql, self.buf)
            self.buf = []


def _writer(cursor, table, columns) -> _Writer:
    if connection.vendor == "postgresql":
        return _CopyWriter(cursor, table, columns)
    return _InsertWriter(cursor, table, columns)


def _place_refs(prefix: str) -> dict[str, rules.PlaceRef]:
    qs = Place.objects.filter(level__in=("village", "group", "residence"), is_active=True)
    if prefix:
        qs = qs.filter(path__startswith=prefix)
    return {
        code: rules.PlaceRef(pk, path, level)
        for code, pk, path, level in qs.values_list("code", "id", "path", "level").iterator(
            chunk_size=10000
        )
    }


def _existing_ids(cursor) -> set[int]:
    cursor.execute("SELECT id_number FROM people_resident")
    out = set()
    while True:
        chunk = cursor.fetchmany(20000)
        if not chunk:
            return out
        out.update(id_key(r[0]) for r in chunk)


def _households(cursor) -> tuple[dict[tuple[str, str], int], int]:
    if connection.vendor == "postgresql":
        cursor.execute("LOCK TABLE people_household IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute("SELECT county_code, number, id FROM people_household")
    known = {(c, n): i for c, n, i in cursor.fetchall()}
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM people_household")
    return known, cursor.fetchone()[0]


def import_residents(
    *,
    actor,
    path: str | Path,
    filename: str | None = None,
    partial: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    today: dt.date | None = None,
    error_dir: str | None = None,
    _crash_after: int | None = None,
) -> ImportResult:
    """Import residents; raises ImportRefused (nothing written) when the file or any row is bad
    in all-or-nothing mode. In partial mode the good rows are written and the result carries
    the error file."""
    today = today or timezone.localdate()
    try:
        table = open_table(path, filename=filename)
        cols = column_map(table.headers, rules.COLUMNS, required=set(rules.REQUIRED))
    except TableError as exc:
        raise ImportRefused(exc.message, ImportResult()) from None
    prefix = scoping.write_prefix(actor) if actor is not None else ""
    if prefix is None:
        raise ImportRefused("您没有可以登记居民的管辖地方。", ImportResult())
    places = _place_refs(prefix)
    result = ImportResult(partial=partial)
    book = ErrorBook(table.headers)
    now = timezone.now()
    field_index = list(cols.items())
    id_header = rules.HEADERS["id_number"]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            existing = _existing_ids(cursor)
            households, last_household_id = _households(cursor)
            new_households: list[tuple] = []
            seen: dict[int, int] = {}
            spill = tempfile.TemporaryFile(mode="w+", newline="", encoding="utf-8")
            spill_writer = csv.writer(spill)
            residents = _writer(cursor, "people_resident", RESIDENT_COLUMNS)
            try:
                for row_no, cells in table.rows:
                    result.rows += 1
                    n = len(cells)
                    raw = {f: (cells[i] if i < n else "") for f, i in field_index}
                    clean, errors = rules.clean_resident(
                        raw, places=places, scope_prefix=prefix, today=today
                    )
                    key = None
                    if not errors:
                        key = id_key(clean["id_number"])
                        first = seen.get(key)
                        if first is not None:
                            errors = [(id_header, f"与第{first}行重复")]
                        else:
                            seen[key] = row_no
                    if errors:
                        book.add(row_no, errors, cells)
                        if book.count > 100_000 and not partial:
                            break
                        continue
                    place = clean["place"]
                    household_id = None
                    if clean["household_number"]:
                        hkey = (place.path[:6], clean["household_number"])
                        household_id = households.get(hkey)
                        if household_id is None:
                            last_household_id += 1
                            household_id = households[hkey] = last_household_id
                            new_households.append(
                                (household_id, hkey[0], hkey[1], place.id, place.path, "", now)
                            )
                    residence = clean["residence"]
                    values = (
                        clean["name"],
                        clean["sex"],
                        clean["birth_date"],
                        clean["id_number"],
                        clean["mobile"],
                        place.id,
                        place.path,
                        household_id,
                        residence.id if residence else None,
                        clean["hukou_type"],
                        clean["status"],
                        now,
                        now,
                    )
                    if key in existing:
                        spill_writer.writerow(
                            [row_no, *("" if v is None else v for v in values[:11])]
                        )
                    else:
                        residents.write(values)
                    if _crash_after is not None and result.rows >= _crash_after:
                        raise RuntimeError("simulated crash")
                    if progress is not None and result.rows % BATCH == 0:
                        frac = table.fraction_read()
                        total = table.total_rows or (int(result.rows / frac) if frac else 0)
                        progress(result.rows, max(total, result.rows), "校验并写入")
            except BaseException as exc:
                residents.abort(exc)
                raise
            residents.close()
            result.created = residents.count
            result.error_rows = book.count
            if book.count and not partial:
                raise _Rollback
            _write_households(cursor, new_households)
            result.households_created = len(new_households)
            spill.seek(0)
            result.updated = _apply_updates(cursor, spill, prefix, book)
            spill.close()
            result.error_rows = book.count
            if book.count and not partial:
                raise _Rollback
            audit.record(
                actor=actor,
                action="resident.import",
                place_path=prefix,
                object_repr=filename or "",
                changes={
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "errors": result.error_rows,
                    "partial": partial,
                },
            )
    except _Rollback:
        pass
    except TableError as exc:
        raise ImportRefused(exc.message, result) from None
    result.errors = book.kept
    if book.count:
        result.error_file = book.save(error_dir)
    if book.count and not partial:
        result.created = result.updated = result.households_created = 0
        more = "（超过10万行错误，已停止检查）" if book.count > 100_000 else ""
        raise ImportRefused(
            f"有 {book.count} 行数据有错误{more}，没有导入任何数据。请下载错误文件，改正后重新导入。",
            result,
        )
    if progress is not None:
        progress(result.rows, result.rows, "完成")
    return result


class _Rollback(Exception):
    """Leaves transaction.atomic() so that nothing is written."""


def _write_households(cursor, rows: list[tuple]) -> None:
    if not rows:
        return
    w = _writer(cursor, "people_household", HOUSEHOLD_COLUMNS)
    for row in rows:
        w.write(row)
    w.close()
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('people_household', 'id'), "
            "(SELECT MAX(id) FROM people_household))"
        )


STAGE_COLUMNS = (
    "row_no",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "mobile",
    "place_id",
    "place_path",
    "household_id",
    "residence_id",
    "hukou_type",
    "status",
)


def _apply_updates(cursor, spill, prefix: str, book: ErrorBook) -> int:
    """Rows whose ID number is already registered: refuse those registered outside the actor's
    places, update the rest in one statement."""
    reader = csv.reader(spill)
    first = next(reader, None)
    if first is None:
        return 0
    cursor.execute(
        "CREATE TEMP TABLE people_import_stage (row_no integer, name varchar(50), sex varchar(1), "
        "birth_date date, id_number varchar(18), mobile varchar(11), place_id bigint, "
        "place_path varchar(16), household_id bigint, residence_id bigint, hukou_type varchar(8), "
        "status varchar(12))"
    )
    try:
        w = _writer(cursor, "people_import_stage", STAGE_COLUMNS)
        for row in _chain(first, reader):
            w.write(tuple(None if (v == "" and i in (8, 9)) else v for i, v in enumerate(row)))
        w.close()
        cursor.execute(
            "SELECT s.row_no, s.id_number, r.place_path FROM people_import_stage s "
            "JOIN people_resident r ON r.id_number = s.id_number WHERE r.place_path NOT LIKE %s",
            [prefix + "%"],
        )
        outside = cursor.fetchall()
        for row_no, _idn, _path in outside:
            book.add(
                row_no,
                [
                    (
                        rules.HEADERS["id_number"],
                        "已在您管辖范围以外的地方登记，请联系县级工作人员办理迁移",
                    )
                ],
                [],
            )
        if outside:
            cursor.executemany(
                "DELETE FROM people_import_stage WHERE row_no = %s", [(r[0],) for r in outside]
            )
        cursor.execute(
            "UPDATE people_resident SET name = s.name, sex = s.sex, birth_date = s.birth_date, "
            "mobile = s.mobile, place_id = s.place_id, place_path = s.place_path, "
            "household_id = s.household_id, residence_id = s.residence_id, hukou_type = s.hukou_type, "
            "status = s.status, updated_at = %s FROM people_import_stage s "
            "WHERE people_resident.id_number = s.id_number",
            [timezone.now()],
        )
        return cursor.rowcount
    finally:
        cursor.execute("DROP TABLE people_import_stage")


def _chain(first, rest):
    yield first
    yield from rest
