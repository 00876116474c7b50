"""The catalogue page: managers read the 19 items; only a county writer changes them, audited;
a bad range is refused in Chinese and nothing changes."""

from decimal import Decimal

import pytest

from sunshine.core.models import AuditEntry
from sunshine.precheck import catalogue
from sunshine.precheck.models import CheckItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def glucose(world):
    catalogue.load(CheckItem)
    return CheckItem.objects.get(code="glucose")


def _post(client, item, **over):
    data = {
        "name": item.name,
        "unit": item.unit,
        "ref_low": "3.9",
        "ref_high": "6.1",
        "abnormal_risk": item.abnormal_risk,
        "description": item.description,
        "is_active": "on",
        **over,
    }
    return client.post(f"/staff/precheck/catalogue/{item.pk}/", data)


class TestCatalogueViews:
    def test_the_list_shows_all_19_items_to_a_manager(self, client, world, glucose):
        client.force_login(world.users["town_clerk"])
        body = client.get("/staff/precheck/catalogue/").content.decode()
        assert body.count("/staff/precheck/catalogue/") >= 19 and "血清葡萄糖" in body

    def test_a_county_clerk_corrects_a_reference_range_audited(self, client, world, glucose):
        client.force_login(world.users["county_clerk"])
        resp = _post(client, glucose, ref_high="6.0", name="空腹血糖")
        assert resp.status_code == 302
        glucose.refresh_from_db()
        assert glucose.ref_high == Decimal("6.0") and glucose.name == "空腹血糖"
        entry = AuditEntry.objects.get(action="precheck_checkitem.update")
        assert "ref_high" in entry.changes

    def test_a_low_above_high_is_refused_and_nothing_changes(self, client, world, glucose):
        client.force_login(world.users["county_clerk"])
        resp = _post(client, glucose, ref_low="7", ref_high="6")
        assert resp.status_code == 400 and "参考下限应小于上限" in resp.content.decode()
        glucose.refresh_from_db()
        assert glucose.ref_low == Decimal("3.9")

    def test_a_town_clerk_reads_but_cannot_change(self, client, world, glucose):
        client.force_login(world.users["town_clerk"])
        assert (
            "县级统一维护"
            in client.get(f"/staff/precheck/catalogue/{glucose.pk}/").content.decode()
        )
        resp = _post(client, glucose, name="改名")
        assert resp.status_code == 400
        glucose.refresh_from_db()
        assert glucose.name == "血清葡萄糖"

    def test_roles_without_manage_get_403(self, client, world, glucose):
        client.force_login(world.users["village_cadre"])
        assert client.get("/staff/precheck/catalogue/").status_code == 403
