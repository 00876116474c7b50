"""A test message sent by a clerk from the SMS desk: queued like any other (programme "test"),
placed at the clerk's own place so that it shows in their outbox, and audited."""

from django.db import transaction

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.messaging import services
from sunshine.messaging.models import Message, Template

PROGRAMME = "test"


@transaction.atomic
def message_send_test(
    *, actor, mobile: str, body: str = "", template: Template | None = None, params=None
) -> Message:
    result = services.message_enqueue(
        programme=PROGRAMME,
        mobile=mobile,
        body=body,
        template=template,
        params=params or {},
        place=actor.place,
        source=f"test-send:{actor.pk}",
    )
    if not isinstance(result, Message):  # a call task: the number was not a mobile
        raise ServiceError("手机号码无效，请核对后再发送。", field="mobile")
    audit.record(
        actor=actor,
        action="message.send_test",
        obj=result,
        changes={"template": template.code if template else "", "params": params or {}},
    )
    return result
