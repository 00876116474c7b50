"""Every staff route, API route and admin model, walked from the URL configuration: a user
scoped to town A never sees town B (SPEC §0.2). A new route the table cannot fill fails here."""

import pytest
from django.urls import resolve

from sunshine.accounts import roles
from sunshine.core import audit, scopecheck
from sunshine.core.models import AuditEntry, Job
from sunshine.core.testing import OTHER_COUNTY_MARKERS, OTHER_MARKERS
from sunshine.places.models import Contact, Place

pytestmark = pytest.mark.django_db


def _audit_in(world, place):
    return audit.record(
        actor=None, action="test.mark", obj=place, object_repr=f"{place.name}的记录"
    )


def _job_in(place):
    from django.core.files.base import ContentFile

    job = Job(kind="places.import", title=f"{place.name}的导入", place_path=place.path)
    job.result_file.save("errors.xlsx", ContentFile(f"{place.name}的错误".encode()), save=False)
    job.save()
    return job


def _publishing_in(world, place, label):
    """A draft with an attachment and a published notice with an objection, in a village, so
    that the village cadre and the observer may open them too."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from sunshine.publishing import services
    from sunshine.publishing.models import Category

    clerk = world.users["town_clerk" if place.path.startswith(world.town.path) else "outsider"]
    reviewer = world.users["county_clerk"]
    draft = services.item_create(
        actor=clerk,
        category=Category.objects.get(code="procedures"),
        place=place,
        title=f"{label}的办事指南",
    )
    attachment = services.attachment_add(
        actor=clerk,
        item=draft,
        upload=SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32),
        title=f"{label}的流程图",
    )
    notice = services.item_create(
        actor=clerk,
        category=Category.objects.get(code="reward-assistance"),
        place=place,
        title=f"{label}的奖励扶助公示",
    )
    services.item_submit(actor=clerk, item=notice)
    notice = services.item_publish(actor=reviewer, item=notice)
    objection = services.objection_file(
        item=notice, text=f"{label}的名单有误，请核实。", name="异议人", now=timezone.now()
    )
    return draft, attachment, objection


def _sms_in(world, place, resident_key, label):
    """A message, a call task and an inbox reply in a village (place_path under its town)."""
    from sunshine.messaging import services
    from sunshine.messaging.models import Reply

    resident = world.residents[resident_key]
    message = services.message_enqueue(
        programme="precheck", body=f"{label}的检查提醒", resident=resident, place=place
    )
    task = services.message_enqueue(
        programme="precheck", mobile="12345", body=f"{label}的电话通知", resident=resident
    )
    reply = Reply.objects.create(
        mobile=resident.mobile,
        content=f"{label}的居民回复",
        sequence_id=f"scope-{label}",
        resident=resident,
        place_path=resident.place_path,
        route="inbox",
    )
    assert message.place_path.startswith(place.path) and task.place_path == resident.place_path
    return message, task, reply


def _registration_in(place, label):
    """A couple registered in a village, checked (so it is on the doctors' worklist); built
    directly, not through the registration service."""
    from sunshine.core.validators import id_check_char
    from sunshine.precheck.models import Registration

    n = Registration.objects.count() + 1
    woman, man = f"98010119950101{n:03d}", f"98010119930101{n:03d}"
    return Registration.objects.create(
        number=f"SCOPE{n:04d}",
        woman_name=f"{label}女方",
        woman_id_number=woman + id_check_char(woman),
        man_name=f"{label}男方",
        man_id_number=man + id_check_char(man),
        place=place,
        place_path=place.path,
        channel=Registration.CLINIC,
        status=Registration.CHECKED,
    )


def _desk_in(world, place, label):
    """Registration desk (precheck): an institution in the place's town, an open future slot
    and a booked appointment of a couple of `place`; built directly, not through services."""
    import datetime as dt

    from django.utils import timezone

    from sunshine.precheck.models import Appointment, Institution, Slot

    town = place.parent
    inst = Institution.objects.create(
        name=f"{town.name}卫生院", place=town, place_path=town.path, address=f"{town.name}街1号"
    )
    start = timezone.now() + dt.timedelta(days=3)
    slot = Slot.objects.create(
        institution=inst,
        place_path=inst.place_path,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=5,
        booked=1,
    )
    reg = _registration_in(place, f"{label}预约")
    reg.status = reg.BOOKED
    reg.save(update_fields=["status"])
    appt = Appointment.objects.create(registration=reg, slot=slot, place_path=reg.place_path)
    return {
        "institution_id": lambda: inst.pk,
        "slot_id": lambda: slot.pk,
        "appointment_id": lambda: appt.pk,
    }


def _pregnancy_in(place, label):
    """Follow-ups and pregnancies: a registered couple (consented to SMS) with a pregnancy
    recorded two months ago, which opens its outcome follow-up."""
    import datetime as dt

    from django.utils import timezone

    from sunshine.precheck import followups

    reg = _registration_in(place, f"{label}孕情")
    reg.consent_sms, reg.woman_mobile = True, "13700001111"
    reg.save(update_fields=["consent_sms", "woman_mobile"])
    pregnancy = followups.pregnancy_record(
        actor=None, registration=reg, lmp=timezone.localdate() - dt.timedelta(days=60)
    )
    return reg.followups.get(status="open"), pregnancy


def _article():
    """好孕好运 articles are county-wide (like SMS templates): "other" is an id that does not exist."""
    from sunshine.precheck import content

    return content.article_create(
        actor=None, kind="education", title="叶酸怎么吃", body="每天0.4毫克。"
    )


def _check_item():
    from sunshine.precheck import catalogue
    from sunshine.precheck.models import CheckItem

    catalogue.load(CheckItem)
    return CheckItem.objects.get(code="glucose")


def value_tables(world):
    own_audit = _audit_in(world, world.village)
    other_audit = _audit_in(world, world.other_village)
    own_job, other_job = _job_in(world.village), _job_in(world.other_village)
    own_item, own_attachment, own_objection = _publishing_in(world, world.village, "本村")
    other_item, other_attachment, other_objection = _publishing_in(
        world, world.other_village, "外镇一村"
    )
    own_message, own_task, own_reply = _sms_in(world, world.village, "own", "本村")
    other_message, other_task, other_reply = _sms_in(
        world, world.other_village, "other", "外镇一村"
    )
    from sunshine.messaging import services as sms_services

    # Templates are county-wide settings, not hung on a place: "other" is one that does not
    # exist, which must answer 404 like anything out of reach.
    sms_services.template_save(actor=None, code="scope-remind", name="提醒", body="{name}您好")
    own_registration = _registration_in(world.village, "本村")
    own_article = _article()
    other_registration = _registration_in(world.other_village, "外镇一村")
    own_followup, own_pregnancy = _pregnancy_in(world.village, "本村")
    other_followup, other_pregnancy = _pregnancy_in(world.other_village, "外镇一村")
    own = {
        "resident_id": lambda: world.residents["own"].pk,
        "job_id": lambda: own_job.pk,
        "place_code": lambda: world.village.code,
        "user_id": lambda: world.users["village_cadre"].pk,
        "audit_id": lambda: own_audit.pk,
        "item_id": lambda: own_item.pk,
        "attachment_id": lambda: own_attachment.pk,
        "objection_id": lambda: own_objection.pk,
        "message_id": lambda: own_message.pk,
        "task_id": lambda: own_task.pk,
        "reply_id": lambda: own_reply.pk,
        "template_code": lambda: "scope-remind",
        "registration_id": lambda: own_registration.pk,
        "article_id": lambda: own_article.pk,
        # The check catalogue is county-wide data (no place): "other" is an item that does not exist.
        "checkitem_id": lambda: _check_item().pk,
        "followup_id": lambda: own_followup.pk,
        "pregnancy_id": lambda: own_pregnancy.pk,
        "attempt_id": lambda: _lockout_of(world.users["village_cadre"]).pk,
    }
    other = {
        "resident_id": lambda: world.residents["other"].pk,
        "job_id": lambda: other_job.pk,
        "place_code": lambda: world.other_village.code,
        "user_id": lambda: world.users["outsider"].pk,
        "audit_id": lambda: other_audit.pk,
        "item_id": lambda: other_item.pk,
        "attachment_id": lambda: other_attachment.pk,
        "objection_id": lambda: other_objection.pk,
        "message_id": lambda: other_message.pk,
        "task_id": lambda: other_task.pk,
        "reply_id": lambda: other_reply.pk,
        "template_code": lambda: "no-such-template",
        "registration_id": lambda: other_registration.pk,
        "article_id": lambda: 987654321,
        "checkitem_id": lambda: 987654321,
        "followup_id": lambda: other_followup.pk,
        "pregnancy_id": lambda: other_pregnancy.pk,
        "attempt_id": lambda: _lockout_of(world.users["outsider"]).pk,
    }
    # 好孕好运 registration desk: institutions, slots, appointments.
    own.update(_desk_in(world, world.village, "本村"))
    other.update(_desk_in(world, world.other_village, "外镇一村"))
    # 熊猫血友会 (rhregistry): fresh objects per route (a POST may withdraw or confirm one).
    own.update(_rh_values(world, world.village))
    other.update(_rh_values(world, world.other_village))
    return own, other


def _lockout_of(user):
    """A locked log-in (django-axes) of `user` from one address: a fresh one each call, since
    unlocking removes it."""
    from axes.models import AccessAttempt
    from django.conf import settings

    return AccessAttempt.objects.create(
        username=user.username,
        ip_address="203.0.113.9",
        user_agent="scope",
        http_accept="*/*",
        path_info="/staff/login/",
        get_data="",
        post_data="",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )


def _rh_values(world, place):
    """Rh registry kwargs: a donor, a search and a pending contact request in `place`, made by
    the county clerk (whose scope covers both towns)."""
    from sunshine.rhregistry import testing as rh

    clerk = world.users["county_clerk"]
    return {
        "donor_id": lambda: rh.donor(place).pk,
        "search_id": lambda: rh.search(clerk, place).pk,
        "request_id": lambda: rh.pending_request(clerk, place).pk,
    }


def admin_tables(world):
    own_audit = _audit_in(world, world.village)
    other_audit = _audit_in(world, world.other_village)
    from sunshine.accounts.models import User

    own = {
        Place: lambda: world.village,
        User: lambda: world.users["village_cadre"],
        AuditEntry: lambda: own_audit,
        Contact: lambda: Contact.objects.get(place=world.town),
    }
    other = {
        Place: lambda: world.other_village,
        User: lambda: world.users["outsider"],
        AuditEntry: lambda: other_audit,
        Contact: lambda: Contact.objects.get(place=world.other_town),
    }
    return own, other


class TestEveryStaffRouteIsScoped:
    def test_the_walk_finds_the_staff_and_api_routes(self):
        routes = {r.route for r in scopecheck.staff_routes()}
        assert "staff/places/<str:place_code>/" in routes
        assert any(r.startswith("api/staff/") for r in routes)
        assert len(routes) >= 12

    def test_town_scoped_user_never_sees_another_town(self, client, world):
        client.force_login(world.users["probe"])
        own, other = value_tables(world)
        problems = scopecheck.check_routes(
            client,
            scopecheck.staff_routes(),
            own=own,
            other=other,
            markers=OTHER_MARKERS + OTHER_COUNTY_MARKERS,
        )
        assert problems == []

    def test_admin_models_are_scoped(self, client, world):
        client.force_login(world.users["probe"])
        own, other = admin_tables(world)
        problems = scopecheck.check_admin(
            client,
            own_objects=own,
            other_objects=other,
            markers=OTHER_MARKERS + OTHER_COUNTY_MARKERS,
        )
        assert problems == []

    def test_county_admin_never_sees_another_county_in_the_admin(self, client, world):
        client.force_login(world.users["county_admin"])
        own, other = admin_tables(world)
        other[Place] = lambda: world.other_county
        other[AuditEntry] = lambda: audit.record(actor=None, action="t", obj=world.other_county)
        from sunshine.accounts.models import User

        other[User] = lambda: User.objects.get(username="other_county_admin")
        other[Contact] = lambda: Contact.objects.create(
            place=world.other_county, department="乙县办", phone="1"
        )
        problems = scopecheck.check_admin(
            client, own_objects=own, other_objects=other, markers=OTHER_COUNTY_MARKERS
        )
        assert problems == []


@pytest.fixture
def leaky_urls(settings):
    settings.ROOT_URLCONF = "tests.leaky_urls"


@pytest.mark.usefixtures("leaky_urls")
class TestTheCheckerCatchesAnUnscopedRoute:
    def test_unscoped_list_and_detail_are_reported(self, client, world):
        client.force_login(world.users["probe"])
        own, other = value_tables(world)
        routes = scopecheck.staff_routes("tests.leaky_urls")
        problems = scopecheck.check_routes(
            client, routes, own=own, other=other, markers=OTHER_MARKERS
        )
        assert any(p.startswith("staff/leaky/:") for p in problems), problems
        assert any("/staff/leaky/980101101001/" in p and "404" in p for p in problems), problems

    def test_a_route_with_an_unknown_argument_is_reported(self, client, world):
        client.force_login(world.users["probe"])
        own, other = value_tables(world)
        routes = scopecheck.staff_routes("tests.leaky_urls")
        problems = scopecheck.check_routes(
            client, routes, own=own, other=other, markers=OTHER_MARKERS
        )
        assert any("secret_id" in p for p in problems), problems


class TestPermissionMatrix:
    def test_anonymous_is_sent_to_login_or_refused(self, client, world):
        own, _ = value_tables(world)
        for r in scopecheck.staff_routes():
            url = scopecheck._fill(r.route, {k: own[k]() for k in r.kwargs})
            resp = client.get(url)
            if r.route.startswith("api/"):
                assert resp.status_code == 401, url
            else:
                assert resp.status_code == 302 and "/staff/login/" in resp["Location"], url

    def test_roles_without_the_capability_get_403(self, client, world):
        checked = 0
        own, _ = value_tables(world)
        for r in scopecheck.staff_routes():
            if r.route.startswith("api/"):
                continue
            url = scopecheck._fill(r.route, {k: own[k]() for k in r.kwargs})
            capability = getattr(resolve(url).func, "capability", None)
            assert capability, f"{r.route} 没有用 staff_required 声明所需权限"
            for key in ("village_cadre", "clinic_doctor", "observer", "call_operator"):
                user = world.users[key]
                client.force_login(user)
                allowed = roles.has_capability(user.role, capability)
                status = client.get(url).status_code
                # 405: a POST-only route whose permission check passed; a hidden route (the
                # Rh-negative registry) answers 404 to a role without the capability.
                refused = 404 if getattr(resolve(url).func, "hidden", False) else 403
                assert (status in (200, 405)) if allowed else (status == refused), (
                    url,
                    key,
                    status,
                )
                checked += 1
        assert checked > 20

    def test_api_refuses_roles_without_the_capability(self, client, world):
        client.force_login(world.users["village_cadre"])
        assert client.get("/api/staff/audit").status_code == 403
        assert client.get("/api/staff/places").status_code == 200

    def test_admin_is_only_for_county_admins(self, client, world):
        client.force_login(world.users["town_clerk"])
        resp = client.get("/admin/places/place/")
        assert resp.status_code == 302 and "/admin/login/" in resp["Location"]
        client.force_login(world.users["county_admin"])
        assert client.get("/admin/places/place/").status_code == 200
