"""Staff pages of the SMS desk: the permission matrix per page, scoping, masked mobiles in pages
and exports, the audited reveal, outbox search, the cost ledger's sums, templates with their
preview, test sends, call tasks and the replies inbox. The other-town 404s of every route are
also walked in tests/test_scope_matrix.py."""

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sunshine.core.models import AuditEntry
from sunshine.messaging import rules, selectors, services
from sunshine.messaging.models import CallTask, Message, Reply, Template
from sunshine.messaging.views.staff import EXPORT_HEADERS

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
OWN_MOBILE = "13800001234"  # the own-town resident's number in the test world
OWN_MASKED = "138****1234"
# A whole number on its own, not eleven digits inside a hexadecimal OutId.
FULL_MOBILE = re.compile(r"(?<![0-9a-f])1[3-9]\d{9}(?![0-9a-f])")
# Session, user, the user's place (menu), programme choices, count, one page of rows with
# resident, place and template joined; an N+1 over 30 rows would blow far past it.
MAX_LIST_QUERIES = 8


def url(name: str, *args) -> str:
    return reverse(f"messaging_staff:{name}", args=args)


def body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def raw(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def login(client, world, key):
    client.force_login(world.users[key])
    return client


def send(
    world,
    *,
    resident="own",
    mobile="",
    place=None,
    programme="precheck",
    text="请按时参加孕前优生检查。",
    status=None,
    segments=1,
    cost="0.06",
    sent_at=None,
) -> Message:
    """A message queued through the service, then given the state a test needs."""
    person = world.residents[resident] if resident else None
    message = services.message_enqueue(
        programme=programme, mobile=mobile, body=text, resident=person, place=place
    )
    assert isinstance(message, Message)
    if status:
        billed = status in (rules.SENT, rules.DELIVERED)
        Message.objects.filter(pk=message.pk).update(
            status=status,
            segments=segments if billed else 0,
            cost=Decimal(cost) if billed else 0,
            sent_at=(sent_at or timezone.now()) if billed else None,
        )
        message.refresh_from_db()
    return message


def call_task(world, resident="own") -> CallTask:
    task = services.message_enqueue(
        programme="precheck",
        mobile="12345",
        body="请到卫生院检查。",
        resident=world.residents[resident],
    )
    assert isinstance(task, CallTask)
    return task


def reply(world, *, place=None, content="请问检查要带什么？", mobile=OWN_MOBILE, seq=None) -> Reply:
    """Own-town replies arrive through the service; the other town's is placed directly."""
    if place is None:
        seq = seq or f"seq-{Reply.objects.count() + 1}"
        services.replies_receive([{"sequence_id": seq, "phone_number": mobile, "content": content}])
        return Reply.objects.get(sequence_id=seq)
    return Reply.objects.create(
        mobile=mobile,
        content=content,
        sequence_id=seq or f"other-{Reply.objects.count() + 1}",
        place_path=place.path,
        route="inbox",
    )


@pytest.fixture
def objects(world):
    services.template_save(
        actor=None, code="remind", name="检查提醒", body="{name}您好，请于{date}检查。"
    )
    return {
        "message": send(world),
        "task": call_task(world),
        "reply": reply(world),
        "template": Template.objects.get(code="remind"),
    }


# (route, object, method, roles allowed, roles refused)
MATRIX = [
    (
        "outbox",
        None,
        "get",
        ["county_admin", "call_operator", "town_clerk"],
        ["village_cadre", "observer"],
    ),
    ("outbox-export-csv", None, "get", ["county_clerk"], ["clinic_doctor"]),
    ("outbox-export-xlsx", None, "get", ["town_clerk"], ["observer"]),
    ("message-detail", "message", "get", ["call_operator", "town_clerk"], ["village_cadre"]),
    ("message-mobile", "message", "post", ["town_clerk"], ["village_cadre", "observer"]),
    ("test-send", None, "get", ["county_clerk", "town_clerk"], ["county_admin", "call_operator"]),
    ("call-list", None, "get", ["call_operator", "town_clerk"], ["county_admin", "village_cadre"]),
    ("call-detail", "task", "get", ["call_operator", "county_clerk"], ["county_admin", "observer"]),
    ("call-close", "task", "post", ["call_operator"], ["county_admin", "village_cadre"]),
    (
        "call-mobile",
        "task",
        "post",
        ["town_clerk", "call_operator"],
        ["county_admin", "clinic_doctor"],
    ),
    ("reply-list", None, "get", ["county_admin", "call_operator"], ["village_cadre"]),
    ("reply-detail", "reply", "get", ["call_operator", "town_clerk"], ["observer"]),
    (
        "reply-handle",
        "reply",
        "post",
        ["call_operator", "town_clerk"],
        ["county_admin", "observer"],
    ),
    ("reply-mobile", "reply", "post", ["county_clerk"], ["village_cadre"]),
    ("template-list", None, "get", ["town_clerk", "call_operator"], ["observer"]),
    (
        "template-create",
        None,
        "get",
        ["county_clerk", "county_admin"],
        ["town_clerk", "call_operator"],
    ),
    ("template-edit", "template", "get", ["county_admin"], ["town_clerk", "call_operator"]),
    ("template-preview", None, "post", ["county_clerk"], ["town_clerk"]),
    ("ledger", None, "get", ["county_admin", "call_operator", "town_clerk"], ["village_cadre"]),
    ("ledger-export-xlsx", None, "get", ["county_clerk"], ["observer"]),
]


def _route(objects, name, obj):
    if obj == "template":
        return url(name, objects[obj].code)
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

    def test_the_menu_shows_短信_and_人工话务_by_capability(self, client, world):
        html = body(login(client, world, "call_operator").get(url("outbox")))
        assert ">短信</a>" in html and ">人工话务</a>" in html
        html = body(login(client, world, "county_admin").get(url("outbox")))
        assert ">短信</a>" in html and ">人工话务</a>" not in html
        html = body(login(client, world, "village_cadre").get(reverse("backoffice:place-list")))
        assert ">短信</a>" not in html


class TestScoping:
    def test_another_towns_clerk_gets_404_for_a_message_a_task_and_a_reply(
        self, client, world, objects
    ):
        login(client, world, "outsider")
        assert client.get(url("message-detail", objects["message"].pk)).status_code == 404
        assert client.post(url("message-mobile", objects["message"].pk)).status_code == 404
        assert client.get(url("call-detail", objects["task"].pk)).status_code == 404
        assert (
            client.post(url("call-close", objects["task"].pk), {"outcome": "x"}).status_code == 404
        )
        assert client.get(url("reply-detail", objects["reply"].pk)).status_code == 404
        assert (
            client.post(url("reply-handle", objects["reply"].pk), {"note": "x"}).status_code == 404
        )
        objects["task"].refresh_from_db()
        objects["reply"].refresh_from_db()
        assert objects["task"].status == CallTask.OPEN and not objects["reply"].handled

    def test_lists_show_only_the_users_own_town(self, client, world):
        send(world, text="本镇的提醒")
        send(world, resident="other", text="外镇的提醒")
        call_task(world, "other")
        reply(world, place=world.other_village, content="外镇的回复")
        login(client, world, "town_clerk")
        for name in ("outbox", "call-list", "reply-list"):
            assert "外镇" not in body(client.get(url(name))), name
        assert "本镇的提醒" in body(client.get(url("outbox")))
        html = body(login(client, world, "county_clerk").get(url("outbox")))
        assert "本镇的提醒" in html and "外镇的提醒" in html


class TestMasking:
    def test_outbox_page_and_exports_show_only_masked_mobiles(self, client, world):
        send(world)
        login(client, world, "town_clerk")  # a role that may reveal: still masked in lists
        html = body(client.get(url("outbox")))
        assert OWN_MASKED in html and OWN_MOBILE not in html
        text = body(client.get(url("outbox-export-csv")))
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == EXPORT_HEADERS
        assert rows[1][2] == OWN_MASKED and OWN_MOBILE not in text
        assert not any(FULL_MOBILE.search(cell) for row in rows for cell in row)
        wb = load_workbook(io.BytesIO(raw(client.get(url("outbox-export-xlsx")))), read_only=True)
        cells = [str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c]
        assert OWN_MASKED in cells and OWN_MOBILE not in cells
        assert not any(FULL_MOBILE.search(c) for c in cells)

    def test_detail_pages_mask_the_mobile(self, client, world, objects):
        login(client, world, "call_operator")
        for response in (
            client.get(url("message-detail", objects["message"].pk)),
            client.get(url("reply-detail", objects["reply"].pk)),
        ):
            html = body(response)
            assert OWN_MOBILE not in html
            assert "显示完整号码" not in html  # operators may not reveal these
        call_page = body(client.get(url("call-detail", objects["task"].pk)))
        assert (
            OWN_MOBILE not in call_page and "显示完整号码" in call_page
        )  # but may dial a call task
        assert OWN_MASKED in body(client.get(url("message-detail", objects["message"].pk)))

    def test_reveal_shows_the_full_number_and_is_audited(self, client, world, objects):
        login(client, world, "town_clerk")
        message = objects["message"]
        assert "显示完整号码" in body(client.get(url("message-detail", message.pk)))
        response = client.post(
            url("message-mobile", message.pk), {"reason": "电话核实"}, headers=HTMX
        )
        assert response.status_code == 200 and OWN_MOBILE in body(response)
        entry = AuditEntry.objects.get(action="message.read_sensitive")
        assert entry.sensitive and entry.object_id == str(message.pk)
        assert entry.actor == world.users["town_clerk"] and entry.reason == "电话核实"
        assert OWN_MOBILE not in entry.object_repr

    def test_reveal_without_htmx_returns_the_whole_page(self, client, world, objects):
        login(client, world, "town_clerk")
        html = body(client.post(url("reply-mobile", objects["reply"].pk)))
        assert OWN_MOBILE in html and "居民回复" in html

    def test_roles_without_identifiers_cannot_reveal_and_nothing_is_audited(
        self, client, world, objects
    ):
        login(client, world, "call_operator")
        assert client.post(url("message-mobile", objects["message"].pk)).status_code == 403
        login(client, world, "county_admin")
        assert client.post(url("reply-mobile", objects["reply"].pk)).status_code == 403
        assert not AuditEntry.objects.filter(sensitive=True).exists()


class TestOutboxSearch:
    @pytest.fixture
    def two(self, world):
        first = send(world, text="甲短信", status=rules.DELIVERED)
        second = send(world, resident="own2", text="乙短信", programme="test")
        return first, second

    @pytest.mark.parametrize("query", ["1234", OWN_MOBILE, OWN_MASKED, "138 0000 1234"])
    def test_mobile_search_by_last_four_full_or_masked(self, client, world, two, query):
        html = body(login(client, world, "town_clerk").get(url("outbox"), {"mobile": query}))
        assert "甲短信" in html and "乙短信" not in html

    def test_a_mobile_search_that_is_not_a_number_says_so_and_finds_nothing(
        self, client, world, two
    ):
        html = body(login(client, world, "town_clerk").get(url("outbox"), {"mobile": "12ab"}))
        assert "后4位" in html and "甲短信" not in html and "乙短信" not in html

    def test_filter_by_status_and_programme(self, client, world, two):
        login(client, world, "town_clerk")
        html = body(client.get(url("outbox"), {"status": rules.DELIVERED}))
        assert "甲短信" in html and "乙短信" not in html
        html = body(client.get(url("outbox"), {"programme": "test"}))
        assert "乙短信" in html and "甲短信" not in html

    def test_filter_by_date_range_in_local_days(self, client, world, two):
        first, _ = two
        long_ago = timezone.now() - dt.timedelta(days=40)
        Message.objects.filter(pk=first.pk).update(created_at=long_ago)
        login(client, world, "town_clerk")
        today = timezone.localdate().isoformat()
        html = body(client.get(url("outbox"), {"date_from": today, "date_to": today}))
        assert "乙短信" in html and "甲短信" not in html
        old = timezone.localtime(long_ago).date().isoformat()
        html = body(client.get(url("outbox"), {"date_from": old, "date_to": old}))
        assert "甲短信" in html and "乙短信" not in html
        html = body(client.get(url("outbox"), {"date_from": today, "date_to": old}))
        assert "结束日期不能早于开始日期" in html

    def test_htmx_gets_only_the_rows(self, client, world, two):
        response = login(client, world, "town_clerk").get(
            url("outbox"), {"mobile": "1234"}, headers=HTMX
        )
        html = body(response)
        assert "甲短信" in html and "<html" not in html and "<table" in html

    def test_export_follows_the_filter(self, client, world, two):
        text = body(
            login(client, world, "town_clerk").get(url("outbox-export-csv"), {"programme": "test"})
        )
        assert "乙短信" in text and "甲短信" not in text

    def test_the_list_page_makes_a_bounded_number_of_queries(
        self, client, world, django_assert_max_num_queries
    ):
        for i in range(30):
            send(world, resident="own" if i % 2 else "own2", text=f"第{i}条", status=rules.SENT)
        login(client, world, "town_clerk")
        with django_assert_max_num_queries(MAX_LIST_QUERIES):
            response = client.get(url("outbox"))
        assert body(response).count("<tr>") == 31

    def test_detail_says_when_a_planned_message_joins_the_send_queue(self, client, world):
        message = send(world)
        page = login(client, world, "county_clerk")
        assert "才进入发送队列" not in body(page.get(url("message-detail", message.pk)))
        Message.objects.filter(pk=message.pk).update(ready=False)
        assert "才进入发送队列" in body(page.get(url("message-detail", message.pk)))

    def test_detail_shows_history_receipt_and_call_task(self, client, world):
        message = send(world, status=rules.SENDING)
        Message.objects.filter(pk=message.pk).update(provider_id="biz-9")
        services.receipts_record(
            [
                {
                    "biz_id": "biz-9",
                    "phone_number": OWN_MOBILE,
                    "out_id": message.out_id,
                    "success": False,
                    "err_code": "MOBILE_NOT_ON_SERVICE",
                    "err_msg": "停机",
                }
            ]
        )
        task = CallTask.objects.get(message=message)
        html = body(login(client, world, "county_clerk").get(url("message-detail", message.pk)))
        assert "进入队列" in html and "失败" in html  # the Attempt rows
        assert "MOBILE_NOT_ON_SERVICE" in html  # the receipt
        assert url("call-detail", task.pk) in html


class TestLedger:
    """A small known set: in town A, resident 甲 gets three single messages and one of two
    segments, resident 乙 one; a number with no resident one; one failed, one still queued;
    town B one message. Segments and costs are set directly."""

    @pytest.fixture
    def known(self, world):
        now = timezone.now()
        three_months_ago = now - dt.timedelta(days=92)
        for _ in range(3):
            send(world, status=rules.DELIVERED, sent_at=now)
        send(world, status=rules.SENT, segments=2, cost="0.12", sent_at=three_months_ago)
        send(world, resident="own2", programme="test", status=rules.DELIVERED, sent_at=now)
        send(
            world,
            resident=None,
            mobile="13700000001",
            place=world.village,
            status=rules.DELIVERED,
            sent_at=now,
        )
        send(world, status=rules.FAILED)
        send(world)  # queued: not billed
        send(world, resident="other", status=rules.DELIVERED, cost="0.06", sent_at=now)
        return now

    def _by(self, rows, label):
        return next(r for r in rows if r.label == label)

    def test_totals_and_per_participant_in_the_users_scope(self, world, known):
        data = selectors.ledger_for_actor(world.users["town_clerk"], now=known)
        total = data["total"]
        assert (total.messages, total.failed, total.segments) == (6, 1, 7)
        assert total.cost == Decimal("0.42") and total.participants == 3
        assert total.cost_per_participant == Decimal("0.14")
        assert total.messages_per_participant == Decimal("2.0")

    def test_by_programme(self, world, known):
        rows = selectors.ledger_for_actor(world.users["town_clerk"], now=known)["by_programme"]
        precheck, test = self._by(rows, "孕前优生检查"), self._by(rows, "测试短信")
        assert (precheck.messages, precheck.cost, precheck.participants) == (5, Decimal("0.36"), 2)
        assert (test.messages, test.cost, test.participants) == (1, Decimal("0.06"), 1)

    def test_by_place_for_a_county_user_is_by_town(self, world, known):
        rows = selectors.ledger_for_actor(world.users["county_clerk"], now=known)["by_place"]
        assert [r.label for r in rows] == ["本镇", "外镇"]
        assert rows[0].cost == Decimal("0.42") and rows[1].cost == Decimal("0.06")

    def test_by_place_for_a_town_user_is_by_village(self, world, known):
        rows = selectors.ledger_for_actor(world.users["town_clerk"], now=known)["by_place"]
        assert [r.label for r in rows] == ["本镇一村"]
        assert rows[0].messages == 6

    def test_by_month_covers_twelve_months_by_send_time(self, world, known):
        months = selectors.ledger_for_actor(world.users["town_clerk"], now=known)["by_month"]
        assert len(months) == 12
        this = timezone.localtime(known)
        assert months[-1].label == f"{this.year}年{this.month}月"
        assert months[-1].messages == 5 and months[-1].cost == Decimal("0.30")
        assert sum(m.messages for m in months) == 6
        assert sum(m.cost for m in months) == Decimal("0.42")

    def test_a_message_sent_over_a_year_ago_counts_in_the_total_not_the_months(self, world, known):
        old = send(world, status=rules.DELIVERED, sent_at=known - dt.timedelta(days=400))
        data = selectors.ledger_for_actor(world.users["town_clerk"], now=known)
        assert data["total"].messages == 7 and data["month_total"].messages == 6
        assert data["month_total"].cost == Decimal("0.42") and old.pk
        chart = selectors.ledger_chart(data["by_month"], months=True)
        assert len(chart["labels"]) == 12 and chart["messages"][-1] == 5

    def test_the_page_shows_a_chart_and_the_same_numbers_in_tables(self, client, world, known):
        html = body(login(client, world, "town_clerk").get(url("ledger")))
        assert "vendor/echarts/echarts.min.js" in html and "js/charts.js" in html
        data = json.loads(
            re.search(
                r'<script id="chart-programme-data" type="application/json">(.*?)</script>', html
            ).group(1)
        )
        assert data["labels"] == ["孕前优生检查", "测试短信"] and data["cost"] == [0.36, 0.06]
        assert "0.42" in html and "0.14" in html  # total cost and cost per participant
        assert "外镇" not in html

    def test_the_excel_export_has_every_group(self, client, world, known):
        response = login(client, world, "town_clerk").get(url("ledger-export-xlsx"))
        wb = load_workbook(io.BytesIO(raw(response)), read_only=True)
        rows = list(wb.active.iter_rows(values_only=True))
        groups = {r[0] for r in rows[1:]}
        assert groups == {"按项目", "按地方", "按月份", "合计"}
        total = next(r for r in rows if r[0] == "合计")
        assert total[2] == 6 and float(total[5]) == pytest.approx(0.42)


class TestTemplates:
    def test_the_form_shows_parameters_and_the_segment_count(self, client, world, objects):
        long_body = "{name}您好，" + "请按时参加孕前优生检查，" * 6
        Template.objects.filter(code="remind").update(body=long_body)
        html = body(login(client, world, "county_clerk").get(url("template-edit", "remind")))
        preview = selectors.template_preview(long_body)
        assert preview["segments"] == 2
        assert "<strong>2</strong> 条" in html and "{name}" in html and "0.12 元" in html

    def test_the_preview_partial_counts_the_signature(self, client, world):
        response = login(client, world, "county_clerk").post(
            url("template-preview"), {"body": "字" * 64}, headers=HTMX
        )
        html = body(response)
        assert "【阳光计生】" in html and "<strong>1</strong> 条" in html
        html = body(client.post(url("template-preview"), {"body": "字" * 65}, headers=HTMX))
        assert "<strong>2</strong> 条" in html  # 65 + 6 for 【阳光计生】 = 71 characters

    def test_a_template_with_a_bad_brace_is_refused(self, client, world):
        response = login(client, world, "county_clerk").post(
            url("template-create"),
            {"code": "bad", "name": "坏模板", "body": "{name您好", "category": rules.ESSENTIAL},
        )
        assert response.status_code == 200
        assert "大括号要成对" in body(response)
        assert not Template.objects.filter(code="bad").exists()

    def test_a_parameter_starting_with_a_digit_is_refused(self, client, world):
        response = login(client, world, "county_clerk").post(
            url("template-create"),
            {"code": "num", "name": "数字", "body": "{0}您好", "category": rules.ESSENTIAL},
        )
        assert "要以字母开头" in body(response) and not Template.objects.filter(code="num").exists()

    def test_create_saves_and_audits(self, client, world):
        response = login(client, world, "county_admin").post(
            url("template-create"),
            {
                "code": "visit",
                "name": "产后访视",
                "body": "{name}您好，{date}医生上门访视。",
                "category": rules.ESSENTIAL,
            },
        )
        assert response.status_code == 302
        template = Template.objects.get(code="visit")
        assert template.params == ["name", "date"] and template.category == rules.ESSENTIAL
        assert AuditEntry.objects.filter(action="sms_template.save").count() == 1

    def test_a_code_in_use_is_not_overwritten_by_create(self, client, world, objects):
        response = login(client, world, "county_clerk").post(
            url("template-create"),
            {"code": "remind", "name": "另一个", "body": "你好", "category": rules.ESSENTIAL},
        )
        assert "已经有模板在用" in body(response)
        assert Template.objects.get(code="remind").name == "检查提醒"

    def test_edit_keeps_the_code(self, client, world, objects):
        response = login(client, world, "county_clerk").post(
            url("template-edit", "remind"),
            {
                "code": "hacked",
                "name": "检查提醒",
                "body": "{name}您好",
                "category": rules.ESSENTIAL,
            },
        )
        assert response.status_code == 302
        assert Template.objects.get(code="remind").body == "{name}您好"
        assert not Template.objects.filter(code="hacked").exists()

    def test_an_unknown_template_is_404(self, client, world):
        assert (
            login(client, world, "county_clerk").get(url("template-edit", "nope")).status_code
            == 404
        )

    def test_the_list_shows_segments_per_template(self, client, world, objects):
        html = body(login(client, world, "town_clerk").get(url("template-list")))
        assert "检查提醒" in html and "name、date" in html


class TestTestSend:
    def _form(self, client):
        html = body(client.get(url("test-send")))
        return re.search(r'name="token" value="([^"]+)"', html).group(1)

    def test_a_test_send_creates_one_message_at_the_users_place(self, client, world):
        login(client, world, "town_clerk")
        token = self._form(client)
        data = {"token": token, "mobile": "13700000002", "body": "测试短信，请勿回复。"}
        response = client.post(url("test-send"), data)
        message = Message.objects.get()
        assert response.status_code == 302 and response["Location"] == url(
            "message-detail", message.pk
        )
        assert message.programme == "test" and message.place == world.town
        assert message.status == rules.QUEUED
        assert AuditEntry.objects.filter(action="message.send_test").count() == 1
        again = client.post(url("test-send"), data)  # the same form submitted twice
        assert again.status_code == 302 and again["Location"] == url("message-detail", message.pk)
        assert Message.objects.count() == 1
        assert client.get(response["Location"]).status_code == 200

    def test_a_template_with_parameters(self, client, world, objects):
        login(client, world, "county_clerk")
        client.post(
            url("test-send"),
            {"mobile": "13700000002", "template": "remind", "params": "name=张三\ndate=周五"},
        )
        message = Message.objects.get(programme="test")
        assert message.template == objects["template"] and message.params == {
            "name": "张三",
            "date": "周五",
        }

    def test_a_missing_parameter_is_refused_in_chinese(self, client, world, objects):
        login(client, world, "county_clerk")
        response = client.post(
            url("test-send"), {"mobile": "13700000002", "template": "remind", "params": "name=张三"}
        )
        assert "缺少模板参数：date" in body(response)
        assert not Message.objects.filter(programme="test").exists()

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"mobile": "12345", "body": "测试"}, "手机号码应为11位数字"),
            ({"mobile": "13700000002", "body": ""}, "请填写短信内容，或选择一个模板"),
            ({"mobile": "", "body": "测试"}, "请填写接收短信的手机号码"),
        ],
    )
    def test_bad_input_says_what_is_wrong_and_sends_nothing(self, client, world, data, error):
        response = login(client, world, "town_clerk").post(url("test-send"), data)
        assert response.status_code == 200 and error in body(response)
        assert not Message.objects.exists() and not CallTask.objects.exists()


class TestCallTasks:
    def test_the_queue_lists_open_tasks_oldest_first(self, client, world):
        first, second = call_task(world), call_task(world, "own2")
        CallTask.objects.filter(pk=second.pk).update(
            created_at=timezone.now() - dt.timedelta(days=1)
        )
        html = body(login(client, world, "call_operator").get(url("call-list")))
        links = re.findall(r"/staff/sms/calls/(\d+)/", html)
        assert links == [str(second.pk), str(first.pk)]

    def test_the_task_page_shows_the_script_and_the_person(self, client, world):
        task = call_task(world)
        html = body(login(client, world, "call_operator").get(url("call-detail", task.pk)))
        assert "请到卫生院检查。" in html and "本镇居民甲" in html and "记录结果" in html

    def test_closing_records_the_outcome_and_is_audited(self, client, world):
        task = call_task(world)
        response = login(client, world, "call_operator").post(
            url("call-close", task.pk), {"outcome": "已电话告知本人"}
        )
        assert response.status_code == 302 and response["Location"] == url("call-list")
        task.refresh_from_db()
        assert task.status == CallTask.DONE and task.outcome == "已电话告知本人"
        assert task.handled_by == world.users["call_operator"]
        assert AuditEntry.objects.filter(action="calltask.close", object_id=str(task.pk)).exists()
        assert "已电话告知本人" in body(client.get(url("call-list"), {"status": "done"}))
        assert str(task.pk) not in re.findall(
            r"/staff/sms/calls/(\d+)/", body(client.get(url("call-list")))
        )

    def test_closing_without_an_outcome_is_refused(self, client, world):
        task = call_task(world)
        html = body(login(client, world, "call_operator").post(url("call-close", task.pk), {}))
        assert "请填写处理结果" in html
        task.refresh_from_db()
        assert task.status == CallTask.OPEN

    def test_closing_twice_keeps_the_first_outcome(self, client, world):
        task = call_task(world)
        login(client, world, "call_operator")
        client.post(url("call-close", task.pk), {"outcome": "第一次"})
        client.post(url("call-close", task.pk), {"outcome": "第二次"})
        task.refresh_from_db()
        assert task.outcome == "第一次"


class TestReplies:
    def test_the_inbox_lists_unhandled_inbox_replies_only(self, client, world):
        question = reply(world, content="请问检查要带什么？")
        reply(world, content="TD")  # an opt-out: handled by the engine
        html = body(login(client, world, "town_clerk").get(url("reply-list")))
        assert "请问检查要带什么？" in html and ">TD<" not in html
        assert url("reply-detail", question.pk) in html

    def test_handling_with_a_note_marks_it_and_is_audited(self, client, world):
        r = reply(world)
        response = login(client, world, "town_clerk").post(
            url("reply-handle", r.pk), {"note": "已电话回复"}
        )
        assert response.status_code == 302
        r.refresh_from_db()
        assert r.handled and r.note == "已电话回复"
        entry = AuditEntry.objects.get(action="reply.handle")
        assert entry.actor == world.users["town_clerk"] and entry.place_path == r.place_path
        assert "已电话回复" in body(client.get(url("reply-list"), {"handled": "1"}))

    def test_handling_without_a_note_is_refused(self, client, world):
        r = reply(world)
        html = body(
            login(client, world, "town_clerk").post(url("reply-handle", r.pk), {"note": " "})
        )
        assert "请写明处理情况" in html
        r.refresh_from_db()
        assert not r.handled

    def test_handling_twice_is_refused(self, client, world):
        r = reply(world)
        login(client, world, "town_clerk")
        client.post(url("reply-handle", r.pk), {"note": "第一次"})
        html = body(client.post(url("reply-handle", r.pk), {"note": "第二次"}, follow=True))
        assert "已经处理过" in html
        r.refresh_from_db()
        assert r.note == "第一次"

    def test_the_reply_page_shows_recent_messages_sent_to_the_number(self, client, world):
        send(world, text="请于周五检查。", status=rules.SENT)
        send(world, text="下月再来随访。")  # still waiting: not what the reply answers
        r = reply(world)
        html = body(login(client, world, "town_clerk").get(url("reply-detail", r.pk)))
        assert "请于周五检查。" in html
        assert "下月再来随访。" not in html


class TestOperatorDialsTheNumber:
    def test_an_operator_may_reveal_the_number_of_a_call_task_and_the_read_is_audited(
        self, client, world, objects
    ):
        login(client, world, "call_operator")
        html = body(client.post(url("call-mobile", objects["task"].pk)))
        assert objects["task"].mobile in html
        entry = AuditEntry.objects.get(sensitive=True)
        assert entry.actor == world.users["call_operator"] and entry.object_id == str(
            objects["task"].pk
        )
