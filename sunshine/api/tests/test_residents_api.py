"""/api/staff/residents: full identifiers only for roles allowed them, each hand-out audited;
masked for the county admin; Chinese errors. Route scoping lives in tests/test_scope_matrix.py."""

import json
import re

import pytest

from sunshine.core.masking import mask_id_number, mask_mobile
from sunshine.core.models import AuditEntry
from sunshine.core.validators import id_check_char
from sunshine.people.models import Resident

pytestmark = pytest.mark.django_db
LIST = "/api/staff/residents"
FULL_ID = re.compile(r"\d{17}[\dX]")


def idn(body17: str) -> str:
    return body17 + id_check_char(body17)


NEW_ID = idn("98010119800101011")


def one(resident) -> str:
    return f"{LIST}/{resident.pk}"


def payload(**over) -> str:
    base = {
        "name": "接口登记",
        "sex": "男",
        "id_number": NEW_ID,
        "place_code": "980101100001001",
        "mobile": "13700001111",
        "household_number": "A1",
    }
    return json.dumps({**base, **over})


def post(client, **over):
    return client.post(LIST, payload(**over), content_type="application/json")


@pytest.fixture
def clerk_client(client, world):
    client.force_login(world.users["town_clerk"])
    return client


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["county_admin"])
    return client


class TestResidentList:
    def test_a_town_clerk_gets_full_identifiers_and_the_page_is_audited(self, clerk_client, world):
        data = clerk_client.get(LIST).json()
        own, own2 = world.residents["own"], world.residents["own2"]
        assert data["count"] == 2
        assert [i["name"] for i in data["items"]] == ["本镇居民甲", "本镇居民乙"]
        first = data["items"][0]
        assert first == {
            "id": own.pk,
            "name": "本镇居民甲",
            "sex": "M",
            "birth_date": "1990-03-07",
            "id_number": own.id_number,
            "mobile": "13800001234",
            "place_code": "980101100001001",
            "household_number": "Hown",
            "hukou_type": "rural",
            "status": "resident",
            "masked": False,
        }
        entry = AuditEntry.objects.get(action="resident.api_identifiers")
        assert entry.sensitive and entry.actor == world.users["town_clerk"]
        assert entry.changes == {"ids": [own.pk, own2.pk]}
        assert entry.place_path == world.town.path and entry.path == LIST

    def test_the_county_admin_gets_masked_values_and_nothing_is_audited(self, admin_client, world):
        response = admin_client.get(LIST)
        data = response.json()
        assert data["count"] == 3
        assert all(i["masked"] for i in data["items"])
        by_name = {i["name"]: i for i in data["items"]}
        own = world.residents["own"]
        assert by_name["本镇居民甲"]["id_number"] == mask_id_number(own.id_number)
        assert by_name["本镇居民甲"]["mobile"] == mask_mobile(own.mobile)
        assert not FULL_ID.search(response.content.decode())
        assert not AuditEntry.objects.filter(sensitive=True).exists()

    def test_filters_and_pagination_apply(self, clerk_client, world):
        data = clerk_client.get(LIST, {"q": "本镇居民乙"}).json()
        assert [i["name"] for i in data["items"]] == ["本镇居民乙"]
        data = clerk_client.get(LIST, {"limit": 1, "offset": 1}).json()
        assert data["count"] == 2 and [i["name"] for i in data["items"]] == ["本镇居民乙"]
        entry = AuditEntry.objects.filter(action="resident.api_identifiers").last()
        assert entry.changes == {"ids": [world.residents["own2"].pk]}  # only what was handed out

    def test_an_empty_page_writes_no_audit_row(self, clerk_client):
        assert clerk_client.get(LIST, {"q": "查无此人"}).json() == {"items": [], "count": 0}
        assert not AuditEntry.objects.filter(action="resident.api_identifiers").exists()

    def test_a_role_without_people_view_gets_403_in_chinese(self, client, world):
        client.force_login(world.users["clinic_doctor"])
        response = client.get(LIST)
        assert response.status_code == 403
        assert response.json() == {"detail": "您的角色不能使用这个接口。"}

    def test_anonymous_gets_401(self, client, world):
        assert client.get(LIST).status_code == 401
        assert client.get(one(world.residents["own"])).status_code == 401


class TestResidentDetail:
    def test_a_town_clerk_gets_the_full_values_and_a_sensitive_read_row(self, clerk_client, world):
        own = world.residents["own"]
        data = clerk_client.get(one(own)).json()
        assert (data["id_number"], data["mobile"], data["masked"]) == (
            own.id_number,
            "13800001234",
            False,
        )
        entry = AuditEntry.objects.get(action="resident.read_sensitive")
        assert entry.sensitive and entry.object_id == str(own.pk) and entry.reason == "api"

    def test_the_county_admin_gets_masked_values(self, admin_client, world):
        other = world.residents["other"]
        data = admin_client.get(one(other)).json()
        assert data["masked"] is True and data["id_number"] == mask_id_number(other.id_number)
        assert not AuditEntry.objects.filter(sensitive=True).exists()

    def test_another_towns_resident_is_404_in_chinese_and_not_audited(self, clerk_client, world):
        response = clerk_client.get(one(world.residents["other"]))
        assert response.status_code == 404
        assert response.json() == {"detail": "没有找到，或不在您的管辖范围内。"}
        assert not AuditEntry.objects.filter(sensitive=True).exists()


class TestResidentCreate:
    def test_a_clerk_registers_a_resident_and_gets_201_with_the_record(self, clerk_client, world):
        response = post(clerk_client)
        assert response.status_code == 201
        r = Resident.objects.get(id_number=NEW_ID)
        data = response.json()
        assert data["id"] == r.pk and data["id_number"] == NEW_ID and data["masked"] is False
        assert (data["birth_date"], data["household_number"]) == ("1980-01-01", "A1")
        entry = AuditEntry.objects.get(action="resident.create", object_id=str(r.pk))
        assert entry.actor == world.users["town_clerk"]

    def test_invisible_characters_are_stripped_from_the_name(self, clerk_client):
        response = post(clerk_client, name="\u202e赵\u200b六")
        assert response.status_code == 201 and response.json()["name"] == "赵六"

    def test_a_bad_id_number_is_400_with_a_chinese_detail_and_nothing_saved(self, clerk_client):
        wrong = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
        response = post(clerk_client, id_number=wrong)
        assert response.status_code == 400
        assert response.json() == {"detail": "身份证号码：校验位不对，请核对是否抄错"}
        assert not Resident.objects.filter(id_number__startswith=NEW_ID[:17]).exists()

    def test_a_registered_id_number_is_400(self, clerk_client, world):
        response = post(clerk_client, id_number=world.residents["own"].id_number)
        assert response.status_code == 400 and "已登记，不能重复" in response.json()["detail"]

    def test_a_place_outside_the_scope_is_400(self, clerk_client):
        response = post(clerk_client, place_code="980101101001001")
        assert response.status_code == 400 and "不在您的管辖范围内" in response.json()["detail"]
        assert not Resident.objects.filter(id_number=NEW_ID).exists()

    def test_a_missing_field_is_a_validation_error_not_a_500(self, clerk_client):
        response = clerk_client.post(
            LIST, json.dumps({"name": "缺字段"}), content_type="application/json"
        )
        assert response.status_code == 422

    def test_the_county_admin_may_not_register(self, admin_client):
        assert post(admin_client).status_code == 403
        assert not Resident.objects.filter(id_number=NEW_ID).exists()

    def test_anonymous_gets_401_and_nothing_is_saved(self, client, world):
        assert post(client).status_code == 401
        assert not Resident.objects.filter(id_number=NEW_ID).exists()
