"""Staff pages for residents: masked lists, the audited reveal, forms, exports and the import
page. Route scoping and the role matrix live in tests/test_scope_matrix.py."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from sunshine.core.masking import mask_id_number, mask_mobile
from sunshine.core.models import AuditEntry, Job
from sunshine.core.validators import id_check_char
from sunshine.people import importing, rules
from sunshine.people.models import Resident
from sunshine.people.views.staff import EXPORT_HEADERS

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LIST = reverse("people:staff-resident-list")
CREATE = reverse("people:staff-resident-create")
EXPORT_XLSX = reverse("people:staff-resident-export-xlsx")
EXPORT_CSV = reverse("people:staff-resident-export-csv")
IMPORT = reverse("people:staff-resident-import")
TEMPLATE = reverse("people:staff-resident-import-template")
FULL_ID = re.compile(r"\d{17}[\dX]")
# Five today (session, user, the user's place, count, one page of rows with place and
# household joined) plus headroom; an N+1 over 50 rows would blow far past it.
MAX_QUERIES = 7


def idn(body17: str) -> str:
    return body17 + id_check_char(body17)


NEW_ID = idn("98010119800101011")


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def raw(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def detail(resident) -> str:
    return reverse("people:staff-resident-detail", args=[resident.pk])


def reveal(resident) -> str:
    return reverse("people:staff-resident-identifiers", args=[resident.pk])


def edit(resident) -> str:
    return reverse("people:staff-resident-edit", args=[resident.pk])


def form_data(**over) -> dict:
    base = {
        "name": "新登记",
        "sex": "男",
        "id_number": NEW_ID,
        "birth_date": "",
        "mobile": "13700001111",
        "place_code": "980101100001001",
        "household_number": "H7",
        "residence_code": "",
        "hukou_type": "农村",
        "status": "在册",
    }
    return {**base, **over}


def csv_upload(rows, name="居民.csv") -> SimpleUploadedFile:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["姓名", "性别", "身份证号码", "手机号码", "所在地编码"])
    w.writerows(rows)
    return SimpleUploadedFile(name, buf.getvalue().encode("gbk"), content_type="text/csv")


GOOD_ROWS = [
    ["导入甲", "男", idn("98010119800101011"), "13700001111", "980101100001001"],
    ["导入乙", "女", idn("98010119810202022"), "", "980101100001002"],
]
GOOD_ID = idn("98010119820303031")
BAD_ID = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")  # wrong check character
BAD_ROWS = [
    ["坏号码", "男", BAD_ID, "", "980101100001001"],
    ["坏手机", "女", idn("98010119830404042"), "12345", "980101100001001"],
]


@pytest.fixture
def clerk_client(client, world):
    client.force_login(world.users["town_clerk"])
    return client


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["county_admin"])
    return client


def _many_residents(n: int, tmp_path) -> None:
    path = tmp_path / "many.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "性别", "身份证号码", "手机号码", "所在地编码", "户号"])
        for i in range(n):
            body = f"980101197{i // 12 % 10}{i % 12 + 1:02d}{i % 28 + 1:02d}{i % 500 * 2 + 1:03d}"
            w.writerow([f"批量{i:03d}", "男", idn(body), "13700001111", "980101100001001", f"P{i}"])
    importing.import_residents(actor=None, path=path)


class TestResidentList:
    @pytest.mark.parametrize("user", ["town_clerk", "village_cadre", "county_admin"])
    def test_ids_and_mobiles_are_masked_for_every_role(self, client, world, user):
        client.force_login(world.users[user])
        html = body(client.get(LIST))
        own = world.residents["own"]
        assert own.id_number[:6] + "********" + own.id_number[-4:] in html
        assert "138****1234" in html
        assert own.id_number not in html and "13800001234" not in html
        assert not FULL_ID.search(html)

    def test_a_page_of_fifty_residents_takes_a_bounded_number_of_queries(
        self, clerk_client, tmp_path, django_assert_max_num_queries
    ):
        _many_residents(60, tmp_path)
        with django_assert_max_num_queries(MAX_QUERIES):
            html = body(clerk_client.get(LIST))
        assert len(re.findall(r'href="/staff/people/\d+/"', html)) == 50
        assert "P0" in html  # household numbers come from the joined household

    def test_the_second_page_holds_the_rest(self, clerk_client, tmp_path):
        _many_residents(60, tmp_path)
        html = body(clerk_client.get(LIST, {"page": 2}))
        assert len(re.findall(r'href="/staff/people/\d+/"', html)) == 12  # 60 + 2 - 50

    def test_htmx_request_gets_the_rows_only(self, clerk_client, world):
        html = body(clerk_client.get(LIST, {"q": "本镇居民乙"}, headers=HTMX))
        assert "<html" not in html and "<tbody>" in html
        assert "本镇居民乙" in html and "本镇居民甲" not in html

    def test_filters_apply_on_the_full_page(self, clerk_client, world):
        html = body(clerk_client.get(LIST, {"place": "980101100001001"}))
        assert "<html" in html and "本镇居民甲" in html and "本镇居民乙" not in html
        assert 'value="980101100001001"' in html

    def test_no_match_says_so_in_chinese(self, clerk_client, world):
        assert "没有符合条件的居民" in body(clerk_client.get(LIST, {"q": "查无此人"}))

    def test_buttons_follow_the_role(self, client, admin_client, world):
        html = body(admin_client.get(LIST))
        assert CREATE not in html and IMPORT not in html and EXPORT_XLSX in html
        client.force_login(world.users["town_clerk"])
        html = body(client.get(LIST))
        assert CREATE in html and IMPORT in html


class TestResidentDetail:
    def test_detail_is_masked_with_a_reveal_button_for_a_clerk(self, clerk_client, world):
        own = world.residents["own"]
        html = body(clerk_client.get(detail(own)))
        assert mask_id_number(own.id_number) in html and "138****1234" in html
        assert own.id_number not in html and "13800001234" not in html
        assert reveal(own) in html and edit(own) in html
        assert not AuditEntry.objects.filter(sensitive=True).exists()

    def test_county_admin_sees_the_masked_detail_without_reveal_or_edit(self, admin_client, world):
        own = world.residents["own"]
        html = body(admin_client.get(detail(own)))
        assert mask_id_number(own.id_number) in html and own.id_number not in html
        assert reveal(own) not in html and edit(own) not in html

    def test_reveal_shows_the_full_values_and_writes_the_audit_row(self, clerk_client, world):
        own = world.residents["own"]
        response = clerk_client.post(reveal(own), {"reason": "核对户籍"})
        html = body(response)
        assert response.status_code == 200
        assert own.id_number in html and "13800001234" in html and "已记入审计日志" in html
        entry = AuditEntry.objects.get(action="resident.read_sensitive")
        assert entry.sensitive and entry.actor == world.users["town_clerk"]
        assert entry.object_id == str(own.pk) and entry.reason == "核对户籍"
        assert entry.path == reveal(own)

    def test_reveal_over_htmx_returns_the_fragment_only(self, clerk_client, world):
        own = world.residents["own"]
        html = body(clerk_client.post(reveal(own), headers=HTMX))
        assert "<html" not in html and own.id_number in html
        assert AuditEntry.objects.filter(action="resident.read_sensitive").count() == 1

    def test_get_on_the_reveal_url_is_405_and_reveals_nothing(self, clerk_client, world):
        own = world.residents["own"]
        response = clerk_client.get(reveal(own))
        assert response.status_code == 405 and own.id_number not in body(response)
        assert not AuditEntry.objects.filter(sensitive=True).exists()

    def test_county_admin_cannot_reveal(self, admin_client, world):
        own = world.residents["own"]
        response = admin_client.post(reveal(own))
        assert response.status_code == 403 and own.id_number not in body(response)
        assert not AuditEntry.objects.filter(sensitive=True).exists()


class TestResidentCreate:
    def test_the_form_page_has_labelled_chinese_fields(self, clerk_client):
        html = body(clerk_client.get(CREATE))
        assert "登记居民" in html and 'for="id_id_number"' in html and "身份证号码" in html

    def test_valid_form_registers_and_redirects_to_the_detail(self, clerk_client, world):
        response = clerk_client.post(CREATE, form_data())
        r = Resident.objects.get(id_number=NEW_ID)
        assert response.status_code == 302 and response["Location"] == detail(r)
        assert (r.name, r.sex, r.household.number) == ("新登记", "M", "H7")
        entry = AuditEntry.objects.get(action="resident.create", object_id=str(r.pk))
        assert entry.actor == world.users["town_clerk"]

    def test_a_wrong_id_number_shows_the_chinese_reason_and_saves_nothing(self, clerk_client):
        before = Resident.objects.count()
        wrong = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
        response = clerk_client.post(CREATE, form_data(id_number=wrong))
        html = body(response)
        assert response.status_code == 200
        assert "身份证号码：校验位不对，请核对是否抄错" in html
        assert 'value="新登记"' in html  # what the clerk typed is kept
        assert Resident.objects.count() == before

    def test_a_sex_that_contradicts_the_id_number_is_shown(self, clerk_client):
        html = body(clerk_client.post(CREATE, form_data(sex="女")))
        assert (
            "与身份证号码不一致" in html and not Resident.objects.filter(id_number=NEW_ID).exists()
        )

    def test_a_place_outside_the_scope_is_shown_and_nothing_saved(self, clerk_client):
        html = body(clerk_client.post(CREATE, form_data(place_code="980101101001001")))
        assert (
            "不在您的管辖范围内" in html and not Resident.objects.filter(id_number=NEW_ID).exists()
        )

    def test_submitting_the_same_resident_twice_keeps_one_row(self, clerk_client):
        first = clerk_client.post(CREATE, form_data())
        second = clerk_client.post(CREATE, form_data())
        assert first.status_code == 302 and second.status_code == 200
        assert "已登记，不能重复" in body(second)
        assert "已登记" in second.context["form"].errors["id_number"][0]  # beside the ID field
        assert Resident.objects.filter(id_number=NEW_ID).count() == 1

    def test_county_admin_may_not_register(self, admin_client):
        assert admin_client.post(CREATE, form_data()).status_code == 403
        assert not Resident.objects.filter(id_number=NEW_ID).exists()


class TestResidentEdit:
    def test_the_form_is_filled_in_and_the_id_number_is_locked(self, clerk_client, world):
        own = world.residents["own"]
        html = body(clerk_client.get(edit(own)))
        assert "修改居民：本镇居民甲" in html and 'value="Hown"' in html
        field = re.search(r'<input[^>]*name="id_number"[^>]*>', html).group(0)
        assert "disabled" in field

    def test_saving_changes_redirects_and_audits_without_the_mobile(self, clerk_client, world):
        own = world.residents["own"]
        data = form_data(
            name="改名甲", id_number=own.id_number, mobile="13911112222", household_number="Hown"
        )
        response = clerk_client.post(edit(own), data)
        assert response.status_code == 302 and response["Location"] == detail(own)
        own.refresh_from_db()
        assert (own.name, own.mobile) == ("改名甲", "13911112222")
        changes = AuditEntry.objects.get(action="resident.update").changes
        assert changes["mobile"] == ["（已隐去）", "（已隐去）"]

    def test_a_posted_id_number_is_ignored(self, clerk_client, world):
        own = world.residents["own"]
        original = own.id_number
        clerk_client.post(edit(own), form_data(id_number=NEW_ID, household_number="Hown"))
        own.refresh_from_db()
        assert own.id_number == original and own.name == "新登记"

    def test_a_bad_mobile_is_shown_and_nothing_changes(self, clerk_client, world):
        own = world.residents["own"]
        response = clerk_client.post(edit(own), form_data(name="不该保存", mobile="123"))
        assert response.status_code == 200 and "手机号码：应为11位数字" in body(response)
        own.refresh_from_db()
        assert own.name == "本镇居民甲"


class TestExports:
    def _sheet(self, response) -> list[list]:
        wb = load_workbook(io.BytesIO(raw(response)), read_only=True)
        return [
            ["" if v is None else str(v) for v in row]
            for row in wb.active.iter_rows(values_only=True)
        ]

    def _csv(self, response) -> list[list]:
        return list(csv.reader(io.StringIO(body(response))))

    def _rows(self, response, kind) -> list[list]:
        return self._sheet(response) if kind == "xlsx" else self._csv(response)

    @pytest.mark.parametrize("kind", ["xlsx", "csv"])
    def test_a_clerk_exports_full_identifiers_and_the_export_is_audited(
        self, clerk_client, world, kind
    ):
        response = clerk_client.get(EXPORT_XLSX if kind == "xlsx" else EXPORT_CSV)
        rows = self._rows(response, kind)
        assert rows[0] == EXPORT_HEADERS
        by_name = {r[0]: r for r in rows[1:]}
        assert set(by_name) == {"本镇居民甲", "本镇居民乙"}  # never another town's residents
        own = world.residents["own"]
        assert by_name["本镇居民甲"][3:6] == [own.id_number, "13800001234", "980101100001001"]
        entry = AuditEntry.objects.get(action="resident.export_identifiers")
        assert entry.sensitive and entry.actor == world.users["town_clerk"]
        assert entry.place_path == world.town.path and entry.changes["count"] == 2

    @pytest.mark.parametrize("kind", ["xlsx", "csv"])
    def test_the_county_admin_exports_only_masked_values_and_nothing_is_audited(
        self, admin_client, world, kind
    ):
        response = admin_client.get(EXPORT_XLSX if kind == "xlsx" else EXPORT_CSV)
        rows = self._rows(response, kind)
        assert len(rows) == 4
        text = "\n".join(",".join(r) for r in rows)
        assert not FULL_ID.search(text)
        for r in world.residents.values():
            assert r.id_number not in text and r.mobile not in text
        by_name = {r[0]: r for r in rows[1:]}
        own = world.residents["own"]
        assert by_name["本镇居民甲"][3:5] == [
            mask_id_number(own.id_number),
            mask_mobile(own.mobile),
        ]
        assert not AuditEntry.objects.filter(action="resident.export_identifiers").exists()
        assert not AuditEntry.objects.filter(sensitive=True).exists()

    @pytest.mark.parametrize("url", [EXPORT_XLSX, EXPORT_CSV])
    def test_the_export_audit_row_records_where_the_request_came_from(self, clerk_client, url):
        response = clerk_client.get(url)
        assert AuditEntry.objects.filter(action="resident.export_identifiers").exists()
        raw(response)  # the streamed CSV is read after the request context is gone
        entry = AuditEntry.objects.get(action="resident.export_identifiers")
        assert (entry.path, entry.ip) == (url, "127.0.0.1")

    def test_the_export_follows_the_list_filters(self, clerk_client, world):
        rows = self._csv(clerk_client.get(EXPORT_CSV, {"q": "本镇居民乙"}))
        assert [r[0] for r in rows[1:]] == ["本镇居民乙"]
        entry = AuditEntry.objects.get(action="resident.export_identifiers")
        assert entry.changes == {
            "query": "q=%E6%9C%AC%E9%95%87%E5%B1%85%E6%B0%91%E4%B9%99",
            "count": 1,
        }

    def test_a_village_cadres_export_holds_only_the_village(self, client, world):
        from sunshine.people import services

        services.resident_create(
            actor=None,
            data={
                "name": "二村居民",
                "sex": "男",
                "id_number": NEW_ID,
                "place_code": "980101100002",
            },
        )
        client.force_login(world.users["village_cadre"])
        names = [r[0] for r in self._csv(client.get(EXPORT_CSV))[1:]]
        assert names == ["本镇居民甲", "本镇居民乙"]

    def test_the_csv_starts_with_a_bom_for_excel(self, clerk_client):
        assert raw(clerk_client.get(EXPORT_CSV)).startswith("\ufeff".encode())


class TestImportPage:
    def test_the_page_lists_the_columns_and_links_the_template(self, clerk_client):
        html = body(clerk_client.get(IMPORT))
        assert TEMPLATE in html
        for header in rules.HEADERS.values():
            assert header in html

    def test_bad_rows_send_the_clerk_to_a_failed_job_with_row_errors_and_a_download(
        self, clerk_client, world, django_capture_on_commit_callbacks
    ):
        before = Resident.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = clerk_client.post(IMPORT, {"file": csv_upload(GOOD_ROWS + BAD_ROWS)})
        job = Job.objects.get(kind="people.import")
        assert response.status_code == 302
        assert response["Location"] == reverse("backoffice:job-detail", args=[job.pk])
        html = body(clerk_client.get(response["Location"]))
        assert "未完成" in html and "没有导入任何数据" in html
        assert "错误明细" in html and "第 4 行" in html and "第 5 行" in html
        assert "校验位不对" in html and "手机号码" in html
        assert reverse("backoffice:job-result", args=[job.pk]) in html
        assert Resident.objects.count() == before

    def test_the_error_file_downloads_as_a_workbook_of_the_bad_rows(
        self, clerk_client, world, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            clerk_client.post(IMPORT, {"file": csv_upload(GOOD_ROWS + BAD_ROWS)})
        job = Job.objects.get(kind="people.import")
        response = clerk_client.get(reverse("backoffice:job-result", args=[job.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert "attachment" in response["Content-Disposition"]
        ws = load_workbook(io.BytesIO(raw(response))).active
        sheet = list(ws.iter_rows(values_only=True))
        assert list(sheet[0][:3]) == ["原行号", "错误说明", "姓名"]
        assert [(r[0], r[2]) for r in sheet[1:]] == [(4, "坏号码"), (5, "坏手机")]

    def test_with_the_partial_box_ticked_the_good_rows_are_saved(
        self, clerk_client, world, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = clerk_client.post(
                IMPORT, {"file": csv_upload(GOOD_ROWS + BAD_ROWS), "partial": "on"}
            )
        job = Job.objects.get(kind="people.import")
        assert job.status == Job.SUCCEEDED and job.options == {"partial": True}
        assert set(
            Resident.objects.filter(name__startswith="导入").values_list("name", flat=True)
        ) == {"导入甲", "导入乙"}
        assert not Resident.objects.filter(name__startswith="坏").exists()
        html = body(clerk_client.get(response["Location"]))
        assert "已完成" in html and "新增 2 人" in html and "另有 2 行有错误" in html
        assert reverse("backoffice:job-result", args=[job.pk]) in html

    def test_a_clean_file_succeeds_without_an_error_file(
        self, clerk_client, world, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = clerk_client.post(IMPORT, {"file": csv_upload(GOOD_ROWS)})
        job = Job.objects.get(kind="people.import")
        html = body(clerk_client.get(response["Location"]))
        assert "已完成" in html and "新增 2 人" in html
        assert reverse("backoffice:job-result", args=[job.pk]) not in html
        assert job.place_path == world.town.path

    def test_a_wrong_file_type_gets_a_chinese_message_and_no_job(self, clerk_client):
        response = clerk_client.post(IMPORT, {"file": SimpleUploadedFile("r.pdf", b"%PDF-1.4")})
        assert response.status_code == 200
        assert "只能上传 .xlsx 或 .csv 文件" in body(response)
        assert not Job.objects.exists()

    def test_the_template_is_a_workbook_with_the_import_headers_and_a_valid_example(
        self, clerk_client
    ):
        response = clerk_client.get(TEMPLATE)
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        ws = load_workbook(io.BytesIO(raw(response))).active
        header, example = list(ws.iter_rows(values_only=True))
        assert list(header) == list(rules.HEADERS.values())
        assert list(header) == [rules.HEADERS[f] for f in rules.COLUMNS]
        values = dict(zip(rules.COLUMNS, example, strict=True))
        assert rules.id_error(values["id_number"], rules.parse_date("2026-01-01")) is None


class TestFormErrorsLandOnTheirFields:
    def test_each_bad_field_gets_its_own_message(self, clerk_client):
        resp = clerk_client.post(
            reverse("people:staff-resident-create"),
            form_data(mobile="12345", place_code="980101100009009"),
        )
        form = resp.context["form"]
        assert any("手机号码" in e for e in form.errors["mobile"])
        assert any("所在地编码" in e for e in form.errors["place_code"])
        assert "id_number" not in form.errors
