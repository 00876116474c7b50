"""Public pages: complete without JavaScript, in Chinese, 404 in Chinese, safe 关怀版 switch."""

import pytest

from sunshine.places import services
from sunshine.places.services import PlaceRow

pytestmark = pytest.mark.django_db


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    html = response.content.decode()
    assert "<script" not in html, f"{url} should be complete without JavaScript"
    return html


@pytest.fixture
def one_county(db):
    services.place_bulk_create(
        actor=None,
        rows=[
            PlaceRow("970000000000", "样例省"),
            PlaceRow("970100000000", "样例市"),
            PlaceRow("970101000000", "样例县"),
            PlaceRow("970101110000", "凌城镇"),
            PlaceRow("970101110201", "凌城村"),
        ],
    )
    from sunshine.places.models import Place

    county = Place.objects.get(code="970101000000")
    services.contact_create(actor=None, place=county, department="县卫健委办公室", phone="0516-1")
    return county


class TestHome:
    def test_no_places_yet_tells_the_admin_what_to_run(self, client, db):
        html = page(client, "/")
        assert "本平台尚未导入区划" in html and "build-demo" in html

    def test_commands_named_on_the_empty_home_page_exist(self, client, db):
        import re

        from django.core.management import get_commands

        html = page(client, "/")
        named = re.findall(r"<code>sunshine ([\w-]+)", html)
        assert named and all(name in get_commands() for name in named), named

    def test_one_county_shows_its_board_link_towns_and_phones(self, client, one_county):
        html = page(client, "/")
        assert "样例县阳光计生" in html
        assert 'href="/p/970101000000/"' in html and "凌城镇" in html
        assert "县卫健委办公室" in html and "0516-1" in html

    def test_several_counties_are_offered_to_choose_from(self, client, world):
        html = page(client, "/")
        assert "请选择县（市、区）" in html and "甲县" in html and "乙县" in html

    def test_footer_shows_the_hotline_and_the_care_switch(self, client, db):
        html = page(client, "/")
        assert "监督投诉电话" in html and "12320" in html and "关怀版" in html


class TestBoard:
    def test_county_board_lists_its_towns(self, client, world):
        html = page(client, "/p/980101000000/")
        assert (
            "甲县公示栏" in html and "本镇" in html and "外镇" in html and "乙县城关镇" not in html
        )

    def test_village_board_has_a_breadcrumb_of_publication_levels(self, client, world):
        html = page(client, "/p/980101100001/")
        assert 'aria-label="位置"' in html
        assert 'href="/p/980101000000/"' in html and 'href="/p/980101100000/"' in html
        # Province and city are not publication levels: no crumb for them.
        assert "/p/980000000000/" not in html and "测试省" not in html
        assert "本镇一村第1组" in html and "本镇一村花园" in html

    def test_empty_board_says_so(self, client, world):
        html = page(client, "/p/980101100001001/")
        assert "本公示栏暂无公开事项" in html and "村民小组" in html

    def test_town_board_separates_units_and_residences(self, client, world):
        html = page(client, "/p/980101100000/")
        assert "单位公示栏" in html and "本镇卫生院" in html
        assert "居住地公示栏" in html and "本镇安置小区" in html
        assert "外镇" not in html

    def test_board_shows_the_contacts_of_the_place_and_above(self, client, world):
        html = page(client, "/p/980101100001/")
        assert "本镇卫健办" in html and "外镇卫健办" not in html

    def test_unknown_code_is_a_chinese_404_page(self, client, world):
        html = page(client, "/p/999999999999/", status=404)
        assert "没有找到这个页面" in html and "返回首页" in html

    def test_inactive_place_is_404(self, client, world):
        from sunshine.places.models import Place

        Place.objects.filter(code="980101100002").update(is_active=False)
        page(client, "/p/980101100002/", status=404)

    def test_post_is_not_allowed(self, client, world):
        assert client.post("/p/980101000000/").status_code == 405


class TestContacts:
    def test_hotlines_of_the_county_and_the_site_are_listed(self, client, one_county):
        services.contact_create(
            actor=None,
            place=one_county,
            department="县纪委监委驻卫健委纪检组",
            phone="0516-9999",
            kind="hotline",
        )
        html = page(client, "/contacts/")
        assert "部门电话与监督投诉电话" in html
        assert "12320" in html and "县纪委监委驻卫健委纪检组" in html and "tel:0516-9999" in html
        assert "县卫健委办公室" in html

    def test_place_parameter_lists_that_place_and_above(self, client, world):
        html = page(client, "/contacts/?place=980101100001")
        assert "本镇卫健办" in html and "外镇卫健办" not in html

    def test_no_contacts_says_none_registered(self, client, db):
        html = page(client, "/contacts/")
        assert "尚未登记部门电话" in html and "12320" in html

    def test_unknown_place_is_404(self, client, world):
        page(client, "/contacts/?place=999999999999", status=404)


class TestCareToggle:
    def test_on_sets_the_cookie_and_returns_to_the_page(self, client, db):
        response = client.get("/care/", {"on": "1", "next": "/contacts/"})
        assert response.status_code == 302 and response["Location"] == "/contacts/"
        assert response.cookies["care"].value == "1"
        assert response.cookies["care"]["samesite"] == "Lax"

    def test_care_mode_changes_the_page_and_offers_the_way_back(self, client, db):
        client.get("/care/", {"on": "1"})
        html = page(client, "/")
        assert 'class="care-mode"' in html and "标准版" in html

    def test_off_clears_the_cookie(self, client, db):
        client.get("/care/", {"on": "1"})
        response = client.get("/care/", {"next": "/"})
        assert response.cookies["care"].value == ""
        assert response.cookies["care"]["max-age"] == 0
        assert 'class="care-mode"' not in page(client, "/")

    @pytest.mark.parametrize(
        "target",
        [
            "https://evil.example/",
            "//evil.example/x",
            "http://testserver.evil.example/",
            "/\\evil.example",
        ],
    )
    def test_off_site_next_is_refused(self, client, db, target):
        response = client.get("/care/", {"on": "1", "next": target})
        assert response.status_code == 302 and response["Location"] == "/"

    def test_missing_next_goes_home(self, client, db):
        assert client.get("/care/")["Location"] == "/"
