"""Jobs of 好孕好运. Each is safe to run twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from sunshine.precheck import followups


# huey checks crontabs in UTC: 22:05 UTC is 06:05 Beijing time, before operators start work.
@db_periodic_task(crontab(hour="22", minute="5"))
@lock_task("precheck-followups-due")
def open_due_followups() -> int:
    """Every day early in the morning (or on demand: `open_due_followups()` enqueues it,
    `open_due_followups.call_local()` runs it here): due follow-ups get their call tasks."""
    return followups.followups_open_due()
