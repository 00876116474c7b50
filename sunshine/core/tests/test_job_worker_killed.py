"""A worker killed with SIGKILL in the middle of an import (issue 15 §6), with real processes:
a scratch SQLite database and huey file of the test's own, a worker process running a places
import that is stopped inside the import's transaction and killed there. Afterwards nothing
of the import is in the database, the job is marked interrupted once its lease has run out,
and running it again imports the file. About 10 seconds."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Tables straight from the models (no migration history to replay: seconds instead of tens of
# seconds on a busy machine) and a fast password hasher for the test world's users.
SETUP = """
import django
from django.conf import settings
django.setup()
from django.apps import apps
from django.core.management import call_command
settings.MIGRATION_MODULES = {a.label: None for a in apps.get_app_configs()}
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
call_command("migrate", run_syncdb=True, verbosity=0)
from django.core.files.uploadedfile import SimpleUploadedFile
from sunshine.core import jobs
from sunshine.core.testing import build_world

world = build_world()
text = "统计用区划代码,名称\\n980101100003,本镇三村\\n980101100003001,第1组\\n"
job = jobs.job_create(
    actor=world.users["town_clerk"],
    kind="places.import",
    title="导入区划：places.csv",
    place_path=world.town.path,
    upload=SimpleUploadedFile("places.csv", text.encode(), content_type="text/csv"),
)
print(job.pk)
"""

# The worker: runs the job; when the first rows are written (inside the import's
# transaction) it says so and waits to be killed.
WORKER = """
import sys, time, django
django.setup()
from sunshine.core import jobs

def hold(done, total, stage):
    if done:
        open(sys.argv[2], "w").write(f"{done}/{total}")
        time.sleep(60)

jobs.job_run(job_id=int(sys.argv[1]), progress=hold)
"""

AFTER = """
import sys, datetime as dt, django
django.setup()
from django.conf import settings
from django.utils import timezone
from sunshine.core import jobs
from sunshine.core.models import Job
from sunshine.places.models import Place

job = Job.objects.get(pk=int(sys.argv[1]))
print("status", job.status, "attempts", job.attempts)
print("written", Place.objects.filter(code__startswith="980101100003").count())
print("beat", jobs.heartbeat_get(job) is not None)
print("progress", jobs.progress_get(job)["done"])
print("now", jobs.job_interrupt_if_dead(job).status)
later = timezone.now() + dt.timedelta(seconds=settings.SUNSHINE_JOB_LEASE_SECONDS + 1)
job = jobs.job_interrupt_if_dead(job, now=later)
print("later", job.status)
print("message", job.message)
jobs.job_rerun(actor=job.created_by, job_id=job.pk)
job = jobs.job_run(job_id=job.pk)
print("rerun", job.status, job.attempts)
print("written", Place.objects.filter(code__startswith="980101100003").count())
"""


def _python(env, code, *args, timeout=60):
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_worker_killed_mid_import_leaves_no_rows_an_interrupted_job_and_a_working_rerun(
    tmp_path,
):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTEST_CURRENT_TEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SUNSHINE_VAR_DIR=str(tmp_path),
        SECRET_KEY="worker-kill-test-not-secret",
        SUNSHINE_HUEY_IMMEDIATE="0",
    )
    job_id = _python(env, SETUP).strip().splitlines()[-1]
    signal_file = tmp_path / "mid-import"
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, job_id, str(signal_file)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not signal_file.exists() and worker.poll() is None:
            assert time.monotonic() < deadline, "the worker never reached the import"
            time.sleep(0.05)
        assert worker.poll() is None, worker.stderr.read().decode()
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        worker.stderr.close()
    lines = _python(env, AFTER, job_id).splitlines()
    assert lines[0] == "status running attempts 1"
    assert lines[1] == "written 0"  # the import's transaction died with the worker
    assert lines[2:5] == ["beat True", "progress 1", "now running"]  # within its lease
    assert lines[5] == "later interrupted"
    assert lines[6].startswith("message 任务中断：处理进程意外退出（最后一次心跳 ")
    assert "数据未改动" in lines[6]
    assert lines[7:] == ["rerun succeeded 2", "written 2"]
