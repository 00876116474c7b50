"""A village cadre imports a GBK CSV with three bad rows, and ends with every resident in.

The round trip a clerk makes with a real spreadsheet: the all-or-nothing import refuses
the file and names each bad row; the error workbook comes back with the original row
numbers; the good rows go in with "只导入正确的行"; the three rows are corrected in the
error workbook itself and that workbook is imported as it is. At the end all ten residents
are in the 居民 list, ID numbers masked.
"""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from sunshine.core.testing import PASSWORD
from sunshine.core.validators import id_check_char

pytestmark = pytest.mark.browser

GROUP1, GROUP2 = "980101100001001", "980101100001002"  # the cadre's village's groups
OUTSIDE_GROUP = "980101101001001"  # 外镇一村第1组: another town
HEADERS = ["姓名", "性别", "出生日期", "身份证号码", "手机号码", "所在地编码", "户号", "户籍类型"]
# name, sex, birth date, sequence (its last digit is odd for men), group, household
PEOPLE = [
    ("王建国", "男", "19680412", "011", GROUP1, "0101"),
    ("李秀英", "女", "19700823", "022", GROUP1, "0101"),
    ("张伟", "男", "19850105", "031", GROUP1, "0102"),  # row 4: check digit miscopied
    ("刘芳", "女", "19881130", "042", GROUP1, "0102"),
    ("陈志强", "男", "19750316", "053", GROUP2, "0201"),
    ("杨丽娟", "女", "19790927", "064", GROUP2, "0201"),  # row 7: mobile one digit short
    ("赵明", "男", "20010708", "075", GROUP2, "0202"),
    ("黄桂兰", "女", "19520214", "086", GROUP2, "0203"),
    ("周磊", "男", "19931219", "097", GROUP1, "0104"),  # row 10: group of another town
    ("吴婷", "女", "19960601", "108", GROUP1, "0104"),
]
BAD_ROW, BAD_MOBILE_ROW, OUTSIDE_ROW = 4, 7, 10  # row 1 is the header


def _id_number(birth: str, seq: str) -> str:
    body = f"980101{birth}{seq}"
    return body + id_check_char(body)


def _wrong_check(idn: str) -> str:
    return idn[:17] + ("1" if idn[17] == "0" else "0")


GOOD = {
    name: {
        "身份证号码": _id_number(birth, seq),
        "手机号码": f"1390000{n:04d}",
        "所在地编码": group,
    }
    for n, (name, _sex, birth, seq, group, _hh) in enumerate(PEOPLE, start=1)
}


def _write_gbk_csv(path) -> None:
    """The file as Excel's "CSV (逗号分隔)" saves it on a Chinese Windows: GBK, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out)  # lineterminator "\r\n", as Excel writes
    writer.writerow(HEADERS)
    for row_no, (name, sex, birth, _seq, _group, household) in enumerate(PEOPLE, start=2):
        good = GOOD[name]
        idn, mobile, place = good["身份证号码"], good["手机号码"], good["所在地编码"]
        if row_no == BAD_ROW:
            idn = _wrong_check(idn)
        if row_no == BAD_MOBILE_ROW:
            mobile = mobile[:-1]
        if row_no == OUTSIDE_ROW:
            place = OUTSIDE_GROUP
        date = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"
        writer.writerow([name, sex, date, idn, mobile, place, household, "农村"])
    path.write_bytes(out.getvalue().encode("gbk"))


EXPECTED_ERRORS = [  # (row, column, reason) as the job page and the error workbook say them
    (BAD_ROW, "身份证号码", "校验位不对，请核对是否抄错"),
    (BAD_MOBILE_ROW, "手机号码", "应为11位数字，现在是10位"),
    # Codes outside the cadre's scope are not looked up at all, so they read as unknown.
    (OUTSIDE_ROW, "所在地编码", f"区划编码 {OUTSIDE_GROUP} 不存在，或不在您的管辖范围内"),
]
BAD_NAMES = {row: PEOPLE[row - 2][0] for row, _col, _reason in EXPECTED_ERRORS}


def _log_in(page):
    page.goto("/staff/login/")
    page.get_by_label("用户名").fill("village_cadre")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("navigation", name="工作台导航")).to_be_visible()


def _open_residents(page):
    page.get_by_role("navigation", name="工作台导航").get_by_role("link", name="居民").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("居民")


def _upload(page, path, *, partial: bool = False):
    _open_residents(page)
    page.get_by_role("link", name="导入表格").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入居民")
    page.get_by_label("居民表格（.xlsx 或 .csv）").set_input_files(path)
    if partial:
        page.get_by_label("只导入正确的行").check()
    page.get_by_role("button", name="上传并导入").click()
    expect(page).to_have_url(re.compile(r"/staff/jobs/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"导入居民：{path.name}")


def _status(page):
    return page.locator("#job-status").get_by_role("status")


def _assert_error_table(page):
    table = page.get_by_role("table", name="错误明细")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    for i, (row_no, column, reason) in enumerate(EXPECTED_ERRORS):
        expect(rows.nth(i).locator("td")).to_have_text([f"第 {row_no} 行", column, reason])


def _list_names(page) -> list[str]:
    return page.locator("#rows tbody tr td:first-child").all_inner_texts()


def test_cadre_imports_a_gbk_csv_fixes_the_error_workbook_and_gets_everyone_in(
    live_world, new_page, tmp_path
):
    original = tmp_path / "一村居民.csv"
    _write_gbk_csv(original)
    page = new_page()
    _log_in(page)

    # 1. All or nothing (the default): three bad rows, so nothing goes in.
    _upload(page, original)
    expect(page.locator("#job-status")).to_contain_text("状态：未完成")
    expect(page.get_by_role("progressbar", name="进度")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#job-status")).to_contain_text("已检查 10 / 10 行")
    expect(_status(page)).to_contain_text("有 3 行数据有错误，没有导入任何数据")
    _assert_error_table(page)
    _open_residents(page)
    names = _list_names(page)
    assert not set(GOOD) & set(names), names
    expect(page.locator("#rows")).to_contain_text("共 2 条")  # the world's two villagers
    page.go_back()

    # 2. The error workbook: the clerk's own columns, the original row numbers, the reasons.
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载错误文件")).click()
    workbook_path = tmp_path / "错误行.xlsx"
    download.value.save_as(workbook_path)
    wb = load_workbook(workbook_path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header == ["原行号", "错误说明", *HEADERS]
    body = list(ws.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in body] == [
        (row, f"{column}：{reason}") for row, column, reason in EXPECTED_ERRORS
    ]
    assert [r[2] for r in body] == list(BAD_NAMES.values())

    # 3. The good rows go in now; the three bad ones wait for their corrections.
    _upload(page, original, partial=True)
    expect(page.locator("#job-status")).to_contain_text("状态：已完成")
    expect(_status(page)).to_contain_text("共 10 行：新增 7 人")
    expect(_status(page)).to_contain_text("另有 3 行有错误，没有导入")
    _assert_error_table(page)

    # 4. Correct the three rows in the error workbook itself and import it as it is.
    col = {name: header.index(name) + 1 for name in HEADERS}
    for excel_row in range(2, ws.max_row + 1):
        name = ws.cell(excel_row, col["姓名"]).value
        for column in ("身份证号码", "手机号码", "所在地编码"):
            ws.cell(excel_row, col[column]).value = GOOD[name][column]
    fixed = tmp_path / "错误行-已改正.xlsx"
    wb.save(fixed)
    _upload(page, fixed)
    expect(page.locator("#job-status")).to_contain_text("状态：已完成")
    expect(_status(page)).to_contain_text("共 3 行：新增 3 人，更新 0 人")
    expect(page.get_by_role("table", name="错误明细")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("下载错误文件"))).to_have_count(0)

    # 5. Everyone is in the list, ID numbers and mobiles masked.
    _open_residents(page)
    expect(page.locator("#rows")).to_contain_text("共 12 条")
    assert set(GOOD) <= set(_list_names(page))
    html = page.content()
    for name, good in GOOD.items():
        row = page.locator("#rows tbody tr").filter(has=page.get_by_role("link", name=name))
        idn = good["身份证号码"]
        expect(row.locator("td").nth(3)).to_have_text(f"{idn[:6]}{'*' * 8}{idn[-4:]}")
        expect(row.locator("td").nth(4)).to_have_text(re.compile(r"^139\*{4}\d{4}$"))
        assert idn not in html and good["手机号码"] not in html, name
