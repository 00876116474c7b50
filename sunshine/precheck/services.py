"""Every write of 好孕好运's registration and appointment desk (issue 6, items 1 and 3):
registering a couple, institutions and their slots, booking (and rebooking) with the 检查通知
SMS, the couple's 1/2 answers, and the clinic marking who came.

Decisions (see the README / issue note):
- A couple registers at a village (村/社区) or one of its groups: that is the place every
  later record is scoped by, so a village cadre sees the couples of the village.
- An institution serves its town (institution anywhere under a town) or the whole county (an
  institution placed at county level): `institution_serves`.
- The data-use consent is required (PIPL: health data is sensitive; separate consent for the
  check's purpose); the SMS consent is optional — without it, or without a mobile, the notice
  becomes a call task for an operator.
- The notice SMS is written to the outbox inside the booking's transaction (transactional
  outbox): it exists if and only if the booking committed; the engine sends it on commit.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from sunshine.accounts import roles
from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.core.text import clean_text
from sunshine.core.validators import id_number_sex, validate_id_number, validate_mobile
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.precheck import sms
from sunshine.precheck.models import Appointment, Institution, Registration, Slot

CONSENT_VERSION = "precheck-consent-v1"
CONSENT_DATA_TEXT = (
    "我们夫妇同意县卫生健康部门及检查服务机构，为开展免费孕前优生健康检查、风险评估、"
    "咨询指导和孕期随访，收集和使用我们的身份信息和检查结果等健康信息。这些信息只用于本项目，"
    "只有经授权的医生可以查看检查结果，每次查看都有记录；我们可以随时要求查询或更正。"
)
CONSENT_SMS_TEXT = (
    "我们同意接收检查预约通知、结果告知和孕期保健提醒短信（短信不含检查结果的具体内容；"
    "回复TD可退订一般提醒）。"
)
DEFAULT_BRING = "请空腹，携带夫妇双方身份证。"
REGISTER_LEVELS = (place_rules.VILLAGE, place_rules.GROUP)
WEEKDAYS = "一二三四五六日"
OPEN_STATUSES = (
    Registration.REGISTERED,
    Registration.BOOKED,
    Registration.CHECKED,
    Registration.ASSESSED,
    Registration.PREGNANT,
)
BOOKABLE_STATUSES = (Registration.REGISTERED, Registration.BOOKED)


class DuplicateRegistration(ServiceError):
    """The woman already has an open registration; `existing` is it (views decide how much of
    it to show: the public form shows the number only to the same couple)."""

    def __init__(self, existing: Registration):
        super().__init__(
            f"女方已有未结束的孕前优生登记（编号{existing.number}），不能重复登记；"
            "如需改约时间，请用原登记编号查询改约。",
            field="woman_id_number",
        )
        self.existing = existing


# -- small pure helpers ------------------------------------------------------------------


def institution_area(institution_path: str) -> str:
    """The place prefix an institution serves: its town, or the county for a county-level one."""
    town_len = place_rules.PREFIX_LEN[place_rules.TOWN]
    return institution_path[:town_len] if len(institution_path) >= town_len else institution_path


def institution_serves(institution_path: str, place_path: str) -> bool:
    return place_path.startswith(institution_area(institution_path))


def slot_time_text(when: dt.datetime) -> str:
    """ "12月3日（周四）上午8:30" in local time, as the notice SMS says it."""
    local = timezone.localtime(when)
    h = local.hour
    part = "上午" if h < 12 else "中午" if h < 13 else "下午" if h < 18 else "晚上"
    h12 = h if h <= 12 else h - 12
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{part}{h12}:{local:%M}"


def staff_channel(actor) -> str:
    """The channel of a registration made by staff: the clinic's own, or a cadre's."""
    return Registration.CLINIC if actor.role == roles.CLINIC_DOCTOR else Registration.CADRE


def _is_user(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _require_write(actor, path: str, capability: str) -> None:
    if not _is_user(actor) or not actor.can(capability):
        raise ServiceError("您的角色不能办理这项业务。")
    if not scoping.path_in_scope(actor, path, write=True):
        raise ServiceError("这条记录不在您的管辖范围内。")


def _clean(value: str | None) -> str:
    """Names, addresses and short notes, without invisible characters (core.text)."""
    return clean_text(value)


# -- registration --------------------------------------------------------------------------


def _validate_couple(data: dict, *, today: dt.date) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for who, label, sex in (("woman", "女方", "F"), ("man", "男方", "M")):
        name = data[f"{who}_name"]
        if not name:
            errors.append((f"{who}_name", f"请填写{label}姓名。"))
        elif len(name) > 50:
            errors.append((f"{who}_name", f"{label}姓名太长（最多50个字）。"))
        try:
            data[f"{who}_id_number"] = validate_id_number(data[f"{who}_id_number"], today=today)
        except ValidationError as exc:
            errors.append((f"{who}_id_number", f"{label}{exc.messages[0]}"))
        else:
            if id_number_sex(data[f"{who}_id_number"]) != sex:
                other = "男性" if sex == "F" else "女性"
                errors.append(
                    (
                        f"{who}_id_number",
                        f"{label}身份证号码是{other}的号码（第17位），请核对是否填反了男女双方。",
                    )
                )
        if data[f"{who}_mobile"]:
            try:
                data[f"{who}_mobile"] = validate_mobile(data[f"{who}_mobile"])
            except ValidationError as exc:
                errors.append((f"{who}_mobile", f"{label}{exc.messages[0]}"))
    if data["woman_id_number"] and data["woman_id_number"] == data["man_id_number"]:
        errors.append(("man_id_number", "男女双方的身份证号码不能相同。"))
    return errors


def _next_number(today: dt.date) -> str:
    prefix = f"HY{today:%Y%m%d}"
    last = (
        Registration.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{seq:04d}"


def _lock_woman(id_number: str) -> None:
    """Serialise registrations of one woman (two submits at once must not make two). PostgreSQL:
    a transaction-scoped advisory lock; SQLite has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"precheck:{id_number}"])


def _resident_by_id(id_number: str):
    from sunshine.people.models import Resident

    return Resident.objects.filter(id_number=id_number).order_by("-updated_at", "-id").first()


@transaction.atomic
def registration_create(
    *,
    actor,
    channel: str,
    woman_name: str,
    woman_id_number: str,
    woman_mobile: str,
    man_name: str,
    man_id_number: str,
    man_mobile: str,
    place,
    consent_sms: bool,
    consent_data: bool,
    planned_month: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Registration:
    """Register a couple. Online: no actor. Cadre / clinic: the actor registers in their own
    place (write scope) and needs `precheck.register`."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    data = {
        "woman_name": _clean(woman_name),
        "woman_id_number": _clean(woman_id_number).upper(),
        "woman_mobile": _clean(woman_mobile),
        "man_name": _clean(man_name),
        "man_id_number": _clean(man_id_number).upper(),
        "man_mobile": _clean(man_mobile),
    }
    if channel not in dict(Registration.CHANNEL_CHOICES):
        raise ServiceError("登记渠道不对。")
    errors = _validate_couple(data, today=today)
    if place is None:
        errors.append(("place", "请选择现居住的村（社区）。"))
    elif place.level not in REGISTER_LEVELS or not place.is_active:
        errors.append(("place", "请选择村（社区）一级的现居住地。"))
    if not consent_data:
        errors.append(
            ("consent_data", "需要夫妇同意按检查用途使用个人健康信息，才能登记免费孕前检查。")
        )
    if errors:
        raise ServiceError(errors[0][1], field=errors[0][0], errors=errors)
    if channel != Registration.ONLINE:
        _require_write(actor, place.path, "precheck.register")
    _lock_woman(data["woman_id_number"])
    existing = (
        Registration.objects.filter(
            woman_id_number=data["woman_id_number"], status__in=OPEN_STATUSES
        )
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        raise DuplicateRegistration(existing)
    reg = Registration(
        **data,
        woman=_resident_by_id(data["woman_id_number"]),
        man=_resident_by_id(data["man_id_number"]),
        place=place,
        place_path=place.path,
        channel=channel,
        consent_sms=bool(consent_sms),
        consent_data=True,
        consent_at=now,
        consent_text=CONSENT_VERSION,
        planned_month=planned_month.replace(day=1) if planned_month else None,
        created_by=actor if _is_user(actor) else None,
        created_at=now,
    )
    for _ in range(20):
        reg.number = _next_number(today)
        try:
            with transaction.atomic():
                reg.full_clean(exclude=["woman", "man", "created_by"])
                reg.save()
            break
        except IntegrityError:
            reg.pk = None  # the number was taken meanwhile: take the next one
        except ValidationError as exc:
            if "number" in exc.message_dict:
                reg.pk = None
                continue
            raise ServiceError(
                "；".join(m for ms in exc.message_dict.values() for m in ms)
            ) from None
    else:
        raise ServiceError("登记编号生成失败，请稍后再试。")
    audit.record(
        actor=actor,
        action="precheck_registration.create",
        obj=reg,
        changes={"channel": channel, "consent_sms": reg.consent_sms, "consent": CONSENT_VERSION},
    )
    return reg


@transaction.atomic
def registration_close(
    *, actor, registration: Registration, reason: str, now: dt.datetime | None = None
) -> Registration:
    """End a registration (moved away, gave up, a duplicate …); an active appointment is
    cancelled and its seat freed."""
    now = now or timezone.now()
    reason = _clean(reason)
    _require_write(actor, registration.place_path, "precheck.register")
    if not reason:
        raise ServiceError("请填写结束原因。", field="reason")
    reg = Registration.objects.select_for_update().get(pk=registration.pk)
    if reg.status == Registration.CLOSED:
        return reg
    for appt in Appointment.objects.filter(registration=reg, status__in=Appointment.ACTIVE):
        _cancel(appt, note="登记结束")
    before = reg.status
    reg.status, reg.closed_at, reg.close_reason = Registration.CLOSED, now, reason[:200]
    reg.save(update_fields=["status", "closed_at", "close_reason", "updated_at"])
    audit.record(
        actor=actor,
        action="precheck_registration.close",
        obj=reg,
        reason=reason,
        changes={"status": [before, reg.status]},
    )
    return reg


# -- institutions and slots ---------------------------------------------------------------


@transaction.atomic
def institution_save(
    *,
    actor,
    institution: Institution | None = None,
    name: str,
    place,
    address: str,
    phone: str = "",
    hours: str = "",
    instructions: str = "",
    is_active: bool = True,
) -> Institution:
    if institution is not None:
        _require_write(actor, institution.place_path, "precheck.manage")
    if place is None:
        raise ServiceError("请选择机构所在地。", field="place")
    _require_write(actor, place.path, "precheck.manage")
    name, address = _clean(name), _clean(address)
    if not name:
        raise ServiceError("请填写机构名称。", field="name")
    if not address:
        raise ServiceError("请填写地址，短信通知里要告诉群众去哪里。", field="address")
    fields = ["name", "place", "address", "phone", "hours", "instructions", "is_active"]
    inst = institution or Institution()
    before = audit.snapshot(inst, fields) if institution is not None else {}
    inst.name, inst.place, inst.place_path = name, place, place.path
    inst.address, inst.phone, inst.hours = address, _clean(phone), _clean(hours)
    inst.instructions, inst.is_active = _clean(instructions), bool(is_active)
    try:
        inst.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ServiceError(messages[0], field=field) from None
    inst.save()
    audit.record(
        actor=actor,
        action="precheck_institution.create"
        if institution is None
        else "precheck_institution.edit",
        obj=inst,
        changes=audit.diff(inst, fields, before) if institution is not None else {},
    )
    return inst


MAX_SLOTS_AT_ONCE = 500


@transaction.atomic
def slot_create_many(
    *,
    actor,
    institution: Institution,
    start_date: dt.date,
    end_date: dt.date,
    weekdays: list[int],
    times: list[tuple[dt.time, dt.time]],
    capacity: int,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """Open slots in bulk: every chosen weekday (0 = Monday) from start to end date, at each of
    the given (start, end) times. A time already open at the institution is skipped."""
    now = now or timezone.now()
    _require_write(actor, institution.place_path, "precheck.manage")
    if not institution.is_active:
        raise ServiceError("机构已停用，不能开放预约时段。")
    if end_date < start_date:
        raise ServiceError("结束日期不能早于开始日期。", field="end_date")
    if (end_date - start_date).days > 366:
        raise ServiceError("一次最多开放一年的时段。", field="end_date")
    if not weekdays:
        raise ServiceError("请至少选择一个星期几。", field="weekdays")
    if not times:
        raise ServiceError("请至少填写一个时段。", field="times")
    if capacity < 1 or capacity > 500:
        raise ServiceError("每个时段可约对数应在1到500之间。", field="capacity")
    for start, end in times:
        if end <= start:
            raise ServiceError(f"时段{start:%H:%M}的结束时间应晚于开始时间。", field="times")
    wanted = []
    day = start_date
    tz = timezone.get_current_timezone()
    while day <= end_date:
        if day.weekday() in weekdays:
            for start, end in times:
                starts_at = dt.datetime.combine(day, start, tzinfo=tz)
                if starts_at > now:
                    wanted.append((starts_at, dt.datetime.combine(day, end, tzinfo=tz)))
        day += dt.timedelta(days=1)
    if not wanted:
        raise ServiceError("所选日期内没有将来的时段，请检查日期和星期。", field="start_date")
    if len(wanted) > MAX_SLOTS_AT_ONCE:
        raise ServiceError(f"一次最多开放{MAX_SLOTS_AT_ONCE}个时段，请缩短日期范围。")
    taken = set(
        Slot.objects.filter(
            institution=institution, starts_at__in=[s for s, _ in wanted]
        ).values_list("starts_at", flat=True)
    )
    slots = [
        Slot(
            institution=institution,
            place_path=institution.place_path,
            starts_at=s,
            ends_at=e,
            capacity=capacity,
        )
        for s, e in wanted
        if s not in taken
    ]
    Slot.objects.bulk_create(slots)
    audit.record(
        actor=actor,
        action="precheck_slot.open_many",
        obj=institution,
        changes={"count": len(slots), "skipped": len(wanted) - len(slots), "capacity": capacity},
    )
    return slots


@transaction.atomic
def slot_close(*, actor, slot: Slot) -> Slot:
    """Stop taking bookings at a slot; appointments already made stand."""
    _require_write(actor, slot.place_path, "precheck.manage")
    locked = Slot.objects.select_for_update().get(pk=slot.pk)
    if locked.is_open:
        locked.is_open = False
        locked.save(update_fields=["is_open"])
        audit.record(actor=actor, action="precheck_slot.close", obj=locked)
    return locked


# -- appointments ---------------------------------------------------------------------------


def _free_seat(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, booked__gt=0).update(booked=F("booked") - 1)


def _cancel(appt: Appointment, *, note: str) -> None:
    appt.status, appt.note = Appointment.CANCELLED, note[:200]
    appt.save(update_fields=["status", "note"])
    _free_seat(appt.slot_id)


def notice_text_params(registration: Registration, slot: Slot) -> dict:
    inst = slot.institution
    place = f"{inst.name}（{inst.address}）" if inst.address else inst.name
    return {
        "name": registration.woman_name,
        "time": slot_time_text(slot.starts_at),
        "place": place[:60],
        "bring": (_clean(inst.instructions) or DEFAULT_BRING)[:80],
    }


def _notify(registration: Registration, slot: Slot) -> None:
    """The 检查通知: an SMS to the woman (the man when only he has a mobile) when they agreed to
    SMS; otherwise a call task for an operator with the same words."""
    template = sms.template(sms.NOTICE)
    params = notice_text_params(registration, slot)
    mobile = registration.woman_mobile or registration.man_mobile
    resident = registration.woman if registration.woman_mobile else registration.man
    resident = resident or registration.woman
    from sunshine.messaging import rules as sms_rules
    from sunshine.messaging import services as sms_services

    if mobile and registration.consent_sms:
        sms_services.message_enqueue(
            programme=sms.PROGRAMME,
            template=template,
            params=params,
            mobile=mobile,
            resident=resident,
            place=registration.place,
            source=f"precheck-registration:{registration.pk}",
        )
        return
    sms_services.calltask_create(
        actor=None,
        reason="孕前检查预约通知：" + ("未同意接收短信" if mobile else "没有手机号码"),
        script=sms_rules.render(template.body, params),
        resident=resident,
        mobile=mobile,
        place_path=registration.place_path,
    )


@transaction.atomic
def appointment_book(
    *, actor, registration: Registration, slot: Slot, now: dt.datetime | None = None
) -> Appointment:
    """Book (or rebook) a couple at a slot. The slot row is locked, so the last seat goes to one
    couple only; an active appointment of the couple is cancelled and its seat freed."""
    now = now or timezone.now()
    if _is_user(actor):
        _require_write(actor, registration.place_path, "precheck.register")
    reg = Registration.objects.select_for_update().get(pk=registration.pk)
    if reg.status not in BOOKABLE_STATUSES:
        raise ServiceError(f"这对夫妇的登记{reg.get_status_display()}，不能再预约。")
    current = (
        Appointment.objects.select_for_update()
        .filter(registration=reg, status__in=Appointment.ACTIVE)
        .order_by("-created_at", "-id")
        .first()
    )
    # Lock the slots in id order: two rebookings crossing each other cannot deadlock.
    ids = sorted({slot.pk} | ({current.slot_id} if current else set()))
    locked = {
        s.pk: s
        for s in Slot.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        # select_related after the lock query would join institution into FOR UPDATE; load it
        # separately instead.
    }
    target = locked.get(slot.pk)
    if target is None:
        raise ServiceError("没有这个时段。", field="slot")
    target.institution = Institution.objects.get(pk=target.institution_id)
    if current is not None and current.slot_id == target.pk:
        return current  # the same time again: nothing to change, no second SMS
    if not target.is_open or not target.institution.is_active:
        raise ServiceError("这个时段已停止预约，请选择其他时段。", field="slot")
    if target.starts_at <= now:
        raise ServiceError("这个时段已经过去，请选择其他时段。", field="slot")
    if target.booked >= target.capacity:
        raise ServiceError("这个时段已约满，请选择其他时段。", field="slot")
    if not institution_serves(target.place_path, reg.place_path):
        raise ServiceError("这个机构不为您所在的地方提供检查，请选择其他机构的时段。", field="slot")
    if current is not None:
        _cancel(current, note="改约到其他时段")
    target.booked += 1
    target.save(update_fields=["booked"])
    appt = Appointment(
        registration=reg,
        slot=target,
        place_path=reg.place_path,
        created_by=actor if _is_user(actor) else None,
    )
    appt.save()
    if reg.status != Registration.BOOKED:
        reg.status = Registration.BOOKED
        reg.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="precheck_appointment.rebook" if current else "precheck_appointment.book",
        obj=appt,
        changes={"slot": [current.slot_id if current else None, target.pk]},
    )
    _notify(reg, target)
    return appt


@transaction.atomic
def appointment_cancel(
    *, actor, appointment: Appointment, reason: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Cancel an active appointment (the couple online, or staff); the seat is freed and the
    registration goes back to 已登记 so it can be booked again."""
    if _is_user(actor):
        _require_write(actor, appointment.place_path, "precheck.register")
    appt = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appt.status == Appointment.CANCELLED:
        return appt
    if appt.status not in Appointment.ACTIVE:
        raise ServiceError(f"预约{appt.get_status_display()}，不能取消。")
    _cancel(
        appt, note=_clean(reason) or ("群众自行取消" if not _is_user(actor) else "工作人员取消")
    )
    Registration.objects.filter(pk=appt.registration_id, status=Registration.BOOKED).update(
        status=Registration.REGISTERED, updated_at=now or timezone.now()
    )
    audit.record(actor=actor, action="precheck_appointment.cancel", obj=appt, reason=appt.note)
    return appt


@transaction.atomic
def appointment_mark(
    *, actor, appointment: Appointment, attended: bool, now: dt.datetime | None = None
) -> Appointment:
    """The institution records who came (已到检) and who did not (未到检). Attended moves the
    registration to 已检查 (results are entered next); missed puts it back to 已登记 for a new
    booking. A missed mark may be corrected to attended (late arrival); attended is final."""
    now = now or timezone.now()
    _require_write(actor, appointment.slot.place_path, "precheck.manage")
    appt = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("slot")
        .get(pk=appointment.pk)
    )
    new = Appointment.ATTENDED if attended else Appointment.MISSED
    if appt.status == new:
        return appt
    if appt.status not in (*Appointment.ACTIVE, Appointment.MISSED) or (
        appt.status == Appointment.MISSED and not attended
    ):
        raise ServiceError(f"预约{appt.get_status_display()}，不能再登记到检情况。")
    if timezone.localdate(now) < timezone.localdate(appt.slot.starts_at):
        raise ServiceError("还没到预约日期，不能登记到检情况。")
    before = appt.status
    appt.status = new
    appt.save(update_fields=["status"])
    reg = Registration.objects.select_for_update().get(pk=appt.registration_id)
    if attended and reg.status in BOOKABLE_STATUSES:
        reg.status = Registration.CHECKED
        reg.save(update_fields=["status", "updated_at"])
    elif not attended and reg.status == Registration.BOOKED:
        reg.status = Registration.REGISTERED
        reg.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor, action="precheck_appointment.mark", obj=appt, changes={"status": [before, new]}
    )
    return appt


# -- the couple's SMS answers ---------------------------------------------------------------

ANSWERS = {"1": Appointment.CONFIRMED, "2": Appointment.CHANGE_REQUESTED}
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@transaction.atomic
def appointment_answer(*, mobile: str, digit: str, now: dt.datetime | None = None):
    """Reply 1 (confirm) or 2 (another time, please) to the notice: applied to the latest active,
    not yet past appointment of a couple with this mobile. Returns the appointment, or None when
    the reply is not for us. Answering the same twice changes nothing."""
    now = now or timezone.now()
    digit = (digit or "").strip().translate(FULL_WIDTH_DIGITS)
    status = ANSWERS.get(digit)
    if status is None or not mobile:
        return None
    start_of_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    appt = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(status__in=Appointment.ACTIVE, slot__starts_at__gte=start_of_today)
        .filter(Q(registration__woman_mobile=mobile) | Q(registration__man_mobile=mobile))
        .order_by("-created_at", "-id")
        .first()
    )
    if appt is None:
        return None
    if appt.status != status:
        before = appt.status
        appt.status, appt.answered_at = status, now
        appt.save(update_fields=["status", "answered_at"])
        audit.record(
            actor=None,
            action="precheck_appointment.answer",
            obj=appt,
            changes={"status": [before, status]},
        )
    return appt


@transaction.atomic
def registration_create_and_book(
    *, actor, slot: Slot | None = None, now: dt.datetime | None = None, **fields
) -> Registration:
    """Register and, when a slot is chosen, book it — all or nothing (the public form: a full
    slot leaves no registration behind, so the couple simply chooses again)."""
    reg = registration_create(actor=actor, now=now, **fields)
    if slot is not None:
        appointment_book(actor=actor, registration=reg, slot=slot, now=now)
        reg.refresh_from_db()
    return reg
