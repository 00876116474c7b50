"""The public forms' protection in a browser with JavaScript off, on a phone-sized screen: a
resident subscribes to a board with the SMS code in two steps; after a few posts the picture
challenge appears, a new picture keeps what was typed, and the answered challenge goes
through."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_subscribing_takes_the_sms_code_in_two_steps_without_javascript(live_world, new_page):
    from sunshine.messaging.models import Subscription
    from sunshine.messaging.testing import sms_code

    page = new_page(phone=True, javascript=False)
    page.goto(f"/p/{live_world.village.code}/subscribe/")
    page.get_by_label("手机号码").fill("13800001111")
    page.get_by_role("button", name="订阅（获取验证码）", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发到138****1111")
    assert not Subscription.objects.exists()
    page.screenshot(path="/tmp/public-forms-code-step-phone.png", full_page=True)

    page.get_by_label("短信验证码").fill(sms_code("13800001111"))
    page.get_by_role("button", name="确认订阅").click()
    expect(page.get_by_role("status")).to_contain_text("订阅成功")
    assert Subscription.objects.get().mobile == "13800001111"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_challenge_appears_and_a_new_picture_keeps_what_was_typed(
    live_world, new_page, settings
):
    from captcha.models import CaptchaStore

    from sunshine.messaging.models import VerificationCode

    settings.SUNSHINE_FORM_CAPTCHA_AFTER = 1
    page = new_page(phone=True, javascript=False)
    page.goto(f"/p/{live_world.village.code}/subscribe/")
    page.get_by_label("手机号码").fill("13800002222")
    page.get_by_role("button", name="订阅（获取验证码）", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发到")

    page.goto(f"/p/{live_world.village.code}/subscribe/")
    picture = page.get_by_role("img", name="图形验证码图片")
    expect(picture).to_be_visible()
    assert page.evaluate("document.querySelector('img.captcha-image').naturalWidth") > 0
    first = picture.get_attribute("src")
    page.get_by_label("手机号码").fill("13800003333")
    page.get_by_role("button", name=re.compile("换一张")).click()
    expect(page.get_by_label("手机号码")).to_have_value("13800003333")
    assert page.get_by_role("img", name="图形验证码图片").get_attribute("src") != first
    page.screenshot(path="/tmp/public-forms-challenge-phone.png", full_page=True)

    page.get_by_label("请输入图中的字符").fill("WRONG")
    page.get_by_role("button", name="订阅（获取验证码）", exact=True).click()
    expect(page.get_by_role("alert").last).to_contain_text("图中的字符输入不对")
    assert VerificationCode.objects.count() == 1

    key = re.search(r"/captcha/image/(\w+)/", page.content()).group(1)
    page.get_by_label("请输入图中的字符").fill(CaptchaStore.objects.get(hashkey=key).response)
    page.get_by_role("button", name="订阅（获取验证码）", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发到138****3333")
    assert VerificationCode.objects.count() == 2
