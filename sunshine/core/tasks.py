from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from sunshine.core import auditchain, jobs


@db_task()
def run_job(job_id: int):
    jobs.job_run(job_id=job_id)


@db_periodic_task(crontab(minute="*"))
def seal_audit_log():
    """Every minute: chain the audit entries committed since the last round (docs/audit.md).
    One sealer at a time is enforced in the database, so a second consumer only waits."""
    auditchain.seal_pending()


@db_periodic_task(crontab(minute="*"))
@lock_task("jobs-interrupt-dead")
def interrupt_dead_jobs():
    """Every minute: a running job whose worker died (no heartbeat within the lease) is marked
    interrupted, so its page says so even if nobody is watching it."""
    jobs.jobs_interrupt_dead()
