"""Demo data of 好孕好运 for the demo county (called by sunshine/demo/builder.py): the county
maternal and child health centre and two town health centres as service institutions, open
slots for the next three weeks, a target per town for this year, and the seed articles.

Everything goes through the real services with the demo county clerk as the actor, so the
demo exercises the same checks a clerk's form does. Registrations, results, assessments and
pregnancies come from the registration, results and follow-up services: `build_cases` is the
hook for them (TODO, filled in by the lead)."""

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

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
    build_cases(rng=rng, county=county, actor=actor, now=now)
    return report


def build_cases(*, rng: random.Random, county: Place, actor, now: dt.datetime) -> None:
    """TODO(lead): demo couples through the other engineers' services — registrations
    (services.registration_create_and_book), attended appointments, results and assessments
    (results/health services), pregnancies (follow-up services, which enrol the pregnancy SMS
    campaign) — so that /staff/precheck/stats/ shows numbers. Do not write those rows directly."""
    return None
