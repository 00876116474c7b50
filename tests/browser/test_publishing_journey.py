"""A notice from draft to outcome, through the real pages of three people.

A town clerk drafts a 公示 for the village and group boards and submits it; a county
reviewer (another user: the drafter cannot publish their own item) publishes it; a resident
on a phone taps from the home page to their group's board, opens the notice and files an
objection, which gives a tracking code. The clerk cannot finalise while the objection is
open, answers it, and still cannot finalise until the seven-day period is over (the test
moves the period's end into the past); then the outcome is on the public page, and the
resident finds the answer with the tracking code.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sunshine.core.masking import mask_id_number, mask_name
from sunshine.core.testing import PASSWORD
from sunshine.publishing.models import Item

pytestmark = pytest.mark.browser

CATEGORY = "拟确认资格名单公示"  # notice_days 7
TITLE = "本镇2026年农村部分计划生育家庭奖励扶助拟确认对象公示"
OBJECTION = "名单中的本镇居民甲家里有三个孩子，不符合奖励扶助条件，请核实。"
OBJECTOR_PHONE = "13700001111"
ANSWER = "经村、镇两级入户核实，该户符合条件，维持原公示名单。"
OUTCOME = "公示期满，收到异议1条，已核实答复；名单中1人确认为奖励扶助对象。"


def _log_in(page, username):
    page.goto("/staff/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("navigation", name="工作台导航")).to_be_visible()


def _open_publishing(page, section: str | None = None):
    page.get_by_role("navigation", name="工作台导航").get_by_role("link", name="公开").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("公开事项")
    if section:
        page.get_by_role("navigation", name="公开发布").get_by_role("link", name=section).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(section)


def _message(page):
    return page.locator("main > .alert[role=status]")


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def _tap(page, link, label: str):
    box = link.bounding_box()
    assert box is not None and box["height"] >= 44, f"“{label}”的点击区域只有 {box}px 高"
    link.tap()


def _tap_place(page, region: str, name: str):
    link = page.get_by_role("region", name=region).get_by_role("link", name=name)
    _tap(page, link, name)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{name}公示栏")


def _clerk_drafts_and_submits(page, resident) -> int:
    _log_in(page, "town_clerk")
    _open_publishing(page)
    page.get_by_role("link", name="新建").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("新建公开事项")
    page.get_by_label("类别").select_option(label=CATEGORY)
    expect(page.get_by_label("发布地方")).to_have_value("980101100000")  # the clerk's town
    page.get_by_label("村（社区）", exact=True).check()
    page.get_by_label("村民小组", exact=True).check()
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("摘要").fill("以下人员拟确认为农村部分计划生育家庭奖励扶助对象，现予公示。")
    page.get_by_label("正文").fill("公示期7天。对名单有异议的，请在公示期内提出。")
    page.get_by_role("button", name="保存草稿").click()

    expect(page).to_have_url(re.compile(r"/staff/publishing/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(page.get_by_role("heading", level=1)).to_contain_text("草稿")
    item_id = int(re.search(r"/staff/publishing/(\d+)/$", page.url).group(1))
    details = page.locator("dl.detail-list")
    expect(details).to_contain_text("公示")
    expect(details).to_contain_text("村（社区）、村民小组")

    # One person on the list, brought in from the register by ID number.
    page.get_by_label("身份证号码").fill(resident.id_number)
    page.get_by_label("事项", exact=True).fill("农村部分计划生育家庭奖励扶助")
    page.get_by_role("button", name="加入名单").click()
    expect(_message(page)).to_contain_text("已从居民登记中带出")
    expect(page.get_by_role("heading", name="名单（1 人）")).to_be_visible()

    page.get_by_role("button", name="提交审核").click()
    expect(_message(page)).to_contain_text("已提交审核")
    expect(page.get_by_role("heading", level=1)).to_contain_text("待审核")
    # A town clerk does not review: no publish button on the drafter's own page.
    expect(page.get_by_role("button", name="审核发布")).to_have_count(0)
    return item_id


def _reviewer_publishes(page):
    _log_in(page, "county_clerk")
    _open_publishing(page, "待审核")
    page.get_by_role("table", name="等待审核的事项").get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    page.get_by_role("button", name="审核发布").click()
    expect(_message(page)).to_have_text("已发布，各层级公示栏已同步。")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已发布")


def _finalise(page):
    page.get_by_label("公示结果").fill(OUTCOME)
    page.get_by_role("button", name="公示办结").click()


def test_notice_from_draft_through_objection_to_outcome(live_world, new_page):
    resident = live_world.residents["own"]
    clerk, reviewer, phone = new_page(), new_page(), new_page(phone=True)

    # 1. The town clerk drafts the notice for the village and group boards; the county
    #    reviewer publishes it.
    item_id = _clerk_drafts_and_submits(clerk, resident)
    _reviewer_publishes(reviewer)
    item = Item.objects.get(pk=item_id)
    ends = timezone.localtime(item.notice_ends_at)
    assert ends.date() == timezone.localtime(item.published_at).date() + dt.timedelta(days=7)

    # 2. The resident taps from the home page to their group's board and finds the notice.
    phone.goto("/")
    _tap_place(phone, "请选择县（市、区）", "甲县")
    _tap_place(phone, "下级公示栏", "本镇")
    _tap_place(phone, "下级公示栏", "本镇一村")
    _tap_place(phone, "下级公示栏", "本镇一村第1组")
    items = phone.get_by_role("region", name="公开事项")
    entry = items.get_by_role("listitem").filter(has_text=TITLE)
    expect(entry).to_contain_text(CATEGORY)
    expect(entry).to_contain_text("本镇发布")
    expect(entry).to_contain_text(f"公示至 {ends.month}月{ends.day}日")
    assert _no_horizontal_scroll(phone)
    _tap(phone, entry.get_by_role("link", name=TITLE), TITLE)

    # 3. The notice: its period, the masked list, and the objection form.
    expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(phone.locator(".notice-box")).to_contain_text(
        f"至 {ends:%Y}年{ends.month}月{ends.day}日"
    )
    names = phone.get_by_role("table", name="名单")
    expect(names.locator("tbody td")).to_have_text(
        [
            "1",
            mask_name(resident.name),
            mask_id_number(resident.id_number),
            "本镇一村第1组",
            "农村部分计划生育家庭奖励扶助",
        ]
    )
    assert resident.id_number not in phone.content()
    assert _no_horizontal_scroll(phone)
    form = phone.get_by_role("region", name="提出异议")
    form.get_by_label("异议内容和理由").fill(OBJECTION)
    form.get_by_label("联系电话").fill(OBJECTOR_PHONE)
    submit = form.get_by_role("button", name="提交异议")
    _tap(phone, submit, "提交异议")

    # (The browser keeps the form's #objection fragment through the redirect.)
    tracking_url = re.compile(r"/objection/([A-Z2-9]{10})/(#objection)?$")
    expect(phone).to_have_url(tracking_url)
    code = tracking_url.search(phone.url).group(1)
    expect(phone.locator(".tracking-code")).to_have_text(code)
    expect(phone.get_by_role("heading", name="办理状态：待答复")).to_be_visible()
    assert OBJECTOR_PHONE not in phone.content()  # only staff may see the phone

    # 4. The clerk cannot finalise while the objection is open.
    clerk.reload()
    expect(clerk.get_by_role("heading", name="异议（共 1 条，待答复 1 条）")).to_be_visible()
    _finalise(clerk)
    expect(clerk.get_by_role("alert")).to_have_text("还有 1 条异议没有答复，答复后才能办结公示。")
    expect(clerk.get_by_label("公示结果")).to_have_value(OUTCOME)  # what was typed is kept

    # 5. The clerk answers it on the staff objections page.
    _open_publishing(clerk, "异议")
    clerk.locator("#rows").get_by_role("link", name=code).click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(f"异议 {code}")
    expect(clerk.locator("dl.detail-list")).to_contain_text(OBJECTION)
    expect(clerk.locator("dl.detail-list")).not_to_contain_text(OBJECTOR_PHONE)  # until asked
    clerk.get_by_label("答复内容").fill(ANSWER)
    clerk.get_by_role("button", name="保存答复").click()
    expect(_message(clerk)).to_contain_text("答复已保存")
    expect(clerk.get_by_role("heading", level=1)).to_contain_text("已答复")

    # 6. The resident comes back later: from the notice's board to 查询异议答复, with the code.
    phone.get_by_role("link", name=TITLE).tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
    phone.get_by_role("navigation", name="位置").get_by_role("link", name="本镇").tap()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("本镇公示栏")
    phone.get_by_role("link", name="查询异议答复").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("查询异议答复")
    phone.get_by_label("查询码", exact=True).fill(code.lower())  # as typed on a phone keyboard
    phone.get_by_role("button", name="查询").tap()
    expect(phone).to_have_url(re.compile(f"/objection/{code}/$"))
    expect(phone.get_by_role("heading", name="办理状态：已答复")).to_be_visible()
    expect(phone.locator(".answer")).to_contain_text(ANSWER)

    # 7. Answered, but the seven days are not over: still refused.
    clerk.get_by_role("link", name=TITLE).click()
    expect(clerk.get_by_role("heading", name="异议（共 1 条，待答复 0 条）")).to_be_visible()
    _finalise(clerk)
    expect(clerk.get_by_role("alert")).to_have_text(
        f"公示期到 {ends:%Y年%m月%d日} 才结束，期满后才能办结。"
    )

    # 8. Time travel: the period ended yesterday. Now the notice can be finalised.
    Item.objects.filter(pk=item_id).update(notice_ends_at=timezone.now() - dt.timedelta(days=1))
    clerk.get_by_role("navigation", name="位置").get_by_role("link", name="公开事项").click()
    clerk.locator("#rows").get_by_role("link", name=TITLE).click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(TITLE)
    _finalise(clerk)
    expect(_message(clerk)).to_have_text("公示已办结，结果已公布。")
    expect(clerk.locator("dl.detail-list")).to_contain_text(OUTCOME)
    expect(clerk.get_by_role("button", name="公示办结")).to_have_count(0)

    # 9. The outcome is on the public page; the objection form is gone.
    phone.get_by_role("link", name=TITLE).tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(phone.locator(".notice-box")).to_contain_text("办结")
    expect(phone.locator(".notice-box")).to_contain_text("收到异议 1 条，已答复 1 条")
    outcome = phone.get_by_role("region", name="公示结果")
    expect(outcome).to_contain_text(OUTCOME)
    expect(phone.get_by_role("region", name="提出异议")).to_have_count(0)
    assert _no_horizontal_scroll(phone)
