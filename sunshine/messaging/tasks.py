import os
import socket

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from sunshine.messaging import services


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@db_task()
def dispatch_now():
    """Send what is due now (queued on commit of a new message)."""
    while services.dispatch_batch(worker=worker_name()):
        pass


@db_periodic_task(crontab(minute="*"))
def dispatch_due():
    """Every minute: messages whose time has come, retries, and leases left by dead workers."""
    while services.dispatch_batch(worker=worker_name()):
        pass


@db_task()
def broadcast_publication(item_id: int):
    """After an item goes live: one short SMS to the subscribers of the boards that show it."""
    from sunshine.messaging import subscriptions
    from sunshine.publishing.models import Item

    item = Item.objects.select_related("current", "place").get(pk=item_id)
    subscriptions.broadcast_publication(item)
