"""Services of results, risk assessment and counselling (好孕好运, issue 6 items 2 and 4).

Decisions (for the README):
- A VALUE item's abnormal flag and the blood type's (RhD negative) are decided by the rules,
  never by the doctor: a flag sent with such an item must agree with the rules or the whole
  save is refused. A doctor who thinks an in-range value matters writes it in the note and
  raises the assessment level with a reason.
- A blank entry means "not entered": it is skipped, and a result saved before stays.
- Results may be entered once the couple is booked, until they are pregnant or closed;
  the first save moves a booked registration to "checked".
- The assessment needs every applicable item (items 18 and 19 are not results). A doctor may
  raise the rules' level with a reason, never lower it. Re-assessing updates the row and
  sends the result SMS again only when the level changed.
- The result SMS carries only the couple's name, a fixed advice sentence chosen by level
  (sms.RESULT_ADVICE) and a phone number; without a mobile or without SMS consent the same
  text becomes an operator's call script.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.messaging import rules as sms_rules
from sunshine.messaging import services as sms_services
from sunshine.places import scoping
from sunshine.precheck import followups, rules, sms
from sunshine.precheck.models import (
    Appointment,
    Assessment,
    CheckItem,
    Counselling,
    Registration,
    Result,
)

ENTRY_STATUSES = (Registration.BOOKED, Registration.CHECKED, Registration.ASSESSED)
ASSESS_STATUSES = (Registration.CHECKED, Registration.ASSESSED)
COUNSEL_STATUSES = (Registration.ASSESSED, Registration.PREGNANT)
MAX_TEXT = 200
MAX_ADVICE = 2000


@dataclass
class Entry:
    item: CheckItem
    subject: str
    value: str = ""
    is_abnormal: bool | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.item.code}:{self.subject}"


def entry_key(item, subject: str) -> str:
    """The key under which a grid cell's error is reported (field of ServiceError.errors)."""
    return f"{item.code}:{subject}"


def _check_actor(actor, registration: Registration) -> None:
    if actor is None or not actor.can("precheck.health"):
        raise ServiceError("只有服务机构医生可以录入检查结果和评估。")
    if not scoping.path_in_scope(actor, registration.place_path, write=True):
        raise ServiceError("这对夫妇不在您的管辖范围内。")


def _locked(registration: Registration) -> Registration:
    return Registration.objects.select_for_update().get(pk=registration.pk)


def _status_refusal(registration: Registration, allowed, what: str) -> str | None:
    if registration.status in allowed:
        return None
    reasons = {
        Registration.REGISTERED: "还没有预约检查",
        Registration.BOOKED: "还没有录入检查结果",
        Registration.CHECKED: "还没有完成风险评估",
        Registration.PREGNANT: "已登记怀孕，孕前检查已结束",
        Registration.CLOSED: "登记已结束",
    }
    why = reasons.get(registration.status, registration.get_status_display())
    return f"登记 {registration.number} {why}，不能{what}。"


def _clean_entry(e: Entry) -> tuple[str, bool] | None:
    """(value to store, abnormal flag), None for a blank entry; ValueError in Chinese."""
    item, who = e.item, rules.SUBJECT_LABEL.get(e.subject, "")
    value = (e.value or "").strip()
    if len((e.note or "").strip()) > MAX_TEXT:
        raise ValueError(f"医生意见不能超过 {MAX_TEXT} 字。")
    if item.result_type == CheckItem.FLAG:
        flag = e.is_abnormal
        if value and value not in (rules.FLAG_NORMAL, rules.FLAG_ABNORMAL):
            raise ValueError("结果只能是“正常”或“异常”。")
        if value:
            derived = value == rules.FLAG_ABNORMAL
            if flag is not None and flag != derived:
                raise ValueError("结果文字与异常标记不一致。")
            flag = derived
        if flag is None:
            return None
        return rules.flag_value(flag), flag
    if not value:
        if e.is_abnormal:
            raise ValueError(f"{who}标为异常，但没有填写结果。")
        return None
    if len(value) > MAX_TEXT:
        raise ValueError(f"结果不能超过 {MAX_TEXT} 字。")
    computed = rules.computed_abnormal(item, value)  # ValueError for a bad number/blood type
    if computed is None:  # free text: the doctor's flag
        return value, bool(e.is_abnormal)
    if e.is_abnormal is not None and e.is_abnormal != computed:
        if item.result_type == CheckItem.VALUE:
            where = "在参考范围内" if not computed else "超出参考范围"
            raise ValueError(
                f"数值 {value} {where}（参考 {rules.range_label(item)}），"
                f"不能标为{'异常' if e.is_abnormal else '正常'}；异常与否按参考范围判定，"
                "如有疑虑请写在医生意见里，并在评估时调高等级。"
            )
        raise ValueError("Rh阴性按异常登记（孕期需监测抗体），Rh阳性按正常登记，不能另行标记。")
    return rules.normalise_value(item, value), computed


@transaction.atomic
def results_save_many(*, actor, registration: Registration, entries, now=None) -> list[Result]:
    """Save the results of a couple's checks, all or nothing. `entries`: Entry objects or
    (item, subject, value, is_abnormal, note) tuples. Every refusal names the item and the
    partner; ServiceError.errors holds (entry_key, message) for each bad cell."""
    _check_actor(actor, registration)
    registration = _locked(registration)
    refusal = _status_refusal(registration, ENTRY_STATUSES, "录入检查结果")
    if refusal:
        raise ServiceError(refusal)
    entries = [e if isinstance(e, Entry) else Entry(*e) for e in entries]
    errors: list[tuple[str, str]] = []
    cleaned: list[tuple[Entry, str, bool]] = []
    seen = set()
    for e in entries:
        who = rules.SUBJECT_LABEL.get(e.subject)
        label = f"{who or ''}「{e.item.name}」"
        if who is None:
            errors.append((e.key, f"「{e.item.name}」的对象只能是女方或男方。"))
            continue
        if not e.item.is_active or not rules.is_result_item(e.item):
            errors.append((e.key, f"「{e.item.name}」不是要录入结果的检查项目。"))
            continue
        if not e.item.applies(e.subject):
            only = "女方" if e.item.applies_to == rules.WOMAN else "男方"
            errors.append((e.key, f"「{e.item.name}」只检查{only}，不能录入{who}的结果。"))
            continue
        if e.key in seen:
            errors.append((e.key, f"{label}重复填写了两次。"))
            continue
        seen.add(e.key)
        try:
            got = _clean_entry(e)
        except ValueError as exc:
            msg = exc.args[0]
            # The rules name the item already ("「血型」…"): add only the partner.
            named = msg.startswith(f"「{e.item.name}」")
            errors.append((e.key, f"{who}{msg}" if named else f"{label}：{msg}"))
            continue
        if got is not None:
            cleaned.append((e, *got))
    if errors:
        raise ServiceError(
            "检查结果有误，全部未保存：" + "；".join(m for _, m in errors), errors=errors
        )
    if not cleaned:
        raise ServiceError("没有填写任何检查结果。")
    existing = {
        (r.item_id, r.subject): r
        for r in Result.objects.select_for_update().filter(registration=registration)
    }
    saved = []
    for e, value, flag in cleaned:
        note = (e.note or "").strip()
        result = existing.get((e.item.pk, e.subject))
        if result is None:
            result = Result(
                registration=registration,
                item=e.item,
                subject=e.subject,
                place_path=registration.place_path,
            )
        elif (result.value, result.is_abnormal, result.note) == (value, flag, note):
            continue  # unchanged (a double submit saves nothing twice)
        result.value, result.is_abnormal, result.note = value, flag, note
        result.entered_by = actor
        result.full_clean()
        result.save()
        saved.append(result)
    if registration.status == Registration.BOOKED:
        registration.status = Registration.CHECKED
        registration.save(update_fields=["status", "updated_at"])
    if saved:
        audit.record(
            actor=actor,
            action="precheck.results_save",
            obj=registration,
            sensitive=True,
            # Which cells changed, never their values (the log is read by other roles).
            changes={"items": [entry_key(r.item, r.subject) for r in saved]},
        )
    return saved


def _phone(registration: Registration) -> str:
    """The phone of the institution of the couple's latest appointment, else the county line."""
    appointment = (
        Appointment.objects.filter(registration=registration)
        .exclude(status=Appointment.CANCELLED)
        .select_related("slot__institution")
        .order_by("-created_at", "-id")
        .first()
    )
    if appointment is not None and appointment.slot.institution.phone:
        return appointment.slot.institution.phone
    return settings.SUNSHINE_HOTLINE


def result_params(registration: Registration, level: str) -> dict:
    """The only parameters a result SMS ever gets: name, fixed advice, phone."""
    return {
        "name": registration.woman_name,
        "advice": sms.RESULT_ADVICE[level],
        "phone": _phone(registration),
    }


@transaction.atomic
def result_notify(*, assessment_id: int, now=None):
    """Queue the 结果告知 SMS of an assessment (or the operator's call task). Runs on commit of
    assessment_make; returns the Message or CallTask."""
    now = now or timezone.now()
    assessment = Assessment.objects.select_related(
        "registration__place", "registration__woman", "registration__man"
    ).get(pk=assessment_id)
    reg = assessment.registration
    template = sms.template(sms.RESULT)
    params = result_params(reg, assessment.level)
    mobile = reg.woman_mobile or reg.man_mobile
    resident = reg.woman if reg.woman_mobile else reg.man if reg.man_mobile else reg.woman
    if mobile and reg.consent_sms:
        sent = sms_services.message_enqueue(
            programme=sms.PROGRAMME,
            template=template,
            params=params,
            mobile=mobile,
            resident=resident,
            place=reg.place,
            source=f"precheck.assessment:{assessment.pk}",
            now=now,
        )
    else:
        why = "没有同意接收短信" if mobile else "没有手机号码"
        sent = sms_services.calltask_create(
            actor=None,
            reason=f"孕前检查结果告知（{why}），请电话告知",
            script=sms_rules.render(template.body, params),
            resident=resident,
            mobile=mobile,
            place_path=reg.place_path,
        )
    Assessment.objects.filter(pk=assessment.pk).update(notified_at=now)
    return sent


@transaction.atomic
def assessment_make(
    *,
    actor,
    registration: Registration,
    advice: str = "",
    level_override: str | None = None,
    override_reason: str = "",
    now: dt.datetime | None = None,
) -> Assessment:
    """Assess the couple's risk from their results (rules.assess), store the reasons, move the
    registration to "assessed" and, on commit, send the result SMS when the level is new."""
    now = now or timezone.now()
    _check_actor(actor, registration)
    registration = _locked(registration)
    refusal = _status_refusal(registration, ASSESS_STATUSES, "做风险评估")
    if refusal:
        raise ServiceError(refusal)
    advice = (advice or "").strip()
    if len(advice) > MAX_ADVICE:
        raise ServiceError(f"医生建议不能超过 {MAX_ADVICE} 字。", field="advice")
    results = list(registration.results.select_related("item"))
    items = list(CheckItem.objects.filter(is_active=True))
    gaps = rules.missing(results, items)
    if gaps:
        raise ServiceError(
            f"还有 {len(gaps)} 项检查结果没有录入，不能评估：{rules.missing_label(gaps)}。"
        )
    computed, reasons = rules.assess(results, items)
    try:
        level = rules.final_level(computed, level_override or None)
    except ValueError as exc:
        raise ServiceError(exc.args[0], field="level_override") from None
    override_reason = (override_reason or "").strip()
    if level != computed:
        if not override_reason:
            raise ServiceError("调高风险等级时请写明理由。", field="override_reason")
        if len(override_reason) > MAX_TEXT:
            raise ServiceError(f"理由不能超过 {MAX_TEXT} 字。", field="override_reason")
        reasons.append(f"医生调高为“{rules.LEVEL_LABEL[level]}”：{override_reason}")
    assessment = Assessment.objects.select_for_update().filter(registration=registration).first()
    before = None if assessment is None else assessment.level
    if assessment is None:
        assessment = Assessment(registration=registration, place_path=registration.place_path)
    assessment.level, assessment.reasons, assessment.advice = level, reasons, advice
    assessment.assessed_by, assessment.assessed_at = actor, now
    assessment.full_clean(exclude=["reasons"])  # an empty list is a valid "no reasons"
    assessment.save()
    if registration.status == Registration.CHECKED:
        registration.status = Registration.ASSESSED
        registration.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="precheck.assessment_make",
        obj=registration,
        sensitive=True,
        changes={"level": [before, level], "computed": computed},
    )
    if before != level:
        pk = assessment.pk
        transaction.on_commit(lambda: result_notify(assessment_id=pk, now=now))
    # The early-pregnancy follow-up call comes some months after the assessment.
    followups.after_assessment(actor=actor, registration=registration, now=now)
    return assessment


@transaction.atomic
def counselling_add(*, actor, registration: Registration, advice: str, now=None) -> Counselling:
    """Record a counselling session (咨询指导). The same text by the same doctor within ten
    minutes is a double submit: the first record is returned."""
    now = now or timezone.now()
    _check_actor(actor, registration)
    registration = _locked(registration)
    refusal = _status_refusal(registration, COUNSEL_STATUSES, "记录咨询指导")
    if refusal:
        raise ServiceError(refusal)
    advice = (advice or "").strip()
    if len(advice) < 2:
        raise ServiceError("请填写咨询指导的内容。", field="advice")
    if len(advice) > MAX_ADVICE:
        raise ServiceError(f"咨询指导内容不能超过 {MAX_ADVICE} 字。", field="advice")
    twin = Counselling.objects.filter(
        registration=registration,
        counselled_by=actor,
        advice=advice,
        counselled_at__gte=now - dt.timedelta(minutes=10),
    ).first()
    if twin is not None:
        return twin
    counselling = Counselling(
        registration=registration,
        place_path=registration.place_path,
        counselled_by=actor,
        counselled_at=now,
        advice=advice,
    )
    counselling.full_clean()
    counselling.save()
    audit.record(actor=actor, action="precheck.counselling_add", obj=counselling, sensitive=True)
    return counselling
