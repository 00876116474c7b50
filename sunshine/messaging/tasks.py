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
