"""A clerk pastes a list with ID and mobile numbers into an item's table, previews what the
public will see (masked, with a notice of what was masked), is refused an ID number typed into
the body with the line named, and saves the draft masked."""

import os
import re

import pytest
from playwright.sync_api import expect

from sunshine.publishing.models import ItemVersion
from tests.browser.test_publishing_journey import _log_in, _open_publishing

pytestmark = pytest.mark.browser

ID, ID_MASKED = "320324197003151124", "320324********1124"
MOBILE, MOBILE_MASKED = "13812345678", "138****5678"
TABLE = f"序号\t姓名\t身份证号码\t联系电话\n1\t张三\t{ID}\t{MOBILE}\n"
SHOTS = os.environ.get("SUNSHINE_SCREENSHOTS")  # a folder: save what the clerk saw


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_clerk_previews_the_masked_table_and_is_refused_an_id_in_the_body(
    live_world, new_page, phone
):
    page = new_page(phone=phone)
    _log_in(page, "town_clerk")
    _open_publishing(page)
    page.get_by_role("link", name="新建").click()
    page.get_by_label("类别").select_option(label="拟确认资格名单公示")
    page.get_by_label("标题").fill("2026年奖励扶助拟确认对象公示")
    page.get_by_label("正文").fill(f"第一段。\n张三，身份证{ID}。")
    page.get_by_label("表格").fill(TABLE)

    page.get_by_role("button", name="预览公开效果（不保存）").click()
    body_error = page.locator("#id_body_error")
    expect(body_error).to_contain_text(f"正文第2行有完整的身份证号码（{ID_MASKED}）")
    expect(page.get_by_role("heading", name="公开效果预览（尚未保存）")).to_have_count(0)
    _shot(page, f"privacy-refused-{'phone' if phone else 'desktop'}")

    page.get_by_label("正文").fill("第一段。\n名单见下表。")
    page.get_by_role("button", name="预览公开效果（不保存）").click()
    preview = page.get_by_role("region", name="公开效果预览（尚未保存）")
    expect(preview).to_contain_text("已自动隐去 1 个身份证号码、1 个手机号码")
    expect(preview.get_by_role("table")).to_contain_text(ID_MASKED)
    expect(preview.get_by_role("table")).to_contain_text(MOBILE_MASKED)
    expect(preview).not_to_contain_text(ID)
    _shot(page, f"privacy-preview-{'phone' if phone else 'desktop'}")

    page.get_by_role("button", name="保存草稿").click()
    expect(page).to_have_url(re.compile(r"/staff/publishing/\d+/$"))
    expect(page.locator("main")).to_contain_text("已自动隐去 1 个身份证号码、1 个手机号码")
    expect(page.locator("main")).not_to_contain_text(ID)
    stored = ItemVersion.objects.get(title="2026年奖励扶助拟确认对象公示").table
    assert stored["rows"] == [["1", "张三", ID_MASKED, MOBILE_MASKED]]
