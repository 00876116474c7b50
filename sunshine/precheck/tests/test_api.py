import pytest

from sunshine.messaging.models import Message
from sunshine.precheck.models import Registration
from sunshine.precheck.tests.desk_helpers import couple, institution, register, slot

pytestmark = pytest.mark.django_db
API = "/api/staff/precheck/"


def _payload(world, **over):
    data = couple(world)
    data.pop("place")
    data["place_code"] = world.village.code
    data.update(over)
    return data


class TestRegistrationsApi:
    def test_list_is_scoped_paginated_and_masked(self, client, world):
        own = register(world)
        other = register(world, place=world.other_village)
        client.force_login(world.users["town_clerk"])
        body = client.get(API + "registrations", {"limit": 10}).json()
        numbers = [r["number"] for r in body["items"]]
        assert body["count"] == 1 and numbers == [own.number] and other.number not in numbers
        row = body["items"][0]
        assert row["woman_id_number"] != own.woman_id_number and "*" in row["woman_id_number"]
        assert "*" in row["woman_mobile"]

    def test_one_registration_and_404_outside_scope(self, client, world):
        own = register(world)
        other = register(world, place=world.other_village)
        client.force_login(world.users["village_cadre"])
        assert client.get(f"{API}registrations/{own.pk}").json()["number"] == own.number
        assert client.get(f"{API}registrations/{other.pk}").status_code == 404

    def test_post_registers_and_books(self, client, world):
        s = slot(institution(world))
        client.force_login(world.users["village_cadre"])
        resp = client.post(
            API + "registrations",
            _payload(world, slot_id=s.pk, planned_month="2027-05-01"),
            content_type="application/json",
        )
        assert resp.status_code == 201, resp.content
        body = resp.json()
        assert (
            body["status"] == "booked" and body["appointment"]["institution"] == s.institution.name
        )
        assert body["channel"] == Registration.CADRE
        assert Message.objects.count() == 1

    def test_post_with_bad_data_answers_400_in_chinese(self, client, world):
        client.force_login(world.users["clinic_doctor"])
        resp = client.post(
            API + "registrations",
            _payload(world, consent_data=False, woman_id_number="1"),
            content_type="application/json",
        )
        assert resp.status_code == 400
        fields = {f for f, _ in resp.json()["errors"]}
        assert {"woman_id_number", "consent_data"} <= fields
        assert not Registration.objects.exists()

    def test_roles_without_the_capability_are_refused(self, client, world):
        client.force_login(world.users["observer"])
        assert client.get(API + "registrations").status_code == 403
        client.force_login(world.users["call_operator"])
        assert client.get(API + "registrations").status_code == 200
        resp = client.post(API + "registrations", _payload(world), content_type="application/json")
        assert resp.status_code == 403


class TestSlotsApi:
    def test_open_slots_in_scope(self, client, world):
        own = slot(institution(world))
        slot(institution(world, place=world.other_town))
        full = slot(institution(world, name="县妇幼保健院", place=world.county), capacity=1)
        full.booked = 1
        full.save()
        client.force_login(world.users["village_cadre"])
        body = client.get(API + "slots").json()
        assert [s["id"] for s in body["items"]] == [own.pk]
        assert body["items"][0]["free"] == 2
