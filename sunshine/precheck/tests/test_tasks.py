"""The daily job that opens due follow-ups as operator call tasks."""

import datetime as dt

import pytest
from django.utils import timezone

from sunshine.messaging.models import CallTask
from sunshine.precheck import followups, tasks
from sunshine.precheck.models import FollowUp
from sunshine.precheck.tests.test_followups import make_registration

pytestmark = pytest.mark.django_db


def test_the_job_opens_due_follow_ups_once(world):
    reg = make_registration(world.village)
    f = followups.followup_schedule(
        actor=None, registration=reg, kind=FollowUp.EARLY, due_on=timezone.localdate()
    )
    assert tasks.open_due_followups.call_local() == 1
    tasks.open_due_followups()  # enqueued; HUEY is immediate under tests
    f.refresh_from_db()
    assert f.call_task is not None and CallTask.objects.count() == 1


def test_the_job_leaves_follow_ups_not_yet_due(world):
    reg = make_registration(world.village)
    followups.followup_schedule(
        actor=None,
        registration=reg,
        kind=FollowUp.EARLY,
        due_on=timezone.localdate() + dt.timedelta(days=1),
    )
    assert tasks.open_due_followups.call_local() == 0


def test_the_job_runs_once_a_day_early_in_the_morning_beijing_time():
    from huey.contrib.djhuey import HUEY

    # huey matches crontabs against UTC (HUEY.utc): 22:05 UTC is 06:05 in Beijing.
    assert HUEY.utc
    task = tasks.open_due_followups.s()
    day = dt.datetime(2026, 6, 1)
    runs = [
        (h, m)
        for h in range(24)
        for m in range(60)
        if task.validate_datetime(day.replace(hour=h, minute=m))
    ]
    assert runs == [(22, 5)]
