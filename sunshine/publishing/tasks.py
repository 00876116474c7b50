from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from sunshine.publishing import services


@db_periodic_task(crontab(minute="*"))
@lock_task("publishing-due")
def publish_due_items():
    """Every minute: scheduled items whose time has come go live; expired ones are archived."""
    services.items_publish_due()
