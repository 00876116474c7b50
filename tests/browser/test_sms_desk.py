"""The SMS desk in a browser: the cost ledger draws its charts from the json_script data and
keeps the same numbers in tables (with or without JavaScript); the outbox fits a phone."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.browser


def seed_ledger(world, now=None):
    """Messages over five months, two programmes, two towns; statuses and costs set directly."""
    from sunshine.messaging import rules, services
    from sunshine.messaging.models import Message

    now = now or timezone.now()
    plan = [("own", "precheck", 0, 3), ("own", "precheck", 31, 2), ("own2", "pregnancy", 62, 4)]
    plan += [("own2", "pregnancy", 93, 1), ("other", "precheck", 0, 2), ("own", "test", 120, 1)]
    for resident, programme, days_ago, count in plan:
        for i in range(count):
            m = services.message_enqueue(
                programme=programme,
                body="请按时参加孕前优生检查。" * (1 + i % 2),
                resident=world.residents[resident],
            )
            segments = 1 + i % 2
            Message.objects.filter(pk=m.pk).update(
                status=rules.DELIVERED,
                segments=segments,
                cost=Decimal("0.06") * segments,
                sent_at=now - dt.timedelta(days=days_ago),
            )


def _log_in(page, username):
    page.goto("/staff/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))


def _no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_the_ledger_draws_charts_with_the_tables_numbers(live_world, new_page):
    seed_ledger(live_world)
    page = new_page()
    _log_in(page, "county_clerk")
    page.goto("/staff/sms/ledger/")
    for name in ("按月份", "按项目", "按地方"):
        section = page.get_by_role("region", name=name)
        expect(section.locator(".ledger-chart svg")).to_be_visible()
    place = page.get_by_role("region", name="按地方")
    expect(place.get_by_role("table")).to_contain_text("本镇")
    expect(place.get_by_role("table")).to_contain_text("外镇")


def test_without_javascript_the_tables_stand_alone(live_world, new_page):
    seed_ledger(live_world)
    page = new_page(javascript=False)
    _log_in(page, "town_clerk")
    page.goto("/staff/sms/ledger/")
    expect(page.locator(".ledger-chart").first).to_be_hidden()
    table = page.get_by_role("region", name="按项目").get_by_role("table")
    expect(table).to_contain_text("孕前优生检查")
    expect(table).not_to_contain_text("外镇")


def test_outbox_and_ledger_fit_a_phone(live_world, new_page):
    seed_ledger(live_world)
    page = new_page(phone=True)
    _log_in(page, "town_clerk")
    for path in ("/staff/sms/", "/staff/sms/ledger/"):
        page.goto(path)
        expect(page.locator("main h1")).to_have_text("短信平台")
        assert _no_horizontal_scroll(page), path


def test_the_precheck_statistics_draw_their_charts_with_the_same_script(live_world, new_page):
    page = new_page()
    _log_in(page, "county_clerk")
    page.goto("/staff/precheck/stats/")
    expect(page.locator(".ledger-chart svg").first).to_be_visible()
