"""Long work in the task worker, with progress that the web pages and the CLI can show.

A runner is registered per kind: `@jobs.runner("places.import")` on a function
`(job, progress) -> str` that does the work in its own transaction and returns the Chinese
success message, or raises ServiceError (optionally carrying `errors`). Progress lives in
huey's storage (the SQLite file or Redis), shared by web and worker processes and outside
the job's transaction, so it is visible while an all-or-nothing import is still running.

Liveness: while a job runs, its worker beats — a thread stamps the progress record every
SUNSHINE_JOB_HEARTBEAT_SECONDS, and every progress report stamps it too. A running job whose
last beat is older than SUNSHINE_JOB_LEASE_SECONDS lost its worker (killed, out of memory,
machine restarted): the job page and a periodic task mark it interrupted with a Chinese
message, and its creator can run it again from the page with the same input (an import is
all-or-nothing, so the dead run wrote nothing). The beat lives in huey's storage, not in the
job's row: on SQLite an import's open transaction holds the database's write lock, which a
beat written to the database would wait behind.
"""

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.core.models import Job

Progress = Callable[[int, int, str], None]
_RUNNERS: dict[str, Callable] = {}
# Kinds whose runner commits as it goes (safe to run again, but a dead run may have written
# part of its work); every other kind writes all or nothing.
_COMMITS_AS_IT_GOES: set[str] = set()
log = logging.getLogger(__name__)


class JobFailed(ServiceError):
    """A refusal that carries a list of row errors for the error report."""

    def __init__(self, message: str, *, errors: list | None = None):
        super().__init__(message)
        self.errors = errors or []


def runner(kind: str, *, atomic: bool = True):
    """`atomic=False` for a runner that commits in batches (it must still be safe to rerun)."""

    def register(fn):
        _RUNNERS[kind] = fn
        if not atomic:
            _COMMITS_AS_IT_GOES.add(kind)
        return fn

    return register


def _huey():
    from huey.contrib.djhuey import HUEY

    return HUEY


def progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def progress_set(
    job_id: int, done: int, total: int, stage: str = "", *, attempt: int | None = None
) -> None:
    """Progress and a heartbeat in one record: `at` is when the worker last showed life."""
    _huey().put(
        progress_key(job_id),
        {"done": done, "total": total, "stage": stage, "attempt": attempt, "at": time.time()},
    )


def heartbeat_get(job: Job) -> dt.datetime | None:
    """The last beat of the job's current run, or None if it has not beaten yet."""
    data = _huey().get(progress_key(job.pk), peek=True) or {}
    if not data.get("at") or data.get("attempt") != job.attempts:
        return None
    return dt.datetime.fromtimestamp(data["at"], tz=dt.UTC)


def lease_expired(
    *, last_beat: dt.datetime | None, started_at: dt.datetime | None, now: dt.datetime, lease: int
) -> bool:
    """Pure: has a running job gone longer than `lease` seconds without a sign of life?"""
    seen = last_beat or started_at
    return seen is None or (now - seen).total_seconds() > lease


class _Heartbeat:
    """Stamps the job's progress record from a thread while the runner works, so a long step
    that reports no progress (reading a big workbook) does not look like a dead worker."""

    def __init__(self, job_id: int, attempt: int, interval: float):
        self.job_id, self.attempt, self.interval = job_id, attempt, interval
        self.state = (0, 0, "开始处理")
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name=f"job-{job_id}-heartbeat", daemon=True
        )

    def beat(self, state: tuple[int, int, str] | None = None) -> None:
        with self.lock:
            if state is not None:
                self.state = state
            progress_set(self.job_id, *self.state, attempt=self.attempt)

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.beat()
            except Exception:  # a missed beat is not worth killing the job for
                log.exception("job %s: heartbeat failed", self.job_id)

    def __enter__(self):
        self.beat()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=5)


def progress_get(job: Job) -> dict:
    if job.status == Job.INTERRUPTED:  # where it stood when its worker died
        data = _huey().get(progress_key(job.pk), peek=True) or {"done": 0, "total": 0}
        total = data.get("total") or 0
        percent = int(100 * data["done"] / total) if total else 0
        return {"done": data["done"], "total": total, "stage": "已中断", "percent": percent}
    if job.is_finished:
        total = job.result.get("total", 0) if job.result else 0
        return {"done": total, "total": total, "stage": job.get_status_display(), "percent": 100}
    data = _huey().get(progress_key(job.pk), peek=True) or {
        "done": 0,
        "total": 0,
        "stage": "排队中",
    }
    total = data.get("total") or 0
    data["percent"] = int(100 * data["done"] / total) if total else 0
    return data


@transaction.atomic
def job_create(
    *, actor, kind: str, title: str, place_path: str, upload=None, options: dict | None = None
) -> Job:
    if kind not in _RUNNERS:
        raise ServiceError(f"未知的任务类型：{kind}")
    job = Job(
        kind=kind, title=title, created_by=actor, place_path=place_path, options=options or {}
    )
    if upload is not None:
        job.input_name = upload.name[:200]
        job.input_file.save(upload.name, upload, save=False)
    job.save()
    audit.record(
        actor=actor, action="job.create", obj=job, changes={"kind": kind, "file": job.input_name}
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from sunshine.core import tasks

    tasks.run_job(job_id)


def job_run(*, job_id: int, progress: Progress | None = None) -> Job:
    """Run a queued job once. Safe to call twice: a finished job is left alone."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.QUEUED:
            return job
        job.status, job.started_at = Job.RUNNING, timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts"])

    with _Heartbeat(job_id, job.attempts, settings.SUNSHINE_JOB_HEARTBEAT_SECONDS) as heart:

        def report(done: int, total: int, stage: str = "") -> None:
            heart.beat((done, total, stage))
            if progress is not None:
                progress(done, total, stage)

        try:
            message = _RUNNERS[job.kind](job, report)
            job.status, job.message = Job.SUCCEEDED, message
        except JobFailed as exc:
            job.status, job.message, job.errors = Job.FAILED, exc.message, exc.errors
        except ServiceError as exc:
            job.status, job.message = Job.FAILED, exc.message
        except Exception as exc:  # a job never leaves the worker with only a traceback
            job.status, job.message = (
                Job.FAILED,
                f"任务出错，数据没有改动。请联系技术人员（{exc.__class__.__name__}）。",
            )
            raise
        finally:
            _job_finish(job)
    return job


@transaction.atomic
def _job_finish(job: Job) -> None:
    """Record the outcome, unless the job was run again meanwhile (then that run owns it)."""
    current = Job.objects.select_for_update().get(pk=job.pk)
    if current.attempts != job.attempts:
        return
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "errors", "result", "result_file", "finished_at"])
    audit.record(
        actor=job.created_by,
        action=f"job.{job.status}",
        obj=job,
        changes={"message": job.message},
    )


def interrupted_message(job: Job, last_seen: dt.datetime | None) -> str:
    when = (
        f"（最后一次心跳 {timezone.localtime(last_seen):%Y-%m-%d %H:%M:%S}）" if last_seen else ""
    )
    if job.kind in _COMMITS_AS_IT_GOES:
        kept = "已处理的部分已经保存，重新运行会接着处理，不会重复"
    else:
        kept = "数据未改动"
    return f"任务中断：处理进程意外退出{when}，任务没有完成，{kept}。请点击“重新运行”。"


def job_interrupt_if_dead(job: Job, *, now: dt.datetime | None = None) -> Job:
    """A running job whose worker has not beaten within the lease is marked interrupted.
    Called when its page is read and by a periodic task; returns the job as it now stands."""
    if job.status != Job.RUNNING:
        return job
    now = now or timezone.now()
    last_beat = heartbeat_get(job)
    if not lease_expired(
        last_beat=last_beat,
        started_at=job.started_at,
        now=now,
        lease=settings.SUNSHINE_JOB_LEASE_SECONDS,
    ):
        return job
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.status != Job.RUNNING or current.attempts != job.attempts:
            return current
        current.status, current.finished_at = Job.INTERRUPTED, now
        current.message = interrupted_message(current, last_beat)
        current.save(update_fields=["status", "message", "finished_at"])
        audit.record(
            actor=None,
            action="job.interrupted",
            obj=current,
            place_path=current.place_path,
            changes={
                "attempt": current.attempts,
                "last_beat": last_beat.isoformat() if last_beat else None,
            },
        )
    return current


def jobs_interrupt_dead(*, now: dt.datetime | None = None) -> int:
    """Every running job whose worker died, marked interrupted; how many were."""
    marked = 0
    for job in Job.objects.filter(status=Job.RUNNING).order_by("pk"):
        if job_interrupt_if_dead(job, now=now).status == Job.INTERRUPTED:
            marked += 1
    return marked


@transaction.atomic
def job_rerun(*, actor, job_id: int) -> Job:
    """Queue an interrupted job again with the same input and options, for its creator."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status != Job.INTERRUPTED:
        raise ServiceError("只有已中断的任务可以重新运行；这个任务不需要重新运行。")
    if job.created_by_id is None or job.created_by_id != actor.pk:
        raise ServiceError("只有发起这个任务的人可以重新运行它。")
    previous = job.message
    job.status, job.message, job.errors, job.result = Job.QUEUED, "", [], {}
    job.started_at = job.finished_at = None
    job.save(update_fields=["status", "message", "errors", "result", "started_at", "finished_at"])
    _huey().delete(progress_key(job.pk))
    audit.record(
        actor=actor,
        action="job.rerun",
        obj=job,
        changes={"attempt": job.attempts + 1, "previous": previous},
    )
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job
