import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sunshine.core import jobs
from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry, Job
from sunshine.places.models import Place

pytestmark = pytest.mark.django_db

CSV_OK = "统计用区划代码,名称,城乡分类代码,年份\n980101100003,本镇三村,220,2026\n980101100003001,第1组,,\n"
CSV_BAD = "统计用区划代码,名称\n980101100004,本镇四村\n98010110000,短编码\n980101199001,无上级村\n"


def _upload(text: str, name="places.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


class TestJobRun:
    def test_job_is_queued_then_run_on_commit_and_succeeds(
        self, world, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            job = jobs.job_create(
                actor=world.users["town_clerk"],
                kind="places.import",
                title="t",
                place_path=world.town.path,
                upload=_upload(CSV_OK),
            )
        job.refresh_from_db()
        assert job.status == Job.SUCCEEDED, job.message
        assert Place.objects.filter(code="980101100003001", parent__code="980101100003").exists()
        assert jobs.progress_get(job)["percent"] == 100
        assert AuditEntry.objects.filter(action="job.succeeded", object_id=str(job.pk)).exists()

    def test_bad_rows_fail_the_job_with_every_error_and_write_nothing(self, world):
        job = jobs.job_create(
            actor=world.users["town_clerk"],
            kind="places.import",
            title="t",
            place_path=world.town.path,
            upload=_upload(CSV_BAD, encoding="gbk"),
        )
        jobs.job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == Job.FAILED
        assert "没有导入任何数据" in job.message
        assert len(job.errors) == 2
        assert any("98010110000" in e and "12位" in e for e in job.errors)
        assert any("980101199001" in e and "上级" in e for e in job.errors)
        assert not Place.objects.filter(code="980101100004").exists()

    def test_running_a_job_twice_does_nothing_the_second_time(self, world):
        job = jobs.job_create(
            actor=world.users["town_clerk"],
            kind="places.import",
            title="t",
            place_path=world.town.path,
            upload=_upload(CSV_OK),
        )
        jobs.job_run(job_id=job.pk)
        first = Job.objects.get(pk=job.pk).finished_at
        jobs.job_run(job_id=job.pk)
        assert Job.objects.get(pk=job.pk).finished_at == first
        assert Place.objects.filter(code="980101100003").count() == 1

    def test_import_outside_the_clerks_town_is_refused(self, world):
        text = "统计用区划代码,名称\n980101101009,外镇九村\n"
        job = jobs.job_create(
            actor=world.users["town_clerk"],
            kind="places.import",
            title="t",
            place_path=world.town.path,
            upload=_upload(text),
        )
        jobs.job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == Job.FAILED and "管辖范围" in job.message
        assert not Place.objects.filter(code="980101101009").exists()

    def test_a_file_that_is_not_a_table_fails_with_a_chinese_message(self, world):
        up = SimpleUploadedFile(
            "places.xlsx", b"this is not a zip", content_type="application/octet-stream"
        )
        job = jobs.job_create(
            actor=world.users["town_clerk"],
            kind="places.import",
            title="t",
            place_path=world.town.path,
            upload=up,
        )
        jobs.job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == Job.FAILED and "不是 Excel" in job.message

    def test_unknown_kind_is_refused(self, world):
        with pytest.raises(ServiceError):
            jobs.job_create(actor=None, kind="nope", title="t", place_path="")


class TestProgress:
    def test_progress_written_by_the_worker_is_read_by_the_page(self, world):
        job = Job.objects.create(kind="places.import", title="t", place_path=world.town.path)
        jobs.progress_set(job.pk, 30, 120, "写入")
        p = jobs.progress_get(job)
        assert (p["done"], p["total"], p["percent"], p["stage"]) == (30, 120, 25, "写入")


def _running(world, *, started_ago: int = 600, beat_ago: int | None = 600, attempt: int = 1):
    """A places import whose worker took it up `started_ago` seconds ago and last beat
    `beat_ago` seconds ago (None: never) — as a worker killed mid-import leaves it."""
    import datetime as dt
    import time

    from django.utils import timezone

    job = jobs.job_create(
        actor=world.users["town_clerk"],
        kind="places.import",
        title="导入区划：places.csv",
        place_path=world.town.path,
        upload=_upload(CSV_OK),
    )
    job.status, job.attempts = Job.RUNNING, attempt
    job.started_at = timezone.now() - dt.timedelta(seconds=started_ago)
    job.save()
    if beat_ago is not None:
        jobs._huey().put(
            jobs.progress_key(job.pk),
            {
                "done": 58,
                "total": 100,
                "stage": "写入",
                "attempt": attempt,
                "at": time.time() - beat_ago,
            },
        )
    return job


def _page(client, job):
    from django.urls import reverse

    return client.get(reverse("backoffice:job-detail", args=[job.pk])).content.decode()


@pytest.fixture
def clerk(client, world):
    client.force_login(world.users["town_clerk"])
    return client


class TestLease:
    def test_a_job_whose_worker_stopped_beating_is_shown_interrupted_and_can_be_run_again(
        self, clerk, world, django_capture_on_commit_callbacks
    ):
        from django.urls import reverse

        job = _running(world)
        html = _page(clerk, job)
        job.refresh_from_db()
        assert job.status == Job.INTERRUPTED
        assert "已中断" in html and "任务中断：处理进程意外退出" in html and "数据未改动" in html
        assert "58 / 100" in html  # where it stood when the worker died
        assert "hx-trigger" not in html  # the page stops polling
        assert reverse("backoffice:job-rerun", args=[job.pk]) in html and "重新运行" in html
        assert AuditEntry.objects.filter(action="job.interrupted", object_id=str(job.pk)).exists()
        with django_capture_on_commit_callbacks(execute=True):
            response = clerk.post(reverse("backoffice:job-rerun", args=[job.pk]))
        assert response.status_code == 302
        job.refresh_from_db()
        assert job.status == Job.SUCCEEDED, job.message
        assert job.attempts == 2
        assert Place.objects.filter(code="980101100003001").exists()
        assert AuditEntry.objects.filter(action="job.rerun", object_id=str(job.pk)).exists()

    def test_a_job_that_beat_recently_is_still_running(self, clerk, world):
        job = _running(world, started_ago=3600, beat_ago=5)
        html = _page(clerk, job)
        job.refresh_from_db()
        assert job.status == Job.RUNNING and "任务中断" not in html and "hx-trigger" in html

    def test_a_job_that_never_beat_is_judged_by_when_it_started(self, world):
        fresh = _running(world, started_ago=30, beat_ago=None)
        stale = _running(world, started_ago=600, beat_ago=None)
        assert jobs.jobs_interrupt_dead() == 1
        fresh.refresh_from_db()
        stale.refresh_from_db()
        assert (fresh.status, stale.status) == (Job.RUNNING, Job.INTERRUPTED)
        assert "最后一次心跳" not in stale.message

    def test_a_beat_from_an_earlier_run_does_not_keep_a_rerun_alive(self, world):
        job = _running(world, started_ago=600, beat_ago=1, attempt=1)
        job.attempts = 2
        job.save()
        assert jobs.job_interrupt_if_dead(job).status == Job.INTERRUPTED

    def test_the_lease_is_a_setting(self, world, settings):
        job = _running(world, started_ago=600, beat_ago=300)
        settings.SUNSHINE_JOB_LEASE_SECONDS = 600
        assert jobs.job_interrupt_if_dead(job).status == Job.RUNNING
        settings.SUNSHINE_JOB_LEASE_SECONDS = 120
        assert jobs.job_interrupt_if_dead(job).status == Job.INTERRUPTED

    def test_the_periodic_task_marks_dead_jobs_without_anyone_opening_the_page(self, world):
        from sunshine.core import tasks

        dead, alive = _running(world), _running(world, beat_ago=2)
        tasks.interrupt_dead_jobs.call_local()
        assert Job.objects.get(pk=dead.pk).status == Job.INTERRUPTED
        assert Job.objects.get(pk=alive.pk).status == Job.RUNNING

    def test_only_the_creator_may_run_it_again(self, client, world):
        from django.urls import reverse

        job = jobs.job_interrupt_if_dead(_running(world))
        client.force_login(world.users["county_admin"])
        html = _page(client, job)
        assert "只有发起人可以重新运行" in html
        response = client.post(reverse("backoffice:job-rerun", args=[job.pk]), follow=True)
        assert "只有发起这个任务的人可以重新运行它" in response.content.decode()
        assert Job.objects.get(pk=job.pk).status == Job.INTERRUPTED

    def test_a_job_that_is_not_interrupted_is_not_run_again(self, world):
        job = _running(world, beat_ago=1)
        with pytest.raises(ServiceError, match="只有已中断的任务"):
            jobs.job_rerun(actor=world.users["town_clerk"], job_id=job.pk)
        assert Job.objects.get(pk=job.pk).status == Job.RUNNING

    def test_a_job_outside_the_scope_cannot_be_rerun(self, client, world):
        from django.urls import reverse

        job = jobs.job_interrupt_if_dead(_running(world))
        client.force_login(world.users["outsider"])
        assert client.post(reverse("backoffice:job-rerun", args=[job.pk])).status_code == 404

    def test_a_run_thought_dead_that_finishes_after_the_rerun_started_is_ignored(self, world):
        job = jobs.job_interrupt_if_dead(_running(world))
        jobs.job_rerun(actor=world.users["town_clerk"], job_id=job.pk)
        rerun = Job.objects.get(pk=job.pk)
        rerun.status, rerun.attempts = Job.RUNNING, 2  # the new run has begun
        rerun.save()
        late = Job.objects.get(pk=job.pk)
        late.attempts, late.status, late.message = 1, Job.SUCCEEDED, "旧的一次"
        jobs._job_finish(late)  # the first run returns after all
        current = Job.objects.get(pk=job.pk)
        assert (current.status, current.message) == (Job.RUNNING, "")

    def test_a_late_success_before_the_rerun_starts_is_kept_and_the_rerun_does_nothing(self, world):
        job = jobs.job_interrupt_if_dead(_running(world))
        jobs.job_rerun(actor=world.users["town_clerk"], job_id=job.pk)
        late = Job.objects.get(pk=job.pk)
        late.status, late.message = Job.SUCCEEDED, "已导入"
        jobs._job_finish(late)  # its data is committed: importing it again would be wrong
        jobs.job_run(job_id=job.pk)
        current = Job.objects.get(pk=job.pk)
        assert (current.status, current.message, current.attempts) == (Job.SUCCEEDED, "已导入", 1)

    def test_the_worker_beats_while_a_long_step_reports_no_progress(self, world, settings):
        import threading
        import time

        settings.SUNSHINE_JOB_HEARTBEAT_SECONDS = 0.02
        beats = []

        @jobs.runner("test.silent")
        def silent(job, progress):
            deadline = time.monotonic() + 5
            while len(set(beats)) < 3 and time.monotonic() < deadline:
                beat = jobs.heartbeat_get(Job.objects.get(pk=job.pk))
                if beat:
                    beats.append(beat)
                threading.Event().wait(0.01)
            return "完成"

        try:
            job = Job.objects.create(kind="test.silent", title="t", place_path=world.town.path)
            jobs.job_run(job_id=job.pk)
        finally:
            jobs._RUNNERS.pop("test.silent")
        assert len(set(beats)) >= 3
        assert Job.objects.get(pk=job.pk).status == Job.SUCCEEDED
