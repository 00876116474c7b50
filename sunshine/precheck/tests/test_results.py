"""Services of results, risk assessment, the result SMS and counselling."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.core.validators import id_check_char
from sunshine.messaging import rules as sms_rules
from sunshine.messaging import services as sms_services
from sunshine.messaging.models import CallTask, Message
from sunshine.precheck import health, rules, sms
from sunshine.precheck import results as services
from sunshine.precheck.models import (
    Appointment,
    Assessment,
    CheckItem,
    Counselling,
    Institution,
    Registration,
    Result,
    Slot,
)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def make_registration(
    place,
    *,
    status=Registration.BOOKED,
    label="本村",
    woman_mobile="13800000001",
    man_mobile="13800000002",
    consent_sms=True,
):
    """A couple built directly (the registration service belongs to another area)."""
    n = Registration.objects.count() + 1
    woman, man = f"98010119960202{n:03d}", f"98010119940202{n:03d}"
    return Registration.objects.create(
        number=f"T{n:05d}",
        woman_name=f"{label}王芳",
        woman_id_number=woman + id_check_char(woman),
        woman_mobile=woman_mobile,
        man_name=f"{label}李强",
        man_id_number=man + id_check_char(man),
        man_mobile=man_mobile,
        place=place,
        place_path=place.path,
        channel=Registration.CLINIC,
        consent_sms=consent_sms,
        consent_data=True,
        status=status,
    )


def items() -> dict[str, CheckItem]:
    return {i.code: i for i in CheckItem.objects.all()}


def full_entries(**overrides) -> list[tuple]:
    """Entries for every applicable item, all normal; overrides: code_subject=(value, flag)."""
    out = []
    for item in health.result_items():
        for s in ("F", "M"):
            if not item.applies(s):
                continue
            key = f"{item.code.replace('-', '_')}_{s}"
            if item.result_type == CheckItem.VALUE:
                value, flag = format(item.ref_high.normalize(), "f"), None
            elif item.code == rules.BLOOD_TYPE:
                value, flag = "A型 RhD阳性", None
            elif item.result_type == CheckItem.FLAG:
                value, flag = "", False
            else:
                value, flag = "已完成", False
            value, flag = overrides.get(key, (value, flag))
            out.append((item, s, value, flag, ""))
    return out


@pytest.fixture(autouse=True)
def _no_dispatch(monkeypatch):
    """Queued messages stay queued: the test reads them, no gateway is called."""
    monkeypatch.setattr(sms_services, "_dispatch_soon", lambda: None)


@pytest.fixture
def doctor(world):
    return world.users["clinic_doctor"]


@pytest.fixture
def reg(world):
    return make_registration(world.village)


def assessed(doctor, reg, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return services.assessment_make(actor=doctor, registration=reg, now=NOW, **kwargs)


class TestResultsSaveMany:
    def test_full_save_stores_every_cell_and_moves_booked_to_checked(self, doctor, reg):
        saved = services.results_save_many(actor=doctor, registration=reg, entries=full_entries())
        assert len(saved) == 24 == Result.objects.filter(registration=reg).count()
        reg.refresh_from_db()
        assert reg.status == Registration.CHECKED
        entry = AuditEntry.objects.get(action="precheck.results_save")
        assert entry.sensitive and len(entry.changes["items"]) == 24
        assert "110" not in str(entry.changes)  # codes, never values

    def test_value_flag_is_computed_by_the_rules(self, doctor, reg):
        services.results_save_many(
            actor=doctor,
            registration=reg,
            entries=full_entries(glucose_F=("７.2 mmol/L", None), blood_type_M=("o-", None)),
        )
        glucose = Result.objects.get(registration=reg, item__code="glucose")
        assert glucose.value == "7.2" and glucose.is_abnormal
        bt = Result.objects.get(registration=reg, item__code="blood-type", subject="M")
        assert bt.value == "O型 RhD阴性" and bt.is_abnormal

    def test_flag_that_contradicts_the_range_is_refused(self, doctor, reg):
        with pytest.raises(ServiceError) as exc:
            services.results_save_many(
                actor=doctor, registration=reg, entries=full_entries(glucose_F=("5.0", True))
            )
        assert "女方「血清葡萄糖」" in exc.value.message and "在参考范围内" in exc.value.message
        assert Result.objects.count() == 0

    def test_rh_flag_cannot_be_set_by_hand(self, doctor, reg):
        with pytest.raises(ServiceError, match="Rh阴性按异常登记"):
            services.results_save_many(
                actor=doctor,
                registration=reg,
                entries=full_entries(blood_type_F=("A型 RhD阴性", False)),
            )

    def test_one_bad_value_saves_nothing_and_names_item_and_partner(self, doctor, reg):
        with pytest.raises(ServiceError) as exc:
            services.results_save_many(
                actor=doctor,
                registration=reg,
                entries=full_entries(liver_M=("四十", None), blood_type_F=("A型", None)),
            )
        assert Result.objects.count() == 0
        assert not AuditEntry.objects.filter(action="precheck.results_save").exists()
        reg.refresh_from_db()
        assert reg.status == Registration.BOOKED
        keys = dict(exc.value.errors)
        assert "男方「肝功能（谷丙转氨酶）」" in keys["liver:M"]
        assert "女方「血型（ABO、Rh）」" in keys["blood-type:F"]
        assert "全部未保存" in exc.value.message

    def test_a_later_bad_value_leaves_earlier_results_untouched(self, doctor, reg):
        services.results_save_many(actor=doctor, registration=reg, entries=full_entries())
        with pytest.raises(ServiceError):
            services.results_save_many(
                actor=doctor,
                registration=reg,
                entries=full_entries(glucose_F=("8", None), blood_F=("abc", None)),
            )
        assert Result.objects.get(registration=reg, item__code="glucose").value == "6.1"

    def test_item_that_does_not_apply_to_the_partner_is_refused(self, doctor, reg):
        with pytest.raises(ServiceError, match="只检查女方，不能录入男方的结果"):
            services.results_save_many(
                actor=doctor, registration=reg, entries=[(items()["glucose"], "M", "5", None, "")]
            )

    def test_items_18_19_and_duplicates_are_refused(self, doctor, reg):
        with pytest.raises(ServiceError, match="不是要录入结果的检查项目"):
            services.results_save_many(
                actor=doctor,
                registration=reg,
                entries=[(items()["counselling"], "F", "x", None, "")],
            )
        hbv = items()["hbv"]
        with pytest.raises(ServiceError, match="重复填写"):
            services.results_save_many(
                actor=doctor,
                registration=reg,
                entries=[(hbv, "F", "", False, ""), (hbv, "F", "", True, "")],
            )

    def test_blank_entries_are_skipped_and_all_blank_is_refused(self, doctor, reg):
        blood = items()["blood"]
        with pytest.raises(ServiceError, match="没有填写任何检查结果"):
            services.results_save_many(
                actor=doctor, registration=reg, entries=[(blood, "F", "  ", None, "")]
            )
        services.results_save_many(
            actor=doctor, registration=reg, entries=[(blood, "F", "120", None, "")]
        )
        services.results_save_many(
            actor=doctor,
            registration=reg,
            entries=[(blood, "F", "", None, ""), (items()["hbv"], "M", "", True, "")],
        )
        assert Result.objects.get(item=blood).value == "120"

    def test_text_item_marked_abnormal_needs_a_value(self, doctor, reg):
        with pytest.raises(ServiceError, match="标为异常，但没有填写结果"):
            services.results_save_many(
                actor=doctor,
                registration=reg,
                entries=[(items()["history"], "F", "", True, "")],
            )

    def test_double_submit_changes_nothing_the_second_time(self, doctor, reg):
        services.results_save_many(actor=doctor, registration=reg, entries=full_entries())
        again = services.results_save_many(actor=doctor, registration=reg, entries=full_entries())
        assert again == [] and Result.objects.count() == 24
        assert AuditEntry.objects.filter(action="precheck.results_save").count() == 1

    def test_correction_updates_the_one_row(self, doctor, reg):
        services.results_save_many(actor=doctor, registration=reg, entries=full_entries())
        services.results_save_many(
            actor=doctor, registration=reg, entries=full_entries(hbv_F=("", True))
        )
        hbv = Result.objects.get(registration=reg, item__code="hbv", subject="F")
        assert hbv.is_abnormal and hbv.value == "异常"
        assert Result.objects.count() == 24

    @pytest.mark.parametrize(
        "status,message",
        [
            (Registration.REGISTERED, "还没有预约检查"),
            (Registration.CLOSED, "登记已结束"),
            (Registration.PREGNANT, "已登记怀孕"),
        ],
    )
    def test_registration_must_be_booked_or_later_and_open(self, world, doctor, status, message):
        reg = make_registration(world.village, status=status)
        with pytest.raises(ServiceError, match=message):
            services.results_save_many(actor=doctor, registration=reg, entries=full_entries())

    def test_other_roles_and_other_towns_are_refused(self, world, reg):
        with pytest.raises(ServiceError, match="只有服务机构医生"):
            services.results_save_many(
                actor=world.users["town_clerk"], registration=reg, entries=full_entries()
            )
        other = make_registration(world.other_village, label="外镇")
        with pytest.raises(ServiceError, match="不在您的管辖范围内"):
            services.results_save_many(
                actor=world.users["clinic_doctor"], registration=other, entries=full_entries()
            )


class TestAssessmentMake:
    def _checked(self, doctor, reg, **overrides):
        services.results_save_many(
            actor=doctor, registration=reg, entries=full_entries(**overrides)
        )
        reg.refresh_from_db()
        return reg

    def test_missing_items_refuse_the_assessment_listing_them(self, doctor, reg):
        entries = [e for e in full_entries() if e[0].code not in ("hbv", "thyroid")]
        services.results_save_many(actor=doctor, registration=reg, entries=entries)
        reg.refresh_from_db()
        with pytest.raises(ServiceError) as exc:
            services.assessment_make(actor=doctor, registration=reg, now=NOW)
        assert "3 项" in exc.value.message
        assert "女方「甲状腺功能（促甲状腺激素）」" in exc.value.message
        assert "男方「乙型肝炎血清学五项」" in exc.value.message
        assert not Assessment.objects.exists()

    def test_booked_without_results_is_refused(self, doctor, reg):
        with pytest.raises(ServiceError, match="还没有录入检查结果"):
            services.assessment_make(actor=doctor, registration=reg, now=NOW)

    def test_normal_assessment_sends_the_normal_advice(
        self, doctor, reg, django_capture_on_commit_callbacks
    ):
        reg = self._checked(doctor, reg)
        a = assessed(doctor, reg, django_capture_on_commit_callbacks, advice="按时服叶酸")
        assert (a.level, a.reasons, a.advice) == ("normal", [], "按时服叶酸")
        reg.refresh_from_db()
        assert reg.status == Registration.ASSESSED
        m = Message.objects.get()
        assert m.mobile == reg.woman_mobile and m.programme == sms.PROGRAMME
        assert m.template.code == sms.RESULT and m.place_path == reg.place_path
        text = sms_rules.render(m.template.body, m.params)
        assert sms.RESULT_ADVICE["normal"] in text and "12320" in text
        a.refresh_from_db()
        assert a.notified_at == NOW

    def test_high_risk_stores_reasons_and_sends_the_high_advice(
        self, doctor, reg, django_capture_on_commit_callbacks
    ):
        reg = self._checked(doctor, reg, hbv_F=("", True), hbv_M=("", True))
        a = assessed(doctor, reg, django_capture_on_commit_callbacks)
        assert a.level == "high" and rules.HBV_BOTH_REASON in a.reasons
        assert Message.objects.get().params["advice"] == sms.RESULT_ADVICE["high"]

    def test_phone_is_the_institution_of_the_appointment(
        self, world, doctor, reg, django_capture_on_commit_callbacks
    ):
        inst = Institution.objects.create(
            name="本镇卫生院",
            place=world.town,
            place_path=world.town.path,
            address="镇中路1号",
            phone="0516-1234567",
        )
        start = timezone.now()
        slot = Slot.objects.create(
            institution=inst,
            place_path=inst.place_path,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            booked=1,
        )
        Appointment.objects.create(registration=reg, slot=slot, place_path=reg.place_path)
        reg = self._checked(doctor, reg)
        assessed(doctor, reg, django_capture_on_commit_callbacks)
        assert Message.objects.get().params["phone"] == "0516-1234567"

    def test_doctor_may_raise_with_a_reason_but_not_lower(
        self, doctor, reg, django_capture_on_commit_callbacks
    ):
        reg = self._checked(doctor, reg, glucose_F=("9", None))
        with pytest.raises(ServiceError, match="不能调低"):
            services.assessment_make(
                actor=doctor, registration=reg, level_override="normal", override_reason="x"
            )
        with pytest.raises(ServiceError, match="请写明理由"):
            services.assessment_make(actor=doctor, registration=reg, level_override="high")
        assert not Assessment.objects.exists()
        a = assessed(
            doctor,
            reg,
            django_capture_on_commit_callbacks,
            level_override="high",
            override_reason="既往不良孕产史",
        )
        assert a.level == "high"
        assert a.reasons[-1] == "医生调高为“高风险”：既往不良孕产史"
        assert AuditEntry.objects.get(action="precheck.assessment_make").changes == {
            "level": [None, "high"],
            "computed": "counsel",
        }

    def test_reassessment_sends_again_only_when_the_level_changed(
        self, doctor, reg, django_capture_on_commit_callbacks
    ):
        reg = self._checked(doctor, reg)
        assessed(doctor, reg, django_capture_on_commit_callbacks)
        assessed(doctor, reg, django_capture_on_commit_callbacks, advice="复评")
        assert Message.objects.count() == 1 and Assessment.objects.count() == 1
        services.results_save_many(
            actor=doctor, registration=reg, entries=full_entries(rubella_F=("", True))
        )
        reg.refresh_from_db()
        assert reg.status == Registration.ASSESSED
        a = assessed(doctor, reg, django_capture_on_commit_callbacks)
        assert a.level == "counsel" and rules.RUBELLA_REASON in a.reasons
        assert Message.objects.count() == 2
        assert (
            Message.objects.order_by("id").last().params["advice"] == sms.RESULT_ADVICE["counsel"]
        )

    def test_no_mobile_becomes_a_call_task_with_the_same_plain_script(
        self, world, doctor, django_capture_on_commit_callbacks
    ):
        reg = make_registration(world.village, woman_mobile="", man_mobile="")
        reg = self._checked(doctor, reg, cmv_F=("", True))
        assessed(doctor, reg, django_capture_on_commit_callbacks)
        assert not Message.objects.exists()
        task = CallTask.objects.get()
        assert "没有手机号码" in task.reason and task.place_path == reg.place_path
        assert sms.RESULT_ADVICE["high"] in task.script
        assert "巨细胞" not in task.script and "异常" not in task.script

    def test_no_sms_consent_becomes_a_call_task_to_the_mobile(
        self, world, doctor, django_capture_on_commit_callbacks
    ):
        reg = make_registration(world.village, consent_sms=False)
        reg = self._checked(doctor, reg)
        assessed(doctor, reg, django_capture_on_commit_callbacks)
        assert not Message.objects.exists()
        task = CallTask.objects.get()
        assert task.mobile == reg.woman_mobile and "没有同意接收短信" in task.reason

    def test_man_mobile_is_used_when_the_woman_has_none(
        self, world, doctor, django_capture_on_commit_callbacks
    ):
        reg = make_registration(world.village, woman_mobile="")
        reg = self._checked(doctor, reg)
        assessed(doctor, reg, django_capture_on_commit_callbacks)
        assert Message.objects.get().mobile == reg.man_mobile

    def test_nothing_is_sent_when_the_transaction_rolls_back(
        self, doctor, reg, django_capture_on_commit_callbacks
    ):
        reg = self._checked(doctor, reg)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.assessment_make(actor=doctor, registration=reg, now=NOW)
        assert len(callbacks) == 1 and not Message.objects.exists()


# -- no result SMS ever carries an item name, a value or a unit ------------------------------

FORBIDDEN_WORDS = ("异常", "阳性", "阴性", "Rh", "乙肝", "梅毒", "风疹", "血型", "超声", "抗体")


def _random_value(item, rnd: random.Random) -> tuple[str, bool | None]:
    if item.result_type == CheckItem.VALUE:
        low = float(item.ref_low or 0)
        high = float(item.ref_high)
        v = round(rnd.uniform(max(0.0, low - (high - low)), high * 2), rnd.choice([0, 1, 2]))
        return str(v), None
    if item.code == rules.BLOOD_TYPE:
        return f"{rnd.choice(['A', 'B', 'O', 'AB'])}型 RhD{rnd.choice(['阳性', '阴性'])}", None
    if item.result_type == CheckItem.FLAG:
        return "", rnd.random() < 0.3
    return rnd.choice(["已完成", "有家族史", "无特殊"]), rnd.random() < 0.3


def _assert_clean(text: str, results) -> None:
    for r in results:
        assert r.item.name not in text, r.item.name
        if r.item.unit:
            assert r.item.unit not in text, r.item.unit
        if r.item.result_type == CheckItem.VALUE:
            # The value as stored and as a number, unless it is part of the phone number.
            for form in {r.value, format(Decimal(r.value).normalize(), "f")}:
                assert form not in text.replace("12320", ""), (form, text)
        if r.item.code == rules.BLOOD_TYPE:
            assert r.value not in text
    for word in FORBIDDEN_WORDS:
        assert word not in text, word


class TestResultSmsCarriesNoMedicalDetail:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(seed=st.integers(min_value=0, max_value=2**32 - 1))
    def test_random_results_never_reach_the_sms_text(
        self, world, seed, django_capture_on_commit_callbacks
    ):
        rnd = random.Random(seed)
        doctor = world.users["clinic_doctor"]
        reg = make_registration(world.village, woman_mobile=rnd.choice(["13800000001", ""]))
        overrides = {}
        for item in health.result_items():
            for s in ("F", "M"):
                if item.applies(s):
                    overrides[f"{item.code.replace('-', '_')}_{s}"] = _random_value(item, rnd)
        services.results_save_many(
            actor=doctor, registration=reg, entries=full_entries(**overrides)
        )
        reg.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            a = services.assessment_make(actor=doctor, registration=reg, now=NOW)
        message = Message.objects.get(source=f"precheck.assessment:{a.pk}")
        text = sms_rules.render(message.template.body, message.params)
        assert set(message.params) == {"name", "advice", "phone"}
        assert message.params["advice"] == sms.RESULT_ADVICE[a.level]
        results = list(reg.results.select_related("item"))
        _assert_clean(text, results)
        for reason in a.reasons:  # the doctor's reasons stay out of the SMS
            assert reason not in text

    def test_every_advice_text_is_free_of_medical_words(self):
        for advice in sms.RESULT_ADVICE.values():
            for word in FORBIDDEN_WORDS:
                assert word not in advice


class TestCounsellingAdd:
    def _assessed(self, doctor, reg, cb):
        services.results_save_many(
            actor=doctor, registration=reg, entries=full_entries(rubella_F=("", True))
        )
        reg.refresh_from_db()
        assessed(doctor, reg, cb)
        reg.refresh_from_db()
        return reg

    def test_counselling_needs_an_assessment(self, doctor, reg):
        with pytest.raises(ServiceError, match="不能记录咨询指导"):
            services.counselling_add(actor=doctor, registration=reg, advice="接种风疹疫苗")

    def test_counselling_is_recorded_and_audited(
        self, doctor, reg, django_capture_on_commit_callbacks
    ):
        reg = self._assessed(doctor, reg, django_capture_on_commit_callbacks)
        c = services.counselling_add(
            actor=doctor, registration=reg, advice="建议接种风疹疫苗，3个月后再怀孕。", now=NOW
        )
        assert c.place_path == reg.place_path and c.counselled_at == NOW
        assert AuditEntry.objects.filter(action="precheck.counselling_add").count() == 1

    def test_blank_advice_is_refused_and_double_submit_returns_the_first(
        self, doctor, reg, django_capture_on_commit_callbacks
    ):
        reg = self._assessed(doctor, reg, django_capture_on_commit_callbacks)
        with pytest.raises(ServiceError, match="请填写咨询指导的内容"):
            services.counselling_add(actor=doctor, registration=reg, advice="  ")
        a = services.counselling_add(actor=doctor, registration=reg, advice="内容甲", now=NOW)
        b = services.counselling_add(
            actor=doctor, registration=reg, advice="内容甲", now=NOW + dt.timedelta(minutes=1)
        )
        assert a.pk == b.pk and Counselling.objects.count() == 1


class TestHealthSelectors:
    def test_every_health_read_writes_an_audit_row(self, doctor, reg):
        services.results_save_many(actor=doctor, registration=reg, entries=full_entries())
        before = AuditEntry.objects.filter(action="registration.read_sensitive").count()
        record = health.health_record(doctor, reg)
        health.results_list(doctor, reg)
        assert len(record.results) == 24
        entries = AuditEntry.objects.filter(action="registration.read_sensitive")
        assert entries.count() == before + 2
        assert all(e.sensitive and e.actor == doctor for e in entries)

    def test_health_record_outside_scope_is_404(self, world, doctor):
        from django.http import Http404

        other = make_registration(world.other_village, label="外镇")
        with pytest.raises(Http404):
            health.health_record(doctor, other)
        assert not AuditEntry.objects.filter(action="registration.read_sensitive").exists()

    def test_worklist_has_checked_and_uncounselled_risk_only(
        self, world, doctor, django_capture_on_commit_callbacks
    ):
        checked = make_registration(world.village, status=Registration.CHECKED)
        make_registration(world.village, status=Registration.REGISTERED)
        make_registration(world.other_village, status=Registration.CHECKED, label="外镇")
        risky = make_registration(world.village)
        services.results_save_many(
            actor=doctor, registration=risky, entries=full_entries(hbv_F=("", True))
        )
        risky.refresh_from_db()
        assessed(doctor, risky, django_capture_on_commit_callbacks)
        fine = make_registration(world.village)
        services.results_save_many(actor=doctor, registration=fine, entries=full_entries())
        fine.refresh_from_db()
        assessed(doctor, fine, django_capture_on_commit_callbacks)
        assert {r.pk for r in health.worklist_for_actor(doctor)} == {checked.pk, risky.pk}
        risky.refresh_from_db()
        services.counselling_add(actor=doctor, registration=risky, advice="已咨询")
        assert {r.pk for r in health.worklist_for_actor(doctor)} == {checked.pk}
