"""关怀版 (elder mode): a plain link in the nav that makes the text larger, with or without
JavaScript, and stays on while the resident moves between pages."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _body_font_px(page) -> float:
    return float(page.locator("body").evaluate("b => getComputedStyle(b).fontSize")[:-2])


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_care_link_makes_text_larger_and_stays_on(live_world, new_page, javascript):
    page = new_page(phone=True, javascript=javascript)
    page.goto("/")
    nav = page.get_by_role("navigation", name="主导航")
    standard = _body_font_px(page)
    assert standard >= 16

    nav.get_by_role("link", name="关怀版").click()
    expect(nav.get_by_role("link", name="标准版")).to_be_visible()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))  # back where the click was
    larger = _body_font_px(page)
    assert larger >= standard * 1.2, (standard, larger)

    # The switch is a cookie: the next page is large too.
    page.get_by_role("link", name="甲县").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("甲县公示栏")
    assert _body_font_px(page) == larger

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="标准版").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("甲县公示栏")
    assert _body_font_px(page) == standard
