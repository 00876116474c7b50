import pytest

from sunshine.core.models import AuditEntry
from sunshine.messaging import services as sms_services
from sunshine.messaging.models import Message, Reply
from sunshine.precheck import services, signals
from sunshine.precheck.models import Appointment
from sunshine.precheck.tests.desk_helpers import institution, register, slot

pytestmark = pytest.mark.django_db


def reply(mobile: str, content: str, seq: str) -> int:
    return sms_services.replies_receive(
        [{"phone_number": mobile, "content": content, "sequence_id": seq}]
    )


@pytest.fixture
def booked(world):
    reg = register(world, man_mobile="13700002222")
    inst = institution(world)
    return services.appointment_book(actor=None, registration=reg, slot=slot(inst))


class TestAnswerHandler:
    def test_the_handler_is_registered_at_start_up(self):
        assert signals.answer_handler in sms_services.REPLY_HANDLERS["answer"]

    def test_reply_1_confirms_the_appointment(self, booked):
        reply(booked.registration.woman_mobile, "1", "s1")
        booked.refresh_from_db()
        assert booked.status == Appointment.CONFIRMED and booked.answered_at is not None
        r = Reply.objects.get(sequence_id="s1")
        assert r.handled and r.route == "answer"

    def test_reply_2_from_the_man_asks_for_another_time_and_sends_nothing(self, booked):
        before = Message.objects.count()
        reply("13700002222", "２", "s2")  # a full-width digit from a phone keyboard
        booked.refresh_from_db()
        assert booked.status == Appointment.CHANGE_REQUESTED
        assert Message.objects.count() == before

    def test_the_same_answer_twice_changes_nothing(self, booked):
        mobile = booked.registration.woman_mobile
        reply(mobile, "1", "a")
        reply(mobile, "1", "a")  # the same push again (same sequence id)
        reply(mobile, "1", "b")  # the couple sent 1 twice
        assert AuditEntry.objects.filter(action="precheck_appointment.answer").count() == 1

    def test_the_latest_active_appointment_is_answered(self, world, booked):
        reg = booked.registration
        newer = services.appointment_book(
            actor=None, registration=reg, slot=slot(institution(world, name="县妇幼保健院"))
        )
        reply(reg.woman_mobile, "2", "x")
        newer.refresh_from_db()
        booked.refresh_from_db()
        assert newer.status == Appointment.CHANGE_REQUESTED
        assert booked.status == Appointment.CANCELLED

    def test_a_reply_from_an_unknown_number_goes_to_the_inbox(self, booked):
        reply("13600009999", "1", "u")
        r = Reply.objects.get(sequence_id="u")
        assert not r.handled and r.route == "inbox"

    def test_other_digits_and_cancelled_appointments_are_not_ours(self, booked):
        mobile = booked.registration.woman_mobile
        assert signals.answer_handler(Reply(mobile=mobile), "3") is False
        services.appointment_cancel(actor=None, appointment=booked)
        assert signals.answer_handler(Reply(mobile=mobile), "1") is False
