"""Demo data of 好孕好运 for the demo county (called by sunshine/demo/builder.py): the county
maternal and child health centre and two town health centres as service institutions, open
slots for the next three weeks, a target per town for this year, and the seed articles; then
a year of couples (`build_cases`: registrations, appointments, results, assessments,
counselling, follow-up calls, pregnancies) and a few 熊猫血友会 volunteers (`build_donors`).

Everything goes through the real services with the demo users as actors (the county clerk for
institutions, slots and targets), so the demo exercises the same checks a clerk's form does."""

import datetime as dt
import random
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

from sunshine.people import demo as people_demo
from sunshine.people import selectors as people_selectors
from sunshine.places import rules as place_rules
from sunshine.places.models import Place
from sunshine.precheck import content, services

BRING = "夫妇双方请空腹，女方避开月经期；携带双方身份证、户口本（或居住证）、结婚证。"
SLOT_WEEKS = 3


@dataclass
class DemoPrecheck:
    institutions: int = 0
    slots: int = 0
    targets: int = 0
    articles: int = 0
    cases: "DemoCases | None" = None
    donors: int = 0


def build(
    *, rng: random.Random, county: Place, actor, now: dt.datetime | None = None
) -> DemoPrecheck:
    """Institutions, slots, targets and articles for one county; `actor` is a county-level
    user with precheck.manage (the demo's county clerk)."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    year = today.year
    report = DemoPrecheck()
    towns = list(Place.objects.filter(parent=county, level=place_rules.TOWN).order_by("path"))
    county_name = county.name.replace("（演示）", "")
    centre = services.institution_save(
        actor=actor,
        name=f"{county_name}妇幼保健计划生育服务中心",
        place=county,
        address=f"{county_name}城区健康路8号（演示地址）",
        phone="0000-80001234",
        hours="周一至周五 8:00–11:30（上午空腹抽血）",
        instructions=BRING,
    )
    chosen = [t for t in towns if t.name.endswith("镇")][:2] or towns[:2]
    clinics = [
        services.institution_save(
            actor=actor,
            name=f"{town.name}卫生院",
            place=town,
            address=f"{town.name}人民路{rng.randint(10, 99)}号（演示地址）",
            phone=f"0000-8100{i + 2:04d}",
            hours="每周二、周四 8:00–10:30",
            instructions=BRING,
        )
        for i, town in enumerate(chosen)
    ]
    report.institutions = 1 + len(clinics)
    start, end = today + dt.timedelta(days=1), today + dt.timedelta(weeks=SLOT_WEEKS)
    slots = services.slot_create_many(
        actor=actor,
        institution=centre,
        start_date=start,
        end_date=end,
        weekdays=[0, 1, 2, 3, 4],
        times=[(dt.time(8, 0), dt.time(9, 30)), (dt.time(9, 30), dt.time(11, 0))],
        capacity=10,
        now=now,
    )
    report.slots += len(slots)
    for clinic in clinics:
        report.slots += len(
            services.slot_create_many(
                actor=actor,
                institution=clinic,
                start_date=start,
                end_date=end,
                weekdays=[1, 3],
                times=[(dt.time(8, 0), dt.time(10, 30))],
                capacity=8,
                now=now,
            )
        )
    for town in towns:
        content.target_set(actor=actor, place=town, year=year, couples=rng.randint(8, 40) * 10)
        report.targets += 1
    report.articles = content.articles_ensure(actor=actor, now=now)
    report.cases = build_cases(
        rng=rng, county=county, actor=actor, now=now, centre=centre, clinics=clinics
    )
    report.donors = build_donors(rng=rng, county=county, actor=actor, now=now)
    return report


# -- demo couples: a year of registrations, checks, results, follow-ups and pregnancies ----------
#
# Every row comes from a service, with the demo users as actors and `now=` set to the moment
# the step happened, so months spread over the past year. The demo's only clinic doctor serves
# one town (the town of the demo's town clerk and village cadre): results, assessments,
# counselling and pregnancies are in that town; in the other towns the county clerk registers
# couples and marks them attended at the county centre or the town's clinic (results there
# await the town's own clinic doctor, whom the demo does not have).
#
# SMS: every booking queues its notice (due at build time), every assessment its result SMS
# (due at the assessment), so `make demo` sends a few hundred at start; pregnancies are
# recorded in the last weeks or have ended, so the campaign adds one or two each.

CASES = 180  # registrations over the past year
CASES_WITHOUT_REGISTRY = 40  # a demo without residents (tests, a bare tree): a small sample
HISTORY_DAYS = 360
RECENT_SHARE = 0.12  # of the registrations, this share is from the last month
TOWN_SHARES = (0.4, 0.15, 0.15, 0.15, 0.15)  # home town, the two clinic towns, two more towns
OPEN_FOLLOWUPS = 6  # early follow-ups left open, due in the last days, for the operator today
OPEN_WINDOW = 30  # days: due within the last month, not called yet
DOCTOR_PREGNANCIES = 6  # pregnancies the doctor records at a prenatal visit (mid-pregnancy)
DONORS = 8
RECENT_CALL_DAYS = 21  # follow-up calls of the last three weeks may find a pregnancy
LOST_PREGNANCIES = 2  # earlier ones: a couple that ended in a miscarriage
HIGH_SHARE, COUNSEL_SHARE = 0.08, 0.3

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = {
    "F": "芳娜敏静丽艳娟秀霞桂英华玉兰萍红梅燕琳晶颖欣怡雨桐婷倩慧",
    "M": "伟强磊军洋勇杰涛明超平刚飞鹏辉建志海鑫宇浩然轩斌彬俊",
}

ADVICE = {
    "normal": "各项检查未见异常。计划怀孕前3个月起每天服用叶酸0.4毫克，戒烟戒酒，规律作息。",
    "counsel": "部分检查结果需要关注，请按约定时间来院接受咨询指导，处理后再计划怀孕。",
    "high": "存在高风险因素，请到县妇幼保健计划生育服务中心进一步检查和治疗，暂缓怀孕。",
}
COUNSEL_TEXT = {
    "blood": "血红蛋白偏低，建议多吃富含铁的食物，遵医嘱补充铁剂，1个月后复查血常规。",
    "thyroid": "促甲状腺激素偏高，建议到内分泌科进一步检查甲状腺功能，控制后再怀孕。",
    "glucose": "空腹血糖偏高，建议控制饮食、适量运动，复查血糖和糖化血红蛋白。",
    "liver": "转氨酶偏高，建议戒酒、避免熬夜，1个月后复查肝功能。",
    "rubella": "风疹抗体阴性，建议接种风疹疫苗，接种后3个月内避免怀孕。",
    "hbv": "乙肝血清学检查异常，建议到感染科评估；孕后按规定做好母婴阻断。",
    "vaginal": "阴道分泌物检查异常，建议规范治疗后复查。",
    "history": "有不良孕产史，建议孕前到妇产科进一步咨询，怀孕后尽早建册。",
    "ultrasound": "妇科超声提示异常，建议到妇科进一步检查。",
    "blood-type": "女方Rh阴性、男方Rh阳性，孕期需定期监测抗体，选择有条件的医院分娩。",
    "syphilis": "梅毒筛查阳性，夫妇双方需到皮肤性病科确诊并规范治疗，治愈后再计划怀孕。",
    "toxoplasma": "弓形体抗体异常，避免接触猫粪和生肉，复查后再决定怀孕时间。",
    "cmv": "巨细胞病毒抗体异常，建议复查，暂缓怀孕。",
}
# (code, subject, value maker, doctor's flag) of one abnormal finding; VALUE items are flagged by
# the rules (flag None), FLAG items by the doctor.
COUNSEL_FINDINGS = [
    ("blood", "F", lambda r: str(r.randint(92, 108)), None),
    ("blood", "F", lambda r: str(r.randint(92, 108)), None),
    ("thyroid", "F", lambda r: f"{r.uniform(4.4, 7.5):.2f}", None),
    ("glucose", "F", lambda r: f"{r.uniform(6.2, 6.9):.1f}", None),
    ("liver", "M", lambda r: str(r.randint(46, 85)), None),
    ("liver", "F", lambda r: str(r.randint(42, 70)), None),
    ("rubella", "F", lambda r: "", True),
    ("rubella", "F", lambda r: "", True),
    ("hbv", "M", lambda r: "", True),
    ("hbv", "F", lambda r: "", True),
    ("vaginal", "F", lambda r: "", True),
    ("history", "F", lambda r: "既往自然流产1次", True),
    ("ultrasound", "F", lambda r: "", True),
    ("blood-type", "F", lambda r: "O型 RhD阴性", None),
]
HIGH_FINDINGS = [
    ("syphilis", "M", lambda r: "", True),
    ("syphilis", "F", lambda r: "", True),
    ("toxoplasma", "F", lambda r: "", True),
    ("cmv", "F", lambda r: "", True),
]
NORMAL_VALUES = {
    "blood": lambda r: str(r.randint(115, 145)),
    "glucose": lambda r: f"{r.uniform(4.2, 5.8):.1f}",
    "liver": lambda r: str(r.randint(8, 36)),
    "kidney": lambda r: str(r.randint(48, 98)),
    "thyroid": lambda r: f"{r.uniform(0.8, 3.6):.2f}",
}
NORMAL_TEXT = {"education": "已完成", "history": "无特殊"}
ABO_WEIGHTS = (("O", 30), ("A", 28), ("B", 30), ("AB", 12))


@dataclass
class DemoCases:
    registrations: int = 0
    booked: int = 0
    attended: int = 0
    missed: int = 0
    results: int = 0
    assessed: int = 0
    counselled: int = 0
    followups_done: int = 0
    pregnancies: int = 0
    followups_open: int = 0


@dataclass
class _Couple:
    place: Place
    woman_name: str
    woman_id: str
    woman_mobile: str
    man_name: str
    man_id: str
    man_mobile: str


class _Clock:
    """Moments of the past year in local time, never after the build's `now`."""

    def __init__(self, rng: random.Random, now: dt.datetime):
        self.rng, self.now = rng, now
        self.today = timezone.localdate(now)
        self.tz = timezone.get_current_timezone()

    def at(self, day: dt.date, first: int = 9, last: int = 16) -> dt.datetime:
        t = dt.datetime.combine(
            day, dt.time(self.rng.randint(first, last), self.rng.randrange(0, 60, 5)), self.tz
        )
        return min(t, self.now - dt.timedelta(minutes=5))


def _users() -> dict:
    from sunshine.accounts.models import User

    names = ("county", "town", "village", "doctor", "operator")
    found = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    return found if len(found) == len(names) else {}


def _id_number(rng: random.Random, region: str, birth: dt.date, sex: str, used: set) -> str:
    from sunshine.core.validators import id_check_char

    while True:
        seq = rng.randint(0, 499) * 2 + (1 if sex == "M" else 0)
        body = f"{region}{birth:%Y%m%d}{seq:03d}"
        number = body + id_check_char(body)
        if number not in used:
            used.add(number)
            return number


def _name(rng: random.Random, sex: str) -> str:
    given = GIVEN[sex]
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))


def _mobile(rng: random.Random) -> str:
    return people_demo.demo_mobile(rng)


def _synthetic(rng: random.Random, place: Place, today: dt.date, used: set) -> _Couple:
    """A couple not (yet) in the people registry — newly married or just moved in. Their ID
    numbers carry the demo's fake 990188 region, so they never match a registry resident."""
    woman_birth = today - dt.timedelta(days=rng.randint(22 * 365, 36 * 365))
    man_birth = woman_birth - dt.timedelta(days=rng.randint(-400, 1500))
    return _Couple(
        place=place,
        woman_name=_name(rng, "F"),
        woman_id=_id_number(rng, "990188", woman_birth, "F", used),
        woman_mobile=_mobile(rng),
        man_name=_name(rng, "M"),
        man_id=_id_number(rng, "990188", man_birth, "M", used),
        man_mobile=_mobile(rng),
    )


def _couples(rng, actor, area: Place, n: int, today: dt.date, used: set) -> list[_Couple]:
    """`n` couples of childbearing age living in `area` (a town or a village): the people
    registry's couples first (read through its scoped selector), then synthetic ones."""
    out: list[_Couple] = []
    young = today.replace(year=today.year - 22, day=1)
    old = today.replace(year=today.year - 38, day=1)
    rows = list(
        people_selectors.couple_list_for_actor(actor)
        .filter(
            place_path__startswith=area.path,
            is_active=True,
            wife__birth_date__gte=old,
            wife__birth_date__lte=young,
        )
        .order_by("id")
    )
    rng.shuffle(rows)
    for c in rows:
        if len(out) >= n:
            break
        if c.wife.id_number in used or c.husband.id_number in used:
            continue
        used.update((c.wife.id_number, c.husband.id_number))
        out.append(
            _Couple(
                c.place,
                c.wife.name,
                c.wife.id_number,
                c.wife.mobile,
                c.husband.name,
                c.husband.id_number,
                c.husband.mobile,
            )
        )
    if len(out) < n:
        villages = list(
            Place.objects.filter(
                path__startswith=area.path, level=place_rules.VILLAGE, is_active=True
            ).order_by("path")
        ) or [area]
        out += [_synthetic(rng, rng.choice(villages), today, used) for _ in range(n - len(out))]
    return out


def _has_couples(actor, county: Place) -> bool:
    return (
        people_selectors.couple_list_for_actor(actor)
        .filter(place_path__startswith=county.path)
        .exists()
    )


class _Slots:
    """The slots of each institution in time order, with the seats the demo has taken."""

    def __init__(self, institutions):
        from sunshine.precheck.models import Slot

        self.by_inst = {i.pk: [] for i in institutions}
        for s in Slot.objects.filter(institution__in=institutions).order_by("starts_at", "pk"):
            self.by_inst[s.institution_id].append(s)
        self.taken: dict[int, int] = {}

    def after(self, institution, when: dt.datetime):
        for s in self.by_inst[institution.pk]:
            if s.starts_at > when and s.booked + self.taken.get(s.pk, 0) < s.capacity:
                self.taken[s.pk] = self.taken.get(s.pk, 0) + 1
                return s
        return None


def _history_slots(*, actor, clock: _Clock, centre, clinics) -> int:
    """The past year's slots, opened through the slot service as the clerk did back then."""
    start = clock.today - dt.timedelta(days=HISTORY_DAYS + 5)
    then = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(12), clock.tz)
    made = 0
    times = [(dt.time(8, 0), dt.time(9, 30)), (dt.time(9, 30), dt.time(11, 0))]
    half = start + (clock.today - start) / 2
    for a, b in ((start, half), (half + dt.timedelta(days=1), clock.today)):
        made += len(
            services.slot_create_many(
                actor=actor,
                institution=centre,
                start_date=a,
                end_date=b,
                weekdays=[0, 1, 2, 3, 4],
                times=times,
                capacity=10,
                now=then,
            )
        )
    for clinic in clinics:
        made += len(
            services.slot_create_many(
                actor=actor,
                institution=clinic,
                start_date=start,
                end_date=clock.today,
                weekdays=[1, 3],
                times=[(dt.time(8, 0), dt.time(10, 30))],
                capacity=8,
                now=then,
            )
        )
    return made


def _entries(rng: random.Random, items, level: str) -> tuple[list[tuple], list[str]]:
    """Result entries for every applicable item and the codes of the abnormal findings."""
    findings = []
    if level == "high":
        findings.append(rng.choice(HIGH_FINDINGS))
        if rng.random() < 0.3:
            findings.append(rng.choice(COUNSEL_FINDINGS))
    elif level == "counsel":
        first = rng.choice(COUNSEL_FINDINGS)
        findings.append(first)
        if rng.random() < 0.2:  # a second finding, of another item (two HBV make it high)
            findings.append(rng.choice([f for f in COUNSEL_FINDINGS if f[0] != first[0]]))
    special = {(code, who): (make(rng), flag) for code, who, make, flag in findings}
    abo = rng.choices([a for a, _ in ABO_WEIGHTS], [w for _, w in ABO_WEIGHTS])
    out = []
    for item in items:
        for who in ("F", "M"):
            if not item.applies(who):
                continue
            if (item.code, who) in special:
                value, flag = special[(item.code, who)]
            elif item.code == "blood-type":
                value, flag = f"{abo[0] if who == 'F' else rng.choice('OABO')}型 RhD阳性", None
            elif item.code in NORMAL_VALUES:
                value, flag = NORMAL_VALUES[item.code](rng), None
            elif item.result_type == item.TEXT:
                value, flag = NORMAL_TEXT.get(item.code, "未见异常"), False
            else:
                value, flag = "", False
            out.append((item, who, value, flag, ""))
    return out, [code for code, _, _, _ in findings]


def build_cases(
    *, rng: random.Random, county: Place, actor, now: dt.datetime, centre, clinics
) -> DemoCases:
    """About CASES couples over the past year through the real services (see above)."""
    from sunshine.precheck import followups, health

    report = DemoCases()
    users = _users()
    if not users or not clinics:
        return report
    rng = random.Random(rng.randrange(2**32))  # the cases' own stream: counts may change freely
    clock = _Clock(rng, now)
    today = clock.today
    doctor, county_clerk = users["doctor"], users["county"]
    home = doctor.place
    if home.level != place_rules.TOWN:
        return report
    _history_slots(actor=actor, clock=clock, centre=centre, clinics=clinics)
    slots = _Slots([centre, *clinics])
    clinic_of = {c.place_path[: place_rules.PREFIX_LEN[place_rules.TOWN]]: c for c in clinics}
    towns = list(
        Place.objects.filter(parent=county, level=place_rules.TOWN, is_active=True).order_by("path")
    )
    rest = [t for t in towns if t.pk != home.pk and t.path not in clinic_of]
    chosen = [home, *[c.place for c in clinics], *rng.sample(rest, min(2, len(rest)))]
    used: set[str] = set()
    cases: list[tuple[Place, _Couple]] = []
    total = CASES if _has_couples(county_clerk, county) else CASES_WITHOUT_REGISTRY
    for town, share in zip(chosen, TOWN_SHARES, strict=False):
        n = max(1, round(total * share))
        if town.pk == home.pk:
            village = users["village"].place
            local = _couples(rng, county_clerk, village, n // 4, today, used)
            cases += [(town, c) for c in local]
            n -= len(local)
        cases += [(town, c) for c in _couples(rng, county_clerk, town, n, today, used)]
    rng.shuffle(cases)
    items = health.result_items()
    doctor_pregnancies: list[tuple] = []
    left = {"open": 0, "lost": LOST_PREGNANCIES}
    due_soon = OPEN_FOLLOWUPS - 2  # home couples registered so that their first call is due now
    for town, couple in cases:
        is_home = town.pk == home.pk
        recent = rng.random() < RECENT_SHARE
        days_ago = rng.randint(1, 30) if recent else rng.randint(20, HISTORY_DAYS - 20)
        if is_home and due_soon > 0:
            due_soon -= 1
            recent, days_ago = False, followups.early_days() + rng.randint(16, 26)
        day = today - dt.timedelta(days=days_ago)
        if day.weekday() >= 5 and rng.random() < 0.7:
            day -= dt.timedelta(days=day.weekday() - 4)  # staff work on weekdays
        # Who registers: the couple online, the village cadre, the town clerk, the clinic.
        pick = rng.random()
        if pick < 0.4:
            channel, registrar = "online", None
        elif is_home and couple.place.path.startswith(users["village"].place.path):
            channel, registrar = "cadre", users["village"]
        elif is_home and pick < 0.7:
            channel, registrar = "cadre", users["town"]
        elif is_home:
            channel, registrar = "clinic", doctor
        else:
            channel, registrar = "clinic", county_clerk
        registered_at = clock.at(day, 8, 21) if registrar is None else clock.at(day, 9, 16)
        inst = clinic_of.get(town.path) if rng.random() < 0.75 else None
        inst = inst or centre
        slot = slots.after(inst, registered_at + dt.timedelta(days=rng.randint(2, 12)))
        if recent and days_ago < 10 and rng.random() < 0.15:
            slot = None  # registered, not booked yet
        consent_sms = not (slot is not None and slot.starts_at > now and rng.random() < 0.08)
        reg = services.registration_create_and_book(
            actor=registrar,
            channel=channel,
            woman_name=couple.woman_name,
            woman_id_number=couple.woman_id,
            woman_mobile=couple.woman_mobile,
            man_name=couple.man_name,
            man_id_number=couple.man_id,
            man_mobile=couple.man_mobile,
            place=couple.place,
            consent_sms=consent_sms,
            consent_data=True,
            planned_month=(day + dt.timedelta(days=rng.randint(60, 240))).replace(day=1),
            slot=slot,
            now=registered_at,
        )
        report.registrations += 1
        if slot is None:
            continue
        report.booked += 1
        attended_slot = _attend(
            rng, clock, slots, report, county_clerk, reg, slot, users["town"] if is_home else None
        )
        if attended_slot is None or not is_home:
            continue
        _health(rng, clock, report, doctor, reg, attended_slot, items)
        _follow(rng, clock, report, users, reg, doctor_pregnancies, left, followups)
    for reg, lmp in doctor_pregnancies:
        followups.pregnancy_record(
            actor=doctor,
            registration=reg,
            lmp=lmp,
            now=clock.at(today - dt.timedelta(days=rng.randint(0, 3))),
        )
        report.pregnancies += 1
    # The follow-ups whose day has come get their operator call task now (the periodic task
    # would do it at start); the earlier ones are all recorded.
    report.followups_open = followups.followups_open_due(now=now)
    return report


def _attend(rng, clock: _Clock, slots: _Slots, report: DemoCases, clerk, reg, slot, closer):
    """The day of the appointment: came (most), or missed and booked again (some)."""
    from sunshine.precheck.models import Appointment

    for attempt in range(2):
        appt = reg.appointments.filter(status__in=Appointment.ACTIVE).order_by("-id").first()
        if slot.starts_at + dt.timedelta(hours=1) > clock.now:
            if rng.random() < 0.5:  # the couple answered the notice: 1 = confirmed
                services.appointment_answer(
                    mobile=reg.woman_mobile or reg.man_mobile,
                    digit="1",
                    now=min(appt.created_at, clock.now),
                )
            return None
        came = attempt == 1 or rng.random() < 0.88
        mark_at = min(slot.ends_at + dt.timedelta(minutes=30), clock.now)
        services.appointment_mark(actor=clerk, appointment=appt, attended=came, now=mark_at)
        if came:
            report.attended += 1
            return slot
        report.missed += 1
        again = mark_at + dt.timedelta(days=rng.randint(2, 10))
        if again > clock.now or rng.random() < 0.25:
            if again + dt.timedelta(days=20) < clock.now and closer is not None:
                services.registration_close(
                    actor=closer,
                    registration=reg,
                    reason="夫妇外出务工，暂不参加检查",
                    now=again + dt.timedelta(days=20),
                )
            return None
        inst = slot.institution
        slot = slots.after(inst, again + dt.timedelta(days=rng.randint(1, 7)))
        if slot is None:
            return None
        services.appointment_book(actor=clerk, registration=reg, slot=slot, now=again)
        reg.refresh_from_db()
    return None


def _health(rng, clock: _Clock, report: DemoCases, doctor, reg, slot, items) -> None:
    """Results a few days after the check, the assessment, counselling for the findings."""
    from sunshine.precheck import results

    checked_on = timezone.localdate(slot.starts_at)
    age = (clock.today - checked_on).days
    if age < 4:
        return  # the doctor's queue: checked, results not entered yet
    r = rng.random()
    level = "high" if r < HIGH_SHARE else "counsel" if r < HIGH_SHARE + COUNSEL_SHARE else "normal"
    entries, findings = _entries(rng, items, level)
    entered = clock.at(checked_on + dt.timedelta(days=rng.randint(1, 3)), 14, 17)
    if age < 9:
        entries = entries[: len(entries) // 2]  # lab results still coming in
    results.results_save_many(actor=doctor, registration=reg, entries=entries, now=entered)
    report.results += 1
    if age < 9:
        return
    assessed_at = clock.at(timezone.localdate(entered) + dt.timedelta(days=rng.randint(1, 4)))
    assessment = results.assessment_make(
        actor=doctor, registration=reg, advice=ADVICE[level], now=assessed_at
    )
    report.assessed += 1
    if assessment.level == "normal" or rng.random() < 0.2:
        return
    advice = "；".join(COUNSEL_TEXT[c] for c in dict.fromkeys(findings) if c in COUNSEL_TEXT)
    results.counselling_add(
        actor=doctor,
        registration=reg,
        advice=advice or ADVICE[assessment.level],
        now=clock.at(timezone.localdate(assessed_at) + dt.timedelta(days=rng.randint(2, 10))),
    )
    report.counselled += 1


def _follow(rng, clock: _Clock, report, users, reg, doctor_pregnancies, left, followups):
    """The early follow-up calls of an assessed couple, as the operator made them: not yet
    pregnant (called again 3 months later), pregnant (the pregnancy campaign), lost."""
    from sunshine.precheck.models import FollowUp

    today = clock.today
    operator, doctor = users["operator"], users["doctor"]
    last_call = None
    for _ in range(6):
        f = followups.followups_of(reg).filter(status=FollowUp.OPEN).first()
        if f is None or f.due_on > today:
            return
        if f.due_on >= today - dt.timedelta(days=OPEN_WINDOW) and left["open"] < OPEN_FOLLOWUPS:
            left["open"] += 1
            return  # today's work for the operator
        assessed = timezone.localdate(reg.assessment.assessed_at)
        if (
            len(doctor_pregnancies) < DOCTOR_PREGNANCIES
            and assessed <= today - dt.timedelta(days=150)
            and rng.random() < 0.35
        ):
            lo = max(
                assessed + dt.timedelta(days=7), last_call or assessed, today - dt.timedelta(240)
            )
            hi = today - dt.timedelta(days=100)
            if lo <= hi:
                doctor_pregnancies.append(
                    (reg, lo + dt.timedelta(days=rng.randint(0, (hi - lo).days)))
                )
                return  # the call was not made; the doctor records the pregnancy at a visit
        called = clock.at(f.due_on + dt.timedelta(days=rng.randint(0, 3)))
        if rng.random() < 0.12:
            followups.followup_record(
                actor=operator, followup=f, reached=False, notes="电话无人接听。", now=called
            )
            called = clock.at(called.date() + dt.timedelta(days=rng.randint(1, 3)))
        age = (today - called.date()).days
        # A pregnancy found at a call of the last weeks joins the campaign (one or two of its
        # messages fall due at start); one found earlier and still going would have a dozen
        # fall due at once, so earlier ones here are the few that ended in a miscarriage (the
        # campaign closes; a live birth keeps it for the postpartum messages).
        pregnant = age <= RECENT_CALL_DAYS and rng.random() < 0.6
        lost = age > 45 and left["lost"] > 0 and rng.random() < 0.08
        lmp = called.date() - dt.timedelta(days=rng.randint(42, 60)) if pregnant or lost else None
        followups.followup_record(
            actor=operator,
            followup=f,
            reached=True,
            pregnant=pregnant or lost,
            lmp=lmp,
            notes="已告知孕期保健短信安排。" if lmp else "已提醒按时服用叶酸。",
            now=called,
        )
        report.followups_done += 1
        last_call = called.date()
        if lmp is None:
            continue
        report.pregnancies += 1
        if lost:
            left["lost"] -= 1
            ended = called.date() + dt.timedelta(days=rng.randint(7, 25))
            followups.pregnancy_end(
                actor=doctor,
                pregnancy=reg.pregnancies.get(status="ongoing"),
                outcome=FollowUp.MISCARRIAGE,
                outcome_date=ended,
                reason="到院就诊时记录",
                now=clock.at(ended + dt.timedelta(days=rng.randint(0, 3))),
            )
        return


def build_donors(*, rng: random.Random, county: Place, actor, now: dt.datetime) -> int:
    """A handful of 熊猫血友会 volunteers (registry service): some joined online, some at the
    county clerk's desk; one has since withdrawn."""
    if not apps.is_installed("sunshine.rhregistry"):
        return 0
    from sunshine.rhregistry import rules as rh_rules
    from sunshine.rhregistry import services as rh_services

    rng = random.Random(rng.randrange(2**32))
    villages = list(
        Place.objects.filter(
            path__startswith=county.path, level=place_rules.VILLAGE, is_active=True
        ).order_by("path")
    )
    if not villages:
        return 0
    clock = _Clock(rng, now)
    used: set[str] = set()
    made = []
    abos = (["O", "A", "B", "O", "AB", "A", "B", "O"] * DONORS)[:DONORS]
    rng.shuffle(abos)
    for i in range(DONORS):
        sex = rng.choice("FM")
        birth = clock.today - dt.timedelta(days=rng.randint(20 * 365, 50 * 365))
        scope = [rh_rules.EMERGENCY] + ([rh_rules.ACTIVITIES] if rng.random() < 0.6 else [])
        made.append(
            rh_services.donor_register(
                actor=actor if i % 2 else None,
                name=_name(rng, sex),
                id_number=_id_number(rng, "990177", birth, sex, used),
                mobile=_mobile(rng),
                abo=abos[i],
                rhd=rh_rules.WEAK if i == 3 else rh_rules.NEG,
                place=rng.choice(villages),
                consent=True,
                consent_scope=scope,
                now=clock.at(clock.today - dt.timedelta(days=rng.randint(5, 330))),
            )
        )
    rh_services.donor_withdraw(
        actor=None, donor=made[-1], reason="本人在网上撤回", now=clock.at(clock.today)
    )
    return len(made)
