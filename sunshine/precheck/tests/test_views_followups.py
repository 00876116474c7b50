"""Staff pages and API of follow-ups and pregnancies: permissions, scope, forms, audits."""

import datetime as dt

import pytest
from django.utils import timezone

from sunshine.accounts import roles
from sunshine.accounts import services as account_services
from sunshine.core import scopecheck
from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.core.testing import OTHER_MARKERS, PASSWORD
from sunshine.messaging import services as sms_services
from sunshine.messaging.models import CallTask, Enrolment
from sunshine.precheck import followups
from sunshine.precheck.models import FollowUp, Pregnancy, Registration
from sunshine.precheck.tests.test_followups import WOMAN_MOBILE, make_registration

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


@pytest.fixture
def due(world):
    """An early follow-up due today in the own village, with its call task."""
    reg = make_registration(world.village, label="本村")
    f = followups.followup_schedule(
        actor=None, registration=reg, kind=FollowUp.EARLY, due_on=today()
    )
    followups.followups_open_due()
    f.refresh_from_db()
    return f


@pytest.fixture
def other_due(world):
    reg = make_registration(world.other_village, label="外镇一村")
    return followups.followup_schedule(
        actor=None, registration=reg, kind=FollowUp.EARLY, due_on=today()
    )


@pytest.fixture
def pregnancy(world):
    reg = make_registration(world.village, label="本村")
    return followups.pregnancy_record(
        actor=None, registration=reg, lmp=today() - dt.timedelta(days=20)
    )


@pytest.fixture
def other_doctor(world):
    """A clinic doctor (who works follow-ups) in the other town."""
    return account_services.user_create(
        actor=None,
        username="other_doctor",
        password=PASSWORD,
        role=roles.CLINIC_DOCTOR,
        place=world.other_town,
        full_name="外镇医生",
    )


@pytest.fixture
def other_operator(world):
    """Operators work for a county: this one for the other county."""
    return account_services.user_create(
        actor=None,
        username="other_operator",
        password=PASSWORD,
        role=roles.CALL_OPERATOR,
        place=world.other_county,
        full_name="乙县话务员",
    )


def url(name, *args):
    from django.urls import reverse

    return reverse(f"precheck_staff:{name}", args=args)


class TestFollowUpList:
    def test_operator_sees_due_follow_ups_first_with_masked_mobiles(
        self, client, world, due, other_due, django_assert_max_num_queries
    ):
        later = make_registration(world.village, label="后来")
        followups.followup_schedule(
            actor=None,
            registration=later,
            kind=FollowUp.EARLY,
            due_on=today() + dt.timedelta(days=3),
        )
        client.force_login(world.users["call_operator"])
        with django_assert_max_num_queries(8):
            resp = client.get(url("followup-list"))
        html = resp.content.decode()
        assert resp.status_code == 200
        assert html.index(due.registration.woman_name) < html.index(later.woman_name)
        assert "137****2222" in html and WOMAN_MOBILE not in html
        assert "已到期" in html
        # the county operator sees the other town too; a town operator does not
        assert other_due.registration.woman_name in html

    def test_other_towns_operator_sees_neither_list_row_nor_page(self, client, due, other_operator):
        client.force_login(other_operator)
        html = client.get(url("followup-list")).content.decode()
        assert due.registration.woman_name not in html
        assert client.get(url("followup-detail", due.pk)).status_code == 404
        assert client.post(url("followup-record", due.pk), {"reached": "0"}).status_code == 404

    def test_filters(self, client, world, due):
        client.force_login(world.users["clinic_doctor"])
        name = due.registration.woman_name
        assert name in client.get(url("followup-list"), {"kind": "early"}).content.decode()
        assert name not in client.get(url("followup-list"), {"kind": "outcome"}).content.decode()
        assert name not in client.get(url("followup-list"), {"due": "later"}).content.decode()
        assert name not in client.get(url("followup-list"), {"status": "done"}).content.decode()

    @pytest.mark.parametrize("key", ["observer", "village_cadre", "town_clerk"])
    def test_roles_without_follow_up_work_are_refused(self, client, world, due, key):
        client.force_login(world.users[key])
        assert client.get(url("followup-list")).status_code == 403
        assert client.get(url("followup-detail", due.pk)).status_code == 403


class TestFollowUpPage:
    def test_page_shows_script_and_form(self, client, world, due):
        client.force_login(world.users["call_operator"])
        html = client.get(url("followup-detail", due.pk)).content.decode()
        assert "随访话术" in html and "是否已经怀孕" in html and "核实身份" in html
        assert "保存随访结果" in html and WOMAN_MOBILE not in html

    def test_mobile_reveal_is_audited(self, client, world, due):
        client.force_login(world.users["call_operator"])
        resp = client.post(url("followup-mobiles", due.pk), {"reason": "电话随访"})
        assert resp.status_code == 200 and WOMAN_MOBILE in resp.content.decode()
        entry = AuditEntry.objects.get(action="registration.read_sensitive")
        assert entry.reason == "电话随访" and entry.sensitive

    def test_record_pregnant_starts_the_campaign(self, client, world, due):
        client.force_login(world.users["call_operator"])
        lmp = today() - dt.timedelta(days=10)
        resp = client.post(
            url("followup-record", due.pk),
            {"reached": "1", "pregnant": "1", "lmp": lmp.isoformat(), "notes": "在服叶酸"},
        )
        assert resp.status_code == 302 and resp["Location"] == url("followup-list")
        p = Pregnancy.objects.get(registration=due.registration)
        assert p.lmp == lmp and p.enrolment.status == Enrolment.ACTIVE
        due.refresh_from_db()
        assert due.status == FollowUp.DONE and due.call_task.status == CallTask.DONE
        # double submit: no second record, no 500
        again = client.post(url("followup-record", due.pk), {"reached": "1", "pregnant": "0"})
        assert again.status_code == 302 and Pregnancy.objects.count() == 1

    def test_bad_input_gets_chinese_messages(self, client, world, due):
        client.force_login(world.users["call_operator"])
        resp = client.post(url("followup-record", due.pk), {})
        assert resp.status_code == 200 and "请选择是否联系上本人。" in resp.content.decode()
        resp = client.post(url("followup-record", due.pk), {"reached": "1", "pregnant": "1"})
        assert "请填写末次月经日期。" in resp.content.decode()
        future = (today() + dt.timedelta(days=2)).isoformat()
        resp = client.post(
            url("followup-record", due.pk), {"reached": "1", "pregnant": "1", "lmp": future}
        )
        assert "末次月经日期不能晚于今天" in resp.content.decode()
        resp = client.post(
            url("followup-record", due.pk), {"reached": "1", "pregnant": "1", "lmp": "昨天"}
        )
        assert "请按“年-月-日”填写日期" in resp.content.decode()
        due.refresh_from_db()
        assert due.status == FollowUp.OPEN

    def test_not_reached_stays_open(self, client, world, due):
        client.force_login(world.users["call_operator"])
        resp = client.post(url("followup-record", due.pk), {"reached": "0", "notes": "无人接"})
        assert resp.status_code == 302
        due.refresh_from_db()
        assert due.status == FollowUp.OPEN and "无人接" in due.notes

    def test_call_task_page_links_to_the_follow_up_form(self, client, world, due):
        client.force_login(world.users["call_operator"])
        from django.urls import reverse

        html = client.get(
            reverse("messaging_staff:call-detail", args=[due.call_task_id])
        ).content.decode()
        assert "填写随访结果" in html and url("followup-detail", due.pk) in html
        other = CallTask.objects.create(reason="其他", script="请告知", place_path=due.place_path)
        html = client.get(reverse("messaging_staff:call-detail", args=[other.pk])).content.decode()
        assert "填写随访结果" not in html


class TestPregnancyPages:
    def test_doctor_sees_the_pregnancy_and_its_messages_audited(
        self, client, world, pregnancy, django_assert_max_num_queries
    ):
        client.force_login(world.users["clinic_doctor"])
        with django_assert_max_num_queries(10):
            html = client.get(url("pregnancy-list")).content.decode()
        assert pregnancy.registration.woman_name in html
        assert AuditEntry.objects.filter(action="pregnancy.list_read").exists()
        html = client.get(url("pregnancy-detail", pregnancy.pk)).content.decode()
        assert "孕期保健短信（20 条）" in html and "叶酸" in html
        assert AuditEntry.objects.filter(action="pregnancy.read_sensitive").exists()

    @pytest.mark.parametrize("key", ["call_operator", "observer", "town_clerk"])
    def test_pregnancies_are_for_doctors_only(self, client, world, pregnancy, key):
        client.force_login(world.users[key])
        assert client.get(url("pregnancy-list")).status_code == 403
        assert client.get(url("pregnancy-detail", pregnancy.pk)).status_code == 403
        reg = pregnancy.registration
        assert client.get(url("pregnancy-create", reg.pk)).status_code == 403

    def test_outsider_doctor_gets_404(self, client, pregnancy, other_doctor):
        client.force_login(other_doctor)
        assert client.get(url("pregnancy-detail", pregnancy.pk)).status_code == 404
        html = client.get(url("pregnancy-list")).content.decode()
        assert pregnancy.registration.woman_name not in html

    def test_lmp_change_and_end(self, client, world, pregnancy):
        client.force_login(world.users["clinic_doctor"])
        new = pregnancy.lmp + dt.timedelta(days=3)
        resp = client.post(url("pregnancy-lmp", pregnancy.pk), {"lmp": new.isoformat()})
        assert resp.status_code == 302
        pregnancy.refresh_from_db()
        assert pregnancy.edd == new + dt.timedelta(days=280)
        resp = client.post(url("pregnancy-end", pregnancy.pk), {"outcome": "", "outcome_date": ""})
        assert resp.status_code == 200 and "请选择妊娠结局。" in resp.content.decode()
        resp = client.post(
            url("pregnancy-end", pregnancy.pk),
            {"outcome": "miscarriage", "outcome_date": today().isoformat()},
        )
        assert resp.status_code == 302
        pregnancy.refresh_from_db()
        assert pregnancy.status == Pregnancy.ENDED
        assert pregnancy.enrolment.status == Enrolment.CLOSED
        again = client.post(
            url("pregnancy-end", pregnancy.pk),
            {"outcome": "live", "outcome_date": today().isoformat()},
        )
        assert again.status_code == 302

    def test_record_pregnancy_on_a_registration(self, client, world):
        reg = make_registration(world.village, label="本村")
        client.force_login(world.users["clinic_doctor"])
        assert "记录怀孕" in client.get(url("pregnancy-create", reg.pk)).content.decode()
        resp = client.post(url("pregnancy-create", reg.pk), {"lmp": ""})
        assert "请填写末次月经日期。" in resp.content.decode()
        lmp = (today() - dt.timedelta(days=5)).isoformat()
        resp = client.post(url("pregnancy-create", reg.pk), {"lmp": lmp})
        p = Pregnancy.objects.get(registration=reg)
        assert resp.status_code == 302 and resp["Location"] == url("pregnancy-detail", p.pk)
        reg.refresh_from_db()
        assert reg.status == Registration.PREGNANT
        again = client.post(url("pregnancy-create", reg.pk), {"lmp": lmp})
        assert again.status_code == 302 and Pregnancy.objects.count() == 1


class TestApi:
    def test_list_is_scoped_and_masked(
        self, client, world, due, other_due, other_doctor, other_operator
    ):
        client.force_login(world.users["clinic_doctor"])
        rows = client.get("/api/staff/precheck/followups").json()["items"]
        assert [r["id"] for r in rows] == [due.pk]
        assert rows[0]["mobile"] == "137****2222"
        client.force_login(other_doctor)
        rows = client.get("/api/staff/precheck/followups").json()["items"]
        assert [r["id"] for r in rows] == [other_due.pk]
        client.force_login(other_operator)
        assert client.get("/api/staff/precheck/followups").json()["items"] == []
        client.force_login(world.users["observer"])
        assert client.get("/api/staff/precheck/followups").status_code == 403

    def test_record(self, client, world, due, other_due):
        client.force_login(world.users["clinic_doctor"])
        api = f"/api/staff/precheck/followups/{due.pk}/record"
        resp = client.post(
            api, {"reached": True, "pregnant": True}, content_type="application/json"
        )
        assert resp.status_code == 400 and resp.json() == {
            "detail": "请填写末次月经日期。",
            "field": "lmp",
        }
        lmp = (today() - dt.timedelta(days=3)).isoformat()
        resp = client.post(
            api,
            {"reached": True, "pregnant": True, "lmp": lmp},
            content_type="application/json",
        )
        assert resp.status_code == 200 and resp.json()["status"] == "done"
        assert Pregnancy.objects.filter(registration=due.registration).exists()
        got = client.get(api).json()
        assert got["pregnant"] is True and got["lmp"] == lmp
        assert AuditEntry.objects.filter(action="followup.read_sensitive").exists()
        other = f"/api/staff/precheck/followups/{other_due.pk}/record"
        assert client.post(other, {}, content_type="application/json").status_code == 404


def test_the_routes_of_this_area_are_scoped(client, world, due, other_due, pregnancy):
    """The scope matrix, for this area's routes alone (the full matrix runs in tests/)."""
    other_preg_reg = make_registration(world.other_village, label="外镇一村")
    other_pregnancy = followups.pregnancy_record(
        actor=None, registration=other_preg_reg, lmp=today() - dt.timedelta(days=20)
    )
    own = {
        "followup_id": lambda: due.pk,
        "pregnancy_id": lambda: pregnancy.pk,
        "registration_id": lambda: due.registration_id,
    }
    other = {
        "followup_id": lambda: other_due.pk,
        "pregnancy_id": lambda: other_pregnancy.pk,
        "registration_id": lambda: other_due.registration_id,
    }
    routes = [
        r for r in scopecheck.staff_routes() if any(w in r.route for w in ("followup", "pregnan"))
    ]
    assert len(routes) >= 11
    client.force_login(world.users["probe"])
    problems = scopecheck.check_routes(client, routes, own=own, other=other, markers=OTHER_MARKERS)
    assert problems == []


class TestFollowUpCallsCloseOnlyThroughTheirForm:
    def test_the_sms_desk_close_form_refuses_a_follow_up_task(self, client, world, due):
        client.force_login(world.users["call_operator"])
        page = client.get(f"/staff/sms/calls/{due.call_task_id}/").content.decode()
        assert "填写随访结果" in page and "记录结果，处理完毕" not in page
        resp = client.post(f"/staff/sms/calls/{due.call_task_id}/close/", {"outcome": "已告知"})
        assert "请在随访表单中记录结果" in resp.content.decode()
        assert CallTask.objects.get(pk=due.call_task_id).status == CallTask.OPEN
        due.refresh_from_db()
        assert due.status == FollowUp.OPEN

    def test_the_service_refuses_it_too_and_only_the_follow_up_closes_it(self, world, due):
        with pytest.raises(ServiceError, match="请在随访表单中记录结果"):
            sms_services.calltask_close(
                actor=world.users["call_operator"], task=due.call_task, outcome="已告知"
            )
        assert CallTask.objects.get(pk=due.call_task_id).status == CallTask.OPEN
