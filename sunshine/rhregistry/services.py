"""Every write of the registry: registration, withdrawal, searches and contact requests.

Decisions (documented in the README note of issue 6):
- Consent is explicit and separate: a consent flag that must be True and at least one scope;
  `consent_at`, the scopes and the version of the consent text are stored.
- Withdrawal stops processing (PIPL art. 15/47): the identifying fields (name, ID number,
  mobile, sex, birth date, note) are erased at once; a tombstone (place, blood group,
  consent and withdrawal dates, channel) stays for the audit trail and the withdrawn count.
  Pending contact requests are cancelled.
- A contact SMS is queued only by `contact_confirm`: a requester proposes (pending), a staff
  member with `rh.registry` confirms in a separate, explicit step. The same person may confirm
  their own request (in an emergency one doctor may be on duty); the audit row says so.
  Confirm and send are one state ("sent"): the SMS row itself tracks delivery.
- Registry SMS are queued without a place, so they do not show in the place-scoped SMS desk
  of staff who may not see the registry (the text tells that the mobile is Rh-negative).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from sunshine.core import audit
from sunshine.core import validators as v
from sunshine.core.errors import ServiceError
from sunshine.core.text import clean_text
from sunshine.messaging import rules as sms_rules
from sunshine.messaging import services as sms_services
from sunshine.places import scoping
from sunshine.places.models import Place
from sunshine.rhregistry import rules
from sunshine.rhregistry.models import ContactRequest, Donor, Search

PROGRAMME = "rhregistry"
MAX_RESULTS = 200
REGISTER_LEVELS = ("village", "group", "unit", "residence")


CONSENT_REQUIRED = "请阅读同意书，并勾选“我已阅读并同意”后再提交。登记完全自愿。"
SCOPE_REQUIRED = "请至少选择一项您同意的用途。"


class DuplicateDonor(ServiceError):
    """An active registration with this ID number exists (the public page answers neutrally)."""

    def __init__(self, donor_id: int):
        super().__init__(
            "该身份证号码已登记为熊猫血友会志愿者，不需要重复登记。如需修改信息，请先撤回再重新登记。",
            field="id_number",
        )
        self.donor_id = donor_id


def _sms(*, mobile: str, body: str, source: str, now=None):
    """Registry SMS: essential (a reply to the person's own act or an emergency), no place."""
    return sms_services.message_enqueue(
        programme=PROGRAMME,
        mobile=mobile,
        body=body,
        category=sms_rules.ESSENTIAL,
        source=source,
        now=now,
    )


def _check(value, validator, field: str) -> str:
    try:
        return validator(value)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field=field) from None


@transaction.atomic
def donor_register(
    *,
    actor=None,
    name: str,
    id_number: str,
    mobile: str,
    abo: str,
    place: Place | None,
    consent: bool,
    consent_scope: list[str],
    rhd: str = rules.NEG,
    rh_note: str = "",
    now: dt.datetime | None = None,
) -> Donor:
    """`actor=None`: the volunteer registers themselves on the public page."""
    now = now or timezone.now()
    name = clean_text(name)
    if not name:
        raise ServiceError("请填写姓名。", field="name")
    if len(name) > 50:
        raise ServiceError("姓名太长，请不超过50个字。", field="name")
    id_number = _check(id_number, v.validate_id_number, "id_number")
    mobile = _check(mobile, v.validate_mobile, "mobile")
    if abo not in rules.ABO_VALUES:
        raise ServiceError("请选择ABO血型（A、B、O或AB型）。", field="abo")
    if rhd not in dict(rules.DONOR_RHD_CHOICES):
        raise ServiceError("请选择RhD血型。", field="rhd")
    if place is None or place.level not in REGISTER_LEVELS or not place.is_active:
        raise ServiceError("请选择所在的村（社区）。", field="place")
    if actor is not None and not scoping.path_in_scope(actor, place.path, write=True):
        raise ServiceError("所选地方不在您的管辖范围内。", field="place")
    if consent is not True:
        raise ServiceError(CONSENT_REQUIRED, field="consent")
    scope = [s for s, _ in rules.CONSENT_SCOPE_CHOICES if s in (consent_scope or [])]
    if not scope or len(scope) != len(set(consent_scope)):
        raise ServiceError(SCOPE_REQUIRED, field="consent_scope")
    existing = Donor.objects.select_for_update().filter(id_number=id_number, is_active=True).first()
    if existing is not None:
        raise DuplicateDonor(existing.pk)
    birth = v.id_number_birth_date(id_number)
    donor = Donor(
        name=name,
        id_number=id_number,
        mobile=mobile,
        sex=v.id_number_sex(id_number),
        birth_date=birth,
        abo=abo,
        rhd=rhd,
        rh_note=clean_text(rh_note)[:100],
        place=place,
        place_path=place.path,
        consent_at=now,
        consent_scope=scope,
        consent_text_version=rules.CONSENT_VERSION,
        channel=Donor.ONLINE if actor is None else Donor.STAFF,
        registered_by=actor,
    )
    # The one-active-per-ID constraint is checked above (locked) and by the IntegrityError below.
    donor.full_clean(exclude=["place", "registered_by", "withdrawn_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            donor.save()
    except IntegrityError:  # a concurrent registration of the same ID number
        other = Donor.objects.filter(id_number=id_number, is_active=True).first()
        raise DuplicateDonor(other.pk if other else 0) from None
    audit.record(
        actor=actor,
        action="rhdonor.register",
        obj=donor,
        sensitive=True,
        changes={
            "channel": donor.channel,
            "consent_scope": scope,
            "consent_text_version": rules.CONSENT_VERSION,
            "consent_at": now.isoformat(),
        },
    )
    _sms(mobile=mobile, body=rules.JOIN_SMS, source=f"rhregistry:donor:{donor.pk}:join", now=now)
    return donor


@transaction.atomic
def donor_remind_registered(*, donor_id: int, now: dt.datetime | None = None) -> bool:
    """After a duplicate public registration: tell the registered mobile (at most once a day),
    so the page itself never says whether an ID number is registered."""
    from sunshine.messaging.models import Message

    now = now or timezone.now()
    donor = Donor.objects.filter(pk=donor_id, is_active=True).first()
    if donor is None:
        return False
    source = f"rhregistry:donor:{donor.pk}:already"
    if Message.objects.filter(source=source, created_at__gte=now - dt.timedelta(days=1)).exists():
        return False
    _sms(mobile=donor.mobile, body=rules.ALREADY_SMS, source=source, now=now)
    audit.record(actor=None, action="rhdonor.duplicate_notice", obj=donor)
    return True


ERASED_FIELDS = ["name", "id_number", "mobile", "sex", "birth_date", "rh_note"]


@transaction.atomic
def donor_withdraw(
    *, actor=None, donor: Donor, reason: str = "", now: dt.datetime | None = None
) -> Donor:
    """Withdraw a registration (the volunteer themselves when `actor` is None). An SMS tells the
    registered mobile; then the identifying fields are erased."""
    now = now or timezone.now()
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    if actor is not None and not scoping.path_in_scope(actor, donor.place_path):
        raise ServiceError("这位志愿者不在您的管辖范围内。")
    if not donor.is_active:
        raise ServiceError("这份登记已经撤回了。")
    reason = clean_text(reason)[:200] or ("本人撤回" if actor is None else "工作人员代为撤回")
    cancelled = []
    for req in ContactRequest.objects.select_for_update().filter(
        donor=donor, status=ContactRequest.PENDING
    ):
        req.status = ContactRequest.CANCELLED
        req.cancelled_by = actor
        req.cancelled_at = now
        req.cancel_reason = "志愿者已撤回登记"
        req.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
        cancelled.append(req.pk)
    _sms(
        mobile=donor.mobile,
        body=rules.WITHDRAW_SMS,
        source=f"rhregistry:donor:{donor.pk}:withdraw",
        now=now,
    )
    for field in ERASED_FIELDS:
        setattr(donor, field, None if field == "birth_date" else "")
    donor.is_active = False
    donor.withdrawn_at = now
    donor.withdraw_reason = reason
    donor.withdrawn_by = actor
    donor.save(
        update_fields=[
            *ERASED_FIELDS,
            "is_active",
            "withdrawn_at",
            "withdraw_reason",
            "withdrawn_by",
        ]
    )
    audit.record(
        actor=actor,
        action="rhdonor.withdraw",
        obj=donor,
        reason=reason,
        sensitive=True,
        changes={"erased": ERASED_FIELDS, "cancelled_requests": cancelled},
    )
    return donor


def donor_withdraw_public(*, id_number: str, mobile: str, now: dt.datetime | None = None) -> bool:
    """The public withdrawal page: both the ID number and the mobile must match an active
    registration. The caller answers the same words either way."""
    id_number = _check(id_number, v.validate_id_number, "id_number")
    mobile = _check(mobile, v.validate_mobile, "mobile")
    donor = Donor.objects.filter(id_number=id_number, mobile=mobile, is_active=True).first()
    if donor is None:
        audit.record(actor=None, action="rhdonor.withdraw_unmatched", sensitive=True)
        return False
    donor_withdraw(actor=None, donor=donor, reason="本人在网上撤回", now=now)
    return True


def _phone(value: str) -> str:
    value = clean_text(value).replace(" ", "")
    if not (6 <= len(value) <= 20) or not set(value) <= set("0123456789-"):
        raise ServiceError(
            "联系电话应为手机号或带区号的固定电话（只含数字和“-”）。", field="contact_phone"
        )
    return value


@transaction.atomic
def donor_search(
    *,
    actor,
    patient_abo: str,
    patient_rhd: str,
    place: Place | None,
    hospital: str,
    contact_phone: str,
    patient_ref: str,
    near: Place | None = None,
    reason: str = "",
) -> tuple[Search, list[Donor]]:
    """Compatible active donors within `place` (and the actor's scope) who agreed to be
    contacted in an emergency, nearest to the patient first. The search itself is logged."""
    if patient_abo not in rules.ABO_VALUES:
        raise ServiceError("请选择患者的ABO血型。", field="patient_abo")
    if patient_rhd not in dict(rules.RHD_CHOICES):
        raise ServiceError("请选择患者的RhD血型。", field="patient_rhd")
    if place is None or not scoping.path_in_scope(actor, place.path):
        raise ServiceError("请在您的管辖范围内选择查找范围。", field="place")
    hospital = clean_text(hospital)
    if not hospital:
        raise ServiceError("请填写用血医院。", field="hospital")
    patient_ref = clean_text(patient_ref)
    if not patient_ref:
        raise ServiceError("请填写患者床号或住院号（不要写姓名），以备核查。", field="patient_ref")
    contact_phone = _phone(contact_phone)
    near = near or place
    qs = scoping.scope(Donor.objects.select_related("place__parent"), actor).filter(
        is_active=True,
        place_path__startswith=place.path,
        abo__in=rules.compatible_donor_abo(patient_abo),
        rhd__in=rules.donor_rhd_for(patient_rhd),
    )
    near_paths = list(reversed(near.ancestor_paths()))
    donors = [d for d in qs if rules.EMERGENCY in d.consent_scope]
    donors.sort(key=lambda d: (rules.nearness(d.place_path, near_paths), d.place_path, d.pk))
    donors = donors[:MAX_RESULTS]
    search = Search(
        actor=actor,
        patient_abo=patient_abo,
        patient_rhd=patient_rhd,
        place=place,
        place_path=place.path,
        near=near,
        hospital=hospital[:60],
        contact_phone=contact_phone,
        patient_ref=patient_ref[:60],
        reason=clean_text(reason)[:200],
        result_count=len(donors),
        donor_ids=[d.pk for d in donors],
    )
    search.full_clean(exclude=["actor", "place", "near"])
    search.save()
    audit.record(
        actor=actor,
        action="rhsearch.create",
        obj=search,
        reason=search.reason,
        sensitive=True,
        changes={
            "patient": search.patient_label,
            "place": place.code,
            "count": len(donors),
            "donors": search.donor_ids,
        },
    )
    return search, donors


@transaction.atomic
def contact_request(*, actor, search: Search, donor_ids: list[int]) -> list[ContactRequest]:
    """Propose contacting some of a search's donors: pending requests, no SMS yet."""
    if not scoping.path_in_scope(actor, search.place_path):
        raise ServiceError("这次查询不在您的管辖范围内。")
    wanted = {int(i) for i in donor_ids or [] if str(i).isdigit()}
    if not wanted:
        raise ServiceError("请至少勾选一位志愿者。", field="donors")
    allowed = wanted & set(search.donor_ids)
    if allowed != wanted:
        raise ServiceError("只能申请联系本次查询结果中的志愿者。", field="donors")
    donors = list(scoping.scope(Donor.objects.all(), actor).filter(pk__in=allowed, is_active=True))
    if not donors:
        raise ServiceError("所选志愿者已撤回登记，无法联系。", field="donors")
    made = []
    for donor in donors:
        req, created = ContactRequest.objects.get_or_create(
            search=search,
            donor=donor,
            defaults={"requested_by": actor, "place_path": donor.place_path},
        )
        if created:
            made.append(req)
    audit.record(
        actor=actor,
        action="rhrequest.create",
        obj=search,
        sensitive=True,
        changes={"donors": [r.donor_id for r in made], "requests": [r.pk for r in made]},
    )
    return made


def _lock(request: ContactRequest, actor) -> ContactRequest:
    req = (
        ContactRequest.objects.select_for_update()
        .select_related("donor", "search")
        .get(pk=request.pk)
    )
    if not scoping.path_in_scope(actor, req.place_path):
        raise ServiceError("这条联系申请不在您的管辖范围内。")
    if req.status == ContactRequest.SENT:
        raise ServiceError("这条联系申请已经确认并发送了短信，不会重复发送。")
    if req.status == ContactRequest.CANCELLED:
        raise ServiceError("这条联系申请已经取消了。")
    return req


@transaction.atomic
def contact_confirm(
    *, actor, request: ContactRequest, now: dt.datetime | None = None
) -> ContactRequest:
    """The explicit confirmation: queue the one contact SMS (no patient identity)."""
    now = now or timezone.now()
    req = _lock(request, actor)
    donor = req.donor  # locked with the request by `_lock`
    if not donor.is_active:
        raise ServiceError("这位志愿者已撤回登记，不能联系。")
    if rules.EMERGENCY not in donor.consent_scope:
        raise ServiceError("这位志愿者没有同意紧急用血时接受联系。")
    s = req.search
    message = _sms(
        mobile=donor.mobile,
        body=rules.contact_sms(
            hospital=s.hospital,
            patient_abo=s.patient_abo,
            patient_rhd=s.patient_rhd,
            phone=s.contact_phone,
        ),
        source=f"rhregistry:request:{req.pk}",
        now=now,
    )
    req.status = ContactRequest.SENT
    req.confirmed_by = actor
    req.confirmed_at = now
    req.message = message
    req.save(update_fields=["status", "confirmed_by", "confirmed_at", "message"])
    donor.last_contacted_at = now
    donor.save(update_fields=["last_contacted_at"])
    audit.record(
        actor=actor,
        action="rhrequest.confirm",
        obj=req,
        sensitive=True,
        changes={
            "donor": donor.pk,
            "search": s.pk,
            "message": message.pk,
            "self_confirmed": req.requested_by_id == getattr(actor, "pk", None),
        },
    )
    return req


@transaction.atomic
def contact_cancel(*, actor, request: ContactRequest, reason: str = "") -> ContactRequest:
    req = _lock(request, actor)
    req.status = ContactRequest.CANCELLED
    req.cancelled_by = actor
    req.cancelled_at = timezone.now()
    req.cancel_reason = clean_text(reason)[:200] or "工作人员取消"
    req.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
    audit.record(actor=actor, action="rhrequest.cancel", obj=req, reason=req.cancel_reason)
    return req
