"""`sunshine import residents FILE [--partial] [--errors PATH]` and `sunshine import places FILE`."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from sunshine.core.validators import id_check_char
from sunshine.people.models import Resident
from sunshine.places.models import Place

pytestmark = pytest.mark.django_db


def idn(body17: str) -> str:
    return body17 + id_check_char(body17)


GOOD = [
    ["命令甲", "男", idn("98010119800101011"), "980101100001001"],
    ["命令乙", "女", idn("98010119810202022"), "980101101001001"],
]
BAD = [["命令丙", "女", idn("98010119820303031"), "980101100001001"]]  # sex contradicts the ID


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="gbk") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "性别", "身份证号码", "所在地编码"])
        w.writerows(rows)
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def made() -> set[str]:
    return set(Resident.objects.filter(name__startswith="命令").values_list("name", flat=True))


class TestImportResidents:
    def test_a_clean_file_is_imported_and_summarised(self, world, tmp_path):
        path = write_csv(tmp_path / "居民.csv", GOOD)
        out, _ = run("residents", path)
        assert "共 2 行：新增 2 人，更新 0 人，新建 0 户。" in out
        assert made() == {"命令甲", "命令乙"}  # the command runs as the system: any town
        assert not (tmp_path / "居民-错误行.xlsx").exists()

    def test_importing_again_updates_instead_of_duplicating(self, world, tmp_path):
        path = write_csv(tmp_path / "居民.csv", GOOD)
        run("residents", path)
        out, _ = run("residents", path)
        assert "新增 0 人，更新 2 人" in out
        assert Resident.objects.filter(name__startswith="命令").count() == 2

    def test_partial_writes_the_good_rows_and_saves_the_error_file_next_to_the_input(
        self, world, tmp_path
    ):
        path = write_csv(tmp_path / "居民.csv", GOOD + BAD)
        out, err = run("residents", path, "--partial")
        assert "新增 2 人" in out and "1 行有错误，没有导入。" in out
        assert made() == {"命令甲", "命令乙"}
        target = tmp_path / "居民-错误行.xlsx"
        assert f"错误明细已保存到：{target}" in err
        assert "第4行 性别：与身份证号码不一致" in err
        sheet = list(load_workbook(target).active.iter_rows(values_only=True))
        assert sheet[0][:3] == ("原行号", "错误说明", "姓名")
        assert sheet[1][0] == 4 and sheet[1][2] == "命令丙"

    def test_an_all_or_nothing_failure_is_a_command_error_and_saves_the_error_file(
        self, world, tmp_path
    ):
        path = write_csv(tmp_path / "居民.csv", GOOD + BAD)
        with pytest.raises(
            CommandError, match="有 1 行数据有错误，没有导入任何数据。请下载错误文件"
        ):
            run("residents", path)
        assert made() == set()
        assert (tmp_path / "居民-错误行.xlsx").is_file()

    def test_errors_option_chooses_where_the_error_file_goes(self, world, tmp_path):
        path = write_csv(tmp_path / "居民.csv", BAD)
        target = tmp_path / "out" / "坏行.xlsx"
        target.parent.mkdir()
        with pytest.raises(CommandError):
            run("residents", path, "--errors", target)
        assert target.is_file() and not (tmp_path / "居民-错误行.xlsx").exists()

    def test_a_file_without_the_required_columns_is_a_command_error(self, world, tmp_path):
        path = tmp_path / "r.csv"
        path.write_text("姓名,性别\n张三,男\n", encoding="utf-8")
        with pytest.raises(CommandError, match="身份证号码"):
            run("residents", path)

    def test_a_missing_file_is_a_command_error(self, db, tmp_path):
        with pytest.raises(CommandError, match="找不到文件"):
            run("residents", tmp_path / "没有.csv")


class TestImportPlaces:
    def test_a_division_table_is_imported(self, world, tmp_path):
        path = tmp_path / "区划.csv"
        path.write_text("统计用区划代码,名称\n980101100007,本镇七村\n", encoding="gbk")
        out, _ = run("places", path)
        assert "已导入 1 个地方" in out
        assert Place.objects.get(code="980101100007").name == "本镇七村"

    def test_a_missing_file_is_a_command_error(self, db, tmp_path):
        with pytest.raises(CommandError, match="找不到文件"):
            run("places", tmp_path / "没有.csv")
