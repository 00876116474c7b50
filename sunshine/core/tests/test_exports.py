"""Exports a clerk opens in Excel: CSV with a BOM, streamed; .xlsx with a bold header."""

import csv
import io
from urllib.parse import quote

import pytest
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import load_workbook

from sunshine.core import exports

HEADERS = ["编码", "名称", "年份"]


def _rows():
    yield ["320324100000", "凌城镇", 2024]
    yield ["320324100001", "居委会", None]


class TestCsvResponse:
    def test_body_starts_with_a_utf8_bom_so_excel_reads_chinese(self):
        body = b"".join(exports.csv_response("地方.csv", HEADERS, _rows()).streaming_content)
        assert body.startswith("\ufeff".encode())
        assert body.decode("utf-8-sig").splitlines()[0] == "编码,名称,年份"

    def test_response_streams_rows_lazily(self):
        consumed = []

        def rows():
            for row in _rows():
                consumed.append(row)
                yield row

        response = exports.csv_response("地方.csv", HEADERS, rows())
        assert isinstance(response, StreamingHttpResponse)
        assert consumed == []  # nothing read before the body is iterated
        body = b"".join(response.streaming_content)
        assert len(consumed) == 2 and body

    def test_none_becomes_an_empty_cell_and_values_round_trip(self):
        body = b"".join(exports.csv_response("地方.csv", HEADERS, _rows()).streaming_content)
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert rows == [HEADERS, ["320324100000", "凌城镇", "2024"], ["320324100001", "居委会", ""]]

    def test_chinese_filename_is_encoded_for_the_download(self):
        response = exports.csv_response("地方.csv", HEADERS, [])
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote('地方.csv')}"
        )


def _open(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


class TestXlsxResponse:
    def test_workbook_opens_with_a_bold_header_row_and_the_rows(self):
        response = exports.xlsx_response("地方.xlsx", HEADERS, _rows(), title="地方")
        assert isinstance(response, FileResponse)
        assert "spreadsheetml" in response["Content-Type"]
        ws = _open(response).active
        assert ws.title == "地方"
        header = next(ws.iter_rows(min_row=1, max_row=1))
        assert [c.value for c in header] == HEADERS
        assert all(c.font.bold for c in header)
        second = next(ws.iter_rows(min_row=2, max_row=2))
        assert [c.value for c in second] == ["320324100000", "凌城镇", 2024]
        assert not any(c.font.bold for c in second)
        assert ws.max_row == 3

    def test_long_sheet_title_is_cut_to_excels_31_characters(self):
        ws = _open(exports.xlsx_response("x.xlsx", HEADERS, [], title="长" * 40)).active
        assert ws.title == "长" * 31

    def test_text_that_looks_like_a_formula_is_written_as_text(self):
        # A place name such as "=HYPERLINK(...)" from an import must not become a live formula.
        ws = _open(
            exports.xlsx_response("x.xlsx", ["名称"], [["=1+1"], ['=HYPERLINK("x")']])
        ).active
        cells = [row[0] for row in ws.iter_rows(min_row=2)]
        assert [c.value for c in cells] == ["=1+1", '=HYPERLINK("x")']
        assert all(c.data_type == "s" for c in cells)

    @pytest.mark.parametrize(
        "text", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", '=HYPERLINK("x")']
    )
    def test_every_formula_like_cell_is_text_with_a_quote_prefix(self, text):
        # Excel runs "+1+1" once a clerk edits the cell unless it is marked as typed text.
        ws = _open(exports.xlsx_response("x.xlsx", ["名称"], [[text]])).active
        cell = ws.cell(2, 1)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)

    def test_a_header_that_looks_like_a_formula_is_text_too(self):
        ws = _open(exports.xlsx_response("x.xlsx", ["=1+1"], [])).active
        assert (ws.cell(1, 1).data_type, ws.cell(1, 1).font.b) == ("s", True)

    def test_ordinary_text_and_numbers_are_left_as_they_are(self):
        ws = _open(exports.xlsx_response("x.xlsx", ["a", "b"], [["张三", 12]])).active
        assert (ws.cell(2, 1).quotePrefix, ws.cell(2, 2).value) == (False, 12)

    def test_control_characters_excel_cannot_hold_are_dropped_not_a_crash(self):
        ws = _open(exports.xlsx_response("x.xlsx", ["a"], [["甲\x00乙\x1b丙"]])).active
        assert ws.cell(2, 1).value == "甲乙丙"


class TestRowsToCsvText:
    def test_header_then_rows_without_a_bom(self):
        text = exports.rows_to_csv_text(["a", "b"], [[1, "甲"]])
        assert text == "a,b\r\n1,甲\r\n"


class TestCsvFormulaInjection:
    def test_cells_starting_with_formula_characters_open_as_text_in_excel(self):
        rows = [['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "正常", 3]]
        body = b"".join(exports.csv_response("x.csv", ["a"] * 6, rows).streaming_content).decode(
            "utf-8-sig"
        )
        cells = next(csv.reader(io.StringIO(body.splitlines()[1])))
        assert cells == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "正常", "3"]


class TestExportFiles:
    """The files a background export writes: the same bytes a direct CSV answer streams, and
    formula-like cells kept as text in both formats."""

    def test_csv_written_to_a_file_is_byte_for_byte_the_streamed_answer(self):
        import tempfile

        rows = [['=HYPERLINK("http://x")', "名称", None], ["1", "+86", 3]]
        streamed = b"".join(exports.csv_response("a.csv", HEADERS, iter(rows)).streaming_content)
        with tempfile.TemporaryFile() as fh:
            exports.csv_write(HEADERS, iter(rows), out=fh)
            assert fh.read() == streamed
        assert "'=HYPERLINK" in streamed.decode("utf-8-sig")

    def test_an_export_job_reports_progress_and_names_its_file(self, world):
        from django.http import QueryDict

        from sunshine.core.models import Job

        seen = []

        @exports.source("test.numbers", filename="数字")
        def numbers(actor, params):
            n = int(params.get("n", "0"))
            return exports.Table(["序号", "公式"], ([i, "=1+1"] for i in range(n)), count=n)

        job = Job(kind="core.export", title="t", created_by=world.users["town_clerk"])
        job.options = {
            "source": "test.numbers",
            "format": "xlsx",
            "query": QueryDict("n=2500").urlencode(),
        }
        try:
            message = exports.run_export(job, lambda done, total, stage: seen.append((done, total)))
        finally:
            exports._SOURCES.pop("test.numbers")
        assert message == "已导出 2500 行，请下载文件。"
        assert seen == [(0, 2500), (1000, 2500), (2000, 2500), (2500, 2500)]
        assert job.result == {"total": 2500, "filename": "数字.xlsx", "sensitive": False}
        with job.result_file.open("rb") as fh:
            ws = load_workbook(fh).active
        assert ws.max_row == 2501 and ws["A2"].value == 0
        assert (ws["B2"].value, ws["B2"].data_type) == ("=1+1", "s")  # text, not a live formula
