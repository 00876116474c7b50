"""Pages of the portal content and statistics: /precheck/, articles, staff articles, targets,
statistics (views/content.py, views/stats.py)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sunshine.core.models import AuditEntry
from sunshine.precheck import content
from sunshine.precheck.models import Article, Target
from sunshine.precheck.tests.test_content import make_institution, make_slot, xlsx_upload
from sunshine.precheck.tests.test_stats import YEAR, build_small

pytestmark = pytest.mark.django_db

HOME = "/precheck/"


def published(title, kind="education", body="正文"):
    a = content.article_create(actor=None, kind=kind, title=title, body=body)
    return content.article_publish(actor=None, article=a)


class TestPublicHome:
    def test_plain_get_shows_the_check_buttons_and_catalogue(self, client, world):
        resp = client.get(HOME)
        assert resp.status_code == 200
        html = resp.content.decode()
        assert "免费孕前优生健康检查" in html and "3～6个月" in html
        assert 'href="/precheck/register/"' in html and "在线登记预约" in html
        assert 'href="/precheck/my/"' in html and "查询我的预约" in html
        assert "共19项：14项医学检查和5项基本服务" in html
        assert "风疹病毒IgG抗体" in html and "优生健康教育" in html
        assert "<script" not in html  # complete without JavaScript

    def test_lists_institutions_with_next_open_slots_only(self, client, world):
        inst = make_institution(world.town, instructions="请携带结婚证")
        now = timezone.now()
        make_slot(inst, timezone.localtime(now + dt.timedelta(days=2)).replace(hour=8, minute=5))
        make_slot(inst, now - dt.timedelta(hours=3))  # past
        make_slot(inst, (now + dt.timedelta(days=3)).replace(minute=17), capacity=3, booked=3)
        make_institution(world.other_town, name="停用的机构", is_active=False)
        html = client.get(HOME).content.decode()
        assert "本镇卫生院" in html and "本镇人民路1号" in html and "请携带结婚证" in html
        assert 'href="tel:0000-1234"' in html and "周二 8:00–11:00" in html
        assert html.count('class="seats"') == 1 and "尚余 10 对" in html
        assert ":17" not in html  # the full slot is not offered
        assert "停用的机构" not in html

    def test_empty_states_without_institutions_or_articles(self, client, world):
        html = client.get(HOME).content.decode()
        assert "服务机构和检查时间正在安排中" in html
        assert "健康知识文章正在整理中" in html
        assert "结果告知" in html  # the default process steps

    def test_published_articles_are_shown_by_kind_and_drafts_never(self, client, world):
        published("服务流程", kind="process", body="第一步 登记\n\n· 预约\n· 检查")
        published("检查前注意事项", kind="precautions", body="请空腹前来")
        edu = published("叶酸怎么吃")
        content.article_create(actor=None, kind="education", title="没发布的草稿", body="x")
        gone = published("撤下的文章")
        content.article_unpublish(actor=None, article=gone)
        html = client.get(HOME).content.decode()
        assert "第一步 登记" in html and "<li>预约</li>" in html and "请空腹前来" in html
        assert f'href="/precheck/articles/{edu.pk}/"' in html
        assert "没发布的草稿" not in html and "撤下的文章" not in html

    def test_article_page_and_404_for_a_draft(self, client, world):
        a = published("叶酸怎么吃", body="每天0.4毫克\n\n<b>不是粗体</b>")
        resp = client.get(reverse("precheck:article", args=[a.pk]))
        html = resp.content.decode()
        assert resp.status_code == 200 and "每天0.4毫克" in html
        assert "&lt;b&gt;不是粗体&lt;/b&gt;" in html
        draft = content.article_create(actor=None, kind="education", title="草稿", body="x")
        assert client.get(reverse("precheck:article", args=[draft.pk])).status_code == 404
        assert client.get("/precheck/articles/999999/").status_code == 404

    def test_seed_articles_render(self, client, world):
        content.articles_ensure()
        html = client.get(HOME).content.decode()
        assert "登记→" not in html  # the steps are a list, not an arrow string
        assert "第六步 随访" in html and "避开月经期" in html
        for a in Article.objects.filter(kind="education"):
            assert client.get(reverse("precheck:article", args=[a.pk])).status_code == 200

    def test_portal_home_links_to_precheck(self, client, world):
        html = client.get("/").content.decode()
        assert 'href="/precheck/"' in html and "进入好孕好运" in html


class TestStaffArticles:
    def test_create_edit_publish_unpublish(self, client, world):
        client.force_login(world.users["county_clerk"])
        resp = client.post(
            reverse("precheck_staff:article-create"),
            {"kind": "education", "title": "备孕须知", "body": "戒烟戒酒"},
        )
        assert resp.status_code == 302
        a = Article.objects.get()
        assert not a.is_published
        assert "备孕须知" in client.get(reverse("precheck_staff:article-list")).content.decode()
        resp = client.post(
            reverse("precheck_staff:article-edit", args=[a.pk]),
            {"kind": "education", "title": "备孕须知（修订）", "body": "戒烟戒酒"},
        )
        assert resp.status_code == 302
        client.post(reverse("precheck_staff:article-publish", args=[a.pk]))
        a.refresh_from_db()
        assert a.title == "备孕须知（修订）" and a.is_published
        assert "备孕须知（修订）" in client.get(HOME).content.decode()
        client.post(reverse("precheck_staff:article-unpublish", args=[a.pk]))
        assert "备孕须知（修订）" not in client.get(HOME).content.decode()
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"precheck.article.create", "precheck.article.update"} <= actions

    def test_bad_input_shows_the_form_again_with_a_chinese_message(self, client, world):
        client.force_login(world.users["county_clerk"])
        resp = client.post(
            reverse("precheck_staff:article-create"), {"kind": "education", "title": "", "body": ""}
        )
        assert resp.status_code == 200 and "没有保存" in resp.content.decode()
        assert not Article.objects.exists()

    def test_create_and_publish_at_once(self, client, world):
        client.force_login(world.users["town_clerk"])
        client.post(
            reverse("precheck_staff:article-create"),
            {"kind": "process", "title": "流程", "body": "登记", "publish": "on"},
        )
        assert Article.objects.get().is_published

    def test_publish_needs_post_and_unknown_ids_are_404(self, client, world):
        client.force_login(world.users["county_clerk"])
        a = content.article_create(actor=None, kind="education", title="t", body="b")
        assert client.get(reverse("precheck_staff:article-publish", args=[a.pk])).status_code == 405
        assert client.get(reverse("precheck_staff:article-edit", args=[999999])).status_code == 404

    @pytest.mark.parametrize("role", ["village_cadre", "observer", "call_operator"])
    def test_roles_without_manage_get_403(self, client, world, role):
        client.force_login(world.users[role])
        assert client.get(reverse("precheck_staff:article-list")).status_code == 403
        assert client.get(reverse("precheck_staff:targets")).status_code == 403


class TestStaffTargets:
    def test_county_clerk_sets_a_target_from_a_row(self, client, world):
        client.force_login(world.users["county_clerk"])
        url = reverse("precheck_staff:targets") + "?year=2026"
        html = client.get(url).content.decode()
        assert "本镇" in html and "外镇" in html and "设定2026年目标" in html
        resp = client.post(url, {"place_code": world.town.code, "year": "2026", "couples": "120"})
        assert resp.status_code == 302
        assert Target.objects.get(year=2026).couples == 120

    def test_bad_value_answers_400_with_a_message_and_saves_nothing(self, client, world):
        client.force_login(world.users["county_clerk"])
        resp = client.post(
            reverse("precheck_staff:targets"),
            {"place_code": world.town.code, "year": "2026", "couples": "-1"},
        )
        assert resp.status_code == 400 and "应为正整数" in resp.content.decode()
        assert not Target.objects.exists()

    def test_a_town_outside_scope_is_404_for_posting(self, client, world):
        client.force_login(world.users["outsider"])  # a town clerk: read only anyway
        resp = client.post(
            reverse("precheck_staff:targets"),
            {"place_code": world.town.code, "year": "2026", "couples": "5"},
        )
        assert resp.status_code == 404
        assert not Target.objects.exists()

    def test_town_clerk_sees_only_their_town_read_only(self, client, world):
        content.target_set(
            actor=world.users["county_clerk"], place=world.other_town, year=2026, couples=77
        )
        client.force_login(world.users["town_clerk"])
        html = client.get(reverse("precheck_staff:targets") + "?year=2026").content.decode()
        assert "本镇" in html and "外镇" not in html and "77" not in html
        assert "目标人群由县级设定" in html and "上传并导入" not in html
        resp = client.post(
            reverse("precheck_staff:targets"),
            {"place_code": world.town.code, "year": "2026", "couples": "5"},
        )
        assert resp.status_code == 400 and not Target.objects.filter(place=world.town).exists()

    def test_export_then_import_round_trip(self, client, world):
        client.force_login(world.users["county_clerk"])
        content.target_set(
            actor=world.users["county_clerk"], place=world.town, year=2026, couples=10
        )
        resp = client.get(reverse("precheck_staff:target-export") + "?year=2026")
        assert resp.status_code == 200
        wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
        rows = list(wb.active.iter_rows(values_only=True))
        assert rows[0] == tuple(content.TARGET_HEADERS)
        assert rows[1][:4] == (world.town.code, "本镇", 2026, 10)
        ws = wb.active
        ws.cell(row=2, column=4, value=25)
        ws.cell(row=3, column=4, value=30)
        buf = io.BytesIO()
        wb.save(buf)
        resp = client.post(
            reverse("precheck_staff:target-import") + "?year=2026",
            {"file": SimpleUploadedFile("t.xlsx", buf.getvalue())},
        )
        assert resp.status_code == 302
        assert dict(Target.objects.values_list("place__code", "couples")) == {
            world.town.code: 25,
            world.other_town.code: 30,
        }

    def test_bad_file_import_shows_the_reason_and_saves_nothing(self, client, world):
        client.force_login(world.users["county_clerk"])
        resp = client.post(
            reverse("precheck_staff:target-import"),
            {"file": SimpleUploadedFile("t.xlsx", b"PK\x03\x04garbage")},
        )
        assert resp.status_code == 400 and "损坏" in resp.content.decode()
        up = xlsx_upload([[world.town.code, "本镇", 2026, "很多"]])
        resp = client.post(reverse("precheck_staff:target-import"), {"file": up})
        assert resp.status_code == 400 and "第2行" in resp.content.decode()
        assert not Target.objects.exists()

    def test_bad_year_falls_back_with_a_message(self, client, world):
        client.force_login(world.users["county_clerk"])
        resp = client.get(reverse("precheck_staff:targets") + "?year=abc", follow=True)
        assert resp.status_code == 200 and "年度应为" in resp.content.decode()


class TestStatsPage:
    def test_page_shows_the_tables_and_charts_data(self, client, small):
        client.force_login(small.users["county_clerk"])
        resp = client.get(reverse("precheck_staff:stats") + f"?year={YEAR}")
        html = resp.content.decode()
        assert resp.status_code == 200
        for text in ("各乡镇每月检查对数", "目标人群覆盖率", "风险评估结果", "短信条数和人均费用"):
            assert text in html
        assert "50.0%" in html and "未设目标" in html and "0.15" in html
        assert 'id="chart-months"' in html and "echarts.min.js" in html
        assert "约20条、2.00元" in html

    def test_town_clerk_never_sees_the_other_town(self, client, small):
        client.force_login(small.users["town_clerk"])
        html = client.get(reverse("precheck_staff:stats") + f"?year={YEAR}").content.decode()
        assert "本镇" in html and "外镇" not in html

    def test_query_count_of_the_page_is_bounded(self, client, small, django_assert_max_num_queries):
        client.force_login(small.users["county_clerk"])
        client.get(reverse("precheck_staff:stats"))  # warm up session and caches
        with django_assert_max_num_queries(14):
            client.get(reverse("precheck_staff:stats") + f"?year={YEAR}")

    @pytest.mark.parametrize("role", ["observer", "village_cadre", "call_operator"])
    def test_roles_without_stats_get_403(self, client, small, role):
        client.force_login(small.users[role])
        assert client.get(reverse("precheck_staff:stats")).status_code == 403
        assert client.get(reverse("precheck_staff:stats-export") + "?table=sms").status_code == 403

    def test_anonymous_goes_to_login(self, client, world):
        resp = client.get(reverse("precheck_staff:stats"))
        assert resp.status_code == 302 and "/staff/login/" in resp["Location"]

    def test_export_each_table_as_xlsx(self, client, small):
        client.force_login(small.users["town_clerk"])
        for table in ("months", "coverage", "risk", "sms"):
            resp = client.get(
                reverse("precheck_staff:stats-export") + f"?table={table}&year={YEAR}"
            )
            assert resp.status_code == 200
            wb = load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
            rows = list(wb.active.iter_rows(values_only=True))
            assert [r[0] for r in rows[1:]] == ["本镇", "合计"]
        resp = client.get(reverse("precheck_staff:stats-export") + "?table=people")
        assert resp.status_code == 404

    def test_bad_year_shows_this_year_with_a_message(self, client, small):
        client.force_login(small.users["county_clerk"])
        resp = client.get(reverse("precheck_staff:stats") + "?year=20x5")
        assert resp.status_code == 200 and "年度应为" in resp.content.decode()


@pytest.fixture
def small(world):
    return build_small(world)


class TestListQueryCounts:
    def test_article_list_and_targets_pages_are_bounded(
        self, client, world, django_assert_max_num_queries
    ):
        content.articles_ensure()
        client.force_login(world.users["county_clerk"])
        client.get(reverse("precheck_staff:article-list"))
        with django_assert_max_num_queries(8):
            assert client.get(reverse("precheck_staff:article-list")).status_code == 200
        with django_assert_max_num_queries(8):
            assert client.get(reverse("precheck_staff:targets")).status_code == 200

    def test_public_home_is_bounded(self, client, world, django_assert_max_num_queries):
        content.articles_ensure()
        for i in range(4):
            make_slot(
                make_institution(world.town, name=f"机构{i}"), timezone.now() + dt.timedelta(days=1)
            )
        with django_assert_max_num_queries(6):
            assert client.get(HOME).status_code == 200


def test_management_command_loads_articles_once(world):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("precheck_articles", stdout=out)
    call_command("precheck_articles", stdout=out)
    assert "已载入并发布7篇" in out.getvalue() and "没有改动" in out.getvalue()
    assert Article.objects.filter(is_published=True).count() == 7
