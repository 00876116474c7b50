import re

import pytest

from sunshine.messaging.models import Message
from sunshine.precheck import services
from sunshine.precheck.models import Appointment, Registration
from sunshine.precheck.tests.desk_helpers import id_number, institution, register, slot
from sunshine.precheck.views import public

pytestmark = pytest.mark.django_db
URL = "/precheck/register/"
ID_RE = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])")
MOBILE_RE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")


def _form(world, s=None, **over):
    data = {
        "town": world.town.code,
        "village": world.village.code,
        "woman_name": "王小红",
        "woman_id_number": id_number(female=True, n=7),
        "woman_mobile": "13900007777",
        "man_name": "李大明",
        "man_id_number": id_number(female=False, n=7, birth="19930101"),
        "man_mobile": "",
        "planned_month": "2027-03",
        "consent_data": "on",
        "consent_sms": "on",
        "slot": str(s.pk) if s else "",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _private(text: str) -> list:
    return ID_RE.findall(text) + MOBILE_RE.findall(text)


class TestRegisterPage:
    def test_first_step_chooses_a_town_without_javascript(self, client, world):
        resp = client.get(URL)
        html = resp.content.decode()
        assert resp.status_code == 200 and 'name="town"' in html and "本镇" in html

    def test_second_step_lists_the_towns_villages_and_open_slots(self, client, world):
        inst = institution(world)
        s = slot(inst)
        slot(institution(world, place=world.other_town))  # another town's: not offered
        resp = client.get(URL, {"town": world.town.code})
        html = resp.content.decode()
        assert "本镇一村" in html and "外镇一村" not in html
        assert inst.name in html and f'value="{s.pk}"' in html and "外镇卫生院" not in html
        assert services.CONSENT_DATA_TEXT in html and services.CONSENT_SMS_TEXT in html

    def test_bad_data_shows_chinese_errors_and_saves_nothing(self, client, world):
        resp = client.post(
            URL, _form(world, woman_id_number="123", consent_data=None, woman_name="")
        )
        html = resp.content.decode()
        assert resp.status_code == 200
        assert "请填写女方姓名" in html
        assert not Registration.objects.exists()
        resp = client.post(URL, _form(world, consent_data=None))
        assert "需要夫妇同意" in resp.content.decode()
        assert not Registration.objects.exists()

    def test_good_data_registers_books_and_shows_the_number_masked(self, client, world):
        s = slot(institution(world))
        resp = client.post(URL, _form(world, s))
        assert resp.status_code == 302 and resp["Location"] == "/precheck/register/done/"
        reg = Registration.objects.get()
        assert reg.status == Registration.BOOKED and reg.channel == Registration.ONLINE
        assert reg.planned_month.isoformat() == "2027-03-01"
        done = client.get(resp["Location"]).content.decode()
        assert reg.number in done and "王*红" in done and "李*明" in done
        assert "王小红" not in done and _private(done) == []
        assert "短信" in done
        assert Message.objects.filter(mobile="13900007777").count() == 1

    def test_a_double_post_creates_one_registration(self, client, world):
        s = slot(institution(world))
        data = _form(world, s)
        first = client.post(URL, data)
        second = client.post(URL, data)
        assert first.status_code == second.status_code == 302
        assert Registration.objects.count() == 1
        assert Appointment.objects.count() == 1 and Message.objects.count() == 1

    def test_someone_else_with_the_womans_id_learns_no_number(self, client, world):
        reg = register(world)
        resp = client.post(
            URL,
            _form(world, woman_id_number=reg.woman_id_number, woman_mobile="13600001111"),
        )
        html = resp.content.decode()
        assert resp.status_code == 200 and "已有未结束的孕前优生登记" in html
        assert reg.number not in html and Registration.objects.count() == 1

    def test_a_slot_taken_meanwhile_is_refused_and_nothing_is_saved(self, client, world):
        s = slot(institution(world), capacity=1)
        data = _form(world, s)
        services.appointment_book(actor=None, registration=register(world), slot=s)
        resp = client.post(URL, data)
        assert resp.status_code == 200
        assert Registration.objects.count() == 1  # only the other couple

    def test_the_done_page_needs_a_registration_in_the_session(self, client, world):
        assert client.get("/precheck/register/done/")["Location"] == URL


class TestMyPage:
    def test_after_a_few_look_ups_the_right_pair_needs_the_picture_challenge(
        self, client, world, settings
    ):
        reg = register(world)
        for _ in range(settings.SUNSHINE_FORM_CAPTCHA_AFTER):
            self._login(client, reg)
            client.post("/precheck/my/", {"action": "logout"})
        resp = self._login(client, reg)
        html = resp.content.decode()
        assert resp.status_code == 200 and "请输入图中的字符" in html and "/captcha/image/" in html
        assert 'name="number"' in client.get("/precheck/my/").content.decode()  # not logged in

    @pytest.fixture
    def booked(self, world):
        reg = register(world)
        inst = institution(world)
        appt = services.appointment_book(actor=None, registration=reg, slot=slot(inst))
        return reg, appt, inst

    def _login(self, client, reg):
        return client.post(
            "/precheck/my/",
            {"action": "lookup", "number": reg.number.lower(), "mobile": reg.woman_mobile},
        )

    def test_a_wrong_pair_gets_the_same_generic_message(self, client, booked):
        reg, _, _ = booked
        for number, mobile in ((reg.number, "13900000000"), ("HY000", reg.woman_mobile)):
            resp = client.post(
                "/precheck/my/", {"action": "lookup", "number": number, "mobile": mobile}
            )
            assert public.NOT_FOUND in resp.content.decode()

    def test_lookup_accepts_the_mobile_with_a_country_code_or_full_width_digits(
        self, client, booked
    ):
        reg, _, _ = booked
        wide = reg.woman_mobile.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        for spelled in (f"+86 {reg.woman_mobile}", wide):
            resp = client.post(
                "/precheck/my/", {"action": "lookup", "number": reg.number, "mobile": spelled}
            )
            assert resp.status_code == 302 and resp["Location"] == "/precheck/my/", spelled
            client.post("/precheck/my/", {"action": "logout"})

    def test_lookup_shows_status_and_appointment_masked(self, client, booked):
        reg, _, inst = booked
        assert self._login(client, reg)["Location"] == "/precheck/my/"
        html = client.get("/precheck/my/").content.decode()
        assert reg.number in html and "已预约" in html and inst.name in html
        assert "王*红" in html and _private(html) == []

    def test_rebook_moves_the_seat(self, client, world, booked):
        reg, appt, inst = booked
        other = slot(inst, days=5)
        self._login(client, reg)
        resp = client.post("/precheck/my/", {"action": "rebook", "slot": str(other.pk)})
        assert resp.status_code == 302
        appt.refresh_from_db()
        other.refresh_from_db()
        assert appt.status == Appointment.CANCELLED and other.booked == 1
        assert "已改约" in client.get(resp["Location"]).content.decode()

    def test_rebook_without_a_choice_says_so(self, client, booked):
        reg, _, _ = booked
        self._login(client, reg)
        resp = client.post("/precheck/my/", {"action": "rebook"})
        assert resp.status_code == 200 and "请选择一个预约时段" in resp.content.decode()

    def test_cancel_frees_the_seat(self, client, booked):
        reg, appt, _ = booked
        self._login(client, reg)
        client.post("/precheck/my/", {"action": "cancel"})
        appt.refresh_from_db()
        assert appt.status == Appointment.CANCELLED and appt.slot.booked == 0

    def test_logout_forgets_the_registration(self, client, booked):
        reg, _, _ = booked
        self._login(client, reg)
        client.post("/precheck/my/", {"action": "logout"})
        assert 'name="number"' in client.get("/precheck/my/").content.decode()

    def test_too_many_failures_from_one_address_are_refused(self, client, booked, settings):
        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 100  # this limit, not the picture challenge
        reg, _, _ = booked
        for i in range(public.LOOKUP_LIMIT):
            client.post("/precheck/my/", {"action": "lookup", "number": f"HY{i}", "mobile": "1"})
        resp = self._login(client, reg)
        assert resp.status_code == 200 and public.TOO_MANY in resp.content.decode()
