import csv
import datetime as dt

import pytest
from openpyxl import Workbook, load_workbook

from sunshine.core.models import AuditEntry
from sunshine.core.validators import id_check_char
from sunshine.people import importing, rules
from sunshine.people.models import Household, Resident

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 28)
HEAD = ["姓名", "性别", "身份证号码", "手机号码", "所在地编码", "户号"]


def idn(n: int, sex: str = "M", year: int = 1990) -> str:
    seq = (n % 500) * 2 + (1 if sex == "M" else 0)
    body = f"980101{year}{(n % 12) + 1:02d}{(n % 28) + 1:02d}{seq:03d}"
    return body + id_check_char(body)


def rows(n: int, start: int = 0, code: str = "980101100001001"):
    out = []
    for i in range(start, start + n):
        sex = "M" if i % 2 else "F"
        out.append(
            [
                f"居民{i}",
                "男" if sex == "M" else "女",
                idn(i, sex, 1950 + i // 1000),
                "13800001234",
                code,
                f"H{i // 3}",
            ]
        )
    return out


def write_csv(path, data, *, header=HEAD, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(data)
    return path


def write_xlsx(path, data, *, header=HEAD):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in data:
        ws.append(r)
    wb.save(path)
    return path


def run(actor, path, **kw):
    return importing.import_residents(
        actor=actor, path=path, today=TODAY, error_dir=str(path.parent), **kw
    )


class TestEncodingsAndFormats:
    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
    def test_csv_in_every_encoding_excel_writes_is_read(self, world, tmp_path, encoding):
        path = write_csv(tmp_path / "r.csv", rows(5), encoding=encoding)
        result = run(world.users["town_clerk"], path)
        assert result.created == 5
        assert set(
            Resident.objects.filter(name__startswith="居民").values_list("name", flat=True)
        ) == {f"居民{i}" for i in range(5)}

    def test_xlsx_is_read_with_columns_in_any_order(self, world, tmp_path):
        data = [[r[4], r[2], r[0], r[1]] for r in rows(4)]
        path = write_xlsx(
            tmp_path / "r.xlsx", data, header=["所在地编码", "公民身份号码", "姓名", "性别"]
        )
        assert run(world.users["town_clerk"], path).created == 4

    def test_invisible_characters_are_stripped_from_imported_names(self, world, tmp_path):
        # A name with a right-to-left override would show reversed on every list and notice.
        data = rows(2)
        data[0][0], data[1][0] = "\u202e张\u200b三", "李\u2066四\u2069"
        data[0][5] = "H\u200b9"
        run(world.users["town_clerk"], write_csv(tmp_path / "r.csv", data))
        names = set(
            Resident.objects.filter(id_number__in=[data[0][2], data[1][2]]).values_list(
                "name", flat=True
            )
        )
        assert names == {"张三", "李四"}
        assert Household.objects.filter(number="H9").exists()


class TestIdempotence:
    def test_reimporting_the_same_file_updates_instead_of_duplicating(self, world, tmp_path):
        path = write_csv(tmp_path / "r.csv", rows(30))
        first = run(world.users["town_clerk"], path)
        households = Household.objects.count()
        second = run(world.users["town_clerk"], path)
        assert (first.created, first.updated) == (30, 0)
        assert (second.created, second.updated) == (0, 30)
        assert Resident.objects.filter(name__startswith="居民").count() == 30
        assert Household.objects.count() == households

    def test_reimport_with_a_changed_name_and_mobile_updates_them(self, world, tmp_path):
        data = rows(3)
        run(world.users["town_clerk"], write_csv(tmp_path / "a.csv", data))
        data[1][0], data[1][3] = "改名后", "13900009999"
        run(world.users["town_clerk"], write_csv(tmp_path / "b.csv", data))
        r = Resident.objects.get(id_number=data[1][2])
        assert (r.name, r.mobile) == ("改名后", "13900009999")

    def test_members_with_the_same_household_number_share_one_household(self, world, tmp_path):
        run(world.users["town_clerk"], write_csv(tmp_path / "r.csv", rows(6)))
        h = Household.objects.get(number="H0", county_code="980101")
        assert h.members.count() == 3


class TestAllOrNothing:
    def _with_three_bad_rows(self, tmp_path):
        data = rows(10)
        data[2][2] = data[2][2][:-1] + ("0" if data[2][2][-1] != "0" else "1")  # wrong check digit
        data[5][3] = "12345"  # bad mobile
        data[7][4] = "980101100009009"  # no such group
        return write_csv(tmp_path / "bad.csv", data), data

    def test_three_bad_rows_write_nothing_and_report_each_row_column_and_reason(
        self, world, tmp_path
    ):
        path, _ = self._with_three_bad_rows(tmp_path)
        before = Resident.objects.count()
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], path)
        assert "3 行" in exc.value.message and "没有导入任何数据" in exc.value.message
        assert Resident.objects.count() == before
        errors = {(e["row"], e["column"]) for e in exc.value.result.errors}
        assert errors == {(4, "身份证号码"), (7, "手机号码"), (9, "所在地编码")}
        assert any("校验位" in e["reason"] for e in exc.value.result.errors)

    def test_error_file_holds_the_bad_rows_and_can_be_fixed_and_reimported(self, world, tmp_path):
        path, _ = self._with_three_bad_rows(tmp_path)
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], path)
        ws = load_workbook(exc.value.result.error_file).active
        sheet = [
            [c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)
        ]
        assert sheet[0][:2] == ["原行号", "错误说明"] and sheet[0][2:] == HEAD
        assert [r[0] for r in sheet[1:]] == [4, 7, 9]
        # the clerk fixes the three rows in the error file itself and imports it
        wb = load_workbook(exc.value.result.error_file)
        ws = wb.active
        ws.cell(2, 5).value = idn(2, "F", 1950)
        ws.cell(3, 6).value = "13700001111"
        ws.cell(4, 7).value = "980101100001002"
        wb.save(tmp_path / "fixed.xlsx")
        assert run(world.users["town_clerk"], tmp_path / "fixed.xlsx").created == 3

    def test_error_file_writes_formula_like_cells_as_text_not_formulas(self, world, tmp_path):
        # A CSV cell "=HYPERLINK(…)" must come back in the error workbook as the text typed,
        # never as a live formula or link that Excel runs when the clerk opens the file.
        data = rows(4)
        data[0][0] = '=HYPERLINK("http://evil.example/","点我")'
        data[1][0] = "+1+cmd|' /C calc'!A0"
        data[2][0] = "@SUM(1+1)"
        data[3][0] = "-2+3"
        for r in data:
            r[2] = "1"  # every row bad, so every row is in the error workbook
        path = write_csv(tmp_path / "f.csv", data)
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], path)
        ws = load_workbook(exc.value.result.error_file).active
        names = [ws.cell(r, 3) for r in range(2, 6)]
        assert [c.value for c in names] == [r[0] for r in data]
        assert [c.data_type for c in names] == ["s"] * 4
        assert all(c.quotePrefix for c in names)

    def test_control_characters_in_a_csv_cell_do_not_break_the_error_file(self, world, tmp_path):
        data = rows(1)
        data[0][2], data[0][5] = "1", "H\x01\x1b1"
        path = write_csv(tmp_path / "f.csv", data)
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], path)
        ws = load_workbook(exc.value.result.error_file).active
        assert ws.cell(2, 8).value == "H1"

    def test_partial_mode_writes_the_good_rows_and_returns_the_error_file(self, world, tmp_path):
        path, _ = self._with_three_bad_rows(tmp_path)
        result = run(world.users["town_clerk"], path, partial=True)
        assert (result.created, result.error_rows) == (7, 3)
        assert result.error_file and load_workbook(result.error_file).active.max_row == 4

    def test_a_crash_mid_import_leaves_the_database_as_before(self, world, tmp_path):
        run(world.users["town_clerk"], write_csv(tmp_path / "a.csv", rows(5)))
        snapshot = list(Resident.objects.order_by("id").values_list("id_number", "name"))
        households = Household.objects.count()
        changed = rows(20)
        changed[0][0] = "不应保存"
        with pytest.raises(RuntimeError):
            run(world.users["town_clerk"], write_csv(tmp_path / "b.csv", changed), _crash_after=12)
        assert list(Resident.objects.order_by("id").values_list("id_number", "name")) == snapshot
        assert Household.objects.count() == households
        assert not AuditEntry.objects.filter(action="resident.import", changes__rows=20).exists()

    def test_duplicate_id_numbers_in_one_file_name_the_first_row(self, world, tmp_path):
        data = rows(3)
        data.append(list(data[0]))
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], write_csv(tmp_path / "d.csv", data))
        assert exc.value.result.errors == [
            {"row": 5, "column": "身份证号码", "reason": "与第2行重复"}
        ]


class TestScope:
    def test_a_village_cadre_cannot_import_into_another_village(self, world, tmp_path):
        data = rows(2, code="980101100002")  # 本镇二村, not the cadre's village
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["village_cadre"], write_csv(tmp_path / "r.csv", data))
        assert all(
            "不在您的管辖范围内" in e["reason"] or "不存在" in e["reason"]
            for e in exc.value.result.errors
        )

    def test_a_resident_registered_in_another_town_is_not_taken_over(self, world, tmp_path):
        other = world.residents["other"]
        data = [["冒名", "男", other.id_number, "", "980101100001001", ""]]
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], write_csv(tmp_path / "r.csv", data))
        assert "管辖范围以外" in exc.value.result.errors[0]["reason"]
        other.refresh_from_db()
        assert other.name == "外镇居民丙" and other.place_path.startswith("980101101")


class TestBadFiles:
    @pytest.mark.parametrize(
        "content,name,expected",
        [
            (b"", "r.csv", "空的"),
            (b"\x00\x01\x02binary\x00", "r.csv", "不是表格文件"),
            (b"PK\x03\x04broken zip", "r.xlsx", "损坏"),
            (b"\xd0\xcf\x11\xe0old", "r.xls", ".xls"),
            (b"not a zip at all", "r.xlsx", "不是 Excel"),
        ],
    )
    def test_unreadable_files_get_a_chinese_message(self, world, tmp_path, content, name, expected):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], path)
        assert expected in exc.value.message

    def test_missing_required_columns_are_named(self, world, tmp_path):
        path = write_csv(tmp_path / "r.csv", [["张三", "男"]], header=["姓名", "性别"])
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], path)
        assert "身份证号码" in exc.value.message and "所在地编码" in exc.value.message

    def test_a_formula_cell_is_refused_naming_row_and_column(self, world, tmp_path):
        data = rows(2)
        data[1][0] = '=CONCAT("张","三")'
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], write_xlsx(tmp_path / "f.xlsx", data))
        assert "第3行第1列是公式" in exc.value.message
        assert not Resident.objects.filter(name__startswith="居民").exists()

    def test_merged_header_cells_are_refused(self, world, tmp_path):
        wb = Workbook()
        ws = wb.active
        ws.append(["姓名", "", "身份证号码", "所在地编码", "性别"])
        ws.merge_cells("A1:B1")
        wb.save(tmp_path / "m.xlsx")
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], tmp_path / "m.xlsx")
        assert "合并单元格" in exc.value.message

    def test_a_hundred_thousand_bad_rows_are_reported_without_trouble(self, world, tmp_path):
        path = tmp_path / "many.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(HEAD)
            for i in range(100_000):
                w.writerow([f"坏{i}", "男", "123", "", "980101100001001", ""])
        with pytest.raises(importing.ImportRefused) as exc:
            run(world.users["town_clerk"], path)
        assert "100000 行" in exc.value.message
        assert len(exc.value.result.errors) == importing.KEEP_ERRORS
        sheet = load_workbook(exc.value.result.error_file, read_only=True).active
        assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 100_001


class TestRules:
    def test_sex_must_match_the_id_number(self):
        places = {"980101100001001": rules.PlaceRef(1, "980101100001001", "group")}
        raw = {
            "name": "张三",
            "sex": "女",
            "id_number": idn(1, "M"),
            "place_code": "980101100001001",
        }
        _, errors = rules.clean_resident(raw, places=places, scope_prefix="", today=TODAY)
        assert errors and errors[0][0] == "性别" and "不一致" in errors[0][1]

    def test_birth_date_column_must_agree_with_the_id_number(self):
        places = {"g": rules.PlaceRef(1, "980101100001001", "group")}
        raw = {
            "name": "张三",
            "sex": "男",
            "id_number": idn(1, "M"),
            "place_code": "g",
            "birth_date": "1980-01-01",
        }
        _, errors = rules.clean_resident(raw, places=places, scope_prefix="", today=TODAY)
        assert ("出生日期", "与身份证号码中的出生日期不一致") in errors

    def test_old_fifteen_digit_numbers_are_refused_with_a_message_saying_so(self):
        assert "15位" in rules.id_error("110105491231002", TODAY)

    def test_lowercase_x_check_character_is_accepted(self):
        places = {"g": rules.PlaceRef(1, "980101100001001", "group")}
        raw = {"name": "李四", "sex": "女", "id_number": "11010519491231002x", "place_code": "g"}
        clean, errors = rules.clean_resident(raw, places=places, scope_prefix="", today=TODAY)
        assert errors == [] and clean["id_number"].endswith("X")


class TestCopyText:
    def test_backslashes_survive_the_bulk_write_and_a_name_is_one_line(self, world, tmp_path):
        # A backslash is COPY's escape character; a tab or line break in a name becomes a
        # space (core.text.clean_text), so a name never spans lines on a list or a notice.
        data = rows(2)
        data[0][0] = "张\\三\t甲"
        data[1][0] = "李\n四"
        run(world.users["town_clerk"], write_csv(tmp_path / "r.csv", data))
        assert Resident.objects.get(id_number=data[0][2]).name == "张\\三 甲"
        assert Resident.objects.get(id_number=data[1][2]).name == "李 四"

    def test_copy_field_formats_null_dates_and_escapes(self):
        assert importing.copy_field(None) == "\\N"
        assert importing.copy_field(dt.date(2026, 1, 2)) == "2026-01-02"
        assert importing.copy_field("a\\b\tc") == "a\\\\b\\tc"
