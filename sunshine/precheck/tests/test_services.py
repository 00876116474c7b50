import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.messaging import rules as sms_rules
from sunshine.messaging.models import CallTask, Message
from sunshine.precheck import services, sms
from sunshine.precheck.models import Appointment, Registration, Slot
from sunshine.precheck.tests.desk_helpers import (
    couple,
    id_number,
    institution,
    register,
    slot,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _errors(exc) -> dict:
    return dict(exc.value.errors)


def _text(message: Message) -> str:
    return sms_rules.render(message.template.body, message.params)


class TestRegistrationCreate:
    def test_invisible_characters_are_stripped_from_both_names(self, world):
        # A right-to-left override or a zero-width space in a name would show a different
        # name than the one stored, and defeat searching for it.
        reg = register(world, woman_name="\u202e李\u200b红", man_name="王\u2066强\u2069\x00")
        assert (reg.woman_name, reg.man_name) == ("李红", "王强")

    def test_online_registration_gets_a_dated_number_and_records_consent(self, world):
        now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=SH)
        reg = register(world, now=now)
        assert reg.number == "HY202612030001"
        assert reg.status == Registration.REGISTERED and reg.channel == Registration.ONLINE
        assert reg.consent_data and reg.consent_sms and reg.consent_at == now
        assert reg.created_at == now  # the service's clock, not the save's (back-dated entry)
        assert reg.consent_text == services.CONSENT_VERSION
        assert reg.place_path == world.village.path
        assert AuditEntry.objects.filter(action="precheck_registration.create").count() == 1

    def test_numbers_count_up_within_a_day(self, world):
        now = dt.datetime(2026, 12, 3, 9, 0, tzinfo=SH)
        assert register(world, now=now).number.endswith("0001")
        assert register(world, now=now).number.endswith("0002")
        later = dt.datetime(2026, 12, 4, 9, 0, tzinfo=SH)
        assert register(world, now=later).number == "HY202612040001"

    def test_a_bad_check_digit_is_refused_naming_the_woman(self, world):
        bad = id_number(female=True)
        bad = bad[:17] + ("0" if bad[17] != "0" else "1")
        with pytest.raises(ServiceError) as exc:
            register(world, woman_id_number=bad)
        assert "女方身份证号码校验位不对" in _errors(exc)["woman_id_number"]
        assert not Registration.objects.exists()

    def test_partners_swapped_are_refused_by_the_sex_digit(self, world):
        with pytest.raises(ServiceError) as exc:
            register(
                world,
                woman_id_number=id_number(female=False),
                man_id_number=id_number(female=True),
            )
        errors = _errors(exc)
        assert "男性" in errors["woman_id_number"] and "女性" in errors["man_id_number"]

    def test_the_two_id_numbers_must_differ(self, world):
        same = id_number(female=True)
        with pytest.raises(ServiceError):
            register(world, woman_id_number=same, man_id_number=same)

    def test_data_consent_is_required_and_sms_consent_is_not(self, world):
        with pytest.raises(ServiceError) as exc:
            register(world, consent_data=False)
        assert "consent_data" in _errors(exc)
        reg = register(world, consent_sms=False)
        assert reg.consent_sms is False

    def test_a_bad_mobile_is_refused(self, world):
        with pytest.raises(ServiceError) as exc:
            register(world, woman_mobile="12345")
        assert "手机号码" in _errors(exc)["woman_mobile"]

    def test_the_place_must_be_a_village(self, world):
        with pytest.raises(ServiceError) as exc:
            register(world, place=world.town)
        assert "村（社区）" in _errors(exc)["place"]

    def test_a_woman_with_an_open_registration_is_told_its_number(self, world):
        first = register(world)
        again = couple(world, woman_id_number=first.woman_id_number)
        with pytest.raises(services.DuplicateRegistration) as exc:
            services.registration_create(actor=None, channel=Registration.ONLINE, **again)
        assert first.number in exc.value.message and exc.value.existing == first
        services.registration_close(
            actor=world.users["village_cadre"], registration=first, reason="本人放弃"
        )
        services.registration_create(actor=None, channel=Registration.ONLINE, **again)

    def test_partners_are_linked_to_the_people_registry_by_id_number(self, world):
        woman, man = world.residents["own2"], world.residents["own"]
        reg = register(world, woman_id_number=woman.id_number, man_id_number=man.id_number)
        assert reg.woman == woman and reg.man == man
        assert register(world).woman is None

    def test_a_cadre_registers_only_in_their_own_village(self, world):
        cadre = world.users["village_cadre"]
        reg = register(world, actor=cadre, channel=Registration.CADRE)
        assert reg.created_by == cadre
        with pytest.raises(ServiceError, match="管辖范围"):
            register(world, actor=world.users["other_village_cadre"], channel=Registration.CADRE)
        with pytest.raises(ServiceError, match="角色"):
            register(world, actor=world.users["observer"], channel=Registration.CADRE)

    def test_close_needs_a_reason_and_frees_the_seat(self, world):
        reg = register(world)
        s = slot(institution(world))
        services.appointment_book(actor=None, registration=reg, slot=s)
        cadre = world.users["village_cadre"]
        with pytest.raises(ServiceError, match="原因"):
            services.registration_close(actor=cadre, registration=reg, reason=" ")
        services.registration_close(actor=cadre, registration=reg, reason="已迁出")
        reg.refresh_from_db()
        s.refresh_from_db()
        assert reg.status == Registration.CLOSED and reg.close_reason == "已迁出"
        assert s.booked == 0


class TestSlotTimeText:
    def test_the_notice_says_date_weekday_and_half_day(self):
        assert services.slot_time_text(dt.datetime(2026, 12, 3, 8, 30, tzinfo=SH)) == (
            "12月3日（周四）上午8:30"
        )
        assert services.slot_time_text(dt.datetime(2026, 12, 6, 14, 0, tzinfo=SH)) == (
            "12月6日（周日）下午2:00"
        )

    def test_an_institution_serves_its_town_or_the_whole_county(self):
        assert services.institution_serves("980101100U001", "980101100001")
        assert not services.institution_serves("980101100U001", "980101101001")
        assert services.institution_serves("980101", "980101101001")


class TestAppointmentBook:
    def test_booking_takes_a_seat_and_queues_the_notice(self, world):
        reg = register(world)
        inst = institution(world, instructions="请空腹，带上身份证和户口本。")
        s = slot(inst)
        appt = services.appointment_book(actor=None, registration=reg, slot=s)
        s.refresh_from_db()
        reg.refresh_from_db()
        assert s.booked == 1 and appt.status == Appointment.BOOKED
        assert reg.status == Registration.BOOKED
        (m,) = Message.objects.filter(programme=sms.PROGRAMME)
        text = _text(m)
        assert m.mobile == reg.woman_mobile and m.place == world.village
        assert services.slot_time_text(s.starts_at) in text
        assert inst.name in text and inst.address in text and "户口本" in text
        assert "回复1确认" in text
        # Nothing sensitive: no ID number, no mobile, no partner's name.
        assert not re.search(r"\d{17}[\dX]", text) and reg.woman_mobile not in text
        assert reg.man_name not in text

    def test_default_instructions_when_the_institution_has_none(self, world):
        services.appointment_book(
            actor=None, registration=register(world), slot=slot(institution(world))
        )
        assert services.DEFAULT_BRING in _text(Message.objects.get())

    def test_a_full_slot_is_refused(self, world):
        s = slot(institution(world), capacity=1)
        services.appointment_book(actor=None, registration=register(world), slot=s)
        with pytest.raises(ServiceError, match="约满"):
            services.appointment_book(actor=None, registration=register(world), slot=s)

    def test_a_closed_slot_is_refused(self, world):
        s = slot(institution(world))
        services.slot_close(actor=world.users["town_clerk"], slot=s)
        with pytest.raises(ServiceError, match="停止预约"):
            services.appointment_book(actor=None, registration=register(world), slot=s)

    def test_a_past_slot_is_refused(self, world):
        s = slot(institution(world), days=-0.1)
        with pytest.raises(ServiceError, match="已经过去"):
            services.appointment_book(actor=None, registration=register(world), slot=s)

    def test_an_institution_of_another_town_is_refused(self, world):
        s = slot(institution(world, place=world.other_town))
        with pytest.raises(ServiceError, match="不为您所在的地方"):
            services.appointment_book(actor=None, registration=register(world), slot=s)

    def test_rescheduling_frees_the_old_seat_and_sends_a_new_notice(self, world):
        inst = institution(world)
        first, second = slot(inst, days=3), slot(inst, days=4)
        reg = register(world)
        old = services.appointment_book(actor=None, registration=reg, slot=first)
        new = services.appointment_book(actor=None, registration=reg, slot=second)
        first.refresh_from_db()
        second.refresh_from_db()
        old.refresh_from_db()
        assert (first.booked, second.booked) == (0, 1)
        assert old.status == Appointment.CANCELLED and new.status == Appointment.BOOKED
        assert reg.appointments.filter(status__in=Appointment.ACTIVE).count() == 1
        assert Message.objects.count() == 2

    def test_booking_the_same_slot_again_changes_nothing(self, world):
        reg, s = register(world), slot(institution(world))
        a = services.appointment_book(actor=None, registration=reg, slot=s)
        b = services.appointment_book(actor=None, registration=reg, slot=s)
        s.refresh_from_db()
        assert a == b and s.booked == 1 and Message.objects.count() == 1

    def test_two_couples_for_the_last_seat_one_is_refused(self, world):
        s = slot(institution(world), capacity=2)
        services.appointment_book(actor=None, registration=register(world), slot=s)
        a, b = register(world), register(world)
        services.appointment_book(actor=None, registration=a, slot=Slot.objects.get(pk=s.pk))
        stale = Slot.objects.get(pk=s.pk)
        stale.booked = 1  # a copy read before the other booking: the lock re-reads the row
        with pytest.raises(ServiceError, match="约满"):
            services.appointment_book(actor=None, registration=b, slot=stale)
        s.refresh_from_db()
        assert s.booked == 2 and Appointment.objects.filter(registration=b).count() == 0

    def test_no_mobile_makes_a_call_task_with_the_same_words(self, world):
        reg = register(world, woman_mobile="", man_mobile="")
        services.appointment_book(actor=None, registration=reg, slot=slot(institution(world)))
        assert not Message.objects.exists()
        task = CallTask.objects.get()
        assert "没有手机号码" in task.reason and "回复1确认" in task.script
        assert task.place_path == reg.place_path

    def test_no_sms_consent_makes_a_call_task(self, world):
        reg = register(world, consent_sms=False)
        services.appointment_book(actor=None, registration=reg, slot=slot(institution(world)))
        assert not Message.objects.exists()
        task = CallTask.objects.get()
        assert "未同意" in task.reason and task.mobile == reg.woman_mobile

    def test_the_man_gets_the_notice_when_only_he_has_a_mobile(self, world):
        reg = register(world, woman_mobile="", man_mobile="13700007777")
        services.appointment_book(actor=None, registration=reg, slot=slot(institution(world)))
        assert Message.objects.get().mobile == "13700007777"

    def test_staff_book_only_couples_in_their_write_scope(self, world):
        reg, s = register(world), slot(institution(world))
        with pytest.raises(ServiceError, match="管辖范围"):
            services.appointment_book(actor=world.users["outsider"], registration=reg, slot=s)
        services.appointment_book(actor=world.users["village_cadre"], registration=reg, slot=s)

    def test_a_closed_registration_cannot_book(self, world):
        reg = register(world)
        services.registration_close(
            actor=world.users["town_clerk"], registration=reg, reason="重复"
        )
        with pytest.raises(ServiceError, match="已结束"):
            services.appointment_book(actor=None, registration=reg, slot=slot(institution(world)))


class TestAppointmentCancelAndMark:
    def test_cancel_frees_the_seat_and_reopens_the_registration(self, world):
        reg, s = register(world), slot(institution(world))
        appt = services.appointment_book(actor=None, registration=reg, slot=s)
        services.appointment_cancel(actor=None, appointment=appt)
        s.refresh_from_db()
        reg.refresh_from_db()
        appt.refresh_from_db()
        assert s.booked == 0 and reg.status == Registration.REGISTERED
        assert appt.status == Appointment.CANCELLED
        services.appointment_cancel(actor=None, appointment=appt)  # twice: no error
        s.refresh_from_db()
        assert s.booked == 0

    def test_attended_moves_the_registration_to_checked(self, world):
        reg, s = register(world), slot(institution(world), days=1)
        appt = services.appointment_book(actor=None, registration=reg, slot=s)
        doctor = world.users["clinic_doctor"]
        with pytest.raises(ServiceError, match="还没到预约日期"):
            services.appointment_mark(actor=doctor, appointment=appt, attended=True)
        on_the_day = s.starts_at + dt.timedelta(hours=1)
        services.appointment_mark(actor=doctor, appointment=appt, attended=True, now=on_the_day)
        reg.refresh_from_db()
        appt.refresh_from_db()
        assert appt.status == Appointment.ATTENDED and reg.status == Registration.CHECKED

    def test_missed_reopens_the_registration_and_may_be_corrected(self, world):
        reg, s = register(world), slot(institution(world), days=1)
        appt = services.appointment_book(actor=None, registration=reg, slot=s)
        doctor, later = world.users["clinic_doctor"], s.starts_at + dt.timedelta(hours=3)
        services.appointment_mark(actor=doctor, appointment=appt, attended=False, now=later)
        reg.refresh_from_db()
        assert reg.status == Registration.REGISTERED
        services.appointment_mark(actor=doctor, appointment=appt, attended=True, now=later)
        reg.refresh_from_db()
        assert reg.status == Registration.CHECKED

    def test_marking_needs_the_manage_capability_and_the_institutions_place(self, world):
        reg, s = register(world), slot(institution(world), days=1)
        appt = services.appointment_book(actor=None, registration=reg, slot=s)
        later = s.starts_at + dt.timedelta(hours=1)
        for user in ("village_cadre", "outsider"):
            with pytest.raises(ServiceError):
                services.appointment_mark(
                    actor=world.users[user], appointment=appt, attended=True, now=later
                )


class TestInstitutionsAndSlots:
    def test_institution_save_creates_and_edits_in_scope(self, world):
        clerk = world.users["town_clerk"]
        inst = services.institution_save(
            actor=clerk, name="本镇卫生院", place=world.town, address="健康路1号"
        )
        services.institution_save(
            actor=clerk,
            institution=inst,
            name="本镇中心卫生院",
            place=world.town,
            address="健康路1号",
        )
        inst.refresh_from_db()
        assert inst.name == "本镇中心卫生院" and inst.place_path == world.town.path
        assert AuditEntry.objects.filter(action="precheck_institution.edit").exists()
        with pytest.raises(ServiceError, match="管辖范围"):
            services.institution_save(
                actor=world.users["outsider"], name="x", place=world.town, address="y"
            )
        with pytest.raises(ServiceError, match="地址"):
            services.institution_save(actor=clerk, name="x", place=world.town, address=" ")

    def test_slots_open_in_bulk_on_chosen_weekdays_and_skip_existing(self, world):
        inst = institution(world)
        now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=SH)  # a Tuesday
        kwargs = {
            "actor": world.users["town_clerk"],
            "institution": inst,
            "start_date": dt.date(2026, 12, 1),
            "end_date": dt.date(2026, 12, 14),
            "weekdays": [1, 3],  # Tuesday, Thursday
            "times": [(dt.time(8, 0), dt.time(10, 0)), (dt.time(14, 0), dt.time(16, 0))],
            "capacity": 8,
            "now": now,
        }
        made = services.slot_create_many(**kwargs)
        # Tue 1 (8:00 is past, 14:00 not), Thu 3, Tue 8, Thu 10: 1 + 2 + 2 + 2
        assert len(made) == 7 and all(s.capacity == 8 for s in made)
        assert services.slot_create_many(**kwargs) == []
        with pytest.raises(ServiceError, match="管辖范围"):
            services.slot_create_many(**{**kwargs, "actor": world.users["outsider"]})
        with pytest.raises(ServiceError, match="星期"):
            services.slot_create_many(**{**kwargs, "weekdays": []})

    def test_slot_close_keeps_existing_appointments(self, world):
        s = slot(institution(world))
        appt = services.appointment_book(actor=None, registration=register(world), slot=s)
        services.slot_close(actor=world.users["clinic_doctor"], slot=s)
        s.refresh_from_db()
        appt.refresh_from_db()
        assert not s.is_open and appt.status == Appointment.BOOKED and s.booked == 1


class TestCreateAndBook:
    def test_a_full_slot_leaves_no_registration_behind(self, world):
        s = slot(institution(world), capacity=1)
        services.appointment_book(actor=None, registration=register(world), slot=s)
        data = couple(world)
        with pytest.raises(ServiceError, match="约满"):
            services.registration_create_and_book(
                actor=None, channel=Registration.ONLINE, slot=s, **data
            )
        assert not Registration.objects.filter(woman_id_number=data["woman_id_number"]).exists()

    def test_now_is_used_for_consent_and_booking(self, world):
        s = slot(institution(world))
        now = timezone.now()
        reg = services.registration_create_and_book(
            actor=None, channel=Registration.ONLINE, slot=s, now=now, **couple(world)
        )
        assert reg.status == Registration.BOOKED and reg.consent_at == now


def _on_postgresql() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


# Skipped before any database set-up on SQLite: a transactional test flushes the tables after,
# which SQLite's append-only audit trigger refuses.
@pytest.mark.skipif(not _on_postgresql(), reason="row locks across connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
class TestConcurrentBooking:
    def test_two_threads_for_the_last_seat_one_wins(self, world):
        import threading

        from django.db import connections

        s = slot(institution(world), capacity=1)
        regs = [register(world), register(world)]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def book(reg):
            try:
                barrier.wait()
                services.appointment_book(actor=None, registration=reg, slot=s)
                outcomes.append("ok")
            except ServiceError as exc:
                outcomes.append(exc.message)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=book, args=(r,)) for r in regs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        s.refresh_from_db()
        assert sorted(outcomes)[0] == "ok" and "约满" in sorted(outcomes)[1]
        assert s.booked == 1 and Appointment.objects.count() == 1
