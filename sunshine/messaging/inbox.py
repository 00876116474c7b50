"""The replies inbox (上行短信): a clerk or operator marks a reply handled, saying what was done."""

from django.db import transaction

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.messaging.models import Reply

NOTE_MAX = 200


@transaction.atomic
def reply_handle(*, actor, reply: Reply, note: str) -> Reply:
    note = (note or "").strip()
    if not note:
        raise ServiceError("请写明处理情况，如：已电话回复，预约周五检查。", field="note")
    if len(note) > NOTE_MAX:
        raise ServiceError(f"处理说明不能超过{NOTE_MAX}字，请精简后再提交。", field="note")
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    if reply.handled:
        raise ServiceError("这条短信已经处理过了，不用再次处理。")
    if reply.route != "inbox":
        raise ServiceError("这条短信不在咨询收件箱中，系统已自动处理。")
    reply.handled, reply.note = True, note
    reply.full_clean()
    reply.save(update_fields=["handled", "note"])
    audit.record(actor=actor, action="reply.handle", obj=reply, changes={"note": note})
    return reply
