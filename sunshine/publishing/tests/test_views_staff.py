"""Staff pages of the publication pipeline: the permission matrix per page, the lifecycle
driven through the pages, notices and objections, lists and attachments, posters, press copy
and categories. The other-town 404s of every route are in tests/test_scope_matrix.py."""

import csv
import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sunshine.core.masking import mask_id_number, mask_name
from sunshine.core.models import AuditEntry, Job
from sunshine.core.validators import id_check_char
from sunshine.publishing import rules, services
from sunshine.publishing.models import Attachment, Category, Item, ListEntry, Objection
from sunshine.publishing.views.staff import EXPORT_HEADERS

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LIST = reverse("publishing:staff-item-list")
CREATE = reverse("publishing:staff-item-create")
REVIEW = reverse("publishing:staff-review-queue")
OBJECTIONS = reverse("publishing:staff-objection-list")
POSTERS = reverse("publishing:staff-poster-batch")
CATEGORIES = reverse("publishing:staff-category-list")
EXPORT_XLSX = reverse("publishing:staff-item-export-xlsx")
EXPORT_CSV = reverse("publishing:staff-item-export-csv")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
FULL_ID = re.compile(r"\d{17}[\dX]")
# Today: session, user, the user's place (menu), categories (filter), count, one page of rows
# with current version, category, place and drafter joined and open objections counted.
MAX_LIST_QUERIES = 8


def url(name: str, *args) -> str:
    return reverse(f"publishing:staff-{name}", args=args)


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def raw(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def login(client, world, key):
    client.force_login(world.users[key])
    return client


def make_item(world, *, actor="town_clerk", place=None, code="procedures", title="办事指南", **kw):
    return services.item_create(
        actor=world.users[actor],
        category=Category.objects.get(code=code),
        place=place or world.village,
        title=title,
        **kw,
    )


def make_published(world, **kw) -> Item:
    item = make_item(world, **kw)
    services.item_submit(actor=item.created_by, item=item)
    return services.item_publish(actor=world.users["county_clerk"], item=item)


def make_notice(world, **kw) -> Item:
    kw.setdefault("code", "reward-assistance")
    kw.setdefault("title", "奖励扶助对象公示")
    return make_published(world, **kw)


def objection_on(item, text="名单中有人不符合条件，请核实。", **kw) -> Objection:
    return services.objection_file(item=item, text=text, now=timezone.now(), **kw)


def end_notice_period(item) -> None:
    """Move the notice period into the past: views read the real clock."""
    past = timezone.now() - dt.timedelta(days=1)
    Item.objects.filter(pk=item.pk).update(
        published_at=past - dt.timedelta(days=8), notice_ends_at=past
    )


def form_data(world, **over) -> dict:
    data = {
        "category": "procedures",
        "place": world.town.code,
        "kind": "",
        "title": "生育登记办事指南",
        "summary": "凭身份证即可办理",
        "body": "第一段\n\n第二段 <b>不是网页</b>",
        "table": "事项\t时限\n生育登记\t当场办结\n",
        "levels": ["village", "group"],
        "publish_at": "",
        "expires_at": "",
        "spokesperson": "",
        "token": "tok-1",
    }
    return {**data, **over}


# Permission matrix ------------------------------------------------------------------------


@pytest.fixture
def objects(world):
    draft = make_item(world, code="reward-assistance", title="本村草稿")
    notice = make_notice(world, title="本村公示")
    objection = objection_on(notice, name="王五", phone="13800001111")
    attachment = services.attachment_add(
        actor=world.users["town_clerk"],
        item=draft,
        upload=SimpleUploadedFile("a.png", PNG),
        title="流程图",
    )
    return {"draft": draft, "notice": notice, "objection": objection, "attachment": attachment}


# (route, object, method, roles allowed, roles refused)
MATRIX = [
    ("item-list", None, "get", ["observer", "village_cadre"], ["clinic_doctor", "call_operator"]),
    ("item-export-csv", None, "get", ["observer"], ["clinic_doctor"]),
    ("item-create", None, "get", ["town_clerk", "village_cadre"], ["observer", "county_admin"]),
    ("review-queue", None, "get", ["county_clerk", "county_admin"], ["town_clerk", "observer"]),
    ("objection-list", None, "get", ["observer", "town_clerk"], ["clinic_doctor"]),
    ("poster-batch", None, "get", ["observer", "town_clerk"], ["call_operator"]),
    ("category-list", None, "get", ["county_admin", "county_clerk"], ["town_clerk", "observer"]),
    ("item-detail", "draft", "get", ["observer", "village_cadre"], ["clinic_doctor"]),
    ("item-edit", "draft", "get", ["town_clerk", "village_cadre"], ["observer", "county_admin"]),
    ("item-submit", "draft", "post", ["town_clerk"], ["observer", "county_admin"]),
    ("item-publish", "notice", "post", ["county_admin"], ["town_clerk", "village_cadre"]),
    ("item-return", "notice", "post", ["county_clerk"], ["town_clerk"]),
    ("item-correct", "notice", "get", ["county_clerk"], ["town_clerk", "observer"]),
    ("item-withdraw", "notice", "post", ["county_clerk"], ["town_clerk"]),
    ("item-archive", "notice", "post", ["county_admin"], ["village_cadre"]),
    ("item-finalise", "notice", "post", ["town_clerk"], ["county_admin", "observer"]),
    ("item-entry-add", "draft", "post", ["village_cadre"], ["observer"]),
    ("item-entry-identifiers", "draft", "post", ["town_clerk"], ["county_admin", "observer"]),
    ("item-attachment-add", "draft", "post", ["town_clerk"], ["observer"]),
    ("item-poster", "draft", "get", ["observer"], ["clinic_doctor"]),
    ("item-press-text", "notice", "get", ["observer"], ["call_operator"]),
    ("attachment", "attachment", "get", ["observer", "village_cadre"], ["clinic_doctor"]),
    ("objection-detail", "objection", "get", ["observer"], ["clinic_doctor"]),
    ("objection-contact", "objection", "post", ["town_clerk"], ["observer", "county_admin"]),
    ("objection-answer", "objection", "post", ["village_cadre"], ["observer", "county_admin"]),
]


def _route(objects, name, obj):
    return url(name, objects[obj].pk) if obj else url(name)


class TestPermissionMatrix:
    @pytest.mark.parametrize(("name", "obj", "method", "allowed", "refused"), MATRIX)
    def test_anonymous_is_sent_to_the_login_page(
        self, client, objects, name, obj, method, allowed, refused
    ):
        response = getattr(client, method)(_route(objects, name, obj))
        assert response.status_code == 302 and "/staff/login/" in response["Location"]

    @pytest.mark.parametrize(("name", "obj", "method", "allowed", "refused"), MATRIX)
    def test_roles_without_the_capability_get_403(
        self, client, world, objects, name, obj, method, allowed, refused
    ):
        for key in refused:
            login(client, world, key)
            response = getattr(client, method)(_route(objects, name, obj))
            assert response.status_code == 403, (name, key)

    @pytest.mark.parametrize(("name", "obj", "method", "allowed", "refused"), MATRIX)
    def test_roles_with_the_capability_get_through(
        self, client, world, objects, name, obj, method, allowed, refused
    ):
        for key in allowed:
            login(client, world, key)
            response = getattr(client, method)(_route(objects, name, obj))
            assert response.status_code in (200, 302), (name, key, response.status_code)

    def test_another_towns_clerk_gets_404_for_an_item(self, client, world, objects):
        login(client, world, "outsider")
        assert client.get(url("item-detail", objects["draft"].pk)).status_code == 404
        assert client.post(url("item-submit", objects["draft"].pk)).status_code == 404
        assert client.get(url("objection-detail", objects["objection"].pk)).status_code == 404
        objects["draft"].refresh_from_db()
        assert objects["draft"].status == rules.DRAFT

    def test_the_menu_shows_公开_only_to_roles_that_publish(self, client, world):
        html = body(login(client, world, "village_cadre").get(LIST))
        assert f'href="{LIST}"' in html and ">公开</a>" in html
        login(client, world, "clinic_doctor")
        assert ">公开</a>" not in body(client.get(reverse("backoffice:dashboard")))


# Items list --------------------------------------------------------------------------------


class TestItemList:
    def test_the_list_shows_items_in_scope_with_open_objections(self, client, world):
        notice = make_notice(world, title="本村奖励扶助公示")
        objection_on(notice)
        objection_on(notice)
        make_item(world, actor="outsider", place=world.other_village, title="外镇的办事指南")
        html = body(login(client, world, "town_clerk").get(LIST))
        assert "本村奖励扶助公示" in html and "外镇" not in html
        row = re.search(r"本村奖励扶助公示.*?</tr>", html, re.S).group(0)
        assert "2 条" in row and "已发布" in row

    def test_htmx_gets_the_rows_only_filtered_by_title(self, client, world):
        make_item(world, title="甲事项")
        make_item(world, title="乙事项")
        html = body(login(client, world, "town_clerk").get(LIST, {"q": "乙"}, headers=HTMX))
        assert "<html" not in html and "<tbody>" in html
        assert "乙事项" in html and "甲事项" not in html

    def test_filters_by_status_and_category(self, client, world):
        make_item(world, title="草稿事项")
        make_published(world, title="已发布事项")
        make_item(world, code="reward-assistance", title="公示草稿")
        login(client, world, "town_clerk")
        html = body(client.get(LIST, {"status": "published"}))
        assert "已发布事项" in html and "草稿事项" not in html
        html = body(client.get(LIST, {"category": "reward-assistance"}))
        assert "公示草稿" in html and "草稿事项" not in html.replace("公示草稿", "")
        assert 'value="reward-assistance" selected' in html

    def test_new_button_follows_the_role(self, client, world):
        assert CREATE in body(login(client, world, "town_clerk").get(LIST))
        assert CREATE not in body(login(client, world, "county_admin").get(LIST))
        assert CREATE not in body(login(client, world, "observer").get(LIST))

    def test_a_page_of_fifty_items_takes_a_bounded_number_of_queries(
        self, client, world, django_assert_max_num_queries
    ):
        for i in range(55):
            make_item(world, title=f"批量事项{i:02d}")
        login(client, world, "town_clerk")
        with django_assert_max_num_queries(MAX_LIST_QUERIES):
            html = body(client.get(LIST))
        assert len(re.findall(r'href="/staff/publishing/\d+/"', html)) == 50
        assert "第 1 / 2 页，共 55 条" in html

    @pytest.mark.parametrize("kind", ["xlsx", "csv"])
    def test_the_export_holds_the_filtered_list(self, client, world, kind):
        notice = make_notice(world, title="导出公示")
        objection_on(notice)
        make_item(world, title="不导出的草稿")
        make_item(world, actor="outsider", place=world.other_village, title="外镇事项")
        login(client, world, "town_clerk")
        response = client.get(
            EXPORT_XLSX if kind == "xlsx" else EXPORT_CSV, {"status": "published"}
        )
        if kind == "xlsx":
            wb = load_workbook(io.BytesIO(raw(response)), read_only=True)
            rows = [
                [("" if v is None else str(v)) for v in r]
                for r in wb.active.iter_rows(values_only=True)
            ]
        else:
            rows = list(csv.reader(io.StringIO(body(response))))
        assert rows[0] == EXPORT_HEADERS
        assert len(rows) == 2
        row = dict(zip(EXPORT_HEADERS, rows[1], strict=True))
        assert (row["标题"], row["状态"], row["待答复异议"], row["版本"]) == (
            "导出公示",
            "已发布",
            "1",
            "1",
        )
        assert row["发布地方"] == "本镇一村" and row["类型"] == "公示"


# Create and edit -------------------------------------------------------------------------


class TestItemCreate:
    def test_every_field_has_a_chinese_label(self, client, world):
        html = body(login(client, world, "town_clerk").get(CREATE))
        for label in (
            "类别",
            "发布地方",
            "类型",
            "标题",
            "摘要",
            "正文",
            "表格",
            "同步公开到以下层级",
            "计划发布时间",
            "下架时间",
            "发言人",
        ):
            assert label in html, label
        for name in (
            "category",
            "place",
            "kind",
            "title",
            "summary",
            "body",
            "table",
            "publish_at",
            "expires_at",
            "spokesperson",
        ):
            assert f'for="id_{name}"' in html, name

    def test_a_county_clerk_picks_from_the_county_and_its_towns(self, client, world):
        html = body(login(client, world, "county_clerk").get(CREATE))
        select = re.search(r'<select name="place".*?</select>', html, re.S).group(0)
        assert world.county.code in select and world.town.code in select
        assert world.other_town.code in select  # the county's other town is in scope too
        assert world.village.code not in select

    def test_a_town_clerk_picks_from_the_town_down_and_never_another_town(self, client, world):
        html = body(login(client, world, "town_clerk").get(CREATE))
        select = re.search(r'<select name="place".*?</select>', html, re.S).group(0)
        assert f'value="{world.town.code}"\n' in select or f'value="{world.town.code}"' in select
        assert world.village.code in select and "980101100001001" in select
        assert "外镇" not in select and world.county.code not in select
        assert re.search(rf'value="{world.town.code}"\s+selected', select)

    def test_the_levels_offered_follow_the_place(self, client, world):
        login(client, world, "town_clerk")
        html = body(client.get(CREATE))
        assert 'value="town"' in html and 'value="village"' in html and 'value="county"' not in html
        part = body(client.get(CREATE, {"place": world.village.code}, headers=HTMX))
        levels = re.search(r'<div class="col-12" id="levels">.*?</fieldset>', part, re.S).group(0)
        assert 'value="village"' in levels and 'value="town"' not in levels

    def test_a_valid_form_creates_a_draft_and_redirects_to_it(self, client, world):
        login(client, world, "town_clerk")
        response = client.post(
            CREATE,
            form_data(world, publish_at="2030-01-02T09:30", expires_at="2030-02-01 18:00"),
        )
        item = Item.objects.get()
        assert response.status_code == 302 and response["Location"] == url("item-detail", item.pk)
        v = item.current
        assert (item.status, item.place, item.levels) == (
            rules.DRAFT,
            world.town,
            ["village", "group"],
        )
        assert v.table == {"headers": ["事项", "时限"], "rows": [["生育登记", "当场办结"]]}
        assert timezone.localtime(item.publish_at).strftime("%Y-%m-%d %H:%M") == "2030-01-02 09:30"
        html = body(client.get(response["Location"]))
        assert "&lt;b&gt;不是网页&lt;/b&gt;" in html and "<b>不是网页</b>" not in html
        assert "<td>当场办结</td>" in html

    def test_a_comma_separated_table_is_read_too(self, client, world):
        login(client, world, "town_clerk")
        client.post(CREATE, form_data(world, table="姓名,金额\n张三,960\n李四，补发,120"))
        table = Item.objects.get().current.table
        assert table["headers"] == ["姓名", "金额"] and table["rows"][0] == ["张三", "960"]

    def test_submitting_the_same_form_twice_creates_one_item(self, client, world):
        login(client, world, "town_clerk")
        first = client.post(CREATE, form_data(world))
        second = client.post(CREATE, form_data(world))
        assert Item.objects.count() == 1
        assert second.status_code == 302 and second["Location"] == first["Location"]
        assert "没有重复创建" in body(client.get(second["Location"]))

    def test_a_new_form_gets_a_new_token(self, client, world):
        login(client, world, "town_clerk")
        tokens = {
            re.search(r'name="token" value="([^"]+)"', body(client.get(CREATE))).group(1)
            for _ in range(2)
        }
        assert len(tokens) == 2
        client.post(CREATE, form_data(world, token="a"))
        client.post(CREATE, form_data(world, token="b"))
        assert Item.objects.count() == 2

    def test_a_place_outside_the_scope_is_refused(self, client, world):
        login(client, world, "town_clerk")
        html = body(client.post(CREATE, form_data(world, place=world.other_town.code)))
        assert "只能在您管辖范围内的地方发布" in html and not Item.objects.exists()

    def test_a_statement_outside_the_spokesperson_category_is_refused(self, client, world):
        login(client, world, "town_clerk")
        html = body(client.post(CREATE, form_data(world, kind="statement")))
        assert "只有“网络发言人”类别可以发布发言人声明" in html and not Item.objects.exists()

    def test_the_spokesperson_category_makes_a_statement_and_needs_the_name(self, client, world):
        login(client, world, "town_clerk")
        data = form_data(world, category="spokesperson", levels=[])
        assert "发言人声明须写明发言人" in body(client.post(CREATE, data))
        client.post(CREATE, {**data, "spokesperson": "镇新闻发言人"})
        item = Item.objects.get()
        assert (item.kind, item.spokesperson) == (rules.KIND_STATEMENT, "镇新闻发言人")

    def test_a_notice_needs_a_notice_category(self, client, world):
        login(client, world, "town_clerk")
        html = body(client.post(CREATE, form_data(world, kind="notice")))
        assert "没有公示期，不能作为公示发布" in html

    def test_a_table_with_an_extra_column_is_refused_with_the_row(self, client, world):
        login(client, world, "town_clerk")
        html = body(client.post(CREATE, form_data(world, table="a\tb\n1\t2\t3")))
        assert "表格第2行有3列，比表头多" in html and not Item.objects.exists()

    def test_a_level_above_the_place_is_refused(self, client, world):
        login(client, world, "town_clerk")
        data = form_data(world, place=world.village.code, levels=["town"])
        html = body(client.post(CREATE, data))
        assert "town" in html and not Item.objects.exists()

    def test_a_missing_title_keeps_what_was_typed(self, client, world):
        login(client, world, "town_clerk")
        response = client.post(CREATE, form_data(world, title=""))
        html = body(response)
        assert response.status_code == 200 and "请填写标题。" in html
        assert "凭身份证即可办理" in html and 'aria-invalid="true"' in html
        assert not Item.objects.exists()

    def test_after_a_refusal_the_corrected_form_is_saved_once(self, client, world):
        login(client, world, "town_clerk")
        client.post(CREATE, form_data(world, title=""))
        client.post(CREATE, form_data(world))
        client.post(CREATE, form_data(world))
        assert Item.objects.count() == 1


class TestItemEdit:
    def test_the_form_is_filled_in_and_the_place_is_fixed(self, client, world):
        item = make_item(world, table={"headers": ["a", "b"], "rows": [["1", "2"]]})
        html = body(login(client, world, "town_clerk").get(url("item-edit", item.pk)))
        assert "修改草稿：办事指南" in html and "a\tb\n1\t2" in html
        assert re.search(r'<select name="place"[^>]*disabled', html)

    def test_saving_changes_the_draft(self, client, world):
        item = make_item(world)
        login(client, world, "town_clerk")
        data = form_data(world, title="改后的标题", place=world.other_town.code, levels=["group"])
        response = client.post(url("item-edit", item.pk), data)
        assert response.status_code == 302
        item.refresh_from_db()
        assert item.current.title == "改后的标题" and item.levels == ["group"]
        assert item.place == world.village  # a posted place is ignored

    def test_a_county_clerk_edits_a_village_draft_below_the_places_they_pick_from(
        self, client, world
    ):
        item = make_item(world, code="vehicle-use")
        Category.objects.filter(code="vehicle-use").update(is_active=False)
        login(client, world, "county_clerk")
        response = client.post(url("item-edit", item.pk), form_data(world, title="县局改过"))
        assert response.status_code == 302, body(response)
        item.refresh_from_db()
        assert item.current.title == "县局改过" and item.place == world.village

    def test_an_item_under_review_is_not_editable(self, client, world):
        item = make_item(world)
        services.item_submit(actor=world.users["town_clerk"], item=item)
        login(client, world, "town_clerk")
        response = client.get(url("item-edit", item.pk))
        assert response.status_code == 302
        assert "只有您管辖范围内的草稿可以修改" in body(client.get(response["Location"]))


# Lifecycle ---------------------------------------------------------------------------------


class TestLifecycle:
    def test_town_drafts_county_publishes_corrects_and_withdraws(self, client, world):
        login(client, world, "town_clerk")
        client.post(CREATE, form_data(world, title="奖励扶助资格确认流程"))
        item = Item.objects.get()
        detail = url("item-detail", item.pk)
        assert "提交审核" in body(client.get(detail))
        assert client.post(url("item-submit", item.pk)).status_code == 302
        item.refresh_from_db()
        assert item.status == rules.REVIEW

        login(client, world, "county_clerk")
        assert "奖励扶助资格确认流程" in body(client.get(REVIEW))
        html = body(client.get(detail))
        assert "审核发布" in html and "退回修改" in html
        client.post(url("item-publish", item.pk))
        item.refresh_from_db()
        assert item.status == rules.PUBLISHED and item.reviewed_by == world.users["county_clerk"]
        assert "奖励扶助资格确认流程" not in body(client.get(REVIEW))

        correct = url("item-correct", item.pk)
        assert "第2版" in body(client.get(correct))
        response = client.post(
            correct,
            {
                "title": "奖励扶助资格确认流程（更正）",
                "summary": "",
                "body": "新正文",
                "table": "",
                "change_note": "更正办理时限",
            },
        )
        assert response.status_code == 302
        item.refresh_from_db()
        assert item.current.number == 2 and item.versions.count() == 2
        html = body(client.get(detail))
        assert "更正办理时限" in html and "第1版" in html and "第2版" in html

        response = client.post(url("item-withdraw", item.pk), {"withdraw-reason": "内容已过时"})
        assert response.status_code == 302
        item.refresh_from_db()
        assert item.status == rules.WITHDRAWN and item.review_note == "内容已过时"
        html = body(client.get(detail))
        assert "撤回原因" in html and "内容已过时" in html
        for label in ("起草", "提交审核", "审核发布", "发布更正", "撤回"):
            assert f"<strong>{label}</strong>" in html, label

    def test_a_reviewer_returns_a_draft_with_a_note_the_drafter_sees(self, client, world):
        item = make_item(world)
        services.item_submit(actor=world.users["town_clerk"], item=item)
        login(client, world, "county_clerk")
        client.post(url("item-return", item.pk), {"return-note": "请补充流程图"})
        item.refresh_from_db()
        assert item.status == rules.DRAFT
        html = body(login(client, world, "town_clerk").get(url("item-detail", item.pk)))
        assert "退回意见" in html and "请补充流程图" in html

    def test_returning_without_a_note_shows_the_reason_and_keeps_the_item(self, client, world):
        item = make_item(world)
        services.item_submit(actor=world.users["town_clerk"], item=item)
        login(client, world, "county_clerk")
        response = client.post(url("item-return", item.pk), {"return-note": ""})
        assert response.status_code == 200 and "退回时请写明修改意见。" in body(response)
        item.refresh_from_db()
        assert item.status == rules.REVIEW

    def test_withdrawing_without_a_reason_is_refused(self, client, world):
        item = make_published(world)
        login(client, world, "county_clerk")
        response = client.post(url("item-withdraw", item.pk), {"withdraw-reason": " "})
        assert "撤回时请写明原因。" in body(response)
        item.refresh_from_db()
        assert item.status == rules.PUBLISHED

    def test_the_drafter_is_not_offered_review_and_is_refused_if_they_try(self, client, world):
        item = make_item(world, actor="county_clerk", place=world.county)
        services.item_submit(actor=world.users["county_clerk"], item=item)
        login(client, world, "county_clerk")
        html = body(client.get(url("item-detail", item.pk)))
        assert "您是起草人，不能审核自己起草的事项" in html
        assert url("item-publish", item.pk) not in html
        response = client.post(url("item-publish", item.pk))
        assert "起草人不能审核自己起草的事项" in body(response)
        item.refresh_from_db()
        assert item.status == rules.REVIEW

    def test_a_second_publish_click_is_refused_politely(self, client, world):
        item = make_item(world)
        services.item_submit(actor=world.users["town_clerk"], item=item)
        login(client, world, "county_clerk")
        client.post(url("item-publish", item.pk))
        response = client.post(url("item-publish", item.pk))
        assert response.status_code == 200 and "“已发布”的事项不能改为“已发布”" in body(response)

    def test_a_planned_item_is_scheduled_and_listed_as_such(self, client, world):
        later = timezone.now() + dt.timedelta(days=2)
        item = make_item(world, publish_at=later)
        services.item_submit(actor=world.users["town_clerk"], item=item)
        login(client, world, "county_clerk")
        response = client.post(url("item-publish", item.pk))
        item.refresh_from_db()
        assert item.status == rules.SCHEDULED
        assert "将于" in body(client.get(response["Location"]))
        assert "办事指南" in body(client.get(REVIEW))

    def test_archive(self, client, world):
        item = make_published(world)
        login(client, world, "county_admin").post(url("item-archive", item.pk))
        item.refresh_from_db()
        assert item.status == rules.ARCHIVED

    def test_correcting_needs_a_change_note(self, client, world):
        item = make_published(world)
        login(client, world, "county_clerk")
        response = client.post(url("item-correct", item.pk), {"title": "x", "change_note": ""})
        assert "请写明更正说明" in body(response) and item.versions.count() == 1

    def test_a_draft_has_no_correction_page(self, client, world):
        item = make_item(world)
        response = login(client, world, "county_clerk").get(url("item-correct", item.pk))
        assert response.status_code == 302


# Notices and objections ------------------------------------------------------------------


class TestFinalise:
    def test_an_open_objection_refuses_finalising_then_answering_allows_it(self, client, world):
        item = make_notice(world)
        objection = objection_on(item)
        end_notice_period(item)
        login(client, world, "town_clerk")
        detail = url("item-detail", item.pk)
        assert "还有 1 条异议没有答复" in body(client.get(detail))
        response = client.post(url("item-finalise", item.pk), {"finalise-outcome": "无异议"})
        html = body(response)
        assert response.status_code == 200 and "还有 1 条异议没有答复，答复后才能办结公示。" in html
        assert "\n无异议</textarea>" in html  # what the clerk typed is kept

        client.post(
            url("objection-answer", objection.pk), {"answer": "经核实，该户符合奖励扶助条件。"}
        )
        response = client.post(url("item-finalise", item.pk), {"finalise-outcome": "公示无异议。"})
        assert response.status_code == 302
        item.refresh_from_db()
        assert item.outcome == "公示无异议。" and item.finalised_at is not None
        html = body(client.get(detail))
        assert "公示结果" in html and "公示无异议。" in html
        assert url("item-finalise", item.pk) not in html

    def test_the_running_period_refuses_finalising(self, client, world):
        item = make_notice(world)
        login(client, world, "town_clerk")
        response = client.post(url("item-finalise", item.pk), {"finalise-outcome": "无异议"})
        ends = timezone.localtime(item.notice_ends_at)
        assert f"公示期到 {ends:%Y年%m月%d日} 才结束，期满后才能办结。" in body(response)
        item.refresh_from_db()
        assert item.finalised_at is None

    def test_after_the_period_without_objections_it_is_finalised(self, client, world):
        item = make_notice(world)
        end_notice_period(item)
        login(client, world, "town_clerk")
        client.post(url("item-finalise", item.pk), {"finalise-outcome": "公示期满无异议。"})
        item.refresh_from_db()
        assert item.outcome == "公示期满无异议。"


class TestObjections:
    def test_the_list_shows_objections_in_scope_and_filters_by_status(self, client, world):
        item = make_notice(world, title="本村公示")
        answered = objection_on(item)
        services.objection_answer(
            actor=world.users["town_clerk"], objection=answered, answer="经核实无误。"
        )
        open_one = objection_on(item)
        other = make_notice(world, actor="outsider", place=world.other_village, title="外镇公示")
        objection_on(other)
        login(client, world, "town_clerk")
        html = body(client.get(OBJECTIONS))
        assert open_one.tracking_code in html and answered.tracking_code in html
        assert "外镇" not in html
        html = body(client.get(OBJECTIONS, {"status": "open"}, headers=HTMX))
        assert "<html" not in html
        assert open_one.tracking_code in html and answered.tracking_code not in html

    def test_the_detail_escapes_the_text_and_hides_the_contact(self, client, world):
        item = make_notice(world)
        o = objection_on(
            item, text="<script>alert(1)</script> 不符合", name="王五", phone="13912345678"
        )
        html = body(login(client, world, "town_clerk").get(url("objection-detail", o.pk)))
        assert "&lt;script&gt;" in html and "<script>alert" not in html
        assert "王五" not in html and "13912345678" not in html
        assert url("objection-contact", o.pk) in html

    def test_revealing_the_contact_is_audited(self, client, world):
        item = make_notice(world)
        o = objection_on(item, name="王五", phone="13912345678")
        login(client, world, "town_clerk")
        html = body(client.post(url("objection-contact", o.pk), headers=HTMX))
        assert "<html" not in html and "王五" in html and "13912345678" in html
        entry = AuditEntry.objects.get(action="objection.read_sensitive")
        assert entry.sensitive and entry.actor == world.users["town_clerk"]

    def test_the_observer_sees_no_reveal_button(self, client, world):
        o = objection_on(make_notice(world), name="王五")
        html = body(login(client, world, "observer").get(url("objection-detail", o.pk)))
        assert url("objection-contact", o.pk) not in html and "保存答复" not in html

    def test_a_short_answer_is_refused_and_a_good_one_saved(self, client, world):
        o = objection_on(make_notice(world))
        login(client, world, "town_clerk")
        response = client.post(url("objection-answer", o.pk), {"answer": "好"})
        assert "请写明答复内容（至少5个字）。" in body(response)
        response = client.post(url("objection-answer", o.pk), {"answer": "经核实，情况属实。"})
        assert response.status_code == 302
        o.refresh_from_db()
        assert o.status == rules.OBJECTION_ANSWERED and o.answered_by == world.users["town_clerk"]

    def test_the_objection_list_takes_a_bounded_number_of_queries(
        self, client, world, django_assert_max_num_queries
    ):
        item = make_notice(world)
        for i in range(30):
            objection_on(item, ip=f"10.0.0.{i}")
        login(client, world, "town_clerk")
        with django_assert_max_num_queries(6):
            html = body(client.get(OBJECTIONS))
        assert html.count("/staff/publishing/objections/") >= 30


# Lists and attachments --------------------------------------------------------------------


class TestEntries:
    def _draft(self, world):
        return make_item(world, code="reward-assistance", title="拟确认名单")

    def test_a_registered_resident_is_added_by_id_number_and_shown_masked(self, client, world):
        item = self._draft(world)
        own = world.residents["own"]
        login(client, world, "town_clerk")
        response = client.post(
            url("item-entry-add", item.pk), {"id_number": own.id_number, "matter": "奖励扶助"}
        )
        assert response.status_code == 302
        entry = ListEntry.objects.get()
        assert (entry.resident, entry.name, entry.place_name) == (own, own.name, own.place.name)
        html = body(client.get(url("item-detail", item.pk)))
        assert mask_name(own.name) in html and mask_id_number(own.id_number) in html
        assert own.id_number not in html and not FULL_ID.search(html)
        assert "居民登记" in html

    def test_a_resident_of_another_town_is_not_looked_up(self, client, world):
        item = self._draft(world)
        other = world.residents["other"]
        login(client, world, "town_clerk")
        html = body(client.post(url("item-entry-add", item.pk), {"id_number": other.id_number}))
        assert "姓名不能为空。" in html and other.name not in html
        assert not ListEntry.objects.exists()

    def test_a_typed_person_with_a_wrong_id_number_is_refused(self, client, world):
        item = self._draft(world)
        body17 = "32032419800101001"
        wrong = body17 + ("0" if id_check_char(body17) != "0" else "1")
        login(client, world, "town_clerk")
        html = body(
            client.post(url("item-entry-add", item.pk), {"id_number": wrong, "name": "赵六"})
        )
        assert "身份证号码校验位不对" in html and not ListEntry.objects.exists()

    def test_a_typed_person_without_a_register_entry_is_added(self, client, world):
        item = self._draft(world)
        login(client, world, "town_clerk")
        client.post(url("item-entry-add", item.pk), {"name": "赵六", "place_name": "本镇二村"})
        assert ListEntry.objects.get().resident is None

    def test_the_full_list_is_revealed_to_identifier_roles_and_audited(self, client, world):
        item = self._draft(world)
        own = world.residents["own"]
        services.entry_add(actor=world.users["town_clerk"], item=item, name="", resident=own)
        login(client, world, "town_clerk")
        assert url("item-entry-identifiers", item.pk) in body(
            client.get(url("item-detail", item.pk))
        )
        html = body(client.post(url("item-entry-identifiers", item.pk), headers=HTMX))
        assert "<html" not in html and own.id_number in html and own.name in html
        entry = AuditEntry.objects.get(action="item.read_sensitive")
        assert entry.sensitive and entry.actor == world.users["town_clerk"]
        login(client, world, "county_admin")
        assert url("item-entry-identifiers", item.pk) not in body(
            client.get(url("item-detail", item.pk))
        )

    def test_a_published_list_offers_no_entry_form(self, client, world):
        item = make_notice(world)
        html = body(login(client, world, "town_clerk").get(url("item-detail", item.pk)))
        assert url("item-entry-add", item.pk) not in html
        response = client.post(url("item-entry-add", item.pk), {"name": "赵六"})
        assert "已发布的版本不能修改" in body(response) and not ListEntry.objects.exists()


class TestAttachments:
    def test_a_program_renamed_png_is_refused(self, client, world):
        item = make_item(world)
        login(client, world, "town_clerk")
        response = client.post(
            url("item-attachment-add", item.pk),
            {
                "file": SimpleUploadedFile("流程图.png", EXE, content_type="image/png"),
                "title": "流程图",
            },
        )
        assert response.status_code == 200
        assert "附件只能是图片（PNG、JPEG、GIF）或 PDF 文件。" in body(response)
        assert not Attachment.objects.exists()

    def test_a_real_png_is_stored_and_served_to_staff(self, client, world):
        item = make_item(world)
        login(client, world, "town_clerk")
        response = client.post(
            url("item-attachment-add", item.pk),
            {
                "file": SimpleUploadedFile("图.png", PNG, content_type="image/png"),
                "title": "流程图",
            },
        )
        assert response.status_code == 302
        att = Attachment.objects.get()
        assert att.content_type == "image/png"
        html = body(client.get(url("item-detail", item.pk)))
        assert "流程图" in html and url("attachment", att.pk) in html
        served = client.get(url("attachment", att.pk))
        assert served["Content-Type"] == "image/png" and raw(served) == PNG

    def test_no_file_is_asked_for_in_chinese(self, client, world):
        item = make_item(world)
        html = body(
            login(client, world, "town_clerk").post(url("item-attachment-add", item.pk), {})
        )
        assert "请选择要上传的文件。" in html


# Print, press, posters ---------------------------------------------------------------------


class TestPrintAndPress:
    @pytest.mark.parametrize("size", ["A4", "A3"])
    def test_the_poster_of_the_items_place_is_a_pdf(self, client, world, size):
        item = make_published(world, title="海报上的事项")
        response = login(client, world, "town_clerk").get(
            url("item-poster", item.pk), {"size": size}
        )
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF") and size in response["Content-Disposition"]

    def test_the_press_copy_is_plain_text_with_masked_names(self, client, world):
        item = make_item(
            world, code="reward-assistance", title="奖励扶助对象公示", body="现予公示。"
        )
        own = world.residents["own"]
        services.entry_add(actor=world.users["town_clerk"], item=item, name="", resident=own)
        services.item_submit(actor=world.users["town_clerk"], item=item)
        services.item_publish(actor=world.users["county_clerk"], item=item)
        login(client, world, "town_clerk")
        text = body(client.get(url("item-press-text", item.pk)))
        assert "阳光计生专栏" in text and "奖励扶助对象公示" in text and "现予公示。" in text
        assert mask_name(own.name) in text and own.id_number not in text and own.name not in text
        assert "公示期至" in text
        pdf = client.get(url("item-press-pdf", item.pk))
        assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    def test_the_detail_links_print_and_press(self, client, world):
        item = make_published(world)
        html = body(login(client, world, "observer").get(url("item-detail", item.pk)))
        assert f"{url('item-poster', item.pk)}?size=A3" in html
        assert url("item-press-text", item.pk) in html


class TestPosterBatch:
    def test_the_form_offers_places_in_scope(self, client, world):
        html = body(login(client, world, "town_clerk").get(POSTERS))
        assert world.town.code in html and world.village.code in html
        assert "外镇" not in html and "980101100001001" not in html  # groups come with villages

    def test_a_batch_becomes_a_job_that_builds_a_zip(
        self, client, world, django_capture_on_commit_callbacks
    ):
        make_published(world, title="全镇公开")
        login(client, world, "town_clerk")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(POSTERS, {"place": world.village.code, "size": "A3"})
        job = Job.objects.get(kind="publishing.posters")
        assert response.status_code == 302
        assert response["Location"] == reverse("backoffice:job-detail", args=[job.pk])
        assert job.options["place"] == world.village.code and job.options["size"] == "A3"
        assert job.place_path == world.village.path and job.options["base_url"]
        job.refresh_from_db()
        assert job.status == Job.SUCCEEDED, job.message
        with zipfile.ZipFile(job.result_file.open("rb")) as zf:
            names = zf.namelist()
        assert len(names) == job.result["total"] and names[0].startswith(world.village.code)

    def test_a_place_outside_the_scope_is_refused(self, client, world):
        login(client, world, "town_clerk")
        html = body(client.post(POSTERS, {"place": world.other_town.code, "size": "A4"}))
        assert "只能为您管辖范围内的地方生成海报" in html and not Job.objects.exists()


# Categories -------------------------------------------------------------------------------


class TestCategories:
    def test_the_page_lists_every_category_with_its_item_count(self, client, world):
        make_item(world)
        html = body(login(client, world, "county_admin").get(CATEGORIES))
        assert "办事流程" in html and "奖励扶助对象" in html and "7 天" in html

    def test_editing_changes_the_notice_period(self, client, world):
        c = Category.objects.get(code="procedures")
        login(client, world, "county_admin")
        html = body(client.get(CATEGORIES, {"edit": c.pk}))
        assert "修改类别：办事流程" in html and 'value="办事流程"' in html
        response = client.post(
            CATEGORIES,
            {
                "category": c.pk,
                "name": "办事指南",
                "description": "",
                "notice_days": "3",
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        c.refresh_from_db()
        assert (c.name, c.notice_days, c.is_active) == ("办事指南", 3, True)

    def test_switching_a_category_off_hides_it_from_new_items(self, client, world):
        c = Category.objects.get(code="vehicle-use")
        login(client, world, "county_clerk").post(
            CATEGORIES, {"category": c.pk, "name": c.name, "notice_days": "0"}
        )
        c.refresh_from_db()
        assert not c.is_active
        html = body(login(client, world, "town_clerk").get(CREATE))
        assert 'value="vehicle-use"' not in html

    def test_a_new_category_is_created(self, client, world):
        login(client, world, "county_admin")
        client.post(
            CATEGORIES,
            {"code": "births", "name": "生育登记情况", "notice_days": "0", "is_active": "on"},
        )
        assert Category.objects.get(code="births").name == "生育登记情况"

    def test_bad_input_is_explained(self, client, world):
        login(client, world, "county_admin")
        html = body(client.post(CATEGORIES, {"name": "x", "notice_days": "120"}))
        assert "公示天数不能超过 90 天。" in html and "新建类别请填写代码。" in html
        html = body(
            client.post(CATEGORIES, {"code": "procedures", "name": "x", "notice_days": "0"})
        )
        assert "代码 procedures 已被使用，请换一个。" in html
