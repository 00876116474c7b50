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
