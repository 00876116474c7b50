"""Follow-ups and pregnancies (issue 6 item 5): scheduling, call tasks, the outcome form, the
pregnancy campaign enrolment, LMP changes and the end of a pregnancy."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.core.validators import id_check_char
from sunshine.messaging import campaigns, rules
from sunshine.messaging.models import CallTask, Enrolment, Message
from sunshine.precheck import followups
from sunshine.precheck.models import CheckItem, FollowUp, Pregnancy, Registration, Result

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SH)
TODAY = NOW.date()
WOMAN_MOBILE = "13711112222"


def make_registration(place, *, label="随访", consent_sms=True, woman_mobile=WOMAN_MOBILE, **kw):
    n = Registration.objects.count() + 1
    woman, man = f"98010119960202{n:03d}", f"98010119940202{n:03d}"
    data = {
        "number": f"FU{n:05d}",
        "woman_name": f"{label}王芳",
        "woman_id_number": woman + id_check_char(woman),
        "woman_mobile": woman_mobile,
        "man_name": f"{label}李强",
        "man_id_number": man + id_check_char(man),
        "man_mobile": "13633334444",
        "place": place,
        "place_path": place.path,
        "channel": Registration.CLINIC,
        "consent_sms": consent_sms,
        "consent_data": True,
        "status": Registration.ASSESSED,
    }
    return Registration.objects.create(**data | kw)


def campaign_messages(enrolment):
    prefix = f"campaign:{enrolment.campaign_id}:enrolment:{enrolment.pk}:"
    return list(Message.objects.filter(source__startswith=prefix).order_by("due_at", "id"))


@pytest.fixture
def reg(world):
    return make_registration(world.village)


@pytest.fixture
def doctor(world):
    return world.users["clinic_doctor"]


@pytest.fixture
def operator(world):
    return world.users["call_operator"]


def early(reg, due_on=TODAY):
    return followups.followup_schedule(
        actor=None, registration=reg, kind=FollowUp.EARLY, due_on=due_on
    )


class TestSchedule:
    def test_one_open_follow_up_per_kind_and_its_date_moves_until_called(self, reg):
        a = early(reg, TODAY + dt.timedelta(days=5))
        b = early(reg, TODAY + dt.timedelta(days=9))
        assert a.pk == b.pk and FollowUp.objects.filter(registration=reg).count() == 1
        a.refresh_from_db()
        assert a.due_on == TODAY + dt.timedelta(days=9) and a.place_path == reg.place_path
        assert AuditEntry.objects.filter(action="followup.reschedule").count() == 1

    def test_after_assessment_schedules_the_early_follow_up_from_the_setting(self, reg, settings):
        settings.SUNSHINE_PRECHECK_EARLY_FOLLOWUP_DAYS = 30
        f = followups.after_assessment(actor=None, registration=reg, now=NOW)
        assert (f.kind, f.status, f.due_on) == (
            FollowUp.EARLY,
            FollowUp.OPEN,
            TODAY + dt.timedelta(days=30),
        )
        assert AuditEntry.objects.filter(action="followup.schedule", object_id=str(f.pk)).exists()

    def test_after_assessment_does_nothing_for_a_pregnant_couple(self, reg):
        reg.status = Registration.PREGNANT
        assert followups.after_assessment(actor=None, registration=reg, now=NOW) is None
        assert not FollowUp.objects.exists()


class TestOpenDue:
    def test_running_twice_creates_one_call_task(self, reg):
        f = early(reg, TODAY)
        assert followups.followups_open_due(now=NOW) == 1
        assert followups.followups_open_due(now=NOW) == 0
        f.refresh_from_db()
        task = f.call_task
        assert CallTask.objects.count() == 1
        assert (task.reason, task.mobile, task.place_path, task.status) == (
            "早孕随访",
            WOMAN_MOBILE,
            reg.place_path,
            CallTask.OPEN,
        )

    def test_a_follow_up_not_yet_due_gets_no_call_task(self, reg):
        early(reg, TODAY + dt.timedelta(days=1))
        assert followups.followups_open_due(now=NOW) == 0
        assert not CallTask.objects.exists()

    def test_without_the_womans_mobile_the_mans_is_called(self, world):
        reg = make_registration(world.village, woman_mobile="")
        early(reg)
        followups.followups_open_due(now=NOW)
        assert CallTask.objects.get().mobile == "13633334444"

    def test_script_greets_asks_reminds_of_privacy_and_carries_no_result_value(self, reg, doctor):
        for code, value in (("glucose", "7.35"), ("alt", "88.1"), ("syphilis", "阳性")):
            item = CheckItem.objects.filter(code=code).first() or CheckItem.objects.first()
            Result.objects.create(
                registration=reg,
                item=item,
                subject="F",
                place_path=reg.place_path,
                value=value,
                is_abnormal=True,
                entered_by=doctor,
            )
        early(reg)
        followups.followup_schedule(
            actor=None, registration=reg, kind=FollowUp.OUTCOME, due_on=TODAY
        )
        followups.followups_open_due(now=NOW)
        scripts = {t.reason: t.script for t in CallTask.objects.all()}
        early_script, outcome_script = scripts["早孕随访"], scripts["妊娠结局随访"]
        for script in scripts.values():
            assert reg.woman_name in script and "核实身份" in script
            for value in Result.objects.values_list("value", flat=True):
                assert value not in script
        for q in ("是否已经怀孕", "末次月经", "叶酸"):
            assert q in early_script
        for q in ("妊娠结局", "分娩", "母亲和孩子", "产后访视"):
            assert q in outcome_script


class TestRecord:
    def test_not_reached_keeps_the_follow_up_and_its_call_task_open(self, reg, operator):
        f = early(reg)
        followups.followups_open_due(now=NOW)
        f.refresh_from_db()
        followups.followup_record(actor=operator, followup=f, reached=False, notes="关机", now=NOW)
        f.refresh_from_db()
        assert f.status == FollowUp.OPEN and f.reached is False
        assert "未联系上" in f.notes and "关机" in f.notes
        assert f.call_task.status == CallTask.OPEN
        assert AuditEntry.objects.filter(action="followup.attempt").count() == 1

    def test_reached_not_pregnant_is_done_and_asks_again_later(self, reg, operator, settings):
        settings.SUNSHINE_PRECHECK_EARLY_FOLLOWUP_DAYS = 60
        f = early(reg)
        followups.followups_open_due(now=NOW)
        f.refresh_from_db()
        followups.followup_record(actor=operator, followup=f, reached=True, pregnant=False, now=NOW)
        f.refresh_from_db()
        assert (f.status, f.pregnant, f.done_by) == (FollowUp.DONE, False, operator)
        assert f.call_task.status == CallTask.DONE
        assert f.call_task.outcome == followups.TASK_DONE  # no health data on the call desk
        nxt = FollowUp.objects.get(registration=reg, status=FollowUp.OPEN)
        assert nxt.kind == FollowUp.EARLY and nxt.due_on == TODAY + dt.timedelta(days=60)

    def test_reached_not_pregnant_without_again_schedules_nothing(self, reg, operator):
        f = early(reg)
        followups.followup_record(
            actor=operator, followup=f, reached=True, pregnant=False, again=False, now=NOW
        )
        assert not FollowUp.objects.filter(status=FollowUp.OPEN).exists()

    def test_pregnant_enrols_the_woman_in_the_campaign(self, reg, operator):
        f = early(reg)
        lmp = TODAY - dt.timedelta(days=7)
        followups.followup_record(
            actor=operator, followup=f, reached=True, pregnant=True, lmp=lmp, now=NOW
        )
        p = Pregnancy.objects.get(registration=reg)
        assert (p.lmp, p.edd, p.status) == (lmp, lmp + dt.timedelta(days=280), Pregnancy.ONGOING)
        e = p.enrolment
        assert (e.source, e.anchor_date, e.mobile, e.status) == (
            f"precheck:pregnancy:{p.pk}",
            lmp,
            WOMAN_MOBILE,
            Enrolment.ACTIVE,
        )
        msgs = campaign_messages(e)
        assert len(msgs) == 20
        assert all(m.due_at > NOW and m.status == rules.QUEUED for m in msgs)
        assert {m.mobile for m in msgs} == {WOMAN_MOBILE}
        reg.refresh_from_db()
        assert reg.status == Registration.PREGNANT
        outcome = FollowUp.objects.get(registration=reg, status=FollowUp.OPEN)
        assert outcome.kind == FollowUp.OUTCOME
        assert outcome.due_on == p.edd + dt.timedelta(days=14)

    def test_a_late_lmp_follows_the_late_enrolment_rule(self, reg, operator):
        """LMP 60 days ago: events at days 35 and 42 are skipped, day 56 goes out now."""
        f = early(reg)
        followups.followup_record(
            actor=operator,
            followup=f,
            reached=True,
            pregnant=True,
            lmp=TODAY - dt.timedelta(days=60),
            now=NOW,
        )
        msgs = campaign_messages(Pregnancy.objects.get().enrolment)
        assert len(msgs) == 18
        assert msgs[0].due_at == NOW and msgs[0].template.code == "pregnancy-early-care"
        assert all(m.due_at > NOW for m in msgs[1:])
        codes = {m.template.code for m in msgs}
        assert "pregnancy-folic-start" not in codes and "pregnancy-handbook" not in codes

    def test_pregnant_needs_an_lmp(self, reg, operator):
        f = early(reg)
        with pytest.raises(ServiceError) as exc:
            followups.followup_record(
                actor=operator, followup=f, reached=True, pregnant=True, now=NOW
            )
        assert exc.value.field == "lmp" and exc.value.message == "请填写末次月经日期。"
        f.refresh_from_db()
        assert f.status == FollowUp.OPEN and not Pregnancy.objects.exists()

    def test_reached_needs_an_answer(self, reg, operator):
        f = early(reg)
        with pytest.raises(ServiceError, match="请选择是否已怀孕"):
            followups.followup_record(actor=operator, followup=f, reached=True, now=NOW)

    def test_a_follow_up_is_recorded_once(self, reg, operator):
        f = early(reg)
        followups.followup_record(
            actor=operator, followup=f, reached=True, pregnant=False, again=False, now=NOW
        )
        with pytest.raises(ServiceError, match="已经记录过了"):
            followups.followup_record(
                actor=operator, followup=f, reached=True, pregnant=False, now=NOW
            )

    def test_outcome_follow_up_ends_the_pregnancy(self, reg, operator, doctor):
        p = followups.pregnancy_record(
            actor=doctor, registration=reg, lmp=TODAY - dt.timedelta(days=100), now=NOW
        )
        f = FollowUp.objects.get(registration=reg, kind=FollowUp.OUTCOME)
        with pytest.raises(ServiceError, match="请选择妊娠结局"):
            followups.followup_record(actor=operator, followup=f, reached=True, now=NOW)
        followups.followup_record(
            actor=operator,
            followup=f,
            reached=True,
            outcome=FollowUp.MISCARRIAGE,
            outcome_date=TODAY - dt.timedelta(days=3),
            now=NOW,
        )
        p.refresh_from_db()
        f.refresh_from_db()
        assert (p.status, p.outcome) == (Pregnancy.ENDED, FollowUp.MISCARRIAGE)
        assert f.status == FollowUp.DONE and f.outcome == FollowUp.MISCARRIAGE
        assert p.enrolment.status == Enrolment.CLOSED
        assert not [m for m in campaign_messages(p.enrolment) if m.status == rules.QUEUED]


class TestPregnancyRecord:
    @pytest.mark.parametrize(
        "days, message",
        [
            (-1, "末次月经日期不能晚于今天"),
            (301, "末次月经日期在300天以前"),
        ],
    )
    def test_lmp_is_checked(self, reg, doctor, days, message):
        with pytest.raises(ServiceError, match=message) as exc:
            followups.pregnancy_record(
                actor=doctor, registration=reg, lmp=TODAY - dt.timedelta(days=days), now=NOW
            )
        assert exc.value.field == "lmp"
        assert not Pregnancy.objects.exists() and not Enrolment.objects.exists()

    def test_one_ongoing_pregnancy_per_registration(self, reg, doctor):
        followups.pregnancy_record(actor=doctor, registration=reg, lmp=TODAY, now=NOW)
        with pytest.raises(ServiceError, match="已有进行中的孕情"):
            followups.pregnancy_record(actor=doctor, registration=reg, lmp=TODAY, now=NOW)
        assert Pregnancy.objects.count() == 1 and Enrolment.objects.count() == 1

    def test_a_closed_registration_takes_no_pregnancy(self, world, doctor):
        reg = make_registration(world.village, status=Registration.CLOSED)
        with pytest.raises(ServiceError, match="登记已结束"):
            followups.pregnancy_record(actor=doctor, registration=reg, lmp=TODAY, now=NOW)

    def test_no_sms_consent_means_no_enrolment_but_a_call_task(self, world, doctor):
        reg = make_registration(world.village, consent_sms=False)
        p = followups.pregnancy_record(
            actor=doctor, registration=reg, lmp=TODAY - dt.timedelta(days=20), now=NOW
        )
        assert p.enrolment is None and not Enrolment.objects.exists()
        assert not Message.objects.exists()
        task = CallTask.objects.get(reason=followups.NO_SMS_REASON)
        assert task.mobile == WOMAN_MOBILE and task.place_path == reg.place_path
        assert "叶酸" in task.script and reg.woman_name in task.script

    def test_recording_cancels_the_open_early_follow_up_and_its_call(self, reg, doctor):
        f = early(reg)
        followups.followups_open_due(now=NOW)
        followups.pregnancy_record(actor=doctor, registration=reg, lmp=TODAY, now=NOW)
        f.refresh_from_db()
        assert f.status == FollowUp.CANCELLED and f.call_task.status == CallTask.DONE
        assert AuditEntry.objects.filter(action="pregnancy.record", sensitive=True).exists()


class TestLmpChange:
    def test_pending_messages_and_the_outcome_follow_up_move(self, reg, doctor):
        old = TODAY - dt.timedelta(days=10)
        p = followups.pregnancy_record(actor=doctor, registration=reg, lmp=old, now=NOW)
        before = {m.template_id: m.due_at for m in campaign_messages(p.enrolment)}
        new = old + dt.timedelta(days=4)
        followups.pregnancy_lmp_change(actor=doctor, pregnancy=p, lmp=new, now=NOW)
        p.refresh_from_db()
        assert (p.lmp, p.edd) == (new, new + dt.timedelta(days=280))
        after = {m.template_id: m.due_at for m in campaign_messages(p.enrolment)}
        assert len(after) == 20
        assert all(after[k] - before[k] == dt.timedelta(days=4) for k in before)
        assert p.enrolment.anchor_date == new
        outcome = FollowUp.objects.get(registration=reg, kind=FollowUp.OUTCOME)
        assert outcome.due_on == p.edd + dt.timedelta(days=14)

    def test_a_called_outcome_follow_up_is_called_again_on_its_new_day(self, reg, doctor):
        p = followups.pregnancy_record(
            actor=doctor, registration=reg, lmp=TODAY - dt.timedelta(days=290), now=NOW
        )
        # EDD + 14 days: the outcome call is not due; pretend it was made early.
        f = FollowUp.objects.get(kind=FollowUp.OUTCOME)
        later = NOW + dt.timedelta(days=10)
        followups.followups_open_due(now=later)
        f.refresh_from_db()
        assert f.call_task is not None
        followups.pregnancy_lmp_change(
            actor=doctor, pregnancy=p, lmp=TODAY - dt.timedelta(days=200), now=NOW
        )
        f.refresh_from_db()
        assert f.call_task is None
        assert CallTask.objects.get().status == CallTask.DONE

    def test_lmp_change_is_validated(self, reg, doctor):
        p = followups.pregnancy_record(actor=doctor, registration=reg, lmp=TODAY, now=NOW)
        with pytest.raises(ServiceError, match="不能晚于今天"):
            followups.pregnancy_lmp_change(
                actor=doctor, pregnancy=p, lmp=TODAY + dt.timedelta(days=1), now=NOW
            )


class TestEnd:
    def test_miscarriage_cancels_pending_messages_and_closes_follow_ups(self, reg, doctor):
        p = followups.pregnancy_record(
            actor=doctor, registration=reg, lmp=TODAY - dt.timedelta(days=30), now=NOW
        )
        followups.pregnancy_end(
            actor=doctor,
            pregnancy=p,
            outcome=FollowUp.MISCARRIAGE,
            outcome_date=TODAY,
            reason="电话告知",
            now=NOW,
        )
        p.refresh_from_db()
        reg.refresh_from_db()
        assert p.status == Pregnancy.ENDED and p.outcome_date == TODAY
        assert p.enrolment.status == Enrolment.CLOSED
        msgs = campaign_messages(p.enrolment)
        assert msgs and {m.status for m in msgs} == {rules.CANCELLED}
        assert not FollowUp.objects.filter(registration=reg, status=FollowUp.OPEN).exists()
        assert FollowUp.objects.get(kind=FollowUp.OUTCOME).status == FollowUp.CANCELLED
        assert (reg.status, reg.close_reason) == (Registration.CLOSED, "妊娠结局：自然流产")
        # A message claimed by a worker before the end is stopped at send time.
        assert campaigns.campaign_message_is_stale(msgs[0])

    def test_live_birth_keeps_the_postpartum_messages(self, reg, doctor):
        p = followups.pregnancy_record(
            actor=doctor, registration=reg, lmp=TODAY - dt.timedelta(days=275), now=NOW
        )
        followups.pregnancy_end(
            actor=doctor, pregnancy=p, outcome=FollowUp.LIVE_BIRTH, outcome_date=TODAY, now=NOW
        )
        p.refresh_from_db()
        reg.refresh_from_db()
        assert p.enrolment.status == Enrolment.ACTIVE
        queued = [m for m in campaign_messages(p.enrolment) if m.status == rules.QUEUED]
        assert {"pregnancy-home-visit", "pregnancy-check-42"} <= {m.template.code for m in queued}
        assert (reg.status, reg.close_reason) == (Registration.CLOSED, "已分娩")

    def test_an_early_birth_ends_the_prenatal_reminders_and_times_the_rest_from_the_birth(
        self, reg, doctor
    ):
        edd = TODAY + dt.timedelta(days=20)
        p = followups.pregnancy_record(
            actor=doctor, registration=reg, lmp=edd - dt.timedelta(days=280), now=NOW
        )
        waiting = {m.template.code for m in campaign_messages(p.enrolment)}
        assert {"pregnancy-labour-signs", "pregnancy-due-date"} <= waiting
        followups.pregnancy_end(
            actor=doctor, pregnancy=p, outcome=FollowUp.LIVE_BIRTH, outcome_date=TODAY, now=NOW
        )

        def by_code():
            return {m.template.code: m for m in campaign_messages(p.enrolment)}

        msgs = by_code()
        for code in ("pregnancy-labour-signs", "pregnancy-due-date"):
            assert msgs[code].status == rules.CANCELLED, code
        visit = msgs["pregnancy-home-visit"]
        assert visit.status == rules.QUEUED
        local = timezone.localtime(visit.due_at)
        assert (local.date(), local.hour) == (TODAY + dt.timedelta(days=7), 10)
        e = Enrolment.objects.get(pk=p.enrolment_id)
        assert e.anchor_date == TODAY - dt.timedelta(days=280) and e.done_through == 280
        # A later re-plan (a corrected birth date) never brings a prenatal reminder back.
        campaigns.anchor_change(
            actor=doctor, enrolment=e, anchor_date=e.anchor_date - dt.timedelta(days=1), now=NOW
        )
        msgs = by_code()
        assert msgs["pregnancy-due-date"].status == rules.CANCELLED
        assert not Message.objects.filter(
            source__startswith=f"campaign:{e.campaign_id}:enrolment:{e.pk}:",
            template__code="pregnancy-due-date",
            status=rules.QUEUED,
        ).exists()
        assert timezone.localtime(msgs["pregnancy-home-visit"].due_at).date() == TODAY + (
            dt.timedelta(days=6)
        )

    @pytest.mark.parametrize(
        "outcome, days, message",
        [
            ("", 0, "请选择妊娠结局"),
            ("boy", 0, "请选择妊娠结局"),
            ("live", -1, "结局日期不能晚于今天"),
            ("live", 40, "结局日期不能早于末次月经日期"),
        ],
    )
    def test_end_is_validated(self, reg, doctor, outcome, days, message):
        p = followups.pregnancy_record(
            actor=doctor, registration=reg, lmp=TODAY - dt.timedelta(days=30), now=NOW
        )
        with pytest.raises(ServiceError, match=message):
            followups.pregnancy_end(
                actor=doctor,
                pregnancy=p,
                outcome=outcome,
                outcome_date=TODAY - dt.timedelta(days=days),
                now=NOW,
            )
        p.refresh_from_db()
        assert p.status == Pregnancy.ONGOING

    def test_an_ended_pregnancy_cannot_end_twice(self, reg, doctor):
        p = followups.pregnancy_record(actor=doctor, registration=reg, lmp=TODAY, now=NOW)
        followups.pregnancy_end(
            actor=doctor, pregnancy=p, outcome=FollowUp.OTHER, outcome_date=TODAY, now=NOW
        )
        with pytest.raises(ServiceError, match="已经结束"):
            followups.pregnancy_end(
                actor=doctor, pregnancy=p, outcome=FollowUp.OTHER, outcome_date=TODAY, now=NOW
            )


def test_now_defaults_to_the_clock(reg):
    f = early(reg, timezone.localdate())
    assert followups.followups_open_due() == 1
    f.refresh_from_db()
    assert f.call_task_id
