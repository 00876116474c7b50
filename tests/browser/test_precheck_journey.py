"""好孕好运 in a browser, end to end, with the real HTTP SMS simulator (issue 6 "Done means"):
a couple registers on a phone-sized screen and the appointment SMS reaches the simulator; a
doctor enters the 19-item results and assesses them, and the result SMS reaches it (with no
item value in it); an operator works the early-pregnancy follow-up call, records the
pregnancy, and the first messages of the pregnancy campaign reach the simulator."""

import datetime as dt
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def simulator(settings, live_server):
    """The SMS simulator on a free port, receipts pushed back to the live server; sends at
    any hour (quiet hours off) so the journey does not depend on the clock."""
    from sunshine.messaging.simulator_server import start_server

    token = settings.SUNSHINE_SMS_CALLBACK_TOKEN
    server, _ = start_server(
        port=0,
        receipt_delay=0.05,
        receipts_url=f"{live_server.url}/sms/receipts/{token}/",
        replies_url=f"{live_server.url}/sms/replies/{token}/",
    )
    settings.SUNSHINE_SMS_BACKEND = "simulator"
    settings.SUNSHINE_SMS_SIMULATOR_URL = server.url
    settings.SUNSHINE_SMS_QUIET_START = settings.SUNSHINE_SMS_QUIET_END = "00:00"
    yield server
    server.stop()


def _texts(server) -> list[str]:
    return [m["text"] for m in server.messages()]


def _wait_for_text(server, fragment: str, seconds: float = 10.0) -> str:
    """The simulator receives on another thread: poll it, bounded."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [t for t in _texts(server) if fragment in t]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"the simulator never got “{fragment}”: {_texts(server)}")


def _log_in(page, username):
    page.goto("/staff/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))


def _institution_with_slots(world):
    from sunshine.precheck import services

    doctor = world.users["clinic_doctor"]
    inst = services.institution_save(
        actor=doctor,
        name="本镇卫生院",
        place=world.town,
        address="本镇健康路8号",
        phone="0516-88880000",
        instructions="请空腹，携带夫妇双方身份证。",
    )
    start = timezone.localdate() + dt.timedelta(days=2)
    services.slot_create_many(
        actor=doctor,
        institution=inst,
        start_date=start,
        end_date=start + dt.timedelta(days=6),
        weekdays=list(range(7)),
        times=[(dt.time(8, 30), dt.time(11, 0))],
        capacity=5,
    )
    return inst


def test_a_couple_registers_on_a_phone_and_the_notice_reaches_the_simulator(
    live_world, new_page, simulator
):
    from sunshine.precheck.models import Registration
    from sunshine.precheck.tests.desk_helpers import id_number

    _institution_with_slots(live_world)
    page = new_page(phone=True)
    page.goto("/precheck/")
    page.get_by_role("link", name=re.compile("在线登记")).first.click()
    page.get_by_label("现居住乡镇（街道）").select_option(label="本镇")
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("女方姓名").fill("王小红")
    page.get_by_label("女方身份证号码").fill(id_number(female=True, n=7))
    page.get_by_label("女方手机号码").fill("13912345678")
    page.get_by_label("男方姓名").fill("李大明")
    page.get_by_label("男方身份证号码").fill(id_number(female=False, n=7, birth="19930101"))
    page.get_by_label("现居住村（社区）").select_option(value=live_world.village.code)
    page.locator("input[name=slot]:not([value=''])").first.check()
    page.get_by_label(re.compile("同意按上述用途使用")).check()
    page.get_by_label(re.compile("同意接收检查相关短信")).check()
    page.screenshot(path="/tmp/journey-register-phone.png", full_page=True)
    page.get_by_role("button", name="提交登记").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("登记")
    reg = Registration.objects.get()
    expect(page.locator("body")).to_contain_text(reg.number)
    assert reg.status == Registration.BOOKED and reg.consent_sms and reg.consent_data
    # Nothing unmasked on the public page: the full mobile and ID are not shown.
    body = page.content()
    assert "13912345678" not in body and reg.woman_id_number not in body
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    text = _wait_for_text(simulator, "回复1确认")
    assert "王小红" in text and "本镇卫生院" in text and "身份证" in text
    # The simulator's own page lists it, with the number masked.
    page.goto(simulator.url + "/")
    expect(page.locator("table").last).to_contain_text("回复1确认")
    expect(page.locator("table").last).to_contain_text("139****5678")


def _registration_booked(world):
    from sunshine.precheck import services
    from sunshine.precheck.tests.desk_helpers import couple

    inst = _institution_with_slots(world)
    reg = services.registration_create_and_book(
        actor=world.users["village_cadre"],
        channel="cadre",
        slot=inst.slots.order_by("starts_at").first(),
        **couple(world, woman_mobile="13911112222"),
    )
    return reg


VALUES = {"blood": "128", "glucose": "5.1", "liver": "22", "kidney": "70", "thyroid": "1.8"}


def test_doctor_enters_results_result_sms_then_operator_follow_up_starts_the_campaign(
    live_world, new_page, simulator, settings
):
    from sunshine.precheck import followups
    from sunshine.precheck.models import Pregnancy, Registration

    settings.SUNSHINE_PRECHECK_EARLY_FOLLOWUP_DAYS = 0  # the follow-up call is due at once
    reg = _registration_booked(live_world)
    _wait_for_text(simulator, "回复1确认")

    # The doctor fills the grid: every flag normal, values in range, texts.
    page = new_page()
    _log_in(page, "clinic_doctor")
    page.goto("/staff/precheck/")
    page.get_by_role("link", name=re.compile(reg.number)).first.click()
    page.get_by_role("link", name="结果录入").click()
    expect(page).to_have_url(re.compile(rf"/registrations/{reg.pk}/results/$"))
    for radio in page.locator("input[type=radio][value='0']").all():
        radio.check()
    for code, value in VALUES.items():
        for field in page.locator(f"input[name^='v-{code}-']").all():
            field.fill(value)
    for field in page.locator("input[name^='v-blood-type-']").all():
        field.fill("A型 RhD阳性")
    for code in ("education", "history"):
        for field in page.locator(f"input[name^='v-{code}-']").all():
            field.fill("已完成")
    page.get_by_role("button", name="保存检查结果").click()
    expect(page.locator("body")).not_to_contain_text("请改正")
    page.screenshot(path="/tmp/journey-results-saved.png", full_page=True)
    page.get_by_label(re.compile("医生建议")).fill("按时服用叶酸。")
    page.get_by_role("button", name=re.compile("完成评估")).click()
    expect(page.locator("body")).to_contain_text("一般人群")
    page.screenshot(path="/tmp/journey-results.png", full_page=True)
    reg.refresh_from_db()
    assert reg.status == Registration.ASSESSED

    result = _wait_for_text(simulator, "结果已出")
    for value in (*VALUES.values(), "RhD", "血型", "g/L", "mmol"):
        assert value not in result, (value, result)

    # The daily job opens the early follow-up call; an operator works it.
    assert followups.followups_open_due() == 1
    page = new_page()
    _log_in(page, "call_operator")
    page.goto("/staff/precheck/followups/")
    page.locator("tr", has_text=reg.woman_name).get_by_role("link").first.click()
    expect(page.locator("body")).to_contain_text("是否已怀孕")
    page.get_by_label("已联系上本人").check()
    page.get_by_label("是否已怀孕").select_option(label="已怀孕")
    lmp = timezone.localdate() - dt.timedelta(days=40)
    page.get_by_label("末次月经日期").fill(lmp.isoformat())
    page.get_by_label("随访记录").fill("本人接听，已怀孕，已提醒建册。")
    page.get_by_role("button", name="保存随访结果").click()
    expect(page.locator("body")).to_contain_text("已记录随访结果")
    page.screenshot(path="/tmp/journey-followup.png", full_page=True)

    pregnancy = Pregnancy.objects.get(registration=reg)
    assert pregnancy.lmp == lmp and pregnancy.enrolment is not None
    # 40 days after the LMP: the latest past event (day 35, folic acid) is sent now.
    first = _wait_for_text(simulator, "叶酸")
    assert reg.woman_name in first
    # The rest of the ~20 wait for their days, all to the woman's mobile.
    from sunshine.messaging import campaigns
    from sunshine.messaging.models import Message

    e = pregnancy.enrolment
    plan = Message.objects.filter(
        source__startswith=campaigns.message_source(e.campaign_id, e.pk, 0)[:-1]
    )
    assert plan.filter(status="queued").count() >= 15
    assert set(plan.values_list("mobile", flat=True)) == {"13911112222"}
