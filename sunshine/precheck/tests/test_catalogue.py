"""The check catalogue is data: the national programme's 19 items, 14 medical examinations
and 5 basic services (DOMAIN), loaded by migration and kept when a county edits them."""

import pytest

from sunshine.precheck import catalogue
from sunshine.precheck.models import CheckItem

pytestmark = pytest.mark.django_db


class TestCatalogue:
    def test_the_migration_loads_19_items_14_examinations_and_5_services(self):
        catalogue.load(
            CheckItem
        )  # a flushed test database gets them back; a second load adds nothing
        items = CheckItem.objects.all()
        assert items.count() == 19
        assert items.filter(kind=CheckItem.EXAM).count() == 14
        assert items.filter(kind=CheckItem.SERVICE).count() == 5
        assert sorted(items.values_list("number", flat=True)) == list(range(1, 20))
        services = set(items.filter(kind=CheckItem.SERVICE).values_list("number", flat=True))
        assert services == {1, 2, 3, 18, 19}

    def test_each_item_says_whom_it_applies_to_and_its_result_type(self):
        catalogue.load(CheckItem)
        for item in CheckItem.objects.all():
            assert item.applies_to in ("F", "M", "B") and item.result_type in (
                "flag",
                "value",
                "text",
            )
            if item.result_type == CheckItem.VALUE:
                assert item.unit and item.ref_low is not None and item.ref_high > item.ref_low
        vaginal = CheckItem.objects.get(code="vaginal")
        assert vaginal.applies("F") and not vaginal.applies("M")
        assert CheckItem.objects.get(code="blood-type").applies("M")

    def test_a_county_edit_survives_another_load(self):
        catalogue.load(CheckItem)
        CheckItem.objects.filter(code="glucose").update(ref_high="6.0", name="空腹血糖")
        assert catalogue.load(CheckItem) == 0
        glucose = CheckItem.objects.get(code="glucose")
        assert glucose.name == "空腹血糖" and str(glucose.ref_high) == "6.000"
