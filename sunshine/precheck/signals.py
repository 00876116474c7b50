"""Hooks this app hangs on other apps at start-up: the SMS engine's numbered-answer handler
(reply 1 = confirm an appointment, 2 = ask for another time), and the call desk's owner check
(a follow-up call is closed by its outcome form, not by the generic desk)."""

from sunshine.messaging import services as sms_services


def answer_handler(reply, digit: str) -> bool:
    """Reply 1 / 2 to a 检查通知: confirm, or ask for another time (staff rebook from the list
    of change requests; nothing else is sent). True when the reply was for an appointment."""
    from sunshine.precheck import services

    return services.appointment_answer(mobile=reply.mobile, digit=digit) is not None


sms_services.register_reply_handler("answer", answer_handler)


def followup_owns(task) -> str:
    from sunshine.precheck.models import FollowUp

    if FollowUp.objects.filter(call_task_id=task.pk).exists():
        return "这是随访任务，请在随访表单中记录结果，任务会随之关闭。"
    return ""


sms_services.register_calltask_owner(followup_owns)
