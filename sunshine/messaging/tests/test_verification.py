"""SMS verification codes: sent at once (quiet hours too), stored hashed, valid for a while,
a few tries, once, the newest only; limited per mobile and per address."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.messaging import rules, services, verification
from sunshine.messaging.models import Message, OptOut, VerificationCode
from sunshine.messaging.testing import RecordingGateway, sms_code

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 11, 28, 10, 0, tzinfo=SH)
NIGHT = dt.datetime(2026, 11, 28, 23, 30, tzinfo=SH)
MOBILE = "13800001234"


def send(now=DAY, mobile=MOBILE, purpose="board-subscribe:980101", ip="203.0.113.7"):
    return verification.code_send(
        mobile=mobile, purpose=purpose, what="订阅公示栏短信", ip=ip, now=now
    )


def check(code, now=DAY, mobile=MOBILE, purpose="board-subscribe:980101"):
    verification.code_check(mobile=mobile, purpose=purpose, code=code, now=now)


WRONG = pytest.raises(ServiceError, match="验证码错误或已过期")


class TestCodeSend:
    def test_the_code_is_texted_and_only_its_hash_is_kept(self):
        row = send()
        code = sms_code(MOBILE)
        assert re.fullmatch(r"\d{6}", code)
        sms = Message.objects.get(programme=verification.PROGRAMME)
        assert sms.category == rules.INSTANT and sms.source == f"verification:{row.pk}"
        assert "10分钟内有效" in sms.body and "订阅公示栏短信" in sms.body
        assert code not in row.code_hash and len(row.code_hash) == 64
        assert row.expires_at == DAY + dt.timedelta(minutes=10)
        entry = AuditEntry.objects.get(action="sms_code.send")
        assert code not in entry.object_repr

    def test_a_number_that_opted_out_of_reminders_still_gets_its_code(self):
        OptOut.objects.create(mobile=MOBILE, word="TD")  # as a TD reply leaves it
        send()
        assert Message.objects.get(programme=verification.PROGRAMME).status == rules.QUEUED

    def test_a_bad_mobile_is_refused_in_chinese(self):
        with pytest.raises(ServiceError, match="手机号码") as exc:
            send(mobile="12345")
        assert exc.value.field == "mobile"

    def test_codes_per_mobile_are_limited_per_hour_with_the_wait_in_minutes(self, settings):
        for minute in range(settings.SUNSHINE_SMS_CODES_PER_MOBILE_PER_HOUR):
            send(now=DAY + dt.timedelta(minutes=minute), ip=f"10.0.0.{minute}")
        with pytest.raises(ServiceError, match="获取验证码过于频繁，请58分钟后再试"):
            send(now=DAY + dt.timedelta(minutes=2), ip="10.9.9.9")
        send(now=DAY + dt.timedelta(minutes=61), ip="10.9.9.9")  # the first left the hour

    def test_codes_per_address_are_limited_whatever_the_mobile(self, settings):
        for n in range(settings.SUNSHINE_SMS_CODES_PER_ADDRESS_PER_HOUR):
            send(mobile=f"1380000{n:04d}")
        with pytest.raises(ServiceError, match="获取验证码过于频繁，请60分钟后再试"):
            send(mobile="13900000000")


class TestCodeCheck:
    def test_the_right_code_is_accepted_once(self):
        send()
        code = sms_code(MOBILE)
        check(code)
        with WRONG:
            check(code)

    def test_a_wrong_code_is_refused(self):
        send()
        with WRONG:
            check("000000" if sms_code(MOBILE) != "000000" else "111111")

    def test_an_expired_code_is_refused(self):
        send()
        with WRONG:
            check(sms_code(MOBILE), now=DAY + dt.timedelta(minutes=10))

    def test_a_code_for_another_purpose_or_number_is_refused(self):
        send()
        code = sms_code(MOBILE)
        with WRONG:
            check(code, purpose="board-unsubscribe:980101")
        with WRONG:
            check(code, mobile="13800009999")

    def test_after_the_tries_even_the_right_code_is_refused(self, settings):
        send()
        code = sms_code(MOBILE)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(settings.SUNSHINE_SMS_CODE_TRIES):
            with WRONG:
                check(wrong)
        with WRONG:
            check(code)
        assert VerificationCode.objects.get().tries == settings.SUNSHINE_SMS_CODE_TRIES

    def test_only_the_newest_code_counts(self):
        send()
        old = sms_code(MOBILE)
        send(now=DAY + dt.timedelta(minutes=1))
        new = sms_code(MOBILE)
        if old != new:
            with WRONG:
                check(old, now=DAY + dt.timedelta(minutes=2))
        check(new, now=DAY + dt.timedelta(minutes=2))

    @pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６"])
    def test_malformed_input_is_refused_without_a_500(self, typed):
        send()
        with WRONG:
            check(typed)


class TestSentDuringQuietHours:
    """A verification code must not wait for the morning: the person is waiting for it."""

    def test_at_night_the_code_goes_and_other_messages_wait(self):
        services.message_enqueue(
            programme="precheck", mobile="13900001111", body="请按时检查。", now=NIGHT, due_at=NIGHT
        )
        services.message_enqueue(
            programme="precheck",
            mobile="13900002222",
            body="检查通知",
            category=rules.ESSENTIAL,
            now=NIGHT,
            due_at=NIGHT,
        )
        send(now=NIGHT)
        gateway = RecordingGateway()
        assert services.dispatch_batch(worker="w", now=NIGHT, gateway=gateway) == 1
        assert [o.mobile for o in gateway.sent] == [MOBILE]
        assert Message.objects.get(programme=verification.PROGRAMME).status == rules.SENT
        morning = dt.datetime(2026, 11, 29, 8, 1, tzinfo=SH)
        assert services.dispatch_batch(worker="w", now=morning, gateway=RecordingGateway()) == 2

    def test_a_code_that_could_not_go_within_the_hour_never_goes_at_night(self):
        send(now=NIGHT - dt.timedelta(hours=2))  # 21:30, e.g. the gateway was down since
        late = RecordingGateway()
        assert services.dispatch_batch(worker="w", now=NIGHT, gateway=late) == 0
        assert late.sent == []

    def test_a_code_that_waited_over_an_hour_is_cancelled_not_sent_in_the_morning(self):
        row = send(now=NIGHT)
        # Queued an hour and a half before the claim (the gateway was down all that time).
        Message.objects.filter(source=f"verification:{row.pk}").update(
            created_at=NIGHT - dt.timedelta(minutes=90)
        )
        gateway = RecordingGateway()
        morning = dt.datetime(2026, 11, 29, 8, 1, tzinfo=SH)
        assert services.dispatch_batch(worker="w", now=morning, gateway=gateway) == 0
        assert gateway.sent == []
        sms = Message.objects.get(programme=verification.PROGRAMME)
        assert sms.status == rules.CANCELLED and "已失效" in sms.error

    def test_a_fresh_code_in_the_daytime_goes_with_the_rest(self):
        row = send(now=DAY)
        Message.objects.filter(source=f"verification:{row.pk}").update(created_at=DAY)
        gateway = RecordingGateway()
        assert services.dispatch_batch(worker="w", now=DAY, gateway=gateway) == 1
