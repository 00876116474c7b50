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


class TestOfficialTableUpload:
    def test_a_superuser_uploads_dongguans_table_and_the_job_reports_the_counts(
        self, client, django_capture_on_commit_callbacks
    ):
        from sunshine.accounts.models import User

        admin = User.objects.create_superuser("root", password="Sunsh1ne-root-pw")
        client.force_login(admin)
        table = (
            "统计用区划代码,名称,城乡分类代码,年份\n"
            "440000000000,广东省,,2022\n441900000000,东莞市,,2022\n"
            "441900003000,东城街道,,2022\n441900003002,主山社区居委会,111,2022\n"
        )
        up = SimpleUploadedFile("广东.csv", table.encode("gbk"))
        with django_capture_on_commit_callbacks(execute=True):
            resp = client.post("/staff/places/import/", {"file": up})
        job = Job.objects.get()
        assert job.status == Job.SUCCEEDED, job.message
        assert "新增 4 个" in job.message
        assert Place.objects.get(code="441900003002").parent.parent.code == "441900000000"
        assert "已导入 4 个地方" in client.get(resp["Location"]).content.decode()

    def test_a_bad_row_fails_the_job_with_each_problem_listed(
        self, client, world, django_capture_on_commit_callbacks
    ):
        client.force_login(world.users["town_clerk"])
        table = "统计用区划代码,名称\n980101100007,本镇七村\n980101100008," + "长" * 101 + "\n"
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/staff/places/import/", {"file": SimpleUploadedFile("p.csv", table.encode())}
            )
        job = Job.objects.get()
        assert job.status == Job.FAILED and "有 1 处错误" in job.message
        assert job.errors == ["编码 980101100008：名称超过100个字。"]
        assert not Place.objects.filter(code="980101100007").exists()
