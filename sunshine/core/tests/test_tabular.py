"""Reading the spreadsheets clerks bring: encodings, broken files, formulas, merged headers."""

import codecs
import zipfile

import pytest
from openpyxl import Workbook

from sunshine.core.tabular import TableError, column_map, detect_encoding, open_table

HEADERS = ["统计用区划代码", "名称", "城乡分类代码"]
ROWS = [["320324100000", "凌城镇", ""], ["320324100001", "凌城居委会", "121"]]


def write_csv(path, encoding, rows=None, bom=False):
    lines = [",".join(r) for r in [HEADERS, *(ROWS if rows is None else rows)]]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def write_xlsx(path, rows, *, merge=None):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)
    return path


def read_all(path, **kwargs):
    table = open_table(path, **kwargs)
    return table, list(table.rows)


class TestCsvEncodings:
    @pytest.mark.parametrize(
        "encoding,bom,detected",
        [
            ("utf-8", False, "utf-8"),
            ("utf-8", True, "utf-8-sig"),
            ("gbk", False, "gb18030"),
            ("gb18030", False, "gb18030"),
        ],
    )
    def test_chinese_headers_and_cells_read_correctly(self, tmp_path, encoding, bom, detected):
        path = write_csv(tmp_path / "表.csv", encoding, bom=bom)
        table, rows = read_all(path)
        assert table.kind == "csv" and table.encoding == detected
        assert table.headers == HEADERS  # no BOM glued to the first header
        assert [cells for _, cells in rows] == ROWS

    def test_utf8_multibyte_character_cut_at_the_sample_end_is_still_utf8(self):
        head = "凌城镇".encode()[:-1]  # the last character cut in half
        assert detect_encoding(head) == "utf-8"

    def test_gbk_text_is_not_taken_for_utf8(self):
        assert detect_encoding("凌城镇，城关镇".encode("gbk")) == "gb18030"

    def test_undecodable_bytes_give_a_chinese_message_to_save_as_utf8(self):
        with pytest.raises(TableError, match="无法识别文件编码"):
            detect_encoding(b"\xff\xfe\xfd\xfc" * 10)

    def test_gbk_character_after_the_sample_gives_a_chinese_message_not_a_crash(self, tmp_path):
        # Header and first 64 KB are ASCII (so taken for UTF-8); a GBK name comes later.
        lines = ["code,name"] + [f"320324100{i % 1000:03d},{'a' * 60}" for i in range(1200)]
        lines.append("320324100999,凌城镇")
        path = tmp_path / "大.csv"
        path.write_bytes("\r\n".join(lines).encode("gbk"))
        table = open_table(path)
        assert table.encoding == "utf-8"
        with pytest.raises(TableError, match="无法识别的字符"):
            list(table.rows)


class TestCsvRows:
    def test_rows_are_numbered_as_the_clerk_sees_them_header_is_row_1(self, tmp_path):
        path = tmp_path / "t.csv"
        path.write_text("代码,名称\r\n1,甲\r\n,\r\n\r\n2,乙\r\n", encoding="utf-8")
        _, rows = read_all(path)
        assert rows == [(2, ["1", "甲"]), (5, ["2", "乙"])]

    def test_cells_and_headers_are_stripped(self, tmp_path):
        path = tmp_path / "t.csv"
        path.write_text(" 代码 , 名称 \n 1 , 甲 \n", encoding="utf-8")
        table, rows = read_all(path)
        assert table.headers == ["代码", "名称"] and rows == [(2, ["1", "甲"])]


class TestBrokenFiles:
    def test_empty_file_is_refused(self, tmp_path):
        path = tmp_path / "空.csv"
        path.write_bytes(b"")
        with pytest.raises(TableError, match="文件是空的"):
            open_table(path)

    def test_whitespace_only_file_is_refused(self, tmp_path):
        path = tmp_path / "空.csv"
        path.write_bytes(b" \r\n\r\n ")
        with pytest.raises(TableError, match="文件是空的"):
            open_table(path)

    def test_bom_only_file_is_refused_as_empty(self, tmp_path):
        path = tmp_path / "空.csv"
        path.write_bytes(codecs.BOM_UTF8)
        with pytest.raises(TableError, match="文件是空的"):
            open_table(path)

    def test_binary_garbage_is_not_a_table(self, tmp_path):
        path = tmp_path / "照片.csv"
        path.write_bytes(bytes(range(256)) * 4)
        with pytest.raises(TableError, match="不是表格文件"):
            open_table(path)

    def test_old_xls_is_refused_by_its_ole_magic_whatever_its_name(self, tmp_path):
        path = tmp_path / "旧表.dat"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
        with pytest.raises(TableError, match=r"旧版 Excel（\.xls）"):
            open_table(path)

    def test_xls_extension_is_refused_by_name(self, tmp_path):
        path = write_csv(tmp_path / "改名.csv", "utf-8")
        with pytest.raises(TableError, match=r"\.xls"):
            open_table(path, filename="上传.XLS")

    def test_xlsx_extension_with_text_contents_is_called_damaged(self, tmp_path):
        path = write_csv(tmp_path / "假的.xlsx", "utf-8")
        with pytest.raises(TableError, match="内容不是 Excel 表格"):
            open_table(path)

    def test_corrupt_zip_is_called_damaged(self, tmp_path):
        path = tmp_path / "坏.xlsx"
        path.write_bytes(b"PK\x03\x04" + b"\x01\x02garbage" * 100)
        with pytest.raises(TableError, match="Excel 文件已损坏"):
            open_table(path)

    def test_zip_that_is_not_a_workbook_is_called_damaged(self, tmp_path):
        path = tmp_path / "压缩包.xlsx"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "hello")
        with pytest.raises(TableError, match="Excel 文件已损坏"):
            open_table(path)


class TestXlsx:
    def test_headers_and_rows_read_with_numbers_as_text(self, tmp_path):
        path = write_xlsx(
            tmp_path / "t.xlsx",
            [HEADERS, [320324100000, "凌城镇", None], [320324100001, "居委会", 121]],
        )
        table, rows = read_all(path)
        assert table.kind == "xlsx" and table.headers == HEADERS
        assert rows == [(2, ["320324100000", "凌城镇", ""]), (3, ["320324100001", "居委会", "121"])]

    def test_blank_rows_are_skipped_but_numbering_matches_excel(self, tmp_path):
        path = write_xlsx(
            tmp_path / "t.xlsx", [["代码", "名称"], [1, "甲"], [None, None], [2, "乙"]]
        )
        _, rows = read_all(path)
        assert rows == [(2, ["1", "甲"]), (4, ["2", "乙"])]

    def test_dates_are_read_as_iso_dates(self, tmp_path):
        import datetime as dt

        path = write_xlsx(tmp_path / "t.xlsx", [["日期"], [dt.datetime(2026, 1, 31)]])
        _, rows = read_all(path)
        assert rows == [(2, ["2026-01-31"])]

    def test_formula_cell_is_refused_naming_row_and_column(self, tmp_path):
        path = write_xlsx(tmp_path / "t.xlsx", [["甲", "乙"], [1, 2], [3, "=SUM(A1:A2)"]])
        table = open_table(path)
        with pytest.raises(TableError) as exc:
            list(table.rows)
        assert "第3行第2列是公式" in exc.value.message
        assert "=SUM(A1:A2)" in exc.value.message and "粘贴为数值" in exc.value.message

    def test_merged_header_cells_are_refused_naming_the_empty_column(self, tmp_path):
        path = write_xlsx(
            tmp_path / "t.xlsx",
            [["区划", None, "年份"], ["320324100000", "凌城镇", 2024]],
            merge="A1:B1",
        )
        with pytest.raises(TableError) as exc:
            open_table(path)
        assert "表头第2列是空的" in exc.value.message and "合并单元格" in exc.value.message

    def test_trailing_empty_header_cells_are_ignored(self, tmp_path):
        path = write_xlsx(tmp_path / "t.xlsx", [["代码", "名称", None], [1, "甲", None]])
        table = open_table(path)
        assert table.headers == ["代码", "名称"]

    def test_empty_workbook_is_refused(self, tmp_path):
        path = write_xlsx(tmp_path / "t.xlsx", [])
        with pytest.raises(TableError, match="Excel 表格是空的"):
            open_table(path)


COLUMNS = {
    "code": ("统计用区划代码", "代码"),
    "name": ("名称",),
    "year": ("年份",),
}


class TestXlsxSizeLimits:
    """A small .xlsx can unpack into gigabytes: it is refused from the zip's directory, before
    openpyxl reads a byte of it."""

    @pytest.fixture(autouse=True)
    def _openpyxl_must_not_load(self, monkeypatch):
        import openpyxl

        def refuse(*a, **kw):
            raise AssertionError("openpyxl loaded a workbook that should have been refused")

        self.refuse = refuse
        self.monkeypatch = monkeypatch
        monkeypatch.setattr(openpyxl, "load_workbook", refuse)

    def test_a_sheet_that_unpacks_hundreds_of_times_larger_is_refused_before_loading(
        self, tmp_path
    ):
        wb = Workbook()
        wb.active.append(["姓名"])
        wb.save(tmp_path / "one.xlsx")
        row = '<row><c t="inlineStr"><is><t>' + "a" * 30_000 + "</t></is></c></row>"
        sheet = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        sheet += "<sheetData>" + row * 400 + "</sheetData></worksheet>"
        path = tmp_path / "bomb.xlsx"
        with (
            zipfile.ZipFile(tmp_path / "one.xlsx") as src,
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst,
        ):
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename == "xl/worksheets/sheet1.xml":
                    data = sheet.encode()
                dst.writestr(info.filename, data)
        assert path.stat().st_size < 100_000
        with pytest.raises(TableError) as exc:
            open_table(path)
        assert "sheet1.xml" in exc.value.message and "不像正常的表格" in exc.value.message

    def test_a_workbook_over_the_unpacked_limit_is_refused_naming_the_limit(
        self, tmp_path, settings
    ):
        import random

        settings.SUNSHINE_XLSX_MAX_UNPACKED_MB = 1
        rnd = random.Random(1)
        wb = Workbook()
        wb.active.append(["编号", "名称"])
        for _ in range(40_000):
            wb.active.append([rnd.randrange(10**12), f"名称{rnd.randrange(10**9)}"])
        path = tmp_path / "big.xlsx"
        wb.save(path)
        with pytest.raises(TableError) as exc:
            open_table(path)
        assert "太大" in exc.value.message and "上限 1 MB" in exc.value.message

    def test_a_zip_with_thousands_of_parts_is_refused(self, tmp_path):
        path = tmp_path / "parts.xlsx"
        with zipfile.ZipFile(path, "w") as zf:
            for i in range(2001):
                zf.writestr(f"xl/worksheets/sheet{i}.xml", "<x/>")
        with pytest.raises(TableError) as exc:
            open_table(path)
        assert "2001 个部件" in exc.value.message

    def test_an_ordinary_workbook_passes_the_check_and_is_read(self, tmp_path):
        self.monkeypatch.undo()
        wb = Workbook()
        wb.active.append(["姓名", "备注"])
        for i in range(2000):
            wb.active.append([f"张{i}", "同" * 50])
        path = tmp_path / "ok.xlsx"
        wb.save(path)
        table = open_table(path)
        assert len(list(table.rows)) == 2000


class TestColumnMap:
    def test_columns_are_found_by_any_accepted_name(self):
        assert column_map(["名称", "代码"], COLUMNS, required={"code", "name"}) == {
            "name": 0,
            "code": 1,
        }

    def test_spaces_and_full_width_spaces_in_headers_are_ignored(self):
        cols = column_map(["统计用 区划代码", "名\u3000称"], COLUMNS, required={"code", "name"})
        assert cols == {"code": 0, "name": 1}

    def test_missing_required_columns_are_named_in_the_message(self):
        with pytest.raises(TableError) as exc:
            column_map(["年份"], COLUMNS, required={"code", "name"})
        assert "缺少必需的列：统计用区划代码、名称" in exc.value.message

    def test_missing_optional_column_is_not_an_error(self):
        assert "year" not in column_map(["代码", "名称"], COLUMNS, required={"code", "name"})


class TestHeaderlessColumns:
    def test_merged_header_in_the_last_columns_does_not_silently_drop_data(self, tmp_path):
        path = write_xlsx(
            tmp_path / "m.xlsx", [["姓名", "备注", None], ["张三", "甲", "乙"]], merge="B1:C1"
        )
        table = open_table(path)
        with pytest.raises(TableError, match="第2行第3列有数据，但这一列没有表头"):
            list(table.rows)
