"""The people.import job runner: counts in job.result, the error workbook in job.result_file."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from sunshine.core import jobs
from sunshine.core.models import Job
from sunshine.core.validators import id_check_char
from sunshine.people.models import Household, Resident

pytestmark = pytest.mark.django_db


def idn(body17: str) -> str:
    return body17 + id_check_char(body17)


GOOD = [
    ["任务甲", "男", idn("98010119800101011"), "980101100001001", "J1"],
    ["任务乙", "女", idn("98010119810202022"), "980101100001001", "J1"],
    ["任务丙", "男", idn("98010119820303031"), "980101100001002", "J2"],
]
BAD = [["", "男", idn("98010119830404041"), "980101100001001", ""]]  # no name


def upload(rows) -> SimpleUploadedFile:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["姓名", "性别", "身份证号码", "所在地编码", "户号"])
    w.writerows(rows)
    return SimpleUploadedFile("居民.csv", buf.getvalue().encode("utf-8"))


def run_import(actor, rows, capture, *, partial=False) -> Job:
    with capture(execute=True):
        job = jobs.job_create(
            actor=actor,
            kind="people.import",
            title="导入居民",
            place_path=actor.place.path,
            upload=upload(rows),
            options={"partial": partial},
        )
    job.refresh_from_db()
    return job


class TestResidentImportRunner:
    def test_a_clean_file_stores_the_counts_and_no_error_file(
        self, world, django_capture_on_commit_callbacks
    ):
        job = run_import(world.users["town_clerk"], GOOD, django_capture_on_commit_callbacks)
        assert job.status == Job.SUCCEEDED
        assert job.result == {
            "total": 3,
            "created": 3,
            "updated": 0,
            "households_created": 2,
            "error_rows": 0,
            "partial": False,
        }
        assert job.message == "共 3 行：新增 3 人，更新 0 人，新建 2 户。"
        assert not job.result_file and job.errors == []
        assert Resident.objects.filter(name__startswith="任务").count() == 3
        assert Household.objects.filter(number__in=["J1", "J2"]).count() == 2

    def test_partial_mode_stores_the_counts_and_the_error_workbook(
        self, world, django_capture_on_commit_callbacks
    ):
        job = run_import(
            world.users["town_clerk"], GOOD + BAD, django_capture_on_commit_callbacks, partial=True
        )
        assert job.status == Job.SUCCEEDED
        assert job.result["created"] == 3 and job.result["error_rows"] == 1
        assert job.result["partial"] is True
        assert "另有 1 行有错误" in job.message
        assert job.errors == [{"row": 5, "column": "姓名", "reason": "不能为空"}]
        assert job.result_file.name.endswith(".xlsx")
        with job.result_file.open("rb") as fh:
            sheet = list(load_workbook(fh).active.iter_rows(values_only=True))
        assert sheet[0][:2] == ("原行号", "错误说明")
        assert sheet[1][:2] == (5, "姓名：不能为空")

    def test_a_failed_all_or_nothing_import_leaves_no_residents(
        self, world, django_capture_on_commit_callbacks
    ):
        before = set(Resident.objects.values_list("pk", flat=True))
        households = Household.objects.count()
        job = run_import(world.users["town_clerk"], GOOD + BAD, django_capture_on_commit_callbacks)
        assert job.status == Job.FAILED
        assert "有 1 行数据有错误" in job.message and "没有导入任何数据" in job.message
        assert job.result["created"] == 0 and job.result["error_rows"] == 1
        assert job.errors == [{"row": 5, "column": "姓名", "reason": "不能为空"}]
        assert job.result_file
        assert set(Resident.objects.values_list("pk", flat=True)) == before
        assert Household.objects.count() == households

    def test_the_uploaders_scope_applies_in_the_worker(
        self, world, django_capture_on_commit_callbacks
    ):
        job = run_import(world.users["outsider"], GOOD, django_capture_on_commit_callbacks)
        assert job.status == Job.FAILED
        assert [(e["row"], e["column"]) for e in job.errors] == [
            (2, "所在地编码"),
            (3, "所在地编码"),
            (4, "所在地编码"),
        ]
        assert not Resident.objects.filter(name__startswith="任务").exists()

    def test_running_a_finished_job_again_changes_nothing(
        self, world, django_capture_on_commit_callbacks
    ):
        job = run_import(world.users["town_clerk"], GOOD, django_capture_on_commit_callbacks)
        again = jobs.job_run(job_id=job.pk)
        assert again.status == Job.SUCCEEDED and again.finished_at == job.finished_at
        assert Resident.objects.filter(name__startswith="任务").count() == 3
