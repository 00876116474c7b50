import datetime as dt
import random
import string
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sunshine.messaging import rules

SH = ZoneInfo("Asia/Shanghai")


class TestSegments:
    @pytest.mark.parametrize(
        "n,expected", [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (160, 3), (201, 3), (202, 4)]
    )
    def test_boundaries_without_signature(self, n, expected):
        assert rules.segments("字" * n) == expected

    @pytest.mark.parametrize("body_len,expected", [(64, 1), (65, 2), (128, 2), (129, 3)])
    def test_the_signature_counts_with_its_brackets(self, body_len, expected):
        # 【阳光计生】 is 6 characters: 64 + 6 = 70 is one message, 65 + 6 = 71 is two.
        assert rules.segments("a" * body_len, "阳光计生") == expected

    def test_mixed_chinese_latin_digits_and_punctuation_each_count_one(self):
        text = "您好Zhang，3月7日9:00到卫生院检查。回复1确认"
        assert rules.length(text) == len(text) == 28
        assert rules.length(text, "【阳光计生】") == 34

    def test_cost_is_per_segment(self):
        assert rules.cost("字" * 71, "", Decimal("0.06")) == Decimal("0.12")


class TestQuietHours:
    start, end = dt.time(21), dt.time(8)

    @pytest.mark.parametrize(
        "hhmm,quiet",
        [
            ("20:59", False),
            ("21:00", True),
            ("23:30", True),
            ("00:10", True),
            ("07:59", True),
            ("08:00", False),
            ("12:00", False),
        ],
    )
    def test_window_across_midnight(self, hhmm, quiet):
        h, m = map(int, hhmm.split(":"))
        assert (
            rules.in_quiet_hours(dt.datetime(2026, 11, 28, h, m, tzinfo=SH), self.start, self.end)
            is quiet
        )

    def test_a_message_due_at_night_waits_until_eight_next_morning(self):
        due = dt.datetime(2026, 11, 28, 22, 15, tzinfo=SH)
        assert rules.next_send_time(due, self.start, self.end) == dt.datetime(
            2026, 11, 29, 8, 0, tzinfo=SH
        )

    def test_a_message_due_after_midnight_waits_until_eight_the_same_day(self):
        due = dt.datetime(2026, 11, 29, 3, 0, tzinfo=SH)
        assert rules.next_send_time(due, self.start, self.end) == dt.datetime(
            2026, 11, 29, 8, 0, tzinfo=SH
        )

    def test_a_window_within_one_day(self):
        assert rules.in_quiet_hours(
            dt.datetime(2026, 1, 1, 12, 30, tzinfo=SH), dt.time(12), dt.time(13, 30)
        )
        assert not rules.in_quiet_hours(
            dt.datetime(2026, 1, 1, 13, 30, tzinfo=SH), dt.time(12), dt.time(13, 30)
        )


class TestTemplates:
    def test_parameters_are_read_from_the_body(self):
        assert rules.template_params("{name}您好，请于{date}到{place}检查，{name}") == [
            "name",
            "date",
            "place",
        ]

    def test_a_missing_parameter_is_named(self):
        with pytest.raises(KeyError, match="date"):
            rules.render("{name}您好，请于{date}检查", {"name": "张三"})

    def test_unbalanced_braces_are_refused(self):
        with pytest.raises(ValueError, match="大括号"):
            rules.template_params("{name您好")

    def test_render(self):
        assert rules.render("{name}您好", {"name": "李四"}) == "李四您好"


class TestReplies:
    @pytest.mark.parametrize(
        "text,intent",
        [
            ("TD", "optout"),
            ("td", "optout"),
            ("退订", "optout"),
            (" R ", "optout"),
            ("订阅", "optin"),
            ("1", "answer"),
            ("12", "answer"),
            ("123", "text"),
            ("请问什么时候检查", "text"),
            ("YY 名单有误", "objection"),
            ("yy：名单有误", "objection"),
            ("异议，名单有误", "objection"),
            ("对名单有异议", "text"),
        ],
    )
    def test_intent(self, text, intent):
        assert rules.reply_intent(text)[0] == intent

    def test_an_objection_keeps_only_its_text(self):
        assert rules.reply_intent("YY： a3f09b12c4 名单有误 ") == (
            "objection",
            "a3f09b12c4 名单有误",
        )


class TestBackoffAndLateEnrolment:
    def test_backoff_doubles_and_is_capped(self):
        assert [rules.retry_delay(n).total_seconds() for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]

    def test_late_enrolment_sends_only_the_latest_past_event(self):
        now = dt.datetime(2026, 6, 1, tzinfo=SH)
        due = [
            (1, now - dt.timedelta(days=30)),
            (2, now - dt.timedelta(days=3)),
            (3, now + dt.timedelta(days=5)),
        ]
        assert rules.late_enrolment_plan(due, now) == ([1], 2)

    def test_nothing_past_means_nothing_skipped(self):
        now = dt.datetime(2026, 6, 1, tzinfo=SH)
        assert rules.late_enrolment_plan([(1, now + dt.timedelta(days=1))], now) == ([], None)


class TestTemplateParameterNames:
    @pytest.mark.parametrize("body", ["{0}您好", "{1x}您好", "{}您好"])
    def test_positional_or_numeric_parameters_are_refused_at_save_time(self, body):
        with pytest.raises(ValueError, match="写法不对"):
            rules.template_params(body)


class TestCallbackToken:
    @pytest.mark.parametrize(
        "token",
        [
            "",
            "local",
            "x" * 31 + "Z",  # few distinct characters
            "short-but-random-9f3K",
            "abcdefghijklmnopqrstuvwxyz0123456789",  # a run
            "changeme-changeme-changeme-changeme",  # a repeated piece
            "Qm9kZSBpcyBub3QgYSBzZWNyZXQgYnV0/IHRoaXMgaXM",  # "/" does not fit a URL path
            "令牌令牌令牌令牌令牌令牌令牌令牌令牌令牌令牌令牌令牌令牌令牌令牌",
        ],
    )
    def test_weak_tokens_are_named(self, token):
        assert rules.callback_token_problem(token)

    def test_random_tokens_pass(self):
        rng = random.Random(15)  # fixed: the test must not depend on luck
        urlsafe = string.ascii_letters + string.digits + "-_"
        for _ in range(500):
            assert rules.callback_token_problem("".join(rng.choices(urlsafe, k=43))) == ""
            assert (
                rules.callback_token_problem("".join(rng.choices("0123456789abcdef", k=32))) == ""
            )
