import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry, Job
from sunshine.messaging import campaigns, rules, seeds, services
from sunshine.messaging.models import Attempt, CallTask, Campaign, Enrolment, Message
from sunshine.messaging.testing import RecordingGateway

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ANCHOR = dt.date(2026, 12, 1)
BEFORE = dt.datetime(2026, 11, 1, 10, 0, tzinfo=SH)  # a month before the anchor
OFFSETS = (-7, 0, 10, 20)


def at(day: dt.date, hh: int = 9, mm: int = 30) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), SH)


def day(offset: int, anchor: dt.date = ANCHOR) -> dt.date:
    return anchor + dt.timedelta(days=offset)


@pytest.fixture
def campaign(db):
    c = campaigns.campaign_create(
        actor=None, code="test", name="测试计划", anchor_label="检查日期", programme="precheck"
    )
    for i, offset in enumerate(OFFSETS):
        t = services.template_save(
            actor=None, code=f"t{i}", name=f"第{i}条", body=f"{{name}}您好，第{i}条，{{date}}"
        )
        campaigns.campaign_event_add(
            actor=None, campaign=c, offset_days=offset, send_time=dt.time(9, 30), template=t
        )
    c.refresh_from_db()
    return c


def enrol(campaign, *, anchor=ANCHOR, now=BEFORE, mobile="13800001234", **kw):
    defaults = {"name": "张三", "source": ""}
    return campaigns.enrol(
        actor=None, campaign=campaign, anchor_date=anchor, mobile=mobile, now=now, **defaults | kw
    )


def messages(enrolment, **filters):
    prefix = f"campaign:{enrolment.campaign_id}:enrolment:{enrolment.pk}:"
    return list(
        Message.objects.filter(source__startswith=prefix, **filters).order_by("due_at", "id")
    )


def dispatch(now, gateway=None):
    gateway = gateway or RecordingGateway()
    services.dispatch_batch(worker="w", now=now, gateway=gateway)
    return [o.text for o in gateway.sent]


class TestEnrol:
    def test_enrolment_writes_every_future_event_at_its_local_time(self, world, campaign):
        resident = world.residents["own2"]
        e = campaigns.enrol(
            actor=None, campaign=campaign, anchor_date=ANCHOR, resident=resident, now=BEFORE
        )
        got = messages(e)
        assert [m.due_at for m in got] == [at(day(o)) for o in OFFSETS]
        assert got[0].due_at.astimezone(dt.UTC).hour == 1  # 09:30 Beijing is 01:30 UTC
        assert {m.status for m in got} == {rules.QUEUED}
        assert {(m.mobile, m.resident_id, m.place_path) for m in got} == {
            (resident.mobile, resident.pk, resident.place_path)
        }
        assert got[2].params == {"name": resident.name, "date": "12月11日"}
        assert {m.fire_version for m in got} == {campaign.version}
        assert {m.programme for m in got} == {"precheck"}
        assert len({m.out_id for m in got}) == 4 and all(len(m.out_id) == 32 for m in got)
        assert e.place_path == resident.place_path and e.campaign_version == campaign.version

    def test_late_enrolment_skips_past_events_but_sends_the_latest_now(self, campaign):
        now = at(day(15), 10, 0)
        e = enrol(campaign, now=now)
        got = messages(e)
        assert [(m.template.code, m.due_at) for m in got] == [("t2", now), ("t3", at(day(20)))]
        assert dispatch(now) == ["张三您好，第2条，12月11日"]  # one, not a burst of three

    def test_an_enrolment_after_every_event_still_gets_only_the_latest(self, campaign):
        now = at(day(40), 10, 0)
        e = enrol(campaign, now=now)
        assert [m.template.code for m in messages(e)] == ["t3"]

    def test_text_is_rendered_at_send_time_so_an_edited_template_reaches_waiting_messages(
        self, campaign
    ):
        enrol(campaign)
        services.template_save(actor=None, code="t0", name="第0条", body="{name}您好，改过的通知")
        assert dispatch(at(day(-7), 9, 31)) == ["张三您好，改过的通知"]

    def test_a_person_without_a_mobile_gets_one_call_task_listing_the_schedule(
        self, world, campaign
    ):
        resident = world.residents["own2"]
        resident.mobile = ""  # as registered without a number
        e = campaigns.enrol(
            actor=None, campaign=campaign, anchor_date=ANCHOR, resident=resident, now=BEFORE
        )
        assert Enrolment.objects.filter(pk=e.pk, mobile="").exists()
        assert messages(e) == []
        task = CallTask.objects.get()
        assert task.resident_id == resident.pk and task.reason.startswith("没有手机号码")
        assert task.script.count("您好，第") == 4 and "12-21" in task.script

    def test_names_with_quotes_tabs_and_backslashes_survive_the_bulk_write(self, campaign):
        name = '王"小\\\t红'
        e = enrol(campaign, name=name)
        assert Enrolment.objects.get(pk=e.pk).name == name
        assert {m.params["name"] for m in messages(e)} == {name}

    def test_an_enrolment_is_audited_once(self, campaign):
        e = enrol(campaign)
        entries = AuditEntry.objects.filter(action__startswith="campaign.enrol")
        assert [(a.action, a.object_id) for a in entries] == [("campaign.enrol", str(e.pk))]

    def test_an_invalid_mobile_is_a_call_task_that_says_so(self, campaign):
        e = enrol(campaign, mobile="12345")
        assert messages(e) == [] and "无效" in CallTask.objects.get().reason

    def test_a_mobile_given_later_schedules_the_rest(self, world, campaign):
        resident = world.residents["own2"]
        resident.mobile = ""
        e = campaigns.enrol(
            actor=None, campaign=campaign, anchor_date=ANCHOR, resident=resident, now=BEFORE
        )
        campaigns.enrolment_mobile_set(
            actor=None, enrolment=e, mobile="13700001111", now=at(day(5), 12)
        )
        assert [(m.template.code, m.mobile) for m in messages(e)] == [
            ("t1", "13700001111"),  # the latest past one, now
            ("t2", "13700001111"),
            ("t3", "13700001111"),
        ]

    def test_a_new_number_gets_the_rest_and_nothing_sent_to_the_old_one_again(
        self, world, campaign
    ):
        resident = world.residents["own2"]
        e = campaigns.enrol(
            actor=None, campaign=campaign, anchor_date=ANCHOR, resident=resident, now=BEFORE
        )
        dispatch(at(day(0), 9, 31))  # t0 and t1 reach the old number
        campaigns.enrolment_mobile_set(
            actor=None, enrolment=e, mobile="13700001111", now=at(day(5), 12)
        )
        assert [(m.template.code, m.mobile) for m in messages(e, status=rules.QUEUED)] == [
            ("t2", "13700001111"),
            ("t3", "13700001111"),
        ]
        assert len(messages(e, mobile=resident.mobile, status=rules.CANCELLED)) == 2

    def test_the_bulk_writers_fill_every_column(self):
        # A column added to the outbox or to enrolments must be added to the bulk writers.
        for model, columns in (
            (Message, campaigns._MESSAGE_COLUMNS),
            (Enrolment, campaigns._ENROLMENT_COLUMNS),
        ):
            names = {f.name for f in model._meta.concrete_fields}
            assert names - {"id"} <= set(columns) <= names, model

    def test_the_same_source_is_enrolled_once(self, campaign):
        enrol(campaign, source="precheck:couple:12")
        with pytest.raises(ServiceError, match="已在短信计划"):
            enrol(campaign, source="precheck:couple:12")
        row = campaigns.EnrolmentRow(
            anchor_date=ANCHOR, name="张三", mobile="13800001234", source="precheck:couple:12"
        )
        again = campaigns.enrol_many(actor=None, campaign=campaign, rows=[row], now=BEFORE)
        assert (again.enrolled, again.already, again.messages) == (0, 1, 0)
        assert Message.objects.count() == 4

    def test_the_source_finds_the_enrolment_again(self, campaign):
        e = enrol(campaign, source="precheck:couple:12")
        assert campaigns.enrolment_for_source(campaign=campaign, source="precheck:couple:12") == e

    def test_an_inactive_campaign_takes_nobody(self, campaign):
        Campaign.objects.filter(pk=campaign.pk).update(is_active=False)
        with pytest.raises(ServiceError, match="已停用"):
            enrol(campaign)

    def test_a_row_without_a_name_is_refused_with_its_number(self, campaign):
        rows = [
            campaigns.EnrolmentRow(anchor_date=ANCHOR, name="甲", mobile="13800001234"),
            campaigns.EnrolmentRow(anchor_date=ANCHOR, name=" ", mobile="13800001235"),
        ]
        with pytest.raises(ServiceError, match="第2人"):
            campaigns.enrol_many(actor=None, campaign=campaign, rows=rows, now=BEFORE)
        assert Enrolment.objects.count() == 0  # all or nothing

    def test_enrolling_100_people_takes_a_bounded_number_of_queries(
        self, world, campaign, django_assert_max_num_queries
    ):
        rows = [
            campaigns.EnrolmentRow(
                anchor_date=ANCHOR + dt.timedelta(days=i % 9),
                name=f"居民{i}",
                mobile=f"138{i:08d}",
                place=world.village,
                source=f"bench:{i}",
            )
            for i in range(100)
        ]
        with django_assert_max_num_queries(15):
            result = campaigns.enrol_many(actor=None, campaign=campaign, rows=rows, now=BEFORE)
        assert (result.enrolled, result.messages) == (100, 400)
        assert Message.objects.filter(place_path=world.village.path).count() == 400


class TestAnchorChange:
    def test_only_waiting_messages_move_and_sent_ones_stay(self, campaign):
        e = enrol(campaign)
        first_send = at(day(-7), 9, 31)
        assert dispatch(first_send) == ["张三您好，第0条，11月24日"]
        sent = messages(e, status=rules.SENT)[0]
        waiting = {m.template.code: m.out_id for m in messages(e, status=rules.QUEUED)}
        campaigns.anchor_change(
            actor=None, enrolment=e, anchor_date=day(7), now=first_send + dt.timedelta(hours=1)
        )
        new_anchor = day(7)
        assert Message.objects.get(pk=sent.pk).due_at == sent.due_at  # sent: untouched
        got = messages(e, status=rules.QUEUED)
        assert [(m.template.code, m.due_at) for m in got] == [
            ("t1", at(new_anchor)),
            ("t2", at(day(10, new_anchor))),
            ("t3", at(day(20, new_anchor))),
        ]
        assert {m.template.code: m.out_id for m in got} == waiting  # moved, not recreated
        assert got[1].params["date"] == "12月18日"

    def test_events_the_new_date_puts_in_the_past_follow_the_late_rule(self, campaign):
        e = enrol(campaign)
        now = at(day(3), 12)
        campaigns.anchor_change(actor=None, enrolment=e, anchor_date=day(-15), now=now)
        # New dates: t0 11-09, t1 11-16, t2 11-26 (past), t3 12-06: t2 now, t0 and t1 skipped.
        assert [(m.template.code, m.due_at) for m in messages(e, status=rules.QUEUED)] == [
            ("t2", now),
            ("t3", at(day(5))),
        ]
        cancelled = messages(e, status=rules.CANCELLED)
        assert [m.template.code for m in cancelled] == ["t0", "t1"]
        assert Attempt.objects.filter(message__in=cancelled, event="cancelled").count() == 2

    def test_an_event_is_never_sent_twice_when_the_date_moves_later(self, campaign):
        e = enrol(campaign)
        dispatch(at(day(0), 9, 31))  # t0 and t1 sent
        campaigns.anchor_change(actor=None, enrolment=e, anchor_date=day(30), now=at(day(0), 12))
        assert [m.template.code for m in messages(e, status=rules.QUEUED)] == ["t2", "t3"]


class TestMessagesKnowTheirEnrolment:
    def test_every_message_carries_its_enrolment_and_a_move_finds_them_by_it(self, campaign):
        e = enrol(campaign)
        other = enrol(campaign, mobile="13800001234", name="李四")  # same number, other person
        assert {m.enrolment_id for m in messages(e)} == {e.pk}
        before = [m.due_at for m in messages(other)]
        campaigns.anchor_change(actor=None, enrolment=e, anchor_date=day(7), now=BEFORE)
        assert [m.due_at for m in messages(other)] == before  # not moved with it
        assert messages(e, status=rules.QUEUED)[1].due_at == at(day(7))

    def test_the_migration_links_messages_written_before_the_column(self, campaign):
        from importlib import import_module
        from types import SimpleNamespace

        from django.apps import apps
        from django.db import connection

        step = import_module(
            "sunshine.messaging.migrations.0009_outbox_enrolment_no_db_constraints"
        )
        e = enrol(campaign)
        Message.objects.filter(enrolment=e).update(enrolment=None)
        plain = services.message_enqueue(programme="x", mobile="13800001234", body="你好")
        odd = services.message_enqueue(
            programme="x",
            mobile="13800001234",
            body="你好",
            source="campaign:1:enrolment:x:event:2",
        )
        step.link_enrolments(apps, SimpleNamespace(connection=connection))
        assert {m.enrolment_id for m in messages(e)} == {e.pk} and len(messages(e)) == 4
        plain.refresh_from_db()
        odd.refresh_from_db()
        assert plain.enrolment_id is None and odd.enrolment_id is None


class TestSendQueue:
    """A campaign message joins the send queue (its `ready` flag) SUNSHINE_SMS_READY_HOURS
    (48) before it is due; until then its enrolment's next_ready_at stands for it."""

    def ready(self, e):
        return [(m.template.code, m.ready) for m in messages(e)]

    def test_only_messages_due_within_two_days_are_queued_at_enrolment(self, campaign):
        e = enrol(campaign, now=at(day(-8), 10))  # t0 (day -7, 09:30) is 47.5 hours away
        assert self.ready(e) == [("t0", True), ("t1", False), ("t2", False), ("t3", False)]
        e.refresh_from_db()
        assert e.next_ready_at == at(day(0))

    def test_messages_join_the_queue_two_days_ahead_and_are_sent_on_time(self, campaign):
        e = enrol(campaign)  # a month ahead: nothing queued yet
        assert self.ready(e) == [("t0", False), ("t1", False), ("t2", False), ("t3", False)]
        assert campaigns.messages_make_ready(now=at(day(-9), 9, 29)) == 0
        assert campaigns.messages_make_ready(now=at(day(-9), 9, 30)) == 1  # t0, 48 h ahead
        e.refresh_from_db()
        assert e.next_ready_at == at(day(0))
        # Each dispatch round makes ready what has come within 48 hours, then claims.
        assert dispatch(at(day(0), 9, 31)) == [
            "张三您好，第0条，11月24日",
            "张三您好，第1条，12月1日",
        ]
        assert self.ready(e) == [("t0", True), ("t1", True), ("t2", False), ("t3", False)]
        e.refresh_from_db()
        assert e.next_ready_at == at(day(10))
        assert dispatch(at(day(20), 9, 31)) == [
            "张三您好，第2条，12月11日",
            "张三您好，第3条，12月21日",
        ]
        e.refresh_from_db()
        assert e.next_ready_at is None

    def test_a_not_yet_queued_message_is_never_claimed(self, campaign):
        e = enrol(campaign)
        Message.objects.filter(enrolment=e).update(due_at=BEFORE)  # due, but not queued
        Enrolment.objects.filter(pk=e.pk).update(next_ready_at=None)
        assert services.messages_claim(worker="w", now=at(day(-7), 10)) == []

    def test_a_move_closer_queues_the_message_at_once(self, campaign):
        e = enrol(campaign)
        campaigns.anchor_change(actor=None, enrolment=e, anchor_date=day(-5), now=at(day(-8)))
        # New dates: t0 day -12 (past: skipped), t1 day -5 (in 72 h), t2 day 5, t3 day 15.
        assert [(c, r) for c, r in self.ready(e) if c != "t0"] == [
            ("t1", False),
            ("t2", False),
            ("t3", False),
        ]
        campaigns.anchor_change(actor=None, enrolment=e, anchor_date=day(-7), now=at(day(-8)))
        queued = {m.template.code: m.ready for m in messages(e, status=rules.QUEUED)}
        assert queued["t1"] is True  # day -7, 09:30: within 48 hours of the change
        e.refresh_from_db()
        assert e.next_ready_at == at(day(3))


class TestClose:
    def test_close_cancels_waiting_messages_and_keeps_sent_ones(self, campaign):
        e = enrol(campaign)
        dispatch(at(day(-7), 9, 31))
        campaigns.enrolment_close(actor=None, enrolment=e, reason="妊娠已结束", now=at(day(-7), 12))
        assert [m.status for m in messages(e)] == [rules.SENT] + [rules.CANCELLED] * 3
        for m in messages(e, status=rules.CANCELLED):
            assert [a.event for a in m.history.all()] == ["cancelled"]
        assert dispatch(at(day(30))) == []
        e.refresh_from_db()
        assert e.status == Enrolment.CLOSED and e.close_reason == "妊娠已结束"

    def test_a_closed_enrolment_cannot_be_changed(self, campaign):
        e = enrol(campaign)
        campaigns.enrolment_close(actor=None, enrolment=e, reason="迁出")
        with pytest.raises(ServiceError, match="已结束"):
            campaigns.anchor_change(actor=None, enrolment=e, anchor_date=day(3))

    def test_a_message_a_worker_already_claimed_is_not_sent_after_the_close(self, campaign):
        e = enrol(campaign)
        due = at(day(-7), 9, 31)
        assert len(services.messages_claim(worker="dead", now=due)) == 1
        campaigns.enrolment_close(actor=None, enrolment=e, reason="妊娠已结束", now=due)
        assert dispatch(due + dt.timedelta(minutes=5)) == []  # the lease ran out: reclaimed
        assert messages(e)[0].status == rules.CANCELLED


class TestVersions:
    def test_a_changed_schedule_drops_old_waiting_messages_and_applies_the_new_one(self, campaign):
        e = enrol(campaign)
        old = {m.template.code: m for m in messages(e)}
        event = campaign.events.get(offset_days=10)
        campaigns.campaign_event_update(actor=None, event=event, offset_days=12)
        campaign.refresh_from_db()
        assert campaign.version == 6  # 1 + four events added + this change
        campaigns.campaign_reschedule(campaign_id=campaign.pk, now=BEFORE)

        got = messages(e, status=rules.QUEUED)
        assert [(m.template.code, m.due_at) for m in got] == [
            ("t0", at(day(-7))),
            ("t1", at(day(0))),
            ("t2", at(day(12))),
            ("t3", at(day(20))),
        ]
        assert {m.fire_version for m in got} == {6}
        assert [m.out_id for m in got] == [old[k].out_id for k in ("t0", "t1", "t2", "t3")]
        assert [a.event for a in got[2].history.all()] == ["moved"]  # the change is on record
        assert sorted(dispatch(at(day(10), 9, 31))) == [
            "张三您好，第0条，11月24日",
            "张三您好，第1条，12月1日",
        ]  # nothing of the moved event at its old time
        assert dispatch(at(day(12), 9, 31)) == ["张三您好，第2条，12月13日"]
        e.refresh_from_db()
        assert e.campaign_version == 6

    def test_a_removed_event_is_not_sent_and_an_added_past_event_is_not_sent_late(self, campaign):
        e = enrol(campaign)
        dispatch(at(day(0), 9, 31))  # t0, t1 sent
        campaigns.campaign_event_remove(actor=None, event=campaign.events.get(offset_days=20))
        t = services.template_save(actor=None, code="new", name="新", body="{name}您好，新的")
        campaigns.campaign_event_add(
            actor=None, campaign=campaign, offset_days=-3, send_time=dt.time(10), template=t
        )
        campaigns.campaign_reschedule(campaign_id=campaign.pk, now=at(day(1)))
        assert [m.template.code for m in messages(e, status=rules.QUEUED)] == ["t2"]

    def test_an_event_change_starts_a_reschedule_job(
        self, campaign, django_capture_on_commit_callbacks
    ):
        e = enrol(campaign)
        with django_capture_on_commit_callbacks(execute=True):
            campaigns.campaign_event_update(
                actor=None, event=campaign.events.get(offset_days=20), send_time=dt.time(15)
            )
        job = Job.objects.get(kind=campaigns.RESCHEDULE_JOB)
        assert job.status == Job.SUCCEEDED, job.message
        e.refresh_from_db()
        assert e.campaign_version == campaign.version == 6
        assert messages(e)[-1].due_at == at(day(20), 15, 0)

    def test_reordering_alone_changes_no_version(self, campaign):
        event = campaign.events.get(offset_days=20)
        campaigns.campaign_event_update(actor=None, event=event, position=9)
        campaign.refresh_from_db()
        assert campaign.version == 5

    def test_a_reschedule_run_twice_changes_nothing_the_second_time(self, campaign):
        enrol(campaign)
        campaigns.campaign_event_update(
            actor=None, event=campaign.events.get(offset_days=20), offset_days=21
        )
        first = campaigns.campaign_reschedule(campaign_id=campaign.pk, now=BEFORE)
        second = campaigns.campaign_reschedule(campaign_id=campaign.pk, now=BEFORE)
        assert first["enrolments"] == 1 and second["enrolments"] == 0
        assert Message.objects.filter(status=rules.QUEUED).count() == 4

    def test_the_hook_knows_stale_and_current_messages(self, campaign):
        e = enrol(campaign)
        m = messages(e)[0]
        other = services.message_enqueue(
            programme="precheck", mobile="13800001234", body="其他短信", now=BEFORE
        )
        assert not campaigns.campaign_message_is_stale(other)
        assert not campaigns.campaign_message_is_stale(m)
        Enrolment.objects.filter(pk=e.pk).update(campaign_version=e.campaign_version + 1)
        assert campaigns.campaign_message_is_stale(m)

    def test_a_message_of_an_older_version_is_cancelled_at_send_time_not_sent(self, campaign):
        e = enrol(campaign)
        # As left by a worker that claimed it just before a re-plan committed.
        Enrolment.objects.filter(pk=e.pk).update(campaign_version=e.campaign_version + 1)
        assert dispatch(at(day(-7), 9, 31)) == []
        assert messages(e)[0].status == rules.CANCELLED

    def test_a_template_with_other_parameters_is_refused(self, campaign):
        t = services.template_save(actor=None, code="x", name="x", body="{name}，{place}见")
        with pytest.raises(ServiceError, match="place"):
            campaigns.campaign_event_add(
                actor=None, campaign=campaign, offset_days=1, send_time=dt.time(9), template=t
            )

    def test_a_send_time_in_quiet_hours_is_refused(self, campaign):
        t = services.template_save(actor=None, code="x", name="x", body="{name}您好")
        with pytest.raises(ServiceError, match="免打扰"):
            campaigns.campaign_event_add(
                actor=None, campaign=campaign, offset_days=1, send_time=dt.time(22), template=t
            )


class TestPregnancySeed:
    def test_about_twenty_events_from_the_lmp_through_the_42_day_check(self):
        c = seeds.pregnancy_campaign_seed()
        assert seeds.pregnancy_campaign_seed() == c  # a second call adds nothing
        events = list(c.events.select_related("template").order_by("offset_days"))
        assert len(events) == 20 and c.anchor_label == "末次月经日期"
        first_visit = next(e for e in events if e.template.code == "pregnancy-handbook")
        assert first_visit.date_offset_days < 13 * 7  # before 13 weeks
        assert events[-1].date_offset_days == 280 + 42

    def test_every_text_is_one_billed_notification_without_marketing(self, settings):
        c = seeds.pregnancy_campaign_seed()
        for e in c.events.select_related("template"):
            text = rules.render(e.template.body, {"name": "欧阳小红", "date": "12月31日"})
            assert rules.length(text, settings.SUNSHINE_SMS_SIGNATURE) <= 67, text
            assert "回复" not in text and "优惠" not in text
            assert not rules.in_quiet_hours(
                dt.datetime.combine(ANCHOR, e.send_time), dt.time(21), dt.time(8)
            )

    def test_a_woman_enrolled_at_eight_weeks_gets_the_rest_and_one_late_notice(self):
        c = seeds.pregnancy_campaign_seed()
        lmp = dt.date(2026, 9, 1)
        now = dt.datetime.combine(lmp + dt.timedelta(weeks=8, days=1), dt.time(11), SH)
        e = campaigns.enrol(
            actor=None, campaign=c, anchor_date=lmp, name="李四", mobile="13800001234", now=now
        )
        got = messages(e)
        assert len(got) == 18  # the 8-week notice now; weeks 5 and 6 skipped
        assert got[0].due_at == now and got[0].template.code == "pregnancy-early-care"
