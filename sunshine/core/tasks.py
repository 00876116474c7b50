from huey.contrib.djhuey import db_task

from sunshine.core import jobs


@db_task()
def run_job(job_id: int):
    jobs.job_run(job_id=job_id)
