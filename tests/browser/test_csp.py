"""Under the Content-Security-Policy (issue 15 §4) the browser refuses nothing the pages need:
a staff member signs in with the second factor, htmx updates a list in place, ECharts draws
the SMS ledger's and 好孕好运 statistics' charts, and Swagger UI renders the API docs — with
no policy violation reported."""

import re
import time

import pytest
from playwright.sync_api import expect

from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.browser

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""


@pytest.fixture
def watched(new_page):
    """A page that records policy violations (events and console errors)."""

    def make():
        page = new_page()
        page.add_init_script(WATCH)
        page.console_errors = []
        page.on(
            "console",
            lambda msg: (
                page.console_errors.append(msg.text)
                if msg.type == "error" or "Content Security Policy" in msg.text
                else None
            ),
        )
        return page

    return make


def violations(page) -> list[str]:
    events = page.evaluate("window.__cspViolations || []")
    console = [t for t in page.console_errors if "Content Security Policy" in t]
    return events + console


def _totp_now(secret: str, *, ahead: int = 0) -> str:
    from base64 import b32decode

    from django_otp.oath import TOTP

    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = time.time() + ahead * 30
    return f"{totp.token():06d}"


def test_two_factor_sign_in_htmx_and_charts_work_under_the_policy(live_world, watched, settings):
    from tests.browser.test_sms_desk import seed_ledger

    settings.SUNSHINE_REQUIRE_2FA = True
    seed_ledger(live_world)
    page = watched()
    page.goto("/staff/login/")
    page.get_by_label("用户名").fill("county_clerk")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", name="绑定验证器")).to_be_visible()
    expect(page.locator(".enrol-qr svg")).to_be_visible()
    secret = page.locator(".enrol-secret").inner_text()
    page.get_by_label("验证码").fill(_totp_now(secret))
    page.get_by_role("button", name="确认绑定并登录").click()
    expect(page.get_by_role("heading", name="请保存您的恢复码")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="我已保存，进入工作台").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))

    # htmx: the place filter swaps the rows in place (an XHR, not a page load).
    page.goto("/staff/places/")
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        # Typed key by key (htmx listens to keyup); the code of the other town.
        page.get_by_label("名称或编码").press_sequentially("980101101")
    expect(page.locator("#rows")).to_contain_text("外镇一村")
    expect(page.locator("#rows")).not_to_contain_text("本镇二村")

    # ECharts: the ledger's three charts are drawn.
    page.goto("/staff/sms/ledger/")
    for name in ("按月份", "按项目", "按地方"):
        chart = page.get_by_role("region", name=name).locator(".ledger-chart svg")
        expect(chart).to_be_visible()
        assert chart.locator("path").count() > 3
    # A tooltip (ECharts writes its markup with style attributes) on hovering a bar.
    month_chart = page.get_by_role("region", name="按月份").locator(".ledger-chart")
    box = month_chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6)
    expect(month_chart.locator("div", has_text="费用（元）").last).to_be_visible()
    # 好孕好运 statistics: every chart with data is drawn.
    page.goto("/staff/precheck/stats/")
    drawn = page.locator("[data-chart] svg")
    for i in range(drawn.count()):
        expect(drawn.nth(i)).to_be_visible()

    assert violations(page) == []


def test_swagger_ui_renders_the_api_docs_under_the_policy(live_world, watched):
    page = watched()
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("阳光计生 API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations(page) == []


def test_public_pages_report_no_violation(live_world, watched):
    page = watched()
    for path in ("/", f"/p/{live_world.village.code}/", "/precheck/", "/contacts/"):
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
    assert violations(page) == []
