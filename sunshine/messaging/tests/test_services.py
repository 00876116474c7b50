import datetime as dt
import json
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sunshine.core.errors import ServiceError
from sunshine.messaging import rules, selectors, services
from sunshine.messaging.models import Attempt, CallTask, Message, OptOut, Receipt, Reply
from sunshine.messaging.testing import RecordingGateway

pytestmark = pytest.mark.django_db


def _on_postgresql() -> bool:
    from django.conf import settings

    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


SH = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 11, 28, 10, 0, tzinfo=SH)
NIGHT = dt.datetime(2026, 11, 28, 22, 0, tzinfo=SH)


def enqueue(**kw):
    defaults = {
        "programme": "precheck",
        "mobile": "13800001234",
        "body": "您好，请按时参加孕前优生检查。",
        "now": DAY,
        "due_at": DAY,
    }
    return services.message_enqueue(**{**defaults, **kw})


class TestTemplates:
    def test_a_template_using_a_parameter_callers_do_not_pass_is_refused(self):
        with pytest.raises(ServiceError, match="date"):
            services.template_save(
                actor=None, code="t", name="t", body="{name}您好，{date}检查", params=["name"]
            )

    def test_template_parameters_are_stored(self):
        t = services.template_save(actor=None, code="t", name="t", body="{name}您好，{date}检查")
        assert t.params == ["name", "date"]

    def test_enqueue_with_a_missing_parameter_is_refused_in_chinese(self):
        services.template_save(actor=None, code="t", name="t", body="{name}您好，{date}检查")
        with pytest.raises(ServiceError, match="缺少模板参数：date"):
            enqueue(template="t", params={"name": "张三"}, body="")

    def test_text_is_rendered_at_send_time_so_an_edited_template_reaches_pending_messages(self):
        services.template_save(actor=None, code="t", name="t", body="{name}您好")
        enqueue(template="t", params={"name": "张三"}, body="")
        services.template_save(actor=None, code="t", name="t", body="{name}您好，检查改到周五")
        gw = RecordingGateway()
        services.dispatch_batch(worker="w", now=DAY, gateway=gw)
        assert gw.sent[0].text == "张三您好，检查改到周五"


class TestDispatch:
    def test_sent_message_records_provider_id_segments_and_cost(self):
        m = enqueue(body="字" * 80)
        assert services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway()) == 1
        m.refresh_from_db()
        assert m.status == rules.SENT and m.provider_id == "biz-1"
        assert m.segments == 2 and m.cost == Decimal("0.12")
        # The send is on the row, not in a second one; the history shows it all the same.
        assert [a.event for a in m.history.all()] == ["queued"]
        (sent,) = [a for a in selectors.message_history(m) if a.event == "sent"]
        assert sent.at == DAY and sent.detail == "biz-1 共2条（w）"

    def test_quiet_hours_hold_messages_until_the_window_opens(self):
        enqueue(due_at=NIGHT, now=NIGHT)
        assert services.dispatch_batch(worker="w", now=NIGHT, gateway=RecordingGateway()) == 0
        morning = dt.datetime(2026, 11, 29, 8, 1, tzinfo=SH)
        assert services.dispatch_batch(worker="w", now=morning, gateway=RecordingGateway()) == 1

    def test_a_transient_failure_is_retried_with_backoff(self):
        m = enqueue()
        services.dispatch_batch(
            worker="w", now=DAY, gateway=RecordingGateway(fail={m.mobile: ("throttled", True)})
        )
        m.refresh_from_db()
        assert (
            m.status == rules.QUEUED
            and m.attempts == 1
            and m.due_at == DAY + dt.timedelta(minutes=1)
        )
        assert (
            services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway()) == 0
        )  # not yet due
        later = DAY + dt.timedelta(minutes=2)
        assert services.dispatch_batch(worker="w", now=later, gateway=RecordingGateway()) == 1

    def test_the_last_attempt_fails_and_creates_a_call_task(self, settings):
        settings.SUNSHINE_SMS_MAX_ATTEMPTS = 2
        m = enqueue()
        gw = RecordingGateway(fail={m.mobile: ("timeout", True)})
        services.dispatch_batch(worker="w", now=DAY, gateway=gw)
        services.dispatch_batch(worker="w", now=DAY + dt.timedelta(hours=1), gateway=gw)
        m.refresh_from_db()
        assert m.status == rules.FAILED
        task = CallTask.objects.get(message=m)
        assert "短信发送失败" in task.reason and task.script == m.body

    def test_a_permanent_failure_goes_straight_to_an_operator(self):
        m = enqueue()
        services.dispatch_batch(
            worker="w", now=DAY, gateway=RecordingGateway(fail={m.mobile: ("空号", False)})
        )
        m.refresh_from_db()
        assert m.status == rules.FAILED and CallTask.objects.filter(message=m).exists()

    def test_a_failed_send_gives_the_operator_the_person_place_and_attempts(self, world):
        # The claim does not read these; a retry or a failure reads them when it needs them.
        person = world.residents["own"]
        m = enqueue(resident=person, mobile="13900002222")
        gw = RecordingGateway(fail={m.mobile: ("timeout", True)})
        services.dispatch_batch(worker="w", now=DAY, gateway=gw)
        m.refresh_from_db()
        assert m.status == rules.QUEUED and m.attempts == 1
        gw.fail[m.mobile] = ("空号", False)
        services.dispatch_batch(worker="w", now=DAY + dt.timedelta(hours=1), gateway=gw)
        m.refresh_from_db()
        task = CallTask.objects.get(message=m)
        assert m.status == rules.FAILED and m.attempts == 2
        assert (task.resident_id, task.mobile, task.place_path) == (
            person.pk,
            m.mobile,
            person.place_path,
        )

    def test_a_gateway_outage_keeps_every_message_for_a_retry(self):
        a, b = enqueue(), enqueue(mobile="13900001111")
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway(down=True))
        assert set(Message.objects.values_list("status", flat=True)) == {rules.QUEUED}
        assert Message.objects.get(pk=a.pk).out_id == a.out_id and b.pk

    @pytest.mark.skipif(_on_postgresql(), reason="on PostgreSQL a claim is a row lock, no lease")
    def test_a_lease_left_by_a_dead_worker_is_reclaimed_with_the_same_out_id(self):
        m = enqueue()
        claimed = services.messages_claim(worker="dead", now=DAY)
        assert [c.pk for c in claimed] == [m.pk]
        assert (
            services.messages_claim(worker="other", now=DAY + dt.timedelta(seconds=10)) == []
        )  # lease held
        gw = RecordingGateway()
        services.dispatch_batch(worker="other", now=DAY + dt.timedelta(seconds=61), gateway=gw)
        assert [o.out_id for o in gw.sent] == [m.out_id]

    @pytest.mark.skipif(_on_postgresql(), reason="SQLite's planner")
    @pytest.mark.parametrize("expired_first", [True, False])
    def test_a_lease_claim_reads_the_claim_index_not_the_whole_outbox(self, expired_first):
        from django.db import connection

        enqueue()
        args = {"now": DAY.isoformat(), "limit": 5, "lease": DAY.isoformat(), "worker": "w"}
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + services._CLAIM_LEASE[expired_first], args)
            plan = [row[-1] for row in cursor.fetchall()]
        assert any("message_due" in step for step in plan), plan
        assert "SCAN messaging_message" not in plan, plan  # a walk of the whole table

    def test_per_number_daily_limit_postpones_to_tomorrow(self, settings):
        settings.SUNSHINE_SMS_PER_NUMBER_PER_DAY = 2
        for _ in range(3):
            enqueue()
        gw = RecordingGateway()
        services.dispatch_batch(worker="w", now=DAY, gateway=gw)
        assert len(gw.sent) == 2
        waiting = Message.objects.get(status=rules.QUEUED)
        assert waiting.due_at == dt.datetime(2026, 11, 29, 8, 0, tzinfo=SH)

    def test_a_claim_larger_than_the_gateway_batch_goes_out_in_several_calls_each_once(
        self, settings
    ):
        settings.SUNSHINE_SMS_BATCH = 5
        for i in range(5):
            enqueue(mobile=f"1390000{i:04d}")

        class SmallBatches(RecordingGateway):
            max_batch = 2
            calls: list[int] = []

            def send(self, batch):
                self.calls.append(len(batch))
                return super().send(batch)

        gw = SmallBatches()
        assert services.dispatch_batch(worker="w", now=DAY, gateway=gw) == 5
        assert gw.calls == [2, 2, 1]
        assert set(Message.objects.values_list("status", flat=True)) == {rules.SENT}
        assert not Message.objects.filter(sent_at=None).exists()
        assert not Attempt.objects.filter(event="sent").exists()

    def test_a_template_edited_past_a_waiting_messages_parameters_fails_only_that_message(self):
        services.template_save(actor=None, code="t", name="t", body="{name}您好")
        stuck = enqueue(template="t", params={"name": "张三"}, body="")
        plain = enqueue(mobile="13900001111")
        services.template_save(actor=None, code="t", name="t", body="{name}您好，{date}检查")
        gw = RecordingGateway()
        assert services.dispatch_batch(worker="w", now=DAY, gateway=gw) == 1
        assert [o.out_id for o in gw.sent] == [plain.out_id]
        stuck.refresh_from_db()
        assert stuck.status == rules.FAILED and "date" in stuck.error
        assert CallTask.objects.filter(message=stuck).exists()

    def test_essential_messages_are_not_rate_limited(self, settings):
        settings.SUNSHINE_SMS_PER_NUMBER_PER_DAY = 1
        for _ in range(3):
            enqueue(category=rules.ESSENTIAL)
        gw = RecordingGateway()
        services.dispatch_batch(worker="w", now=DAY, gateway=gw)
        assert len(gw.sent) == 3


class TestNoPhone:
    def test_a_person_without_a_mobile_gets_a_call_task(self, world):
        person = world.residents["own"]
        person.mobile = ""
        result = enqueue(mobile="", resident=person)
        assert isinstance(result, CallTask) and result.place_path == person.place_path
        assert not Message.objects.exists()


class TestReceipts:
    def _receipt(self, m, success=True, code="DELIVERED"):
        return {
            "phone_number": m.mobile,
            "success": success,
            "err_code": code,
            "err_msg": "",
            "sms_size": "1",
            "biz_id": m.provider_id,
            "out_id": m.out_id,
            "send_time": "",
            "report_time": "",
        }

    def test_a_receipt_marks_delivered_and_a_repeated_push_changes_nothing(self):
        m = enqueue()
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway())
        m.refresh_from_db()
        assert services.receipts_record([self._receipt(m)]).applied == 1
        assert services.receipts_record([self._receipt(m)]).applied == 0
        m.refresh_from_db()
        assert m.status == rules.DELIVERED and m.history.filter(event="delivered").count() == 1

    def test_a_failed_delivery_costs_nothing_and_goes_to_an_operator(self):
        m = enqueue()
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway())
        m.refresh_from_db()
        services.receipts_record([self._receipt(m, success=False, code="MOBILE_NOT_ON_SERVICE")])
        m.refresh_from_db()
        assert (
            m.status == rules.FAILED and m.cost == 0 and CallTask.objects.filter(message=m).exists()
        )

    def _sent(self, mobile="13800001234"):
        m = enqueue(mobile=mobile)
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway())
        m.refresh_from_db()
        assert m.provider_id and m.status == rules.SENT
        return m

    def test_a_receipt_for_the_bizid_but_another_number_is_ignored(self):
        m = self._sent()
        forged = {**self._receipt(m, success=False), "phone_number": "13900009999", "out_id": ""}
        assert services.receipts_record([forged]).applied == 0
        m.refresh_from_db()
        assert m.status == rules.SENT and not Receipt.objects.exists()

    def test_a_receipt_naming_the_out_id_with_another_number_or_bizid_is_ignored(self):
        m = self._sent()
        other_number = {**self._receipt(m, success=False), "phone_number": "13900009999"}
        other_biz = {**self._receipt(m, success=False), "biz_id": "999999999999999999^0"}
        outcome = services.receipts_record([other_number, other_biz])
        assert (outcome.applied, outcome.skipped) == (0, 2)
        m.refresh_from_db()
        assert m.status == rules.SENT and not CallTask.objects.exists()

    def test_a_forged_receipt_planted_before_the_send_does_not_block_the_real_one(self):
        m = enqueue()
        # The attacker guesses the BizId the message will get and plants a failure for it.
        planted = {
            "phone_number": m.mobile,
            "success": False,
            "err_code": "MOBILE_NOT_ON_SERVICE",
            "biz_id": "biz-1",
            "out_id": "",
        }
        assert services.receipts_record([planted]).applied == 0
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway())
        m.refresh_from_db()
        assert m.provider_id == "biz-1"
        assert services.receipts_record([self._receipt(m)]).applied == 1
        m.refresh_from_db()
        assert m.status == rules.DELIVERED

    def test_a_receipt_before_its_send_is_recorded_comes_again_and_then_counts(self):
        m = enqueue()
        early = {**self._receipt(m), "biz_id": "biz-1"}
        outcome = services.receipts_record([early])
        assert (outcome.applied, outcome.early) == (0, 1) and not Receipt.objects.exists()
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway())
        assert services.receipts_record([early]).applied == 1
        m.refresh_from_db()
        assert m.status == rules.DELIVERED

    @pytest.mark.parametrize(
        "bad",
        [
            5,
            "receipt",
            None,
            ["13800001234"],
            {"sms_size": "abc"},
            {"sms_size": "1e400"},
            {"sms_size": float("inf")},
            {"sms_size": float("nan")},
            {"sms_size": 10**30},
            {"sms_size": -1},
            {"sms_size": True},
            {"biz_id": None},
            {"biz_id": {"a": 1}},
            {"biz_id": "x\x00y"},
            {"phone_number": None},
            {"phone_number": "138000012345"},
            {"phone_number": 13800001234},
            {"success": "yes"},
            {"success": None},
            {"report_time": "yesterday"},
            {"send_time": "2026-13-45 25:61:00"},
            {"report_time": 20261128},
            {"out_id": ["a"]},
            {"err_msg": {"x": 1}},
        ],
    )
    def test_a_malformed_element_is_skipped_and_the_rest_applied(self, bad):
        m = self._sent()
        good = self._receipt(m)
        element = {**good, **bad} if isinstance(bad, dict) else bad
        if isinstance(bad, dict) and bad.get("biz_id", "") is None:
            element.pop("biz_id")
        outcome = services.receipts_record([element, good])
        assert (outcome.applied, outcome.skipped) == (1, 1)
        m.refresh_from_db()
        assert m.status == rules.DELIVERED

    def test_the_billed_parts_come_from_the_receipt(self):
        m = self._sent()
        services.receipts_record([{**self._receipt(m), "sms_size": 3}])
        m.refresh_from_db()
        assert (m.segments, m.cost) == (3, Decimal("0.18"))


class TestReplies:
    def _push(self, content, seq="s1", phone="13800001234"):
        return services.replies_receive(
            [
                {
                    "phone_number": phone,
                    "content": content,
                    "sequence_id": seq,
                    "send_time": "",
                    "dest_code": "",
                }
            ]
        )

    def test_td_opts_out_of_reminders_but_not_essential_notices(self):
        self._push("TD")
        assert OptOut.objects.get(mobile="13800001234").is_active
        assert enqueue().status == rules.CANCELLED
        assert enqueue(category=rules.ESSENTIAL).status == rules.QUEUED

    @pytest.mark.parametrize("spelled", ["8613800001234", "+8613800001234"])
    def test_a_reply_from_a_number_spelled_with_the_country_code_matches_its_mobile(self, spelled):
        # Cut to 11 characters, 8613800001234 became 86138000012: nobody's number.
        self._push("TD", phone=spelled)
        assert OptOut.objects.get(mobile="13800001234").is_active
        assert Reply.objects.get().mobile == "13800001234"

    def test_opting_back_in(self):
        self._push("退订")
        self._push("订阅", seq="s2")
        assert enqueue().status == rules.QUEUED

    def test_a_number_outside_the_registry_gets_the_place_of_the_last_message_sent_to_it(
        self, world
    ):
        enqueue(place=world.village, mobile="13800005555")
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway())
        enqueue(place=world.town, mobile="13800005555")  # not sent yet: not what they answer
        self._push("请问检查要带什么？", phone="13800005555")
        assert Reply.objects.get().place_path == world.village.path
        self._push("还有一个问题", seq="s2", phone="13800009999")  # never texted: no place
        assert Reply.objects.get(sequence_id="s2").place_path == ""

    def test_a_repeated_push_is_stored_once(self):
        assert self._push("你好") == 1
        assert self._push("你好") == 0
        assert Reply.objects.count() == 1

    def test_a_numbered_answer_goes_to_the_handler_that_claims_it(self):
        seen = []

        def handler(reply, digit):
            seen.append(digit)
            return digit == "1"

        services.register_reply_handler("answer", handler)
        try:
            self._push("1")
            self._push("2", seq="s2")
        finally:
            services.REPLY_HANDLERS["answer"].remove(handler)
        routes = dict(Reply.objects.values_list("content", "route"))
        assert seen == ["1", "2"] and routes == {"1": "answer", "2": "inbox"}

    def test_a_question_goes_to_the_inbox_matched_to_the_person(self, world):
        person = world.residents["own"]
        self._push("请问孕前检查要空腹吗", phone=person.mobile)
        reply = Reply.objects.get()
        assert (
            reply.route == "inbox"
            and reply.resident == person
            and reply.place_path == person.place_path
        )


class TestRepliesAreWellFormed:
    GOOD = {"phone_number": "13800001234", "content": "TD", "sequence_id": 1001}

    def test_a_number_longer_than_a_mobile_is_not_cut_down_to_someone_elses(self):
        # Truncated to 11 digits, 138000012349 would have opted 13800001234 out.
        services.replies_receive([{**self.GOOD, "phone_number": "138000012349"}])
        assert not OptOut.objects.exists() and not Reply.objects.exists()

    @pytest.mark.parametrize(
        "bad",
        [
            7,
            "TD",
            [1, 2],
            {"content": None},
            {"content": 5},
            {"content": ["TD"]},
            {"sequence_id": None},
            {"sequence_id": True},
            {"sequence_id": 1.5},
            {"sequence_id": "a b"},
            {"sequence_id": "9" * 61},
            {"phone_number": "+86138000012345"},  # one digit too many, however spelled
            {"phone_number": ""},
            {"send_time": "2026/11/28"},
            {"send_time": 1764300000},
        ],
    )
    def test_a_malformed_reply_is_skipped_and_the_rest_recorded(self, bad):
        element = {**self.GOOD, **bad} if isinstance(bad, dict) else bad
        good = {**self.GOOD, "content": "请问检查要空腹吗", "sequence_id": "s-good"}
        assert services.replies_receive([element, good]) == 1
        assert list(Reply.objects.values_list("sequence_id", flat=True)) == ["s-good"]
        assert not OptOut.objects.exists()

    def test_control_characters_are_dropped_from_the_content_and_the_time_is_kept(self):
        services.replies_receive(
            [{**self.GOOD, "content": "请问\x00检查\u200b", "send_time": "2026-11-28 09:15:00"}]
        )
        reply = Reply.objects.get()
        assert reply.content == "请问检查\u200b"  # NUL (refused by PostgreSQL) is gone
        assert reply.sent_at == dt.datetime(2026, 11, 28, 9, 15, tzinfo=SH)


class TestCallbackViews:
    @pytest.fixture
    def token(self, settings):
        return settings.SUNSHINE_SMS_CALLBACK_TOKEN

    def post(self, client, kind, token, body):
        data = body if isinstance(body, str) else json.dumps(body)
        return client.post(f"/sms/{kind}/{token}/", data=data, content_type="application/json")

    def test_receipt_push_answers_like_the_provider_expects(self, client, token):
        resp = self.post(client, "receipts", token, [])
        assert resp.status_code == 200 and resp.json() == {"code": 0, "msg": "接收成功"}

    def test_the_old_default_token_opens_nothing(self, client):
        for kind in ("receipts", "replies"):
            resp = self.post(client, kind, "local", [{"phone_number": "13800001234"}])
            assert resp.status_code == 404
        assert not Reply.objects.exists()

    def test_the_token_is_generated_and_strong(self, token):
        assert token != "local" and rules.callback_token_problem(token) == ""

    def test_a_wrong_token_is_404_and_bad_json_is_400(self, client, token):
        assert self.post(client, "replies", "nope", []).status_code == 404
        assert self.post(client, "replies", token[:-1], []).status_code == 404
        assert self.post(client, "replies", token + "x", []).status_code == 404
        assert self.post(client, "replies", "令牌" + token, []).status_code == 404
        assert self.post(client, "replies", token, "{bad").status_code == 400
        assert self.post(client, "replies", token, "[" * 100_000).status_code == 400
        assert (
            self.post(client, "receipts", token, '{"sms_size": 1' + "0" * 5000).status_code == 400
        )
        assert self.post(client, "receipts", token, "12").status_code == 400

    def test_a_push_with_malformed_elements_is_applied_and_answered_200(self, client, token):
        m = enqueue()
        services.dispatch_batch(worker="w", now=DAY, gateway=RecordingGateway())
        m.refresh_from_db()
        good = (
            f'{{"phone_number": "{m.mobile}", "success": true, "err_code": "DELIVERED", '
            f'"sms_size": "1", "biz_id": "{m.provider_id}", "out_id": "{m.out_id}"}}'
        )
        body = (
            f'[{{"phone_number": "{m.mobile}", "success": true, "sms_size": 1e400, '
            f'"biz_id": "{m.provider_id}"}}, {{"sms_size": "x"}}, 42, "s", {good}]'
        )
        resp = self.post(client, "receipts", token, body)
        assert resp.status_code == 200 and resp.json()["code"] == 0
        m.refresh_from_db()
        assert m.status == rules.DELIVERED

    def test_a_reply_push_with_malformed_elements_is_applied_and_answered_200(self, client, token):
        body = [
            {"phone_number": "13800001234", "content": 1e300, "sequence_id": 1},
            None,
            {"phone_number": "13800001234", "content": "TD", "sequence_id": 2},
        ]
        resp = self.post(client, "replies", token, body)
        assert resp.status_code == 200 and resp.json()["code"] == 0
        assert OptOut.objects.get(mobile="13800001234").is_active

    def test_an_early_receipt_is_answered_so_that_the_provider_pushes_it_again(self, client, token):
        m = enqueue()
        early = {"phone_number": m.mobile, "success": True, "biz_id": "b1", "out_id": m.out_id}
        resp = self.post(client, "receipts", token, [early])
        assert resp.status_code == 503 and resp.json()["code"] != 0

    def test_the_token_is_not_copied_into_the_audit_log(self, client, token):
        from sunshine.core import audit
        from sunshine.core.models import AuditEntry

        def handler(reply, digit):  # what a module's answer handler does: audit its change
            audit.record(actor=None, action="test.answer", obj=reply)
            return True

        services.register_reply_handler("answer", handler)
        try:
            body = [{"phone_number": "13800001234", "content": "1", "sequence_id": 4}]
            assert self.post(client, "replies", token, body).status_code == 200
        finally:
            services.REPLY_HANDLERS["answer"].remove(handler)
        entry = AuditEntry.objects.get(action="test.answer")
        assert token not in entry.path and entry.path == "/sms/replies/<token>/"

    def test_with_the_aliyun_backend_a_weak_token_opens_nothing(self, client, settings):
        settings.SUNSHINE_SMS_BACKEND = "aliyun"
        settings.SUNSHINE_SMS_CALLBACK_TOKEN = "local"
        body = [{"phone_number": "13800001234", "content": "TD", "sequence_id": 3}]
        assert self.post(client, "replies", "local", body).status_code == 404
        assert not OptOut.objects.exists()


# Skipped before any database set-up on SQLite: a transactional test flushes the tables after,
# which SQLite's append-only audit trigger refuses.
@pytest.mark.skipif(not _on_postgresql(), reason="row locks across connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
class TestClaimLocks:
    """On PostgreSQL a worker's claim is a row lock held until its batch is recorded: another
    worker skips those rows, and a dead worker's rows go out again, same OutId, as soon as its
    connection is gone."""

    @pytest.fixture(autouse=True)
    def _no_nudge(self, monkeypatch):
        # Committed enqueues nudge a worker (inline in tests, through the real gateway, at the
        # real time of day): only the dispatches the test makes may send.
        monkeypatch.setattr(services, "_dispatch_soon", lambda: None)

    def _other_worker(self):
        import psycopg
        from django.db import connection

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        return psycopg.connect(**params)

    def test_rows_another_worker_holds_are_skipped_and_free_again_when_it_dies(self):
        held, free = enqueue(), enqueue(mobile="13900001111")
        other = self._other_worker()
        gw = RecordingGateway()
        try:
            other.execute(
                "SELECT id FROM messaging_message WHERE id = %s FOR UPDATE SKIP LOCKED", [held.pk]
            )
            assert services.dispatch_batch(worker="w", now=DAY, gateway=gw) == 1
            assert [o.out_id for o in gw.sent] == [free.out_id]
        finally:
            other.close()  # the worker dies: its transaction rolls back, its lock is gone
        held.refresh_from_db()
        assert held.status == rules.QUEUED and held.claimed_by == ""
        assert services.dispatch_batch(worker="w2", now=DAY, gateway=gw) == 1
        assert [o.out_id for o in gw.sent] == [free.out_id, held.out_id]
        held.refresh_from_db()
        assert held.status == rules.SENT and held.claimed_by == "w2"

    def test_a_claim_in_flight_holds_its_queue_rows_and_a_dead_worker_gives_them_back(self):
        from sunshine.messaging.models import SendQueue

        first = enqueue(due_at=DAY - dt.timedelta(minutes=1))
        second = enqueue(mobile="13900001111")
        other = self._other_worker()  # a worker that claimed one message and died mid-batch
        gw = RecordingGateway()
        try:
            args = {"now": DAY, "limit": 1, "today": DAY, "reminder": rules.NON_ESSENTIAL}
            batch, _ = other.execute(services._CLAIM_PG, args).fetchone()
            assert [row[0] for row in json.loads(batch)] == [first.pk]
            assert services.dispatch_batch(worker="w", now=DAY, gateway=gw) == 1
            assert [o.out_id for o in gw.sent] == [second.out_id]
            assert list(SendQueue.objects.values_list("message_id", flat=True)) == [first.pk]
        finally:
            other.close()  # else the table flush after the test waits for its locks
        assert services.dispatch_batch(worker="w2", now=DAY, gateway=gw) == 1
        assert [o.out_id for o in gw.sent] == [second.out_id, first.out_id]
        assert not SendQueue.objects.exists()


@pytest.mark.skipif(not _on_postgresql(), reason="PostgreSQL's claim queue")
class TestClaimQueue:
    """On PostgreSQL workers claim from SendQueue, which triggers keep in step with the outbox:
    a row for each queued and ready message, at its due time."""

    def queue(self) -> dict[int, dt.datetime]:
        from sunshine.messaging.models import SendQueue

        return dict(SendQueue.objects.values_list("message_id", "due_at"))

    def test_a_queued_message_has_its_row_and_a_moved_one_moves_it(self):
        m = enqueue()
        assert self.queue() == {m.pk: DAY}
        later = DAY + dt.timedelta(hours=3)
        Message.objects.filter(pk=m.pk).update(due_at=later)
        assert self.queue() == {m.pk: later}

    def test_cancelled_failed_or_deleted_messages_leave_the_queue(self):
        a, b, c = enqueue(), enqueue(mobile="13900001111"), enqueue(mobile="13900002222")
        Message.objects.filter(pk=a.pk).update(status=rules.CANCELLED)
        Message.objects.filter(pk=b.pk).update(status=rules.FAILED)
        Attempt.objects.filter(message_id=c.pk).delete()
        Message.objects.filter(pk=c.pk).delete()
        assert self.queue() == {}

    def test_a_message_not_yet_ready_joins_when_it_is_made_ready(self):
        m = enqueue()
        Message.objects.filter(pk=m.pk).update(ready=False)
        assert self.queue() == {}
        Message.objects.filter(pk=m.pk).update(ready=True)
        assert self.queue() == {m.pk: DAY}

    def test_a_retried_message_comes_back_at_its_retry_time(self):
        m = enqueue()
        gw = RecordingGateway(fail={m.mobile: ("网关忙", True)})
        services.dispatch_batch(worker="w", now=DAY, gateway=gw)
        m.refresh_from_db()
        assert m.status == rules.QUEUED and self.queue() == {m.pk: m.due_at}
        assert m.due_at > DAY

    def test_a_sent_message_has_no_row_and_a_stale_row_is_dropped_unsent(self):
        from sunshine.messaging.models import SendQueue

        sent, other = enqueue(), enqueue(mobile="13900001111")
        gw = RecordingGateway()
        services.dispatch_batch(worker="w", now=DAY, gateway=gw)
        assert self.queue() == {} and len(gw.sent) == 2
        # A row that outlived its message's queued state (written by hand) is dropped by the
        # next claim, not sent.
        SendQueue.objects.create(message_id=sent.pk, due_at=DAY)
        assert services.dispatch_batch(worker="w", now=DAY, gateway=gw) == 0
        assert self.queue() == {} and len(gw.sent) == 2
        assert other.pk

    def test_a_send_changes_no_indexed_column_so_its_row_version_is_hot(self):
        from django.db import connection

        written = {
            "status", "provider_id", "sent_at", "segments", "cost", "claimed_until",
            "claimed_by", "body", "attempts", "error",
        }  # fmt: skip
        assert written == {
            part.split("=")[0].strip()
            for part in services._MARK_SENT_PG.split("SET", 1)[1].split("FROM")[0].split(",")
            if "=" in part
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messaging_message'"
            )
            indexes = dict(cursor.fetchall())
            cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'messaging_message'")
            (options,) = cursor.fetchone()
        for name, definition in indexes.items():
            used = set(re.findall(r"\w+", definition.split(" USING ", 1)[1]))
            assert not used & written, (name, definition)
        assert "message_due" not in indexes
        assert any(o.startswith("fillfactor=") for o in options or [])

    def test_the_mark_sent_finds_a_row_by_id_when_its_locked_version_moved(self):
        from django.db import transaction

        m = enqueue()
        with transaction.atomic():
            (c,), _ = services._claim(worker="w", now=DAY, limit=10)
            assert re.fullmatch(r"\(\d+,\d+\)", c.tid)  # the version the claim locked
            c.text, c.tid = c.body, "(0,1)"  # as if the row had moved since
            services._mark_sent([(c, "biz-1")], DAY, "w")
        m.refresh_from_db()
        assert (m.status, m.provider_id, m.body, m.attempts) == (rules.SENT, "biz-1", c.text, 1)

    def test_a_message_the_gateway_said_nothing_of_goes_back_into_the_queue(self):
        from sunshine.messaging.testing import RecordingGateway as Recording

        class Forgetful(Recording):
            def send(self, batch):
                return super().send(batch)[1:]  # no result for the first message

        first, second = enqueue(), enqueue(mobile="13900001111")
        gw = Forgetful()
        assert services.dispatch_batch(worker="w", now=DAY, gateway=gw) == 1
        first.refresh_from_db()
        assert first.status == rules.QUEUED and self.queue() == {first.pk: DAY}
        again = RecordingGateway()
        assert services.dispatch_batch(worker="w", now=DAY, gateway=again) == 1
        assert [o.out_id for o in again.sent] == [first.out_id]
        assert second.pk
