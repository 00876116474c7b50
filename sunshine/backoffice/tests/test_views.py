"""Staff pages: login and lockout, dashboard, place list with filters, htmx partials and exports,
audit log. Route scoping and the role matrix live in tests/test_scope_matrix.py."""

import csv
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from sunshine.core import audit
from sunshine.core.models import AuditEntry
from sunshine.core.testing import PASSWORD
from sunshine.places import services
from sunshine.places.services import PlaceRow

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# Session, user, the user's place, count, one page of rows (5 today) plus headroom; an N+1
# over 50 rows would blow far past it.
MAX_QUERIES = 7


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


@pytest.fixture
def clerk_client(client, world):
    client.force_login(world.users["town_clerk"])
    return client


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["county_admin"])
    return client


def _more_villages(n=40):
    services.place_bulk_create(
        actor=None, rows=[PlaceRow(f"980101100{200 + i:03d}", f"本镇加村{i}") for i in range(n)]
    )


class TestLogin:
    def test_login_page_is_in_chinese(self, client, db):
        html = body(client.get("/staff/login/"))
        assert "工作人员登录" in html and "用户名" in html and "密码" in html

    def test_wrong_password_shows_the_chinese_message_and_is_audited(self, client, world):
        response = client.post("/staff/login/", {"username": "town_clerk", "password": "wrong"})
        assert response.status_code == 200
        assert "用户名或密码不正确" in body(response)
        entry = AuditEntry.objects.get(action="auth.login_failed")
        assert entry.object_repr == "town_clerk" and entry.actor is None
        assert entry.ip == "127.0.0.1" and entry.path == "/staff/login/"

    def test_successful_login_goes_to_the_dashboard_and_is_audited(self, client, world):
        response = client.post("/staff/login/", {"username": "town_clerk", "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/staff/"
        entry = AuditEntry.objects.get(action="auth.login")
        assert entry.actor == world.users["town_clerk"] and entry.place_path == world.town.path

    def test_deactivated_account_cannot_log_in(self, client, world):
        from sunshine.accounts import services as account_services

        account_services.user_deactivate(
            actor=world.users["county_admin"],
            user=world.users["village_cadre"],
            reason="离职",
        )
        response = client.post("/staff/login/", {"username": "village_cadre", "password": PASSWORD})
        assert response.status_code == 200 and "_auth_user_id" not in client.session

    def test_five_failures_lock_the_account_even_for_the_right_password(self, client, world):
        for _ in range(5):
            client.post("/staff/login/", {"username": "town_clerk", "password": "wrong"})
        response = client.post("/staff/login/", {"username": "town_clerk", "password": PASSWORD})
        assert response.status_code in (403, 429)
        assert "账号已暂时锁定" in body(response)
        assert "_auth_user_id" not in client.session
        assert not AuditEntry.objects.filter(action="auth.login").exists()

    def test_four_failures_do_not_lock(self, client, world):
        for _ in range(4):
            client.post("/staff/login/", {"username": "town_clerk", "password": "wrong"})
        response = client.post("/staff/login/", {"username": "town_clerk", "password": PASSWORD})
        assert response.status_code == 302

    def test_lockout_of_one_user_does_not_lock_another(self, client, world):
        for _ in range(5):
            client.post("/staff/login/", {"username": "town_clerk", "password": "wrong"})
        response = client.post("/staff/login/", {"username": "county_clerk", "password": PASSWORD})
        assert response.status_code == 302

    def test_anonymous_is_sent_to_the_login_page(self, client, db):
        response = client.get("/staff/places/")
        assert response.status_code == 302
        assert response["Location"] == "/staff/login/?next=/staff/places/"


class TestDashboard:
    def test_town_clerk_sees_the_town_counts_and_villages(self, clerk_client):
        html = body(clerk_client.get("/staff/"))
        assert "本镇（乡镇）" in html
        assert "村（社区）" in html and "本镇一村" in html and "本镇二村" in html
        assert "外镇" not in html
        assert "最近操作" not in html  # a town clerk cannot read the audit log

    def test_county_admin_sees_recent_audit_entries_of_the_county(self, admin_client, world):
        audit.record(actor=None, action="test.recent", obj=world.village, object_repr="最近的一条")
        audit.record(
            actor=None, action="test.far", obj=world.other_county, object_repr="乙县的一条"
        )
        html = body(admin_client.get("/staff/"))
        assert "最近操作" in html and "最近的一条" in html and "乙县的一条" not in html

    def test_dashboard_query_count_does_not_grow_with_children(
        self, clerk_client, django_assert_max_num_queries
    ):
        _more_villages()
        with django_assert_max_num_queries(MAX_QUERIES):
            assert clerk_client.get("/staff/").status_code == 200


class TestPlaceList:
    def test_list_shows_the_towns_places_only(self, clerk_client):
        html = body(clerk_client.get("/staff/places/"))
        assert "<form" in html and "本镇一村第1组" in html and "外镇" not in html

    def test_filter_by_level(self, clerk_client):
        html = body(clerk_client.get("/staff/places/", {"level": "village"}))
        assert "本镇一村" in html and "本镇二村" in html
        assert "本镇一村第1组" not in html and "本镇卫生院" not in html

    def test_filter_by_name_or_code(self, clerk_client):
        html = body(clerk_client.get("/staff/places/", {"q": "卫生院"}))
        assert "本镇卫生院" in html and "本镇一村" not in html
        html = body(clerk_client.get("/staff/places/", {"q": "980101100001"}))
        assert "本镇一村第2组" in html and "本镇二村" not in html

    def test_search_cannot_reach_another_town(self, clerk_client):
        html = body(clerk_client.get("/staff/places/", {"q": "外镇"}))
        assert "没有符合条件的地方" in html

    def test_invalid_level_is_ignored_not_an_error(self, clerk_client):
        response = clerk_client.get("/staff/places/", {"level": "planet"})
        assert response.status_code == 200 and "本镇一村" in body(response)

    def test_htmx_request_gets_only_the_rows(self, clerk_client):
        html = body(clerk_client.get("/staff/places/", {"level": "village"}, headers=HTMX))
        assert "<table" in html and "本镇二村" in html
        assert "<html" not in html and "<form" not in html and '<nav class="navbar' not in html

    def test_pages_of_50_with_a_pager(self, clerk_client):
        _more_villages(60)
        html = body(clerk_client.get("/staff/places/"))
        assert "第 1 / 2 页" in html
        assert "第 2 / 2 页" in body(clerk_client.get("/staff/places/", {"page": "2"}))

    def test_query_count_is_bounded_and_does_not_grow_with_rows(
        self, clerk_client, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(MAX_QUERIES):
            clerk_client.get("/staff/places/")
        _more_villages()
        with django_assert_max_num_queries(MAX_QUERIES):
            clerk_client.get("/staff/places/")
        with django_assert_max_num_queries(MAX_QUERIES):
            clerk_client.get("/staff/places/", {"level": "village"}, headers=HTMX)

    def test_place_detail_shows_children_and_staff(self, clerk_client):
        html = body(clerk_client.get("/staff/places/980101100001/"))
        assert "本镇一村" in html and "本镇一村第1组" in html and "本地village_cadre" in html


class TestPlaceExports:
    def test_xlsx_export_contains_the_towns_rows_with_a_bold_header(self, clerk_client):
        response = clerk_client.get("/staff/places/export.xlsx")
        assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0] == ("编码", "名称", "层级", "上级编码", "城乡分类代码", "代码年份")
        assert all(c.font.bold for c in ws[1])
        codes = {r[0] for r in rows[1:]}
        assert "980101100001" in codes and not any(c.startswith("980101101") for c in codes)
        village = next(r for r in rows if r[0] == "980101100001")
        assert village[1:4] == ("本镇一村", "村（社区）", "980101100000")

    def test_csv_export_follows_the_filters(self, clerk_client):
        response = clerk_client.get("/staff/places/export.csv", {"level": "village"})
        rows = list(csv.reader(io.StringIO(body(response))))
        assert rows[0][0] == "编码"
        assert [r[1] for r in rows[1:]] == ["本镇一村", "本镇二村"]

    def test_export_writes_names_that_look_like_formulas_as_text(self, clerk_client):
        services.place_create(actor=None, code="980101100009", name='=HYPERLINK("x","点我")')
        response = clerk_client.get("/staff/places/export.xlsx", {"level": "village"})
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        cell = next(row[1] for row in ws.iter_rows(min_row=2) if row[0].value == "980101100009")
        assert cell.data_type == "s"


class TestUserPages:
    def test_user_list_is_scoped_and_query_count_is_bounded(
        self, clerk_client, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(MAX_QUERIES):
            html = body(clerk_client.get("/staff/users/"))
        assert "village_cadre" in html and "outsider" not in html


class TestAuditList:
    def test_list_filters_by_action_and_text(self, admin_client, world):
        audit.record(actor=None, action="place.update", obj=world.village, object_repr="改名记录")
        audit.record(actor=None, action="contact.create", obj=world.village, object_repr="电话记录")
        html = body(admin_client.get("/staff/audit/", {"action": "place."}))
        assert "改名记录" in html and "电话记录" not in html
        html = body(admin_client.get("/staff/audit/", {"q": "电话"}))
        assert "电话记录" in html and "改名记录" not in html

    def test_sensitive_filter_shows_only_sensitive_reads(self, admin_client, world):
        audit.record_read(actor=world.users["county_admin"], obj=world.village, fields=["x"])
        audit.record(actor=None, action="place.update", obj=world.village, object_repr="普通记录")
        html = body(admin_client.get("/staff/audit/", {"sensitive": "on"}))
        assert "place.read_sensitive" in html and "普通记录" not in html

    def test_date_range_includes_the_day_and_excludes_others(self, admin_client, world):
        entry = audit.record(actor=None, action="t.day", obj=world.village, object_repr="当天记录")
        day = timezone.localtime(entry.at).date()
        html = body(admin_client.get("/staff/audit/", {"date_from": day, "date_to": day}))
        assert "当天记录" in html
        before = day.replace(year=day.year - 1)
        html = body(admin_client.get("/staff/audit/", {"date_to": before}))
        assert "当天记录" not in html and "没有记录" in html

    def test_bad_dates_get_chinese_messages(self, admin_client):
        response = admin_client.get("/staff/audit/", {"date_from": "2026-13-45", "date_to": "明天"})
        html = body(response)
        assert response.status_code == 200
        assert "起始日期格式应为 2026-01-31" in html and "截止日期格式应为 2026-01-31" in html

    def test_htmx_request_gets_only_the_rows(self, admin_client, world):
        audit.record(actor=None, action="t.x", obj=world.village, object_repr="部分刷新")
        html = body(admin_client.get("/staff/audit/", headers=HTMX))
        assert "部分刷新" in html and "<html" not in html and "<form" not in html

    def test_query_count_is_bounded(self, admin_client, world, django_assert_max_num_queries):
        for i in range(30):
            audit.record(
                actor=world.users["town_clerk"], action="t.n", obj=world.village, reason=str(i)
            )
        with django_assert_max_num_queries(MAX_QUERIES):
            admin_client.get("/staff/audit/")

    def test_audit_detail_shows_the_changes(self, admin_client, world):
        entry = audit.record(
            actor=None, action="place.update", obj=world.village, changes={"name": ["旧", "新"]}
        )
        html = body(admin_client.get(f"/staff/audit/{entry.pk}/"))
        assert "place.update" in html and "旧" in html and "新" in html


class TestAuditExport:
    def test_csv_export_contains_the_counties_entries_only(self, admin_client, world):
        audit.record(actor=None, action="t.own", obj=world.village, object_repr="本县记录")
        audit.record(actor=None, action="t.far", obj=world.other_county, object_repr="乙县记录")
        response = admin_client.get("/staff/audit/export.csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(body(response))))
        assert rows[0][:3] == ["时间", "操作人", "动作"]
        reprs = [r[5] for r in rows[1:]]
        assert "本县记录" in reprs and "乙县记录" not in reprs

    def test_export_follows_the_filters_and_marks_sensitive_rows(self, admin_client, world):
        audit.record_read(actor=world.users["county_admin"], obj=world.village, fields=["x"])
        audit.record(actor=None, action="t.plain", obj=world.village)
        rows = list(
            csv.reader(
                io.StringIO(body(admin_client.get("/staff/audit/export.csv", {"sensitive": "on"})))
            )
        )
        assert [r[2] for r in rows[1:]] == ["place.read_sensitive"]
        assert rows[1][7] == "是"

    def test_town_clerk_cannot_export_the_audit_log(self, clerk_client):
        assert clerk_client.get("/staff/audit/export.csv").status_code == 403
