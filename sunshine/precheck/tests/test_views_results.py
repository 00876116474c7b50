"""Pages and API of results, assessment and counselling: permissions, scope, audit, the grid."""

import json

import pytest
from django.urls import reverse

from sunshine.accounts import roles
from sunshine.accounts import services as account_services
from sunshine.core.models import AuditEntry
from sunshine.core.testing import PASSWORD
from sunshine.messaging import services as sms_services
from sunshine.messaging.models import Message
from sunshine.precheck import health, sms
from sunshine.precheck.models import Assessment, Counselling, Registration, Result
from sunshine.precheck.tests.test_results import full_entries, make_registration

pytestmark = pytest.mark.django_db
READ = "registration.read_sensitive"


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch):
    monkeypatch.setattr(sms_services, "_dispatch_soon", lambda: None)


@pytest.fixture
def reg(world):
    return make_registration(world.village)


@pytest.fixture
def doctor_client(client, world):
    client.force_login(world.users["clinic_doctor"])
    return client


def urls(reg) -> dict[str, str]:
    return {
        "entry": reverse("precheck_staff:results-entry", args=[reg.pk]),
        "assess": reverse("precheck_staff:results-assess", args=[reg.pk]),
        "counselling": reverse("precheck_staff:results-counselling", args=[reg.pk]),
        "api": f"/api/staff/precheck/registrations/{reg.pk}/results",
    }


def grid_post(**overrides) -> dict:
    """The entry form as a browser posts it, all normal unless overridden by field name."""
    data = {}
    for item, s, value, flag, _note in full_entries():
        name = f"{item.code}-{s}"
        if item.result_type == "flag":
            data[f"f-{name}"] = "1" if flag else "0"
        else:
            data[f"v-{name}"] = value
    data.update(overrides)
    return data


class TestPermissions:
    @pytest.mark.parametrize("role", ["village_cadre", "call_operator", "town_clerk", "observer"])
    def test_roles_without_health_get_403_on_pages_and_api(self, client, world, reg, role):
        client.force_login(world.users[role])
        u = urls(reg)
        assert client.get(reverse("precheck_staff:results-worklist")).status_code == 403
        assert client.get(u["entry"]).status_code == 403
        assert client.post(u["entry"], grid_post()).status_code == 403
        assert client.post(u["assess"]).status_code == 403
        assert client.post(u["counselling"], {"advice": "x"}).status_code == 403
        assert client.get(u["api"]).status_code == 403
        assert not Result.objects.exists()
        assert not AuditEntry.objects.filter(action=READ).exists()

    def test_clinic_doctor_of_another_town_gets_404(self, client, world, reg):
        other_doctor = account_services.user_create(
            actor=None,
            username="other_doctor",
            password=PASSWORD,
            role=roles.CLINIC_DOCTOR,
            place=world.other_town,
            full_name="外镇医生",
        )
        client.force_login(other_doctor)
        u = urls(reg)
        assert client.get(u["entry"]).status_code == 404
        assert client.post(u["entry"], grid_post()).status_code == 404
        assert client.post(u["assess"]).status_code == 404
        assert client.post(u["counselling"], {"advice": "x"}).status_code == 404
        assert client.get(u["api"]).status_code == 404
        resp = client.post(u["api"], {"entries": []}, content_type="application/json")
        assert resp.status_code == 404
        assert reg.woman_name not in client.get(reverse("precheck_staff:results-worklist")).text
        assert not AuditEntry.objects.filter(action=READ, object_id=str(reg.pk)).exists()

    def test_anonymous_is_sent_to_login(self, client, reg):
        resp = client.get(urls(reg)["entry"])
        assert resp.status_code == 302 and "/staff/login/" in resp["Location"]

    def test_get_on_post_only_routes_is_405(self, doctor_client, reg):
        assert doctor_client.get(urls(reg)["assess"]).status_code == 405


class TestEntryPage:
    def test_page_shows_the_grid_and_writes_an_audit_row(self, doctor_client, world, reg):
        resp = doctor_client.get(urls(reg)["entry"])
        assert resp.status_code == 200
        text = resp.text
        assert "血液常规检验（血红蛋白）" in text and "110–150 g/L" in text
        assert "风险评估和咨询指导" not in text  # item 18 is not a result
        assert 'name="f-hbv-F"' in text and 'name="f-hbv-M"' in text
        assert 'name="v-glucose-F"' in text and 'name="v-glucose-M"' not in text
        assert "不适用" in text
        entry = AuditEntry.objects.get(action=READ, object_id=str(reg.pk))
        assert entry.sensitive and entry.actor == world.users["clinic_doctor"]

    def test_each_view_of_the_page_is_audited(self, doctor_client, reg):
        doctor_client.get(urls(reg)["entry"])
        doctor_client.get(urls(reg)["entry"])
        assert AuditEntry.objects.filter(action=READ, object_id=str(reg.pk)).count() == 2

    def test_good_grid_saves_everything_and_shows_it_again(self, doctor_client, reg):
        resp = doctor_client.post(urls(reg)["entry"], grid_post(**{"v-glucose-F": "7.5"}))
        assert resp.status_code == 302
        assert Result.objects.filter(registration=reg).count() == 24
        assert Result.objects.get(item__code="glucose").is_abnormal
        page = doctor_client.get(resp["Location"]).text
        assert "已保存 24 项检查结果" in page
        assert 'value="7.5"' in page and "超出参考范围" in page
        assert "有风险因素，需咨询指导" in page  # the computed level is previewed

    def test_one_bad_value_saves_nothing_and_shows_the_error_inline(self, doctor_client, reg):
        resp = doctor_client.post(
            urls(reg)["entry"],
            grid_post(**{"v-liver-M": "四十", "v-glucose-F": "5.5"}),
        )
        assert resp.status_code == 200
        assert not Result.objects.exists()
        text = resp.text
        assert "全部未保存" in text
        assert "男方「肝功能（谷丙转氨酶）」" in text and "不是数字" in text
        assert 'id="e-liver-M"' in text and 'aria-invalid="true"' in text
        assert 'value="5.5"' in text and 'value="四十"' in text  # what was typed is kept
        reg.refresh_from_db()
        assert reg.status == Registration.BOOKED

    def test_registered_only_couple_cannot_be_entered(self, doctor_client, world):
        reg = make_registration(world.village, status=Registration.REGISTERED)
        text = doctor_client.get(urls(reg)["entry"]).text
        assert "预约后才能录入结果" in text
        resp = doctor_client.post(urls(reg)["entry"], grid_post())
        assert resp.status_code == 200 and "还没有预约检查" in resp.text
        assert not Result.objects.exists()


class TestAssessAndCounselPages:
    def test_missing_items_are_listed_and_no_assess_button(self, doctor_client, reg):
        post = grid_post()
        del post["f-hbv-M"]
        doctor_client.post(urls(reg)["entry"], post)
        text = doctor_client.get(urls(reg)["entry"]).text
        assert "还有 <strong>1</strong> 项结果没有录入" in text
        assert "男方「乙型肝炎血清学五项」" in text
        assert "完成评估并发送结果短信" not in text
        resp = doctor_client.post(urls(reg)["assess"], {"advice": "x"})
        assert resp.status_code == 200 and "不能评估" in resp.text
        assert not Assessment.objects.exists()

    def test_assess_then_counsel(self, doctor_client, reg, django_capture_on_commit_callbacks):
        doctor_client.post(urls(reg)["entry"], grid_post(**{"f-rubella-F": "1"}))
        assert "完成评估并发送结果短信" in doctor_client.get(urls(reg)["entry"]).text
        resp = doctor_client.post(
            urls(reg)["assess"], {"advice": "接种疫苗", "level_override": "normal"}
        )
        assert resp.status_code == 200 and "不能调低" in resp.text
        with django_capture_on_commit_callbacks(execute=True):
            resp = doctor_client.post(urls(reg)["assess"], {"advice": "接种疫苗"})
        assert resp.status_code == 302
        a = Assessment.objects.get()
        assert a.level == "counsel" and a.notified_at is not None
        assert Message.objects.get().params["advice"] == sms.RESULT_ADVICE["counsel"]
        text = doctor_client.get(urls(reg)["entry"]).text
        assert "已评估" in text and "结果已告知" in text and "建议接种风疹疫苗" in text
        resp = doctor_client.post(urls(reg)["counselling"], {"advice": ""})
        assert resp.status_code == 200 and "请填写咨询指导的内容" in resp.text
        resp = doctor_client.post(urls(reg)["counselling"], {"advice": "已讲解接种风疹疫苗"})
        assert resp.status_code == 302
        assert Counselling.objects.get().advice == "已讲解接种风疹疫苗"
        assert "已讲解接种风疹疫苗" in doctor_client.get(urls(reg)["entry"]).text

    def test_raised_level_with_reason(self, doctor_client, reg, django_capture_on_commit_callbacks):
        doctor_client.post(urls(reg)["entry"], grid_post())
        with django_capture_on_commit_callbacks(execute=True):
            doctor_client.post(
                urls(reg)["assess"],
                {"advice": "", "level_override": "high", "override_reason": "家族遗传病史"},
            )
        a = Assessment.objects.get()
        assert a.level == "high" and "家族遗传病史" in a.reasons[-1]


class TestWorklist:
    def test_lists_own_checked_couples_only_with_bounded_queries(
        self, doctor_client, world, django_assert_max_num_queries
    ):
        for _ in range(3):
            make_registration(world.village, status=Registration.CHECKED)
        make_registration(world.other_village, status=Registration.CHECKED, label="外镇")
        make_registration(world.village, status=Registration.REGISTERED, label="未预约")
        with django_assert_max_num_queries(12):
            resp = doctor_client.get(reverse("precheck_staff:results-worklist"))
        text = resp.text
        assert resp.status_code == 200 and text.count("本村王芳") == 3
        assert "外镇" not in text and "未预约" not in text
        entry = AuditEntry.objects.get(action=READ, reason="结果待办列表")
        assert len(entry.changes["ids"]) == 3


class TestApi:
    def test_get_returns_results_and_is_audited(self, doctor_client, world, reg):
        from sunshine.precheck import results as services

        services.results_save_many(
            actor=world.users["clinic_doctor"], registration=reg, entries=full_entries()
        )
        resp = doctor_client.get(urls(reg)["api"])
        assert resp.status_code == 200
        body = resp.json()
        assert body["number"] == reg.number and len(body["results"]) == 24
        assert body["assessment"] is None
        glucose = next(r for r in body["results"] if r["item"] == "glucose")
        assert glucose["unit"] == "mmol/L" and glucose["is_abnormal"] is False
        assert AuditEntry.objects.filter(action=READ, object_id=str(reg.pk)).count() == 1

    def test_post_saves_all_or_nothing(self, doctor_client, reg):
        good = [
            {"item": "glucose", "subject": "F", "value": "7.0"},
            {"item": "10", "subject": "M", "is_abnormal": True},
        ]
        bad = [*good, {"item": "blood-type", "subject": "M", "value": "不知道"}]
        resp = doctor_client.post(
            urls(reg)["api"], json.dumps({"entries": bad}), content_type="application/json"
        )
        assert resp.status_code == 400
        assert "男方「血型（ABO、Rh）」" in resp.json()["detail"]
        assert resp.json()["errors"][0][0] == "blood-type:M"
        assert not Result.objects.exists()
        resp = doctor_client.post(
            urls(reg)["api"], json.dumps({"entries": good}), content_type="application/json"
        )
        assert resp.status_code == 200
        assert {(r["item"], r["is_abnormal"]) for r in resp.json()["results"]} == {
            ("glucose", True),
            ("hbv", True),
        }
        assert resp.json()["status"] == "checked"

    def test_unknown_item_is_a_chinese_400(self, doctor_client, reg):
        resp = doctor_client.post(
            urls(reg)["api"],
            json.dumps({"entries": [{"item": "x-ray", "subject": "F"}]}),
            content_type="application/json",
        )
        assert resp.status_code == 400 and "没有这些检查项目：x-ray" in resp.json()["detail"]

    def test_health_selector_items_exclude_18_19(self):
        codes = [i.code for i in health.result_items()]
        assert len(codes) == 17 and "counselling" not in codes and "followup" not in codes
