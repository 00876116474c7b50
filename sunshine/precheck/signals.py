"""Hooks this app hangs on other apps at start-up: the SMS engine's numbered-answer handler
(reply 1 = confirm an appointment, 2 = ask for another time)."""

from sunshine.messaging import services as sms_services


def answer_handler(reply, digit: str) -> bool:
    """Reply 1 / 2 to a 检查通知: confirm, or ask for another time (staff rebook from the list
    of change requests; nothing else is sent). True when the reply was for an appointment."""
    from sunshine.precheck import services

    return services.appointment_answer(mobile=reply.mobile, digit=digit) is not None


sms_services.register_answer_handler(answer_handler)
