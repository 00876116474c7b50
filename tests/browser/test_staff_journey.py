"""A town clerk signs in through the real form and sees only their own town."""

import re

import pytest
from playwright.sync_api import expect

from sunshine.core.testing import OTHER_COUNTY_MARKERS, OTHER_MARKERS, PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, username, password):
    page.goto("/staff/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _assert_no_leak(page, html=None):
    html = page.content() if html is None else html
    leaks = [m for m in OTHER_MARKERS + OTHER_COUNTY_MARKERS if m in html]
    assert leaks == [], f"{page.url} 显示了管辖范围以外的内容：{leaks}"


def test_town_clerk_logs_in_and_sees_only_own_town(live_world, new_page):
    page = new_page()
    _log_in(page, "town_clerk", PASSWORD)

    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("本镇")
    _assert_no_leak(page)

    page.get_by_role("navigation", name="工作台导航").get_by_role("link", name="地方").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("地方")
    rows = page.locator("#rows tbody tr")
    expect(rows.first).to_contain_text("本镇")
    names = rows.locator("td:nth-child(2)").all_inner_texts()
    assert names, "地方列表是空的"
    assert all(n.startswith("本镇") for n in names), names
    _assert_no_leak(page)


def test_town_clerk_gets_the_chinese_404_for_another_towns_village(live_world, new_page):
    page = new_page()
    _log_in(page, "town_clerk", PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("本镇")

    response = page.goto(f"/staff/places/{live_world.other_village.code}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("没有找到这个页面")
    expect(page.get_by_text("不在您的管辖范围内")).to_be_visible()
    # Only the requested address itself (echoed in the 关怀版 link) may carry the code.
    _assert_no_leak(page, page.locator("main").inner_html())
