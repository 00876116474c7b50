"""Hooks this app hangs on other apps at start-up: objections to public notices sent by SMS
("YY 内容", or a reply to a notice SMS) reach publishing.services.objection_by_sms."""

from sunshine.messaging import services as sms_services


def objection_handler(reply, text: str) -> bool:
    from sunshine.publishing import services

    return services.objection_by_sms(mobile=reply.mobile, text=text)


sms_services.register_reply_handler("objection", objection_handler)
