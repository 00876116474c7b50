import datetime as dt

import pytest
from django.utils import timezone

from sunshine.core.models import AuditEntry
from sunshine.core.scopecheck import response_text
from sunshine.precheck import services
from sunshine.precheck.models import Appointment, Institution, Registration, Slot
from sunshine.precheck.tests.desk_helpers import couple, id_number, institution, register, slot

pytestmark = pytest.mark.django_db
BASE = "/staff/precheck/"


@pytest.fixture
def booked(world):
    reg = register(world, man_mobile="13700003333")
    inst = institution(world)
    appt = services.appointment_book(actor=None, registration=reg, slot=slot(inst, days=1))
    return reg, appt, inst


class TestRegistrationList:
    def test_list_is_scoped_masked_and_filterable(
        self, client, world, booked, django_assert_max_num_queries
    ):
        reg, _, _ = booked
        other = register(world, place=world.other_village, woman_name="外镇女方")
        client.force_login(world.users["town_clerk"])
        with django_assert_max_num_queries(12):
            html = client.get(BASE).content.decode()
        assert reg.number in html and other.number not in html
        assert reg.woman_id_number not in html and reg.woman_mobile not in html
        assert reg.number in client.get(BASE, {"q": "王小"}).content.decode()
        assert reg.number not in client.get(BASE, {"status": "closed"}).content.decode()

    def test_the_list_page_stays_at_a_fixed_number_of_queries(
        self, client, world, django_assert_max_num_queries
    ):
        for _ in range(30):
            register(world)
        client.force_login(world.users["town_clerk"])
        with django_assert_max_num_queries(12):
            assert client.get(BASE).status_code == 200

    def test_htmx_gets_only_the_rows(self, client, world, booked):
        client.force_login(world.users["town_clerk"])
        html = client.get(BASE, HTTP_HX_REQUEST="true").content.decode()
        assert "<table" in html and "<html" not in html

    def test_export_is_masked(self, client, world, booked):
        reg, _, _ = booked
        client.force_login(world.users["village_cadre"])
        resp = client.get(BASE + "registrations/export.xlsx")
        text = response_text(resp)
        assert reg.number in text and reg.woman_id_number not in text
        assert reg.woman_id_number[:6] in text


class TestRegistrationDetail:
    def test_cadre_of_another_village_gets_404(self, client, world, booked):
        reg, _, _ = booked
        client.force_login(world.users["other_village_cadre"])
        assert client.get(f"{BASE}registrations/{reg.pk}/").status_code == 404
        assert client.get(f"{BASE}registrations/{reg.pk}/book/").status_code == 404

    def test_detail_masks_and_reveal_is_audited(self, client, world, booked):
        reg, _, _ = booked
        client.force_login(world.users["village_cadre"])
        html = client.get(f"{BASE}registrations/{reg.pk}/").content.decode()
        assert reg.woman_id_number not in html and "显示完整号码" in html
        assert "预约" in html and "登记" in html  # timeline
        resp = client.post(f"{BASE}registrations/{reg.pk}/identifiers/", {"reason": "电话通知"})
        html = resp.content.decode()
        assert reg.woman_id_number in html and reg.man_mobile in html
        entry = AuditEntry.objects.get(action="registration.read_sensitive")
        assert entry.sensitive and entry.reason == "电话通知"

    def test_a_reader_without_register_cannot_reveal(self, client, world, booked):
        reg, _, _ = booked
        client.force_login(world.users["call_operator"])
        html = client.get(f"{BASE}registrations/{reg.pk}/").content.decode()
        assert "显示完整号码" not in html
        assert client.post(f"{BASE}registrations/{reg.pk}/identifiers/").status_code == 403

    def test_results_link_for_doctors(self, client, world, booked):
        reg, _, _ = booked
        client.force_login(world.users["clinic_doctor"])
        html = client.get(f"{BASE}registrations/{reg.pk}/").content.decode()
        assert f"/staff/precheck/registrations/{reg.pk}/results/" in html

    def test_close_needs_a_reason(self, client, world, booked):
        reg, _, _ = booked
        client.force_login(world.users["village_cadre"])
        client.post(f"{BASE}registrations/{reg.pk}/close/", {"reason": ""})
        reg.refresh_from_db()
        assert reg.status == Registration.BOOKED
        client.post(f"{BASE}registrations/{reg.pk}/close/", {"reason": "已迁出"})
        reg.refresh_from_db()
        assert reg.status == Registration.CLOSED


class TestNewRegistrationAndBooking:
    def test_cadre_registers_in_their_village_then_books(self, client, world):
        inst = institution(world)
        s = slot(inst)
        client.force_login(world.users["village_cadre"])
        page = client.get(BASE + "registrations/new/").content.decode()
        assert "本镇一村" in page and "本镇二村" not in page and "村（居）干部代登记" in page
        data = couple(world)
        data = {
            **{k: v for k, v in data.items() if k not in ("place", "consent_sms")},
            "place": world.village.code,
            "consent_data": "on",
        }
        resp = client.post(BASE + "registrations/new/", data)
        reg = Registration.objects.get()
        assert resp["Location"] == f"{BASE}registrations/{reg.pk}/book/"
        assert reg.channel == Registration.CADRE and not reg.consent_sms
        page = client.get(resp["Location"]).content.decode()
        assert inst.name in page and f'value="{s.pk}"' in page
        resp = client.post(resp["Location"], {"slot": str(s.pk)})
        assert resp.status_code == 302
        reg.refresh_from_db()
        assert reg.status == Registration.BOOKED

    def test_bad_input_rerenders_with_chinese_errors(self, client, world):
        client.force_login(world.users["clinic_doctor"])
        resp = client.post(
            BASE + "registrations/new/",
            {"woman_name": "甲", "woman_id_number": id_number(female=False), "place": ""},
        )
        html = resp.content.decode()
        assert resp.status_code == 200 and "请选择现居住的村（社区）" in html
        assert not Registration.objects.exists()

    def test_a_full_slot_on_the_book_page_is_an_error_not_a_500(self, client, world, booked):
        _, _, inst = booked
        full = slot(inst, days=2, capacity=1)
        services.appointment_book(actor=None, registration=register(world), slot=full)
        reg = register(world)
        client.force_login(world.users["town_clerk"])
        resp = client.post(f"{BASE}registrations/{reg.pk}/book/", {"slot": str(full.pk)})
        assert resp.status_code == 200 and "约满" in resp.content.decode()


class TestAppointments:
    def test_staff_cancel_frees_the_seat(self, client, world, booked):
        _, appt, _ = booked
        client.force_login(world.users["village_cadre"])
        client.post(f"{BASE}appointments/{appt.pk}/cancel/")
        appt.refresh_from_db()
        assert appt.status == Appointment.CANCELLED

    def test_day_list_and_marking_attended(self, client, world, booked):
        reg, appt, inst = booked
        client.force_login(world.users["clinic_doctor"])
        day = timezone.localdate(appt.slot.starts_at)
        html = client.get(
            f"{BASE}institutions/{inst.pk}/day/", {"date": day.isoformat()}
        ).content.decode()
        assert reg.number in html and "已到检" in html
        # Tomorrow's appointment cannot be marked yet: an error message, not a 500.
        resp = client.post(f"{BASE}appointments/{appt.pk}/mark/", {"outcome": "attended"})
        assert resp.status_code == 302
        appt.refresh_from_db()
        assert appt.status == Appointment.BOOKED
        Slot.objects.filter(pk=appt.slot_id).update(
            starts_at=timezone.now() - dt.timedelta(minutes=5)
        )
        client.post(f"{BASE}appointments/{appt.pk}/mark/", {"outcome": "attended"})
        appt.refresh_from_db()
        reg.refresh_from_db()
        assert appt.status == Appointment.ATTENDED and reg.status == Registration.CHECKED

    def test_a_bad_date_shows_today(self, client, world, booked):
        _, _, inst = booked
        client.force_login(world.users["clinic_doctor"])
        assert client.get(f"{BASE}institutions/{inst.pk}/day/", {"date": "x"}).status_code == 200

    def test_change_requests_are_listed_for_rebooking(self, client, world, booked):
        reg, _, _ = booked
        services.appointment_answer(mobile=reg.woman_mobile, digit="2")
        client.force_login(world.users["village_cadre"])
        html = client.get(BASE + "appointments/changes/").content.decode()
        assert reg.number in html and f"registrations/{reg.pk}/book/" in html


class TestInstitutionsAndSlots:
    def test_clerk_creates_an_institution_and_opens_slots(self, client, world):
        client.force_login(world.users["town_clerk"])
        resp = client.post(
            BASE + "institutions/new/",
            {
                "name": "本镇卫生院",
                "place": world.town.code,
                "address": "健康路1号",
                "is_active": "on",
            },
        )
        inst = Institution.objects.get()
        assert resp["Location"] == f"{BASE}institutions/{inst.pk}/"
        start = timezone.localdate() + dt.timedelta(days=1)
        resp = client.post(
            f"{BASE}institutions/{inst.pk}/slots/open/",
            {
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=6)).isoformat(),
                "weekdays": [str(i) for i in range(7)],
                "times": "08:00-10:00，14:00-16:00",
                "capacity": "6",
            },
        )
        assert resp.status_code == 302 and inst.slots.count() == 14
        html = client.get(f"{BASE}institutions/{inst.pk}/").content.decode()
        assert "0/6" in html

    def test_bad_slot_times_rerender_with_a_message(self, client, world):
        inst = institution(world)
        client.force_login(world.users["clinic_doctor"])
        resp = client.post(
            f"{BASE}institutions/{inst.pk}/slots/open/",
            {
                "start_date": "2030-01-01",
                "end_date": "2030-01-02",
                "weekdays": ["1"],
                "times": "早上",
            },
        )
        assert resp.status_code == 200 and "看不懂" in resp.content.decode()
        assert not inst.slots.exists()

    def test_village_cadre_sees_the_town_institution_but_cannot_manage_it(self, client, world):
        inst = institution(world)
        client.force_login(world.users["village_cadre"])
        assert inst.name in client.get(BASE + "institutions/").content.decode()
        assert client.get(f"{BASE}institutions/{inst.pk}/").status_code == 200
        assert client.get(f"{BASE}institutions/{inst.pk}/edit/").status_code == 403

    def test_another_towns_institution_is_404(self, client, world):
        inst = institution(world, place=world.other_town)
        s = slot(inst)
        client.force_login(world.users["clinic_doctor"])
        assert client.get(f"{BASE}institutions/{inst.pk}/").status_code == 404
        assert client.post(f"{BASE}slots/{s.pk}/close/").status_code == 404
