"""Every staff export that can be large goes through one mechanism (issue 15 §6): above
SUNSHINE_EXPORT_INLINE_ROWS rows it runs as a background job with the import's progress page,
and the file offered there holds what the direct answer would have held; it is its creator's
alone, and a file with full identifiers is audited when it is downloaded."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from sunshine.core import scopecheck
from sunshine.core.models import AuditEntry, Job

pytestmark = pytest.mark.django_db

# Every staff export route that can grow with the county: (url name, format).
JOB_EXPORTS = [
    ("people:staff-resident-export-xlsx", "xlsx"),
    ("people:staff-resident-export-csv", "csv"),
    ("publishing:staff-item-export-xlsx", "xlsx"),
    ("publishing:staff-item-export-csv", "csv"),
    ("messaging_staff:outbox-export-xlsx", "xlsx"),
    ("messaging_staff:outbox-export-csv", "csv"),
    ("precheck_staff:registration-export-xlsx", "xlsx"),
    ("precheck_staff:registration-export-csv", "csv"),
    ("backoffice:place-export-xlsx", "xlsx"),
    ("backoffice:place-export-csv", "csv"),
    ("backoffice:audit-export-csv", "csv"),
]
# Exports bounded by the number of towns or programmes (a table per town, a year at a time):
# answered directly, always small.
SMALL_EXPORTS = {
    "messaging_staff:ledger-export-xlsx",
    "precheck_staff:stats-export",
    "precheck_staff:target-export",
}


def _cells(body: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    wb = load_workbook(io.BytesIO(body), read_only=True)
    return [
        ["" if v is None else str(v) for v in row] for row in wb.active.iter_rows(values_only=True)
    ]


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_every_staff_export_route_is_listed_here():
    names = {r.name for r in scopecheck.staff_routes() if "export" in r.name}
    assert names == {name for name, _ in JOB_EXPORTS} | SMALL_EXPORTS


@pytest.mark.parametrize(("name", "fmt"), JOB_EXPORTS)
def test_a_large_export_runs_as_a_job_whose_file_matches_the_direct_answer(
    client, world, settings, django_capture_on_commit_callbacks, name, fmt
):
    from tests.test_scope_matrix import _publishing_in, _registration_in, _sms_in

    # A row or more in every list, in town A and in town B (which must stay out).
    for place, resident, label in [
        (world.village, "own", "本村"),
        (world.other_village, "other", "外镇一村"),
    ]:
        _publishing_in(world, place, label)
        _sms_in(world, place, resident, label)
        _registration_in(place, label)
    client.force_login(world.users["probe"])
    url = reverse(name)
    direct = _cells(_body(client.get(url)), fmt)
    assert len(direct) > 1 and "外镇一村" not in str(direct)
    settings.SUNSHINE_EXPORT_INLINE_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(url)
    job = Job.objects.get(kind="core.export")
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:job-detail", args=[job.pk])
    assert job.status == Job.SUCCEEDED and job.created_by == world.users["probe"]
    assert job.options["format"] == fmt
    page = client.get(response["Location"]).content.decode()
    result = reverse("backoffice:job-result", args=[job.pk])
    assert "已完成" in page and f"已导出 {job.result['total']} 行" in page and result in page
    download = client.get(result)
    assert download.status_code == 200
    assert f".{fmt}" in download["Content-Disposition"]
    written = _cells(_body(download), fmt)
    assert job.result["total"] == len(written) - 1
    if name == "backoffice:audit-export-csv":  # the job's own creation is in the log by then
        written = [r for r in written if not r[2].startswith("job.")]
    assert written == direct


@pytest.fixture
def big(settings):
    settings.SUNSHINE_EXPORT_INLINE_ROWS = 1  # the world's town has two residents


def _export_job(client, user, url, capture):
    client.force_login(user)
    with capture(execute=True):
        response = client.get(url, {"q": "本镇"})
    assert response.status_code == 302
    return Job.objects.get(kind="core.export")


class TestResidentsExportJob:
    URL = reverse("people:staff-resident-export-xlsx")

    def test_the_request_is_audited_with_its_filter_and_address_before_the_job_runs(
        self, client, world, big, django_capture_on_commit_callbacks
    ):
        job = _export_job(
            client, world.users["town_clerk"], self.URL, django_capture_on_commit_callbacks
        )
        entry = AuditEntry.objects.get(action="resident.export_identifiers")
        assert entry.sensitive and (entry.path, entry.ip) == (self.URL, "127.0.0.1")
        assert entry.changes == {"query": "q=%E6%9C%AC%E9%95%87", "count": 2}
        assert job.options["query"] == "q=%E6%9C%AC%E9%95%87" and job.result["sensitive"]

    def test_downloading_a_file_with_full_identifiers_is_audited_each_time(
        self, client, world, big, django_capture_on_commit_callbacks
    ):
        job = _export_job(
            client, world.users["town_clerk"], self.URL, django_capture_on_commit_callbacks
        )
        result = reverse("backoffice:job-result", args=[job.pk])
        page = client.get(reverse("backoffice:job-detail", args=[job.pk])).content.decode()
        assert "每次下载都记入审计日志" in page
        rows = _cells(_body(client.get(result)), "xlsx")
        assert world.residents["own"].id_number in {r[3] for r in rows}
        client.get(result)
        downloads = AuditEntry.objects.filter(
            action="job.download_identifiers", object_id=str(job.pk)
        )
        assert downloads.count() == 2 and all(e.sensitive for e in downloads)
        assert downloads.first().changes == {"file": "居民.xlsx", "count": 2}

    def test_only_its_creator_may_download_the_file(
        self, client, world, big, django_capture_on_commit_callbacks
    ):
        job = _export_job(
            client, world.users["town_clerk"], self.URL, django_capture_on_commit_callbacks
        )
        client.force_login(world.users["county_admin"])  # the town is in their scope
        page = client.get(reverse("backoffice:job-detail", args=[job.pk])).content.decode()
        assert "导出文件只能由发起人下载" in page
        assert client.get(reverse("backoffice:job-result", args=[job.pk])).status_code == 404
        assert not AuditEntry.objects.filter(action="job.download_identifiers").exists()

    def test_a_masked_export_is_not_audited_at_download(
        self, client, world, big, django_capture_on_commit_callbacks
    ):
        job = _export_job(
            client, world.users["county_admin"], self.URL, django_capture_on_commit_callbacks
        )
        rows = _cells(_body(client.get(reverse("backoffice:job-result", args=[job.pk]))), "xlsx")
        assert world.residents["own"].id_number not in {r[3] for r in rows}
        assert not job.result["sensitive"]
        assert not AuditEntry.objects.filter(sensitive=True).exists()

    def test_the_job_runs_with_its_creators_scope(
        self, client, world, big, django_capture_on_commit_callbacks
    ):
        client.force_login(world.users["village_cadre"])
        with django_capture_on_commit_callbacks(execute=True):
            client.get(self.URL)
        job = Job.objects.get(kind="core.export")
        names = {
            r[0]
            for r in _cells(
                _body(client.get(reverse("backoffice:job-result", args=[job.pk]))), "xlsx"
            )[1:]
        }
        assert names == {"本镇居民甲", "本镇居民乙"} and job.place_path == world.village.path
