"""The JSON API: schema, offline docs, public place routes, Chinese errors."""

import pytest

pytestmark = pytest.mark.django_db


class TestSchemaAndDocs:
    def test_openapi_schema_lists_public_and_staff_paths(self, client):
        response = client.get("/api/openapi.json")
        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        assert schema["info"]["title"] == "阳光计生 API"
        paths = set(schema["paths"])
        assert {"/api/places", "/api/places/{code}", "/api/places/{code}/children"} <= paths
        assert {"/api/staff/me", "/api/staff/places", "/api/staff/audit"} <= paths

    def test_staff_paths_require_a_session_and_public_ones_do_not(self, client):
        schema = client.get("/api/openapi.json").json()
        assert schema["paths"]["/api/staff/places"]["get"].get("security")
        assert not schema["paths"]["/api/places/{code}"]["get"].get("security")

    def test_docs_page_loads_without_any_cdn(self, client):
        response = client.get("/api/docs")
        assert response.status_code == 200
        html = response.content.decode()
        assert "swagger" in html.lower()
        for cdn in ("cdn.", "jsdelivr", "unpkg", "cdnjs"):
            assert cdn not in html, cdn


class TestPublicPlaces:
    def test_root_lists_the_counties(self, client, world):
        data = client.get("/api/places").json()
        assert [p["code"] for p in data] == ["980101000000", "980102000000"]
        assert data[0]["parent_code"] == "980100000000"

    def test_one_place_with_its_parent_and_chinese_level(self, client, world):
        data = client.get("/api/places/980101100001").json()
        assert data == {
            "code": "980101100001",
            "name": "本镇一村",
            "level": "village",
            "level_label": "村（社区）",
            "parent_code": "980101100000",
            "urban_rural_code": "",
            "code_year": None,
        }

    def test_children_are_direct_children(self, client, world):
        codes = [p["code"] for p in client.get("/api/places/980101100000/children").json()]
        assert codes == ["980101100R001", "980101100U001", "980101100001", "980101100002"]

    def test_province_has_no_parent_code(self, client, world):
        assert client.get("/api/places/980000000000").json()["parent_code"] is None

    @pytest.mark.parametrize("url", ["/api/places/999999999999", "/api/places/abc/children"])
    def test_unknown_code_is_404_json_with_a_chinese_detail(self, client, world, url):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": "没有找到，或不在您的管辖范围内。"}


class TestStaffApi:
    def test_me_describes_the_signed_in_user(self, client, world):
        client.force_login(world.users["town_clerk"])
        data = client.get("/api/staff/me").json()
        assert data["username"] == "town_clerk" and data["role_label"] == "乡镇工作人员"
        assert data["place"]["code"] == "980101100000" and data["view_place"] is None

    def test_staff_places_are_scoped_and_paginated(self, client, world):
        client.force_login(world.users["town_clerk"])
        data = client.get("/api/staff/places", {"level": "village", "limit": 1}).json()
        assert data["count"] == 2 and [p["code"] for p in data["items"]] == ["980101100001"]

    def test_staff_place_outside_scope_is_404_in_chinese(self, client, world):
        client.force_login(world.users["town_clerk"])
        response = client.get("/api/staff/places/980101101001")
        assert response.status_code == 404 and "管辖范围" in response.json()["detail"]

    def test_role_without_capability_gets_403_in_chinese(self, client, world):
        client.force_login(world.users["town_clerk"])
        response = client.get("/api/staff/audit")
        assert response.status_code == 403
        assert response.json() == {"detail": "您的角色不能使用这个接口。"}
