"""Import of the official division table from .csv (GBK) and .xlsx: all or nothing, idempotent."""

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.places import importing
from sunshine.places.models import Place

pytestmark = pytest.mark.django_db

HEADERS = ["统计用区划代码", "名称", "城乡分类代码", "年份"]
TABLE = [
    ["970000000000", "样例省", "", "2024"],
    ["970100000000", "样例市", "", "2024"],
    ["970101000000", "样例县", "", "2024"],
    ["970101001000", "城关街道", "", "2024"],
    ["970101001001", "城关社区", "111", "2024"],
    ["970101110000", "凌城镇", "", "2024"],
    ["970101110201", "凌城村", "220", "2024"],
]


def write_csv(path, rows, encoding="gbk", headers=HEADERS):
    path.write_bytes("\r\n".join(",".join(r) for r in [headers, *rows]).encode(encoding))
    return path


def write_xlsx(path, rows, headers=HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for code, name, urc, year in rows:
        ws.append([int(code), name, urc or None, int(year) if year else None])
    wb.save(path)
    return path


def _codes():
    return set(Place.objects.filter(code__startswith="97").values_list("code", flat=True))


class TestImportDivisionTable:
    def test_gbk_csv_is_imported_into_a_linked_tree(self, tmp_path):
        n = importing.import_division_table(
            actor=None, path=write_csv(tmp_path / "区划.csv", TABLE)
        )
        assert n == len(TABLE) and _codes() == {r[0] for r in TABLE}
        village = Place.objects.get(code="970101110201")
        assert (village.name, village.urban_rural_code, village.code_year) == (
            "凌城村",
            "220",
            2024,
        )
        assert village.parent.code == "970101110000" and village.level == "village"
        assert Place.objects.get(code="970000000000").parent is None

    def test_xlsx_with_numeric_codes_is_imported(self, tmp_path):
        n = importing.import_division_table(
            actor=None, path=write_xlsx(tmp_path / "区划.xlsx", TABLE)
        )
        assert n == len(TABLE) and _codes() == {r[0] for r in TABLE}
        assert Place.objects.get(code="970101001001").urban_rural_code == "111"

    def test_reimport_is_idempotent_and_updates_names(self, tmp_path):
        importing.import_division_table(actor=None, path=write_csv(tmp_path / "a.csv", TABLE))
        ids = dict(Place.objects.filter(code__startswith="97").values_list("code", "id"))
        renamed = [
            r if r[0] != "970101110201" else [r[0], "凌城新村", "220", "2025"] for r in TABLE
        ]
        importing.import_division_table(actor=None, path=write_xlsx(tmp_path / "b.xlsx", renamed))
        assert dict(Place.objects.filter(code__startswith="97").values_list("code", "id")) == ids
        village = Place.objects.get(code="970101110201")
        assert (village.name, village.code_year) == ("凌城新村", 2025)
        assert AuditEntry.objects.filter(action="place.import").count() == 2

    def test_extra_columns_and_column_order_do_not_matter(self, tmp_path):
        headers = ["名称", "备注", "统计用区划代码"]
        rows = [[name, "无", code] for code, name, _, _ in TABLE]
        path = tmp_path / "乱序.csv"
        path.write_text("\n".join(",".join(r) for r in [headers, *rows]), encoding="utf-8-sig")
        importing.import_division_table(actor=None, path=path)
        assert Place.objects.get(code="970101110000").name == "凌城镇"

    @pytest.mark.parametrize(
        "bad_row,expected",
        [
            (["970101120201", "无镇之村", "220", "2024"], "970101120201：上级 970101120000 不存在"),
            (["97010111020", "十一位", "220", "2024"], "97010111020：统计用区划代码应为12位"),
            (["970101110202", "坏分类", "22", "2024"], "第9行：城乡分类代码 22 应为3位数字"),
            (["970101110202", "坏年份", "220", "24"], "第9行：年份 24 不正确"),
            (["970101000U001", "县直单位", "", ""], "不在上级 970101000000 之下"),
        ],
    )
    def test_one_bad_row_writes_nothing_and_names_the_problem(self, tmp_path, bad_row, expected):
        path = write_csv(tmp_path / "坏.csv", [*TABLE, bad_row])
        before = AuditEntry.objects.count()
        with pytest.raises(ServiceError) as exc:
            importing.import_division_table(actor=None, path=path)
        assert expected in exc.value.message
        assert _codes() == set()
        assert AuditEntry.objects.count() == before

    def test_every_bad_row_is_reported_at_once(self, tmp_path):
        rows = [*TABLE, ["970101110202", "甲", "1", ""], ["970101110203", "乙", "", "1900"]]
        with pytest.raises(ServiceError) as exc:
            importing.import_division_table(actor=None, path=write_csv(tmp_path / "坏.csv", rows))
        assert "第9行" in exc.value.message and "第10行" in exc.value.message

    def test_missing_code_column_is_named(self, tmp_path):
        path = write_csv(tmp_path / "缺列.csv", [["凌城镇"]], headers=["名称"])
        with pytest.raises(ServiceError, match="缺少必需的列：统计用区划代码"):
            importing.import_division_table(actor=None, path=path)

    def test_header_only_file_is_refused(self, tmp_path):
        with pytest.raises(ServiceError, match="没有数据行"):
            importing.import_division_table(actor=None, path=write_csv(tmp_path / "空.csv", []))

    def test_unreadable_file_becomes_a_service_error(self, tmp_path):
        path = tmp_path / "坏.xlsx"
        path.write_bytes(b"not a workbook")
        with pytest.raises(ServiceError, match="不是 Excel 表格"):
            importing.import_division_table(actor=None, path=path)

    def test_actor_may_only_import_under_their_place(self, tmp_path, world):
        rows = [["980101100003", "本镇三村", "220", "2026"], ["980101101009", "外镇九村", "", ""]]
        with pytest.raises(ServiceError, match="980101101009：不在您的管辖范围内"):
            importing.import_division_table(
                actor=world.users["town_clerk"], path=write_csv(tmp_path / "a.csv", rows)
            )
        assert not Place.objects.filter(code="980101100003").exists()


class TestImportPlacesCommand:
    """`sunshine import places FILE` (it replaced `import-places`)."""

    def test_command_imports_and_reports_the_count(self, tmp_path, capsys):
        call_command("import", "places", str(write_xlsx(tmp_path / "区划.xlsx", TABLE)))
        assert f"已导入 {len(TABLE)} 个地方" in capsys.readouterr().out
        assert _codes() == {r[0] for r in TABLE}

    def test_missing_file_is_a_command_error_naming_the_file(self, tmp_path):
        missing = tmp_path / "没有.xlsx"
        with pytest.raises(CommandError, match=f"找不到文件：{missing}"):
            call_command("import", "places", str(missing))

    def test_bad_table_is_a_command_error_with_the_chinese_message(self, tmp_path):
        path = write_csv(tmp_path / "坏.csv", [["97010111020", "十一位", "", ""]])
        with pytest.raises(CommandError, match="97010111020"):
            call_command("import", "places", str(path))
        assert _codes() == set()
