import pytest

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.messaging import inbox, services
from sunshine.messaging.models import Reply

pytestmark = pytest.mark.django_db


def incoming(content="请问检查要带什么？", seq="s1") -> Reply:
    services.replies_receive(
        [{"sequence_id": seq, "phone_number": "13800001234", "content": content}]
    )
    return Reply.objects.get(sequence_id=seq)


class TestReplyHandle:
    def test_a_handled_reply_keeps_the_note_and_is_audited(self, world):
        reply = inbox.reply_handle(
            actor=world.users["town_clerk"], reply=incoming(), note=" 已回电 "
        )
        reply.refresh_from_db()
        assert reply.handled and reply.note == "已回电"
        entry = AuditEntry.objects.get(action="reply.handle")
        assert entry.object_id == str(reply.pk) and entry.changes == {"note": "已回电"}

    def test_an_empty_note_is_refused(self, world):
        with pytest.raises(ServiceError, match="请写明处理情况") as exc:
            inbox.reply_handle(actor=world.users["town_clerk"], reply=incoming(), note="  ")
        assert exc.value.field == "note"

    def test_a_long_note_is_refused(self, world):
        with pytest.raises(ServiceError, match="200"):
            inbox.reply_handle(actor=world.users["town_clerk"], reply=incoming(), note="字" * 201)

    def test_a_reply_is_handled_once(self, world):
        reply = incoming()
        inbox.reply_handle(actor=world.users["town_clerk"], reply=reply, note="第一次")
        with pytest.raises(ServiceError, match="已经处理过"):
            inbox.reply_handle(actor=world.users["town_clerk"], reply=reply, note="第二次")
        assert AuditEntry.objects.filter(action="reply.handle").count() == 1

    def test_an_opt_out_is_not_for_the_inbox(self, world):
        reply = incoming(content="TD")
        Reply.objects.filter(pk=reply.pk).update(handled=False)
        with pytest.raises(ServiceError, match="不在咨询收件箱"):
            inbox.reply_handle(actor=world.users["town_clerk"], reply=reply, note="看过")
