"""A resident on a phone finds their group's board by tapping links from the home page."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

GROUP = "本镇一村第1组"


def _no_horizontal_scroll(page):
    # Compare with the phone's width: a mobile layout viewport grows to fit wide content.
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _tap_place(page, region: str, name: str):
    link = page.get_by_role("region", name=region).get_by_role("link", name=name)
    box = link.bounding_box()
    assert box["height"] >= 44, f"{name} 的点击区域只有 {box['height']}px 高"
    link.tap()


def test_resident_taps_from_home_to_group_board_on_a_phone(live_world, new_page):
    page = new_page(phone=True)
    page.goto("/")
    # Two counties in the world: the home page asks for the county first.
    expect(page.get_by_role("heading", name="请选择县（市、区）")).to_be_visible()
    assert _no_horizontal_scroll(page)
    _tap_place(page, "请选择县（市、区）", "甲县")

    expect(page.get_by_role("heading", level=1)).to_contain_text("甲县公示栏")
    _tap_place(page, "下级公示栏", "本镇")

    expect(page.get_by_role("heading", level=1)).to_contain_text("本镇公示栏")
    _tap_place(page, "下级公示栏", "本镇一村")

    expect(page.get_by_role("heading", level=1)).to_contain_text("本镇一村公示栏")
    _tap_place(page, "下级公示栏", GROUP)

    expect(page).to_have_url(re.compile(r"/p/980101100001001/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{GROUP}公示栏")
    expect(page.get_by_text("暂无公开事项")).to_be_visible()
    # The way back up is on the page: home › county › town › village › group.
    crumbs = page.get_by_role("navigation", name="位置")
    expect(crumbs).to_contain_text("甲县")
    expect(crumbs).to_contain_text("本镇一村")
    assert _no_horizontal_scroll(page)
