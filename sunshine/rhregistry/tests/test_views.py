import re

import pytest

from sunshine.core import scopecheck
from sunshine.core.models import AuditEntry
from sunshine.core.testing import OTHER_COUNTY_MARKERS, OTHER_MARKERS
from sunshine.messaging.models import Message
from sunshine.messaging.testing import sms_code
from sunshine.rhregistry import rules
from sunshine.rhregistry import testing as rh
from sunshine.rhregistry.models import ContactRequest, Donor, Search

pytestmark = pytest.mark.django_db

REFUSED_ROLES = ("village_cadre", "town_clerk", "call_operator", "observer", "county_admin")


def _rh_routes():
    return [
        r for r in scopecheck.staff_routes() if r.route.startswith(("staff/rh/", "api/staff/rh/"))
    ]


def _tables(world):
    clerk = world.users["county_clerk"]

    def values(place):
        return {
            "donor_id": lambda: rh.donor(place).pk,
            "search_id": lambda: rh.search(clerk, place).pk,
            "request_id": lambda: rh.pending_request(clerk, place).pk,
        }

    return values(world.village), values(world.other_village)


class TestHiddenFromOtherRoles:
    def test_the_walk_finds_pages_and_api_routes(self):
        routes = {r.route for r in _rh_routes()}
        assert "staff/rh/" in routes and "staff/rh/search/<int:search_id>/" in routes
        assert {r for r in routes if r.startswith("api/staff/rh/")} >= {
            "api/staff/rh/donors",
            "api/staff/rh/search",
        }
        assert any("donor_id" in r for r in routes if r.startswith("api/"))

    @pytest.mark.parametrize("role", REFUSED_ROLES)
    def test_every_route_answers_404_to_a_role_without_the_capability(self, client, world, role):
        own, _ = _tables(world)
        client.force_login(world.users[role])
        checked = 0
        for r in _rh_routes():
            url = scopecheck._fill(r.route, {k: own[k]() for k in r.kwargs})
            for method in (client.get, client.post):
                resp = method(url, content_type="application/json", data={})
                if r.route.startswith("api/") and resp.status_code == 405:
                    # ninja answers a wrong method before any check, to everyone alike
                    continue
                assert resp.status_code == 404, (role, url, method.__name__, resp.status_code)
                assert "熊猫" not in resp.content.decode()
                checked += 1
        assert checked >= 25
        assert not Message.objects.filter(source__startswith="rhregistry:request:").exists()
        assert ContactRequest.objects.filter(status=ContactRequest.PENDING).count() >= 1

    @pytest.mark.parametrize("role", ("clinic_doctor", "county_clerk"))
    def test_allowed_roles_open_every_page(self, client, world, role):
        own, _ = _tables(world)
        client.force_login(world.users[role])
        for r in _rh_routes():
            if r.route.startswith("api/"):
                continue
            url = scopecheck._fill(r.route, {k: own[k]() for k in r.kwargs})
            assert client.get(url).status_code in (200, 405), url

    def test_anonymous_goes_to_login_and_api_says_401(self, client, world):
        own, _ = _tables(world)
        for r in _rh_routes():
            url = scopecheck._fill(r.route, {k: own[k]() for k in r.kwargs})
            resp = client.get(url)
            if r.route.startswith("api/"):
                assert resp.status_code == 401, url
            else:
                assert resp.status_code == 302 and "/staff/login/" in resp["Location"], url

    def test_nav_link_is_shown_only_to_the_registry_roles(self, client, world):
        client.force_login(world.users["town_clerk"])
        assert "/staff/rh/" not in client.get("/staff/").content.decode()


class TestScope:
    def test_a_town_scoped_probe_never_sees_another_town(self, client, world):
        client.force_login(world.users["probe"])
        own, other = _tables(world)
        problems = scopecheck.check_routes(
            client, _rh_routes(), own=own, other=other, markers=OTHER_MARKERS + OTHER_COUNTY_MARKERS
        )
        assert problems == []

    def test_doctor_of_another_town_finds_no_donor_here(self, client, world):
        from sunshine.accounts import roles
        from sunshine.accounts import services as account_services

        rh.donor(world.village, name="本镇志愿者")
        doctor_b = account_services.user_create(
            actor=None,
            username="doctor_b",
            password="x-pass-2026",
            role=roles.CLINIC_DOCTOR,
            place=world.other_town,
            full_name="外镇医生",
        )
        client.force_login(doctor_b)
        assert "本*****者" not in client.get("/staff/rh/").content.decode()
        resp = client.get("/api/staff/rh/donors")
        assert resp.status_code == 200 and resp.json()["count"] == 0
        resp = client.post(
            "/staff/rh/search/",
            {
                "patient_abo": "O",
                "patient_rhd": "neg",
                "place": world.other_town.code,
                "hospital": "外镇卫生院",
                "contact_phone": "0000-2",
                "patient_ref": "1床",
            },
        )
        assert resp.status_code == 302
        assert Search.objects.get().result_count == 0


def _audit_count(action_prefix):
    return AuditEntry.objects.filter(action__startswith=action_prefix).count()


class TestEveryAccessIsAudited:
    def test_list_detail_reveal_search_results_and_requests(self, client, world):
        doctor = world.users["clinic_doctor"]
        d = rh.donor(world.village, mobile="13766667777", name="李阿花")
        client.force_login(doctor)

        before = AuditEntry.objects.count()
        body = client.get("/staff/rh/").content.decode()
        assert "13766667777" not in body and "137****7777" in body and "李*花" in body
        entry = AuditEntry.objects.get(action="rhdonor.list_read")
        assert entry.actor == doctor and entry.sensitive and entry.changes["shown"] == [d.pk]

        body = client.get(f"/staff/rh/donors/{d.pk}/").content.decode()
        assert "13766667777" not in body and d.id_number not in body
        assert AuditEntry.objects.filter(
            action="donor.read_sensitive", object_id=str(d.pk)
        ).exists()

        reads = AuditEntry.objects.filter(action="donor.read_sensitive").order_by("pk")
        before = reads.count()
        body = client.post(
            f"/staff/rh/donors/{d.pk}/identifiers/", {"reason": "电话核实"}
        ).content.decode()
        assert "13766667777" in body and d.id_number in body
        # One row per reveal, naming what the page showed; the htmx swap shows only the two.
        assert reads.count() == before + 1
        reveal = reads.last()
        assert {"id_number", "mobile", "name"} <= set(reveal.changes["fields"])
        assert reveal.reason == "电话核实"
        body = client.post(
            f"/staff/rh/donors/{d.pk}/identifiers/", {"reason": "再次核实"}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "13766667777" in body and reads.count() == before + 2
        assert reads.last().changes["fields"] == ["id_number", "mobile"]

        resp = client.post(
            "/staff/rh/search/",
            {
                "patient_abo": "A",
                "patient_rhd": "neg",
                "place": world.town.code,
                "near": world.village.code,
                "hospital": "县人民医院",
                "contact_phone": "0000-12345",
                "patient_ref": "外科8床",
            },
        )
        search = Search.objects.get()
        assert resp.status_code == 302 and resp["Location"].endswith(f"/search/{search.pk}/")
        assert search.actor == doctor and search.result_count == 1
        body = client.get(resp["Location"]).content.decode()
        assert "李*花" in body and rules.DISCLAIMER in body and "13766667777" not in body
        assert _audit_count("rhsearch.") == 2  # the search and the results page

        client.post(f"/staff/rh/search/{search.pk}/request/", {"donor": [d.pk]})
        body = client.get("/staff/rh/requests/").content.decode()
        assert "确认发送短信" in body
        assert AuditEntry.objects.filter(action="rhdonor.request_list_read").exists()
        assert AuditEntry.objects.count() - before >= 7

    def test_api_reads_and_search_are_audited_and_masked(self, client, world):
        d = rh.donor(world.village, mobile="13766668888")
        client.force_login(world.users["county_clerk"])
        data = client.get("/api/staff/rh/donors").json()
        assert data["count"] == 1 and data["items"][0]["mobile"] == "137****8888"
        assert AuditEntry.objects.filter(action="rhdonor.api_list_read").exists()
        one = client.get(f"/api/staff/rh/donors/{d.pk}").json()
        assert one["id_number"] == d.id_number[:6] + "********" + d.id_number[-4:]
        assert AuditEntry.objects.filter(action="donor.read_sensitive", reason="api").exists()
        resp = client.post(
            "/api/staff/rh/search",
            {
                "patient_abo": "O",
                "place_code": world.county.code,
                "hospital": "县人民医院",
                "contact_phone": "0000-12345",
                "patient_ref": "2床",
            },
            content_type="application/json",
        )
        assert resp.status_code == 200, resp.content
        out = resp.json()
        assert out["result_count"] == 1 and out["note"] == rules.DISCLAIMER
        assert AuditEntry.objects.filter(action="rhsearch.create").exists()

    def test_api_bad_search_gets_a_chinese_message(self, client, world):
        client.force_login(world.users["county_clerk"])
        resp = client.post(
            "/api/staff/rh/search",
            {
                "patient_abo": "Q",
                "place_code": world.county.code,
                "hospital": "医院",
                "contact_phone": "0000-1",
                "patient_ref": "1床",
            },
            content_type="application/json",
        )
        assert resp.status_code == 400 and "ABO" in resp.json()["detail"]
        assert client.get("/api/staff/rh/donors/999999").status_code == 404


class TestStaffFlows:
    def test_request_then_confirm_sends_one_sms(self, client, world):
        clerk = world.users["county_clerk"]
        req = rh.pending_request(world.users["clinic_doctor"], world.village)
        client.force_login(clerk)
        sms = Message.objects.filter(source__startswith="rhregistry:request:")
        assert not sms.exists()
        client.post(f"/staff/rh/requests/{req.pk}/confirm/")
        client.post(f"/staff/rh/requests/{req.pk}/confirm/")  # double submit
        assert sms.count() == 1
        body = client.get("/staff/rh/requests/?status=sent", follow=True).content.decode()
        assert "已确认并发送" in body

    def test_withdraw_on_behalf_removes_the_donor_from_the_list(self, client, world):
        d = rh.donor(world.village, name="王大力")
        client.force_login(world.users["clinic_doctor"])
        resp = client.post(f"/staff/rh/donors/{d.pk}/withdraw/", {"reason": "本人电话要求"})
        assert resp.status_code == 302
        body = client.get("/staff/rh/").content.decode()
        assert "王*力" not in body
        assert re.search(r"已撤回（信息已删除）</th>\s*<td[^>]*>1</td>", body)
        assert client.get(f"/staff/rh/donors/{d.pk}/").status_code == 404

    def test_register_on_behalf_needs_consent(self, client, world):
        client.force_login(world.users["clinic_doctor"])
        data = {
            "name": "赵小红",
            "id_number": rh.id_number(),
            "mobile": "13799990000",
            "abo": "B",
            "rhd": "neg",
            "place": world.village.code,
            "consent_scope": [rules.EMERGENCY],
        }
        body = client.post("/staff/rh/new/", data).content.decode()
        assert "请阅读同意书" in body and not Donor.objects.exists()
        resp = client.post("/staff/rh/new/", {**data, "consent": "on"})
        d = Donor.objects.get()
        assert resp.status_code == 302 and d.channel == Donor.STAFF
        body = client.post(
            "/staff/rh/new/", {**data, "place": world.other_village.code, "consent": "on"}
        ).content.decode()
        assert "请从列表中选择" in body  # another town's village is not offered


JOIN = {
    "name": "陈熊猫",
    "mobile": "13712345678",
    "abo": "AB",
    "rhd": "neg",
    "consent_scope": [rules.EMERGENCY, rules.ACTIVITIES],
}


class TestPublicPages:
    @pytest.fixture(autouse=True)
    def _no_challenge(self, settings):
        """These tests post several times from one address; the picture challenge that the
        public forms then ask for is tested in tests/test_public_forms.py."""
        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 100

    def test_about_explains_voluntary_confidential_withdrawal(self, client, world):
        body = client.get("/rh/").content.decode()
        for words in ("自愿", "不公开", "撤回", "交叉配血以血站为准"):
            assert words in body

    def test_join_form_has_an_unticked_consent_box_with_the_text(self, client, world):
        body = client.get("/rh/join/").content.decode()
        assert rules.CONSENT_TEXT in body
        box = re.search(r'<input[^>]*name="consent"[^>]*>', body).group(0)
        assert "checked" not in box
        assert "checked" not in "".join(re.findall(r'<input[^>]*name="consent_scope"[^>]*>', body))
        assert world.village.name in body

    def test_join_without_consent_is_refused_in_chinese(self, client, world):
        data = {**JOIN, "id_number": rh.id_number(), "place": world.village.code}
        body = client.post("/rh/join/", data).content.decode()
        assert "请阅读同意书" in body and not Donor.objects.exists()

    @pytest.mark.parametrize(
        ("change", "words"),
        [
            ({"id_number": "123"}, "身份证号码应为18位"),
            ({"mobile": "999"}, "手机号码应为11位"),
            ({"abo": ""}, "请选择ABO血型"),
            ({"place": ""}, "请选择所在的村"),
            ({"place": "980101100000"}, "请从列表中选择"),
            ({"name": ""}, "请填写姓名"),
            ({"consent_scope": []}, "请至少选择一项"),
        ],
    )
    def test_join_bad_input(self, client, world, change, words):
        data = {**JOIN, "id_number": rh.id_number(), "place": world.village.code, "consent": "on"}
        data.update(change)
        resp = client.post("/rh/join/", data)
        assert resp.status_code == 200 and words in resp.content.decode()
        assert not Donor.objects.exists()

    def test_join_then_join_again_answers_the_same_and_tells_the_registered_mobile(
        self, client, world
    ):
        data = {**JOIN, "id_number": rh.id_number(), "place": world.village.code, "consent": "on"}
        first = client.post("/rh/join/", data, follow=True).content.decode()
        d = Donor.objects.get()
        assert d.channel == Donor.ONLINE and d.consent_scope == [rules.EMERGENCY, rules.ACTIVITIES]
        again = client.post(
            "/rh/join/", {**data, "mobile": "13800000000"}, follow=True
        ).content.decode()
        assert Donor.objects.count() == 1
        assert "您的登记已提交" in first and "您的登记已提交" in again
        assert "已登记" not in again
        already = Message.objects.get(source=f"rhregistry:donor:{d.pk}:already")
        assert already.mobile == "13712345678"

    def _withdraw(self, client, id_number, mobile, *, code=None):
        """The two steps: ask for the code, then bring back the code texted to `mobile`
        (or `code`)."""
        url = "/rh/withdraw/"
        sent = client.post(url, {"id_number": id_number, "mobile": mobile, "step": "send"})
        assert "验证码已发到" in sent.content.decode()
        code = code if code is not None else sms_code(mobile)
        data = {"id_number": id_number, "mobile": mobile, "code": code, "step": "confirm"}
        return client.post(url, data, follow=True).content.decode()

    def test_withdraw_answers_the_same_whether_matched_or_not(self, client, world):
        d = rh.donor(world.village, mobile="13712340000")
        wrong = self._withdraw(client, d.id_number, "13712349999")
        d.refresh_from_db()
        assert d.is_active
        right = self._withdraw(client, d.id_number, "13712340000")
        d.refresh_from_db()
        assert not d.is_active and d.id_number == ""

        def notice(body):
            return re.search(r'role="status">(.*?)</p>', body, re.S).group(1)

        assert notice(wrong) == notice(right)
        assert Message.objects.filter(source=f"rhregistry:donor:{d.pk}:withdraw").count() == 1

    def test_withdraw_is_impossible_without_the_code_sent_to_that_mobile(self, client, world):
        d = rh.donor(world.village, mobile="13712340000")
        data = {"id_number": d.id_number, "mobile": "13712340000", "step": "confirm"}
        # Straight to the confirmation with no code, a guessed code, or a code that went to
        # another number: nothing is withdrawn.
        assert "请输入短信验证码" in client.post("/rh/withdraw/", data).content.decode()
        body = client.post("/rh/withdraw/", {**data, "code": "123456"}).content.decode()
        assert "验证码错误或已过期" in body
        client.post(
            "/rh/withdraw/", {"id_number": d.id_number, "mobile": "13712349999", "step": "send"}
        )
        other = sms_code("13712349999")
        body = client.post("/rh/withdraw/", {**data, "code": other}).content.decode()
        assert "验证码错误或已过期" in body
        d.refresh_from_db()
        assert d.is_active

    def test_the_code_step_keeps_the_typed_numbers_and_masks_the_mobile(self, client, world):
        d = rh.donor(world.village, mobile="13712340000")
        body = client.post(
            "/rh/withdraw/", {"id_number": d.id_number, "mobile": "13712340000", "step": "send"}
        ).content.decode()
        assert "验证码已发到137****0000" in body and 'name="code"' in body
        assert 'value="confirm"' in body

    def test_withdraw_tries_per_address_are_limited(self, client, world, settings):
        d = rh.donor(world.village, mobile="13712340000")
        for n in range(settings.SUNSHINE_FORM_POSTS_PER_HOUR):
            client.post(
                "/rh/withdraw/",
                {"id_number": d.id_number, "mobile": "13712340000", "step": "confirm", "code": n},
            )
        body = client.post(
            "/rh/withdraw/", {"id_number": d.id_number, "mobile": "13712340000", "step": "send"}
        ).content.decode()
        assert "提交过于频繁，请" in body and "分钟后再试" in body
        assert not Message.objects.filter(programme="verification").exists()
        d.refresh_from_db()
        assert d.is_active

    def test_withdraw_bad_input(self, client, world):
        body = client.post("/rh/withdraw/", {"id_number": "12", "mobile": ""}).content.decode()
        assert "身份证号码应为18位" in body or "请填写登记时的手机号码" in body
        assert "请填写登记时的手机号码" in body

    def test_public_pages_show_no_full_numbers(self, client, world):
        rh.donor(world.village, mobile="13712340000")
        for url in ("/rh/", "/rh/join/", "/rh/withdraw/"):
            assert "13712340000" not in client.get(url).content.decode()


class TestQueryCounts:
    def test_list_pages_do_not_grow_with_rows(self, client, world):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        clerk = world.users["county_clerk"]
        client.force_login(clerk)

        def count(url):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            return len(ctx.captured_queries)

        urls = ("/staff/rh/", "/staff/rh/requests/", "/api/staff/rh/donors")
        rh.pending_request(clerk, world.village)
        before = [count(u) for u in urls]
        for _ in range(4):
            rh.pending_request(clerk, world.village)
        assert [count(u) for u in urls] == before
        assert max(before) <= 16
