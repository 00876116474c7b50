"""Import of the official division table from .csv (GBK) and .xlsx: all or nothing, idempotent."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
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
        assert n.total == len(TABLE) and _codes() == {r[0] for r in TABLE}
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
        assert n.total == len(TABLE) and _codes() == {r[0] for r in TABLE}
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
            (["970101000U001", "县直单位", "", ""], "不在上级 970101000000（县）之下"),
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


# The official table's shape for Guangdong, Hainan and Gansu around the four prefecture-level
# cities without counties, whose towns carry 00 as county digits (names as in the 2022 table;
# village lists shortened).
OFFICIAL = [
    ["440000000000", "广东省", "", "2022"],
    ["440100000000", "广州市", "", "2022"],
    ["440103000000", "荔湾区", "", "2022"],
    ["440103001000", "沙面街道", "", "2022"],
    ["440103001001", "沙面社区居委会", "111", "2022"],
    ["441900000000", "东莞市", "", "2022"],
    ["441900003000", "东城街道", "", "2022"],
    ["441900003002", "主山社区居委会", "111", "2022"],
    ["441900003010", "温塘社区居委会", "112", "2022"],
    ["441900101000", "石碣镇", "", "2022"],
    ["441900101001", "石碣社区居委会", "121", "2022"],
    ["441900101201", "刘屋村委会", "220", "2022"],
    ["441900401000", "松山湖", "", "2022"],
    ["441900401001", "松山湖社区居委会", "111", "2022"],
    ["442000000000", "中山市", "", "2022"],
    ["442000001000", "石岐街道", "", "2022"],
    ["442000001001", "太平社区居委会", "111", "2022"],
    ["442000100000", "小榄镇", "", "2022"],
    ["442000100201", "永宁村委会", "220", "2022"],
    ["460000000000", "海南省", "", "2022"],
    ["460100000000", "海口市", "", "2022"],
    ["460105000000", "秀英区", "", "2022"],
    ["460105001000", "秀英街道", "", "2022"],
    ["460105001001", "秀英社区居委会", "111", "2022"],
    ["460400000000", "儋州市", "", "2022"],
    ["460400100000", "那大镇", "", "2022"],
    ["460400100001", "人民社区居委会", "111", "2022"],
    ["460400100201", "先锋村委会", "220", "2022"],
    ["460400400000", "国营西联农场", "", "2022"],
    ["460400400001", "西联社区", "123", "2022"],
    ["469000000000", "省直辖县级行政区划", "", "2022"],
    ["469001000000", "五指山市", "", "2022"],
    ["469001100000", "通什镇", "", "2022"],
    ["469001100201", "番茅村委会", "220", "2022"],
    ["620000000000", "甘肃省", "", "2022"],
    ["620200000000", "嘉峪关市", "", "2022"],
    ["620200001000", "雄关街道", "", "2022"],
    ["620200001001", "建设社区居委会", "111", "2022"],
    ["620200100000", "新城镇", "", "2022"],
    ["620200100201", "新城村委会", "220", "2022"],
]


def _official_codes(prefix=""):
    return set(
        Place.objects.filter(
            code__in=[r[0] for r in OFFICIAL], code__startswith=prefix
        ).values_list("code", flat=True)
    )


class TestCitiesWithoutCounties:
    """东莞 441900, 中山 442000, 儋州 460400, 嘉峪关 620200: their towns were refused."""

    def test_the_official_tables_of_guangdong_hainan_and_gansu_are_imported(self, tmp_path):
        result = importing.import_division_table(
            actor=None, path=write_csv(tmp_path / "2022.csv", OFFICIAL)
        )
        assert result.created == len(OFFICIAL) and _official_codes() == {r[0] for r in OFFICIAL}
        dongguan = Place.objects.get(code="441900000000")
        assert (dongguan.level, dongguan.path, dongguan.parent.code) == (
            "county",
            "441900",
            "440000000000",
        )
        town = Place.objects.get(code="441900003000")
        assert (town.level, town.path, town.parent_id) == ("town", "441900003", dongguan.pk)
        village = Place.objects.get(code="441900003002")
        assert (village.path, village.parent_id, village.urban_rural_code) == (
            "441900003002",
            town.pk,
            "111",
        )
        for city in ("442000", "460400", "620200"):
            assert Place.objects.get(code=city + "000000").path == city
        assert Place.objects.get(code="460400400000").kind_label == "园区"

    def test_a_clerk_of_such_a_city_sees_exactly_its_towns_and_villages(self, tmp_path):
        from sunshine.accounts import roles
        from sunshine.accounts import services as account_services
        from sunshine.places import scoping

        importing.import_division_table(actor=None, path=write_csv(tmp_path / "a.csv", OFFICIAL))
        clerks = {
            city: account_services.user_create(
                actor=None,
                username=f"clerk{city}",
                password="Sunsh1ne-clerk-pw",
                role=roles.COUNTY_CLERK,  # the city is the county level of the tree
                place=Place.objects.get(code=city + "000000"),
            )
            for city in ("441900", "442000", "460400", "620200")
        }
        for city, clerk in clerks.items():
            seen = set(scoping.scope(Place.objects.all(), clerk).values_list("code", flat=True))
            assert seen == _official_codes(city), city
        town_clerk = account_services.user_create(
            actor=None,
            username="dongcheng",
            password="Sunsh1ne-clerk-pw",
            role=roles.TOWN_CLERK,
            place=Place.objects.get(code="441900003000"),
        )
        seen = set(scoping.scope(Place.objects.all(), town_clerk).values_list("code", flat=True))
        assert seen == {"441900003000", "441900003002", "441900003010"}

    def test_a_town_with_00_county_digits_under_an_ordinary_city_is_refused_by_name(self, tmp_path):
        rows = [*OFFICIAL, ["440100001000", "无县街道", "", "2022"]]
        with pytest.raises(ServiceError) as exc:
            importing.import_division_table(actor=None, path=write_csv(tmp_path / "a.csv", rows))
        assert "440100001000" in exc.value.message and "不设区的地级市" in exc.value.message
        assert _official_codes() == set()

    def test_a_stored_city_of_the_old_tree_is_moved_to_the_county_level_by_the_migration(self):
        from importlib import import_module

        from django.apps import apps

        migration = import_module("sunshine.places.migrations.0003_cities_without_counties")
        province = Place.objects.create(
            code="440000000000", path="44", name="广东省", level="province"
        )
        Place.objects.create(
            code="441900000000", path="4419", name="东莞市", level="city", parent=province
        )
        migration.cities_act_as_counties(apps, None)
        dongguan = Place.objects.get(code="441900000000")
        assert (dongguan.level, dongguan.path, dongguan.parent_id) == (
            "county",
            "441900",
            province.pk,
        )


class TestLargeTables:
    def test_a_table_longer_than_the_databases_variable_limit_is_imported_in_chunks(
        self, tmp_path, monkeypatch
    ):
        # The whole country's 665,271 codes in one IN list exceeded SQLite's limit ("too many
        # SQL variables"). The same happens here with a limit of 50 and a 150-row table.
        rows = [*TABLE[:4]] + [
            [f"970101001{v:03d}", f"第{v}社区", "111", "2024"] for v in range(1, 150)
        ]
        monkeypatch.setattr(connection.features, "max_query_params", 50)
        if connection.vendor == "sqlite":
            import sqlite3

            connection.ensure_connection()
            old = connection.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 50)
            monkeypatch.setattr(
                connection,
                "_refs_restore",
                lambda: connection.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, old),
                raising=False,
            )
        try:
            first = importing.import_division_table(
                actor=None, path=write_csv(tmp_path / "a.csv", rows)
            )
            again = [[c, n + "（新）", u, "2025"] for c, n, u, _ in rows]
            second = importing.import_division_table(
                actor=None, path=write_csv(tmp_path / "b.csv", again)
            )
        finally:
            if connection.vendor == "sqlite":
                connection._refs_restore()
        assert (first.created, second.updated) == (len(rows), len(rows))
        assert Place.objects.get(code="970101001149").name == "第149社区（新）"

    def test_reimporting_the_same_table_writes_nothing(self, tmp_path):
        # The old re-import rewrote every row with CASE WHEN batches: five times the first
        # import's time for the whole country.
        rows = [*TABLE] + [[f"970101110{v:03d}", f"第{v}村", "220", "2024"] for v in range(2, 80)]
        path = write_csv(tmp_path / "a.csv", rows)
        importing.import_division_table(actor=None, path=path)
        with CaptureQueriesContext(connection) as ctx:
            result = importing.import_division_table(actor=None, path=path)
        assert (result.unchanged, result.updated, result.created) == (len(rows), 0, 0)
        assert _place_writes(ctx) == []

    def test_reimport_updates_only_the_rows_that_changed_one_statement_per_row(self, tmp_path):
        importing.import_division_table(actor=None, path=write_csv(tmp_path / "a.csv", TABLE))
        changed = [
            r if r[0] != "970101001001" else [r[0], "城关新社区", "111", "2024"] for r in TABLE
        ]
        with CaptureQueriesContext(connection) as ctx:
            result = importing.import_division_table(
                actor=None, path=write_csv(tmp_path / "b.csv", changed)
            )
        assert (result.updated, result.unchanged) == (1, len(TABLE) - 1)
        [(times, statement)] = _place_writes(ctx)
        assert times == 1 and statement.startswith("UPDATE") and "CASE" not in statement
        assert Place.objects.get(code="970101001001").name == "城关新社区"


def _place_writes(ctx) -> list[tuple[int, str]]:
    """(rows, statement) of each INSERT or UPDATE of places captured; executemany is logged
    once as "N times: …"."""
    out = []
    for q in ctx.captured_queries:
        m = re.match(r"(\d+) times: (.*)", q["sql"], re.S)
        times, statement = (int(m[1]), m[2]) if m else (1, q["sql"])
        if statement.startswith(('UPDATE "places_place"', 'INSERT INTO "places_place"')):
            out.append((times, statement))
    return out


class TestBadFiles:
    @pytest.mark.parametrize(
        "bad_row,expected",
        [
            (["970101110202", "长" * 101, "220", "2024"], "970101110202：名称超过100个字"),
            (["970101110202", "凌城\x1b村", "220", "2024"], "不可见的控制字符"),
            (["970101110202", "凌城\u202e村", "220", "2024"], "不可见的控制字符"),
            (["970101110202", "凌城村", "２２０", "2024"], "城乡分类代码 ２２０ 应为3位数字"),
        ],
    )
    def test_a_row_the_database_would_choke_on_gets_a_chinese_message(
        self, tmp_path, bad_row, expected
    ):
        path = write_csv(tmp_path / "坏.csv", [*TABLE, bad_row], encoding="utf-8")
        with pytest.raises(ServiceError) as exc:
            importing.import_division_table(actor=None, path=path)
        assert expected in exc.value.message
        assert _codes() == set()
