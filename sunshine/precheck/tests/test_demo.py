"""The demo's 好孕好运 cases (sunshine/precheck/demo.py): built through the services, the same
for the same seed, and enough for the statistics page to show numbers."""

from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from sunshine.demo import builder
from sunshine.messaging.models import CallTask
from sunshine.places.models import Place
from sunshine.precheck import demo
from sunshine.precheck.models import (
    Appointment,
    Assessment,
    Counselling,
    FollowUp,
    Pregnancy,
    Registration,
    Result,
)
from sunshine.rhregistry.models import Donor

pytestmark = pytest.mark.django_db

VILLAGES = 40  # two a town: a small tree of the demo's shape


def _small_demo():
    return builder.build(seed=1, villages=VILLAGES, content=False)


def _signature() -> dict:
    regs = Registration.objects.order_by("number")
    return {
        "registrations": [
            (r.number, r.woman_name, r.man_name, r.place_path, r.channel, r.status) for r in regs
        ],
        "appointments": sorted(
            Appointment.objects.values_list(
                "registration__number", "slot__starts_at", "status"
            ).order_by()
        ),
        "levels": sorted(
            Assessment.objects.values_list("registration__number", "level").order_by()
        ),
        "results": Result.objects.count(),
        "pregnancies": sorted(
            Pregnancy.objects.values_list("registration__number", "lmp", "status").order_by()
        ),
        "followups": Counter(FollowUp.objects.values_list("kind", "status")),
        "donors": sorted(Donor.objects.values_list("abo", "rhd", "place_path", "is_active")),
    }


def test_the_demo_has_a_year_of_cases_through_every_step():
    _small_demo()
    regs = Registration.objects.all()
    assert regs.count() > 20
    assert {r.channel for r in regs} == {"online", "cadre", "clinic"}
    assert len({r.place_path[:9] for r in regs}) >= 4  # several towns
    attended = Appointment.objects.filter(status=Appointment.ATTENDED).select_related("slot")
    months = {timezone.localtime(a.slot.starts_at).strftime("%Y-%m") for a in attended}
    assert len(months) >= 6  # spread over the past year
    assert Assessment.objects.exists() and Result.objects.exists()
    assert Counselling.objects.exists() or not Assessment.objects.exclude(level="normal")
    # Follow-ups: recorded by the operator, a few due today as call tasks, later ones waiting.
    assert FollowUp.objects.filter(status=FollowUp.DONE).exists()
    due = FollowUp.objects.filter(status=FollowUp.OPEN, due_on__lte=timezone.localdate())
    assert due.count() <= demo.OPEN_FOLLOWUPS
    assert all(f.call_task_id for f in due)
    assert FollowUp.objects.filter(status=FollowUp.OPEN).exists()
    assert CallTask.objects.filter(status=CallTask.OPEN).exists()
    assert Pregnancy.objects.exists()
    assert Donor.objects.filter(is_active=True).count() >= 5
    # Only doctors enter results: the demo's doctor serves one town.
    doctor_town = Place.objects.filter(level="town").order_by("path").first()
    assert {a.place_path[:9] for a in Assessment.objects.all()} == {doctor_town.path}


def test_the_same_seed_builds_the_same_cases():
    signatures = []
    for _ in range(2):
        with transaction.atomic():
            _small_demo()
            signatures.append(_signature())
            transaction.set_rollback(True)
    assert signatures[0]["registrations"]
    assert signatures[0] == signatures[1]


def test_the_statistics_page_of_the_demo_shows_numbers(client):
    _small_demo()
    latest = (
        Appointment.objects.filter(status=Appointment.ATTENDED)
        .select_related("slot")
        .latest("slot__starts_at")
    )
    year = timezone.localtime(latest.slot.starts_at).year
    client.post("/staff/login/", {"username": "county", "password": builder.DEMO_PASSWORD})
    response = client.get(f"/staff/precheck/stats/?year={year}")
    assert response.status_code == 200
    total = response.context["data"].total
    assert total.checked > 0 and total.assessed > 0 and total.target
    assert sum(total.months) >= total.checked
    assert f'<div class="n num">{total.checked}</div>' in response.content.decode()


def test_demo_couples_mobiles_pass_the_mobile_check():
    # A number in an unassigned segment (154, 174, 179) would be refused by the registration.
    import random

    from sunshine.core.validators import validate_mobile

    rng = random.Random(11)
    for _ in range(2000):
        number = demo._mobile(rng)
        assert validate_mobile(number) == number
