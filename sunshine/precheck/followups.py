"""好孕好运 follow-ups and pregnancies (issue 6 item 5): services and the selectors they need.

Early-pregnancy (早孕) and pregnancy-outcome (妊娠结局) follow-ups are call tasks for operators
with a script and an outcome form; a recorded pregnancy enrols the woman in the pregnancy SMS
campaign (about 20 messages counted from the last menstrual period).

Policies (the README and the issue note repeat them):
- After the risk assessment an early follow-up is due SUNSHINE_PRECHECK_EARLY_FOLLOWUP_DAYS
  later (`after_assessment`, called by results.assessment_make); one open follow-up per kind.
- A daily job (`followups_open_due`) gives every due follow-up its operator call task, once.
- Not reached: the follow-up and its call task stay open; the attempt is appended to the notes.
- Reached, not pregnant: the follow-up is done and, unless the operator says otherwise, the
  next early follow-up is scheduled EARLY days later (the couple is still planning).
- Reached, pregnant with an LMP: the pregnancy is recorded (edd = lmp + 280 days), the couple
  joins the campaign if they consented to SMS (else one call task to tell them by phone), and
  the outcome follow-up is scheduled at edd + SUNSHINE_PRECHECK_OUTCOME_FOLLOWUP_DAYS.
- Pregnancy end: a live birth keeps the campaign enrolment (the postpartum reminders still
  help) but is its milestone: the schedule then counts from the birth date (anchor = birth −
  280 days) and every event up to the 预产期 is over, so after an early birth no prenatal
  reminder ("今天是预产期…") goes out and the postpartum ones come on time; any other
  outcome closes the enrolment and cancels its waiting messages. Either way the
  registration is closed ("已分娩" or "妊娠结局：…") and other open follow-ups are cancelled.
- Closing a follow-up closes its call task; the task's outcome carries no health data (the
  SMS desk sees call tasks), only "已完成随访".
Health data (pregnancies, the answers of a follow-up) is read through selectors that write
the audit row; scripts and SMS never carry a result value.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.messaging import campaigns, rules, seeds
from sunshine.messaging import services as sms_services
from sunshine.messaging.models import CallTask, Message
from sunshine.places import scoping
from sunshine.precheck.models import FollowUp, Pregnancy, Registration

EDD_DAYS = 280
LMP_MAX_DAYS = 300
REASONS = {FollowUp.EARLY: "早孕随访", FollowUp.OUTCOME: "妊娠结局随访"}
TASK_DONE = "已完成随访，结果见随访记录"
NO_SMS_REASON = "未同意接收短信，请电话告知孕期保健安排"


def early_days() -> int:
    return settings.SUNSHINE_PRECHECK_EARLY_FOLLOWUP_DAYS


def outcome_days() -> int:
    return settings.SUNSHINE_PRECHECK_OUTCOME_FOLLOWUP_DAYS


def _today(now: dt.datetime) -> dt.date:
    return timezone.localdate(now)


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _actor_label(actor) -> str:
    if getattr(actor, "is_authenticated", False):
        return actor.get_full_name() or actor.get_username()
    return "系统"


def _full_clean(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        name, msgs = next(iter(exc.message_dict.items()))
        raise ServiceError(msgs[0], field=name) from None


# ---- scripts (pure: what the operator says; never a result value) ----------------------------

PRIVACY = (
    "请先核实身份：确认接电话的是{name}本人后，再谈怀孕和健康情况；不是本人时，"
    "只请对方转告回电，不透露随访内容。电话中不告知任何检查结果，如对方问起，"
    "请其到检查机构当面咨询。"
)
QUESTIONS = {
    FollowUp.EARLY: [
        "是否已经怀孕？",
        "如已怀孕：末次月经是哪一天？",
        "是否在服用叶酸（每天0.4毫克）？没有的请提醒到村卫生室免费领取。",
    ],
    FollowUp.OUTCOME: [
        "妊娠结局：活产、死胎死产、自然流产、人工流产/引产、异位妊娠或其他？",
        "分娩（结局）日期是哪一天？",
        "母亲和孩子现在情况如何？",
        "是否已有医生做过产后访视？没有的请告知乡镇卫生院会安排。",
    ],
}


def followup_script(followup: FollowUp) -> str:
    """The call script: greeting with the woman's name, the privacy reminder, the questions."""
    reg = followup.registration
    name = reg.woman_name
    lines = [
        f"{name}您好，我是孕前优生健康检查的随访人员，想了解一下您的近况。",
        PRIVACY.format(name=name),
        f"本次为{REASONS[followup.kind]}，请询问：",
    ]
    lines += [f"{i}. {q}" for i, q in enumerate(QUESTIONS[followup.kind], start=1)]
    lines.append("问完请在“填写随访结果”中记录；联系不上也请记一笔。")
    return "\n".join(lines)


def _no_sms_script(reg: Registration, lmp: dt.date, edd: dt.date) -> str:
    first = lmp + dt.timedelta(days=90)
    return "\n".join(
        [
            f"{reg.woman_name}您好，我是孕前优生健康检查的随访人员。",
            PRIVACY.format(name=reg.woman_name),
            "您夫妇没有同意接收短信，请电话告知孕期保健安排：",
            "1. 每天服用叶酸0.4毫克至孕满3个月，可到村卫生室免费领取。",
            f"2. {first.month}月{first.day}日前到乡镇卫生院建立母子健康手册，做第一次产前检查。",
            "3. 孕16–20周、21–24周、28–36周、37–40周按时产前检查。",
            f"4. 预产期约为{edd.year}年{edd.month}月{edd.day}日，请提前选好分娩医院。",
            "如愿意接收孕期提醒短信，请记下本人同意，告知登记机构。",
        ]
    )


# ---- selectors ------------------------------------------------------------------------------

DUE_NOW, DUE_LATER = "due", "later"


def followup_list_for_actor(
    actor,
    *,
    kind: str = "",
    status: str = FollowUp.OPEN,
    due: str = "",
    today: dt.date | None = None,
) -> QuerySet[FollowUp]:
    """Follow-ups in the actor's scope; open ones first, the earliest due first."""
    today = today or timezone.localdate()
    qs = scoping.scope(FollowUp.objects.all(), actor).select_related(
        "registration", "registration__place__parent", "call_task"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if due == DUE_NOW:
        qs = qs.filter(due_on__lte=today)
    elif due == DUE_LATER:
        qs = qs.filter(due_on__gt=today)
    return qs.annotate(
        open_first=Case(
            When(status=FollowUp.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("open_first", "due_on", "id")


def followup_get_for_actor(actor, followup_id: int, *, write: bool = False) -> FollowUp:
    """One follow-up; reading the answers already recorded (pregnant, LMP, outcome) is a
    health-data read and is audited."""
    qs = FollowUp.objects.select_related(
        "registration", "registration__place", "call_task", "done_by"
    )
    followup = scoping.get_for_actor(qs, actor, write=write, pk=followup_id)
    if not write and (followup.pregnant is not None or followup.outcome):
        audit.record_read(actor=actor, obj=followup, fields=["pregnant", "lmp", "outcome"])
    return followup


def followup_mobiles_reveal(actor, followup: FollowUp, *, reason: str = "") -> dict:
    """The couple's full mobiles, for the operator or doctor who must dial; audited."""
    reg = followup.registration
    audit.record_read(actor=actor, obj=reg, fields=["woman_mobile", "man_mobile"], reason=reason)
    return {"woman": reg.woman_mobile, "man": reg.man_mobile}


def pregnancy_list_for_actor(actor, *, status: str = "") -> QuerySet[Pregnancy]:
    qs = scoping.scope(Pregnancy.objects.all(), actor).select_related(
        "registration", "registration__place__parent"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "edd", "id")


def pregnancy_list_audit(actor, rows: list[Pregnancy]) -> None:
    """A page of pregnancies (dates are health data) was shown: one audit row for the page."""
    if rows:
        audit.record(
            actor=actor,
            action="pregnancy.list_read",
            place_path=scoping.read_prefix(actor) or "",
            sensitive=True,
            changes={"ids": [p.pk for p in rows]},
        )


def pregnancy_get_for_actor(actor, pregnancy_id: int, *, write: bool = False) -> Pregnancy:
    qs = Pregnancy.objects.select_related("registration", "registration__place", "enrolment")
    pregnancy = scoping.get_for_actor(qs, actor, write=write, pk=pregnancy_id)
    if not write:
        audit.record_read(actor=actor, obj=pregnancy, fields=["lmp", "edd", "outcome"])
    return pregnancy


def pregnancy_messages(pregnancy: Pregnancy) -> list[dict]:
    """The campaign messages of the pregnancy's enrolment: due date, status, text."""
    e = pregnancy.enrolment
    if e is None:
        return []
    rows = []
    for m in (
        Message.objects.filter(enrolment=e)  # its index; the source names it too
        .select_related("template")
        .order_by("due_at", "id")
    ):
        text = m.body
        if not text and m.template_id:
            try:
                text = rules.render(m.template.body, m.params or {})
            except KeyError:
                text = m.template.body
        rows.append(
            {
                "due_at": m.due_at,
                "status": m.status,
                "status_label": rules.STATUS_LABELS.get(m.status, m.status),
                "name": m.template.name if m.template_id else "",
                "text": text,
            }
        )
    return rows


def followups_of(registration: Registration) -> QuerySet[FollowUp]:
    return registration.followups.order_by("-due_on", "-id")


# ---- services -------------------------------------------------------------------------------


def _task_close(actor, followup: FollowUp, outcome: str, now: dt.datetime) -> None:
    task = followup.call_task
    if task is not None and task.status == CallTask.OPEN:
        sms_services.calltask_close(actor=actor, task=task, outcome=outcome, now=now, owner=True)


@transaction.atomic
def followup_schedule(*, actor, registration: Registration, kind: str, due_on: dt.date) -> FollowUp:
    """One open follow-up per kind: an open one is kept (its date moves while no call task has
    been made for it)."""
    if kind not in REASONS:
        raise ServiceError("随访类型不对。", field="kind")
    if not isinstance(due_on, dt.date):
        raise ServiceError("请填写应随访日期。", field="due_on")
    found = (
        FollowUp.objects.select_for_update()
        .filter(registration=registration, kind=kind, status=FollowUp.OPEN)
        .first()
    )
    if found is not None:
        if found.due_on != due_on and found.call_task_id is None:
            old = found.due_on
            found.due_on = due_on
            found.save(update_fields=["due_on"])
            audit.record(
                actor=actor,
                action="followup.reschedule",
                obj=found,
                changes={"due_on": [old.isoformat(), due_on.isoformat()]},
            )
        return found
    followup = FollowUp(
        registration=registration, kind=kind, place_path=registration.place_path, due_on=due_on
    )
    _full_clean(followup)
    followup.save()
    audit.record(
        actor=actor,
        action="followup.schedule",
        obj=followup,
        changes={"kind": kind, "due_on": due_on.isoformat()},
    )
    return followup


def after_assessment(*, actor, registration: Registration, now: dt.datetime | None = None):
    """Called by results.assessment_make: the early follow-up, EARLY days after the
    assessment. Nothing for a closed registration or one with an ongoing pregnancy."""
    now = now or timezone.now()
    if registration.status in (Registration.CLOSED, Registration.PREGNANT):
        return None
    if registration.pregnancies.filter(status=Pregnancy.ONGOING).exists():
        return None
    due_on = _today(now) + dt.timedelta(days=early_days())
    return followup_schedule(
        actor=actor, registration=registration, kind=FollowUp.EARLY, due_on=due_on
    )


@transaction.atomic
def followups_open_due(*, now: dt.datetime | None = None) -> int:
    """Every open follow-up whose day has come gets its operator call task, once. Safe to run
    twice and from two workers (one locking query; PostgreSQL checks the link again
    after the lock)."""
    now = now or timezone.now()
    today = _today(now)
    due = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("registration", "registration__woman")
        .filter(status=FollowUp.OPEN, due_on__lte=today, call_task__isnull=True)
        .order_by("pk")
    )
    made = 0
    for followup in due:
        reg = followup.registration
        task = sms_services.calltask_create(
            actor=None,
            reason=REASONS[followup.kind],
            script=followup_script(followup),
            mobile=reg.woman_mobile or reg.man_mobile,
            place_path=reg.place_path,
            resident=reg.woman,
        )
        followup.call_task = task
        followup.save(update_fields=["call_task"])
        audit.record(
            actor=None, action="followup.open", obj=followup, changes={"call_task": task.pk}
        )
        made += 1
    return made


def _note(followup: FollowUp, actor, now: dt.datetime, text: str) -> None:
    stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    line = f"{stamp} {_actor_label(actor)}：{text.strip()}".strip()
    followup.notes = f"{followup.notes}\n{line}".strip() if followup.notes else line


def _check_date(value, *, field: str, label: str, today: dt.date) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ServiceError(f"请填写{label}。", field=field)
    if value > today:
        raise ServiceError(f"{label}不能晚于今天，请核对。", field=field)
    return value


def _check_lmp(lmp, today: dt.date) -> dt.date:
    lmp = _check_date(lmp, field="lmp", label="末次月经日期", today=today)
    if lmp < today - dt.timedelta(days=LMP_MAX_DAYS):
        raise ServiceError(
            f"末次月经日期在{LMP_MAX_DAYS}天以前，请核对；如已分娩或妊娠已结束，请记录妊娠结局。",
            field="lmp",
        )
    return lmp


@transaction.atomic
def followup_record(
    *,
    actor,
    followup: FollowUp,
    reached: bool,
    pregnant: bool | None = None,
    lmp: dt.date | None = None,
    outcome: str = "",
    outcome_date: dt.date | None = None,
    notes: str = "",
    again: bool = True,
    now: dt.datetime | None = None,
) -> FollowUp:
    """The outcome form of a follow-up call (see the module's policies)."""
    now = now or timezone.now()
    today = _today(now)
    f = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("registration", "call_task")
        .get(pk=followup.pk)
    )
    if f.status != FollowUp.OPEN:
        raise ServiceError("这条随访已经记录过了，不能重复记录。")
    notes = (notes or "").strip()
    if not reached:
        f.reached = False
        _note(f, actor, now, f"未联系上。{notes}")
        f.save(update_fields=["reached", "notes"])
        audit.record(actor=actor, action="followup.attempt", obj=f, changes={"reached": False})
        followup.notes, followup.reached = f.notes, f.reached
        return f
    reg = f.registration
    changes: dict = {"reached": True}
    if f.kind == FollowUp.EARLY:
        if pregnant is None:
            raise ServiceError("请选择是否已怀孕。", field="pregnant")
        f.pregnant = pregnant
        if pregnant:
            f.lmp = _check_lmp(lmp, today)
            summary = f"已怀孕，末次月经{f.lmp:%Y-%m-%d}。"
        else:
            summary = "未怀孕。"
    else:
        if outcome not in dict(FollowUp.OUTCOME_CHOICES):
            raise ServiceError("请选择妊娠结局。", field="outcome")
        f.outcome = outcome
        f.outcome_date = _check_date(
            outcome_date, field="outcome_date", label="结局日期", today=today
        )
        summary = f"妊娠结局：{f.get_outcome_display()}，{f.outcome_date:%Y-%m-%d}。"
    f.reached, f.status, f.done_by, f.done_at = True, FollowUp.DONE, _actor(actor), now
    _note(f, actor, now, f"{summary}{notes}")
    f.save(
        update_fields=[
            "reached",
            "pregnant",
            "lmp",
            "outcome",
            "outcome_date",
            "status",
            "done_by",
            "done_at",
            "notes",
        ]
    )
    _task_close(actor, f, TASK_DONE, now)
    if f.kind == FollowUp.EARLY and pregnant:
        pregnancy = pregnancy_record(actor=actor, registration=reg, lmp=f.lmp, now=now)
        changes["pregnancy"] = pregnancy.pk
    elif f.kind == FollowUp.EARLY and again:
        nxt = followup_schedule(
            actor=actor,
            registration=reg,
            kind=FollowUp.EARLY,
            due_on=today + dt.timedelta(days=early_days()),
        )
        changes["next"] = nxt.pk
    elif f.kind == FollowUp.OUTCOME:
        ongoing = reg.pregnancies.filter(status=Pregnancy.ONGOING).first()
        if ongoing is not None:
            pregnancy_end(
                actor=actor,
                pregnancy=ongoing,
                outcome=f.outcome,
                outcome_date=f.outcome_date,
                reason="妊娠结局随访",
                now=now,
            )
            changes["pregnancy"] = ongoing.pk
    audit.record(actor=actor, action="followup.record", obj=f, changes=changes, sensitive=True)
    followup.status = f.status
    return f


def _cancel_open(actor, reg: Registration, now: dt.datetime, why: str, kinds=None) -> int:
    qs = FollowUp.objects.select_for_update(of=("self",)).filter(
        registration=reg, status=FollowUp.OPEN
    )
    if kinds:
        qs = qs.filter(kind__in=kinds)
    n = 0
    for f in qs.select_related("call_task"):
        f.status = FollowUp.CANCELLED
        _note(f, actor, now, why)
        f.save(update_fields=["status", "notes"])
        _task_close(actor, f, f"随访已取消：{why}", now)
        audit.record(actor=actor, action="followup.cancel", obj=f, reason=why)
        n += 1
    return n


def _enrol(actor, reg: Registration, pregnancy: Pregnancy, now: dt.datetime):
    """Campaign enrolment when the couple consented to SMS; otherwise one call task."""
    if not reg.consent_sms:
        sms_services.calltask_create(
            actor=actor,
            reason=NO_SMS_REASON,
            script=_no_sms_script(reg, pregnancy.lmp, pregnancy.edd),
            mobile=reg.woman_mobile or reg.man_mobile,
            place_path=reg.place_path,
            resident=reg.woman,
        )
        return None
    mobile = reg.woman_mobile or reg.man_mobile
    if not mobile and reg.woman is None:
        # Nobody to write to: the campaign's own rule for a person without a mobile is a
        # call task listing the schedule; here the same, through the call desk.
        sms_services.calltask_create(
            actor=actor,
            reason="没有手机号码，请电话告知孕期保健安排",
            script=_no_sms_script(reg, pregnancy.lmp, pregnancy.edd).replace(
                "您夫妇没有同意接收短信", "登记中没有手机号码"
            ),
            place_path=reg.place_path,
        )
        return None
    campaign = seeds.pregnancy_campaign_seed(actor=actor)
    return campaigns.enrol(
        actor=actor,
        campaign=campaign,
        anchor_date=pregnancy.lmp,
        resident=reg.woman,
        mobile=mobile,
        name=reg.woman_name,
        place=reg.place,
        source=f"precheck:pregnancy:{pregnancy.pk}",
        now=now,
    )


@transaction.atomic
def pregnancy_record(
    *, actor, registration: Registration, lmp: dt.date, now: dt.datetime | None = None
) -> Pregnancy:
    """A pregnancy (edd = lmp + 280 days): campaign enrolment, outcome follow-up, and the
    registration marked pregnant. Open early follow-ups are no longer needed."""
    now = now or timezone.now()
    reg = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("place", "woman")
        .get(pk=registration.pk)
    )
    lmp = _check_lmp(lmp, _today(now))
    if reg.status == Registration.CLOSED:
        raise ServiceError("这对夫妇的登记已结束，不能再记录孕情；如再次计划怀孕，请重新登记。")
    ongoing = reg.pregnancies.filter(status=Pregnancy.ONGOING).first()
    if ongoing is not None:
        raise ServiceError(
            f"已有进行中的孕情（末次月经{ongoing.lmp:%Y-%m-%d}），不能重复记录；"
            "如日期有误，请修改末次月经日期。",
            field="lmp",
        )
    pregnancy = Pregnancy(
        registration=reg,
        place_path=reg.place_path,
        lmp=lmp,
        edd=lmp + dt.timedelta(days=EDD_DAYS),
        recorded_by=_actor(actor),
    )
    _full_clean(pregnancy)
    pregnancy.save()
    old_status = reg.status
    reg.status = Registration.PREGNANT
    reg.save(update_fields=["status", "updated_at"])
    _cancel_open(actor, reg, now, "已记录孕情，不再做早孕随访", kinds=[FollowUp.EARLY])
    enrolment = _enrol(actor, reg, pregnancy, now)
    if enrolment is not None:
        pregnancy.enrolment = enrolment
        pregnancy.save(update_fields=["enrolment"])
    followup_schedule(
        actor=actor,
        registration=reg,
        kind=FollowUp.OUTCOME,
        due_on=pregnancy.edd + dt.timedelta(days=outcome_days()),
    )
    audit.record(
        actor=actor,
        action="pregnancy.record",
        obj=pregnancy,
        sensitive=True,
        changes={
            "lmp": lmp.isoformat(),
            "status": [old_status, reg.status],
            "enrolment": enrolment.pk if enrolment else None,
        },
    )
    registration.status = reg.status
    return pregnancy


@transaction.atomic
def pregnancy_lmp_change(
    *, actor, pregnancy: Pregnancy, lmp: dt.date, now: dt.datetime | None = None
) -> Pregnancy:
    """A corrected LMP: the EDD, the waiting campaign messages and the outcome follow-up move."""
    now = now or timezone.now()
    p = (
        Pregnancy.objects.select_for_update(of=("self",))
        .select_related("enrolment")
        .get(pk=pregnancy.pk)
    )
    if p.status != Pregnancy.ONGOING:
        raise ServiceError("这次孕情已结束，不能再修改末次月经日期。")
    lmp = _check_lmp(lmp, _today(now))
    if lmp == p.lmp:
        return p
    old = p.lmp
    p.lmp, p.edd = lmp, lmp + dt.timedelta(days=EDD_DAYS)
    p.save(update_fields=["lmp", "edd"])
    if p.enrolment is not None and p.enrolment.status == p.enrolment.ACTIVE:
        campaigns.anchor_change(actor=actor, enrolment=p.enrolment, anchor_date=lmp, now=now)
    due_on = p.edd + dt.timedelta(days=outcome_days())
    for f in (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("call_task")
        .filter(registration_id=p.registration_id, kind=FollowUp.OUTCOME, status=FollowUp.OPEN)
    ):
        f.due_on = due_on
        if f.call_task is not None and due_on > _today(now):
            # The call was made for the old date: it is made again when the new day comes.
            _task_close(actor, f, f"随访日期已改为{due_on:%Y-%m-%d}", now)
            f.call_task = None
        f.save(update_fields=["due_on", "call_task"])
    audit.record(
        actor=actor,
        action="pregnancy.lmp_change",
        obj=p,
        sensitive=True,
        changes={"lmp": [old.isoformat(), lmp.isoformat()]},
    )
    pregnancy.lmp, pregnancy.edd = p.lmp, p.edd
    return p


@transaction.atomic
def pregnancy_end(
    *,
    actor,
    pregnancy: Pregnancy,
    outcome: str,
    outcome_date: dt.date | None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Pregnancy:
    """The pregnancy ended. Live birth: the enrolment is kept (postpartum reminders); any
    other outcome: the enrolment is closed and its waiting messages cancelled. The
    registration closes; open follow-ups are cancelled."""
    now = now or timezone.now()
    p = (
        Pregnancy.objects.select_for_update(of=("self",))
        .select_related("enrolment", "registration")
        .get(pk=pregnancy.pk)
    )
    if p.status != Pregnancy.ONGOING:
        raise ServiceError("这次孕情已经结束，不能重复记录。")
    labels = dict(FollowUp.OUTCOME_CHOICES)
    if outcome not in labels:
        raise ServiceError("请选择妊娠结局。", field="outcome")
    outcome_date = _check_date(
        outcome_date, field="outcome_date", label="结局日期", today=_today(now)
    )
    if outcome_date < p.lmp:
        raise ServiceError("结局日期不能早于末次月经日期，请核对。", field="outcome_date")
    reason = (reason or "").strip()
    live = outcome == FollowUp.LIVE_BIRTH
    why = "已分娩" if live else f"妊娠结局：{labels[outcome]}"
    p.status, p.outcome, p.outcome_date = Pregnancy.ENDED, outcome, outcome_date
    p.save(update_fields=["status", "outcome", "outcome_date"])
    closed = False
    if p.enrolment is not None and p.enrolment.status == p.enrolment.ACTIVE:
        if live:
            campaigns.enrolment_milestone(
                actor=actor,
                enrolment=p.enrolment,
                anchor_date=outcome_date - dt.timedelta(days=EDD_DAYS),
                done_through=EDD_DAYS,
                reason=why,
                now=now,
            )
        else:
            campaigns.enrolment_close(actor=actor, enrolment=p.enrolment, reason=why, now=now)
            closed = True
    reg = Registration.objects.select_for_update().get(pk=p.registration_id)
    reg.status, reg.closed_at, reg.close_reason = Registration.CLOSED, now, why
    reg.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    cancelled = _cancel_open(actor, reg, now, f"孕情已结束（{why}）")
    audit.record(
        actor=actor,
        action="pregnancy.end",
        obj=p,
        sensitive=True,
        reason=reason[:200],
        changes={
            "outcome": outcome,
            "outcome_date": outcome_date.isoformat(),
            "enrolment_closed": closed,
            "followups_cancelled": cancelled,
        },
    )
    pregnancy.status, pregnancy.outcome, pregnancy.outcome_date = p.status, outcome, outcome_date
    return p
