import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sunshine.core.models import Job
from sunshine.places.models import Place

pytestmark = pytest.mark.django_db


class TestPlaceImportPage:
    def test_clerk_uploads_a_table_and_is_sent_to_the_progress_page(
        self, client, world, django_capture_on_commit_callbacks
    ):
        client.force_login(world.users["town_clerk"])
        up = SimpleUploadedFile(
            "p.csv", "统计用区划代码,名称\n980101100007,本镇七村\n".encode("gbk")
        )
        with django_capture_on_commit_callbacks(execute=True):
            resp = client.post("/staff/places/import/", {"file": up})
        job = Job.objects.get()
        assert resp.status_code == 302 and resp["Location"] == f"/staff/jobs/{job.pk}/"
        page = client.get(resp["Location"])
        assert (
            "已完成" in page.content.decode() and Place.objects.filter(code="980101100007").exists()
        )

    def test_partial_for_htmx_polling_returns_only_the_status(self, client, world):
        client.force_login(world.users["town_clerk"])
        job = Job.objects.create(kind="places.import", title="t", place_path=world.town.path)
        resp = client.get(f"/staff/jobs/{job.pk}/", headers={"HX-Request": "true"})
        body = resp.content.decode()
        assert resp.status_code == 200 and "<html" not in body and 'hx-trigger="every 1s"' in body

    def test_wrong_extension_gets_a_chinese_message_and_no_job(self, client, world):
        client.force_login(world.users["town_clerk"])
        resp = client.post(
            "/staff/places/import/", {"file": SimpleUploadedFile("p.pdf", b"%PDF-1.4")}
        )
        assert resp.status_code == 200 and "只能上传 .xlsx 或 .csv 文件" in resp.content.decode()
        assert not Job.objects.exists()

    def test_missing_file_gets_a_chinese_message(self, client, world):
        client.force_login(world.users["town_clerk"])
        resp = client.post("/staff/places/import/", {})
        assert "请选择要上传的文件" in resp.content.decode()

    def test_village_cadre_may_not_import(self, client, world):
        client.force_login(world.users["village_cadre"])
        assert client.get("/staff/places/import/").status_code == 403
