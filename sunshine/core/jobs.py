"""Long work in the task worker, with progress that the web pages and the CLI can show.

A runner is registered per kind: `@jobs.runner("places.import")` on a function
`(job, progress) -> str` that does the work in its own transaction and returns the Chinese
success message, or raises ServiceError (optionally carrying `errors`). Progress lives in
huey's storage (the SQLite file or Redis), shared by web and worker processes and outside
the job's transaction, so it is visible while an all-or-nothing import is still running.
"""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.core.models import Job

Progress = Callable[[int, int, str], None]
_RUNNERS: dict[str, Callable] = {}


class JobFailed(ServiceError):
    """A refusal that carries a list of row errors for the error report."""

    def __init__(self, message: str, *, errors: list | None = None):
        super().__init__(message)
        self.errors = errors or []


def runner(kind: str):
    def register(fn):
        _RUNNERS[kind] = fn
        return fn

    return register


def _huey():
    from huey.contrib.djhuey import HUEY

    return HUEY


def progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def progress_set(job_id: int, done: int, total: int, stage: str = "") -> None:
    _huey().put(progress_key(job_id), {"done": done, "total": total, "stage": stage})


def progress_get(job: Job) -> dict:
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
        job.save(update_fields=["status", "started_at"])

    def report(done: int, total: int, stage: str = "") -> None:
        progress_set(job_id, done, total, stage)
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
        job.finished_at = timezone.now()
        job.save(
            update_fields=["status", "message", "errors", "result", "result_file", "finished_at"]
        )
        audit.record(
            actor=job.created_by,
            action=f"job.{job.status}",
            obj=job,
            changes={"message": job.message},
        )
    return job
