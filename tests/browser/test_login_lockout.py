"""Five wrong passwords lock the account (django-axes): even the right one is refused then."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.browser


def _try(page, password):
    page.goto("/staff/login/")
    page.get_by_label("用户名").fill("town_clerk")
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_five_wrong_passwords_then_the_right_one_shows_the_locked_page(live_world, new_page):
    assert settings.AXES_FAILURE_LIMIT == 5
    page = new_page()
    for attempt in range(1, 5):
        _try(page, f"wrong-{attempt}")
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    _try(page, "wrong-5")
    _try(page, PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("账号已暂时锁定")
    expect(page.get_by_text("联系县级管理员解锁")).to_be_visible()
    # Not signed in: the dashboard still sends to the login form.
    page.goto("/staff/")
    expect(page.get_by_role("button", name="登录")).to_be_visible()
