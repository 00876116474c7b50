"""Every write to places: create, rename, bulk create/import, contacts — scoped and audited."""

import pytest

from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.places import services
from sunshine.places.models import Contact, Place
from sunshine.places.services import PlaceRow

pytestmark = pytest.mark.django_db


class TestPlaceCreate:
    def test_new_village_hangs_under_its_town_with_level_path_and_audit(self, world):
        clerk = world.users["town_clerk"]
        place = services.place_create(actor=clerk, code="980101100003", name=" 本镇三村 ")
        assert place.name == "本镇三村"
        assert (place.level, place.path, place.parent) == ("village", "980101100003", world.town)
        entry = AuditEntry.objects.get(action="place.create", object_id=str(place.pk))
        assert entry.actor == clerk and entry.place_path == "980101100003"
        assert entry.changes == {"code": "980101100003", "name": "本镇三村", "level": "village"}

    def test_missing_parent_is_rejected_naming_code_and_parent(self, world):
        with pytest.raises(ServiceError) as exc:
            services.place_create(actor=None, code="980101105001", name="无镇之村")
        assert "980101105001" in exc.value.message and "980101105000 不存在" in exc.value.message
        assert not Place.objects.filter(code="980101105001").exists()

    def test_unit_under_a_county_is_rejected_as_wrong_parent_level(self, world):
        with pytest.raises(ServiceError) as exc:
            services.place_create(actor=None, code="980101000U001", name="县直单位")
        assert "980101000U001" in exc.value.message
        assert "不在上级 980101000000（县）之下" in exc.value.message

    def test_duplicate_code_is_rejected(self, world):
        with pytest.raises(ServiceError, match="980101100001 已存在") as exc:
            services.place_create(actor=None, code="980101100001", name="重复")
        assert exc.value.field == "code"

    @pytest.mark.parametrize("name", ["", "   ", None])
    def test_empty_name_is_rejected(self, world, name):
        with pytest.raises(ServiceError, match="名称不能为空") as exc:
            services.place_create(actor=None, code="980101100003", name=name)
        assert exc.value.field == "name"

    def test_malformed_code_is_rejected_naming_it(self, world):
        with pytest.raises(ServiceError, match="98010110003"):
            services.place_create(actor=None, code="98010110003", name="短")

    def test_actor_cannot_create_under_another_town(self, world):
        with pytest.raises(ServiceError, match="只能在您管辖的地方之下新增"):
            services.place_create(
                actor=world.users["town_clerk"], code="980101101009", name="外镇九村"
            )
        assert not Place.objects.filter(code="980101101009").exists()

    def test_actor_cannot_create_a_new_top_level_province(self, world):
        # A province has no parent to check against: the town clerk's scope must still apply.
        with pytest.raises(ServiceError):
            services.place_create(actor=world.users["town_clerk"], code="970000000000", name="假省")
        assert not Place.objects.filter(code="970000000000").exists()

    def test_superuser_without_a_place_may_create_a_province(self, world):
        from sunshine.accounts.models import User

        root = User.objects.create(username="root", is_superuser=True, is_staff=True)
        assert services.place_create(actor=root, code="970000000000", name="新省").level == (
            "province"
        )

    def test_view_scope_does_not_allow_writes(self, world):
        from sunshine.accounts import roles
        from sunshine.accounts import services as account_services

        reader = account_services.user_create(
            actor=None,
            username="reader",
            password="x-pass-2026",
            role=roles.TOWN_CLERK,
            place=world.town,
            view_place=world.county,
        )
        with pytest.raises(ServiceError):
            services.place_create(actor=reader, code="980101101009", name="外镇九村")


class TestPlaceRename:
    def test_rename_records_the_old_and_new_name(self, world):
        clerk = world.users["town_clerk"]
        services.place_rename(actor=clerk, place=world.village, name="本镇幸福村", address="村部")
        world.village.refresh_from_db()
        assert world.village.name == "本镇幸福村" and world.village.address == "村部"
        entry = AuditEntry.objects.get(action="place.update")
        assert entry.changes == {"name": ["本镇一村", "本镇幸福村"], "address": ["", "村部"]}
        assert entry.actor == clerk and entry.place_path == world.village.path

    def test_unchanged_address_is_not_in_the_diff(self, world):
        services.place_rename(actor=world.users["town_clerk"], place=world.village, name="新名")
        assert AuditEntry.objects.get(action="place.update").changes == {
            "name": ["本镇一村", "新名"]
        }

    def test_rename_outside_scope_is_refused_and_nothing_changes(self, world):
        with pytest.raises(ServiceError, match="只能修改您管辖范围内的地方"):
            services.place_rename(
                actor=world.users["town_clerk"], place=world.other_village, name="改名"
            )
        assert Place.objects.get(pk=world.other_village.pk).name == "外镇一村"
        assert not AuditEntry.objects.filter(action="place.update").exists()

    def test_empty_name_is_refused(self, world):
        with pytest.raises(ServiceError, match="名称不能为空"):
            services.place_rename(actor=world.users["town_clerk"], place=world.village, name=" ")


class TestPlaceBulkCreate:
    def test_rows_in_any_order_are_created_top_down_with_parents(self, world):
        n = services.place_bulk_create(
            actor=world.users["town_clerk"],
            rows=[
                PlaceRow("980101100003002", "第2组"),
                PlaceRow("980101100003", "本镇三村", urban_rural_code="220", code_year=2026),
                PlaceRow("980101100003001", "第1组"),
            ],
        )
        assert n == 3
        village = Place.objects.get(code="980101100003")
        assert (village.parent, village.urban_rural_code, village.code_year) == (
            world.town,
            "220",
            2026,
        )
        assert set(village.children.values_list("code", flat=True)) == {
            "980101100003001",
            "980101100003002",
        }

    def test_created_places_read_back_with_their_creation_time(self, world):
        import datetime as dt

        from django.utils import timezone

        before = timezone.now()
        services.place_bulk_create(actor=None, rows=[PlaceRow("980101100003", "三村")])
        place = Place.objects.get(code="980101100003")
        assert before - dt.timedelta(seconds=5) <= place.created_at <= timezone.now()
        assert place.is_active and place.address == "" and place.parent == world.town

    def test_one_audit_row_for_the_whole_batch(self, world):
        before = AuditEntry.objects.count()
        services.place_bulk_create(
            actor=None,
            rows=[PlaceRow("980101100003", "三村"), PlaceRow("980101100004", "四村")],
            action="place.import",
        )
        assert AuditEntry.objects.count() == before + 1
        entry = AuditEntry.objects.latest("id")
        assert entry.action == "place.import" and entry.changes == {
            "created": 2,
            "updated": 0,
            "unchanged": 0,
        }

    def test_one_bad_row_writes_nothing_and_names_each_bad_code(self, world):
        before = (Place.objects.count(), AuditEntry.objects.count())
        with pytest.raises(ServiceError) as exc:
            services.place_bulk_create(
                actor=None,
                rows=[
                    PlaceRow("980101100003", "本镇三村"),
                    PlaceRow("98010110004", "短编码"),
                    PlaceRow("980101199001", "无上级村"),
                ],
            )
        assert "98010110004" in exc.value.message and "980101199001" in exc.value.message
        assert (Place.objects.count(), AuditEntry.objects.count()) == before

    def test_existing_code_is_rejected_without_update_existing(self, world):
        with pytest.raises(ServiceError, match="980101100001 已存在"):
            services.place_bulk_create(actor=None, rows=[PlaceRow("980101100001", "改名")])

    def test_update_existing_renames_and_running_twice_changes_nothing_more(self, world):
        rows = [
            PlaceRow("980101100001", "本镇一村（新）", urban_rural_code="220", code_year=2026),
            PlaceRow("980101100003", "本镇三村"),
        ]
        children = Place.objects.get(code="980101100001").children.count()
        first = services.place_bulk_create(actor=None, rows=rows, update_existing=True)
        count = Place.objects.count()
        second = services.place_bulk_create(actor=None, rows=rows, update_existing=True)
        assert (first, second) == (2, 2)
        assert Place.objects.count() == count
        one = Place.objects.get(code="980101100001")
        assert (one.name, one.urban_rural_code, one.code_year) == ("本镇一村（新）", "220", 2026)
        assert one.children.count() == children  # its groups stay attached
        # The second run finds both as given: nothing is written again.
        assert AuditEntry.objects.filter(action="place.bulk_create").latest("id").changes == {
            "created": 0,
            "updated": 0,
            "unchanged": 2,
        }

    def test_update_existing_keeps_stored_values_a_row_leaves_empty(self, world):
        services.place_bulk_create(
            actor=None,
            rows=[PlaceRow("980101100001", "一村", urban_rural_code="121", code_year=2025)],
            update_existing=True,
        )
        services.place_bulk_create(
            actor=None, rows=[PlaceRow("980101100001", "一村")], update_existing=True
        )
        one = Place.objects.get(code="980101100001")
        assert (one.urban_rural_code, one.code_year) == ("121", 2025)

    def test_actor_cannot_bulk_create_under_another_town(self, world):
        with pytest.raises(ServiceError, match="980101101009：不在您的管辖范围内"):
            services.place_bulk_create(
                actor=world.users["town_clerk"],
                rows=[PlaceRow("980101100003", "本镇三村"), PlaceRow("980101101009", "外镇九村")],
            )
        assert not Place.objects.filter(code="980101100003").exists()

    def test_actor_cannot_bulk_update_another_towns_place(self, world):
        with pytest.raises(ServiceError, match="不在您的管辖范围内"):
            services.place_bulk_create(
                actor=world.users["town_clerk"],
                rows=[PlaceRow("980101101001", "改名")],
                update_existing=True,
            )
        assert Place.objects.get(code="980101101001").name == "外镇一村"

    def test_actor_cannot_bulk_create_a_new_province(self, world):
        with pytest.raises(ServiceError, match="不在您的管辖范围内"):
            services.place_bulk_create(
                actor=world.users["town_clerk"], rows=[PlaceRow("970000000000", "假省")]
            )
        assert not Place.objects.filter(code="970000000000").exists()

    def test_progress_is_reported_while_writing(self, world):
        calls = []
        services.place_bulk_create(
            actor=None,
            rows=[PlaceRow("980101100003", "三村"), PlaceRow("980101100003001", "第1组")],
            progress=lambda done, total, stage: calls.append((done, total)),
        )
        assert calls and calls[-1] == (2, 2)


class TestValidateRows:
    def test_a_code_repeated_in_the_file_is_reported_once_per_repeat(self):
        rows = [PlaceRow("980101100003", "甲"), PlaceRow("980101100003", "乙")]
        ordered, errors = services.validate_rows(
            rows, existing={"980101100000": Place(code="980101100000", level="town")}
        )
        assert errors == ["编码 980101100003：在文件中重复出现。"]
        assert [r.name for r in ordered] == ["甲"]

    def test_rows_are_sorted_top_down(self):
        rows = [
            PlaceRow("980101100003001", "组"),
            PlaceRow("980101100003", "村"),
            PlaceRow("980101100000", "镇"),
            PlaceRow("980101000000", "县"),
        ]
        ordered, errors = services.validate_rows(
            rows, existing={"980100000000": Place(code="980100000000", level="city")}
        )
        assert errors == []
        assert [r.name for r in ordered] == ["县", "镇", "村", "组"]

    def test_empty_name_and_missing_parent_are_both_reported(self):
        _, errors = services.validate_rows([PlaceRow("980101100003", "")], existing={})
        assert errors == [
            "编码 980101100003：名称不能为空。",
            "编码 980101100003：上级 980101100000 不存在，请先导入上级区划。",
        ]

    def test_existing_code_is_an_error_unless_allowed(self):
        existing = {
            "980101100000": Place(code="980101100000", level="town"),
            "980101100001": Place(code="980101100001", level="village"),
        }
        rows = [PlaceRow("980101100001", "一村")]
        assert services.validate_rows(rows, existing=existing)[1] == [
            "编码 980101100001 已存在，不能重复。"
        ]
        assert services.validate_rows(rows, existing=existing, allow_existing=True)[1] == []


class TestContactCreate:
    def test_contact_is_created_and_audited_under_its_place(self, world):
        contact = services.contact_create(
            actor=world.users["town_clerk"],
            place=world.village,
            department=" 村卫生室 ",
            phone=" 0516-1234 ",
            kind="hotline",
        )
        assert (contact.department, contact.phone, contact.kind) == (
            "村卫生室",
            "0516-1234",
            "hotline",
        )
        entry = AuditEntry.objects.get(action="contact.create", object_id=str(contact.pk))
        assert entry.place_path == world.village.path

    def test_contact_for_a_place_outside_scope_is_refused(self, world):
        before = Contact.objects.count()
        with pytest.raises(ServiceError, match="只能为您管辖的地方登记电话"):
            services.contact_create(
                actor=world.users["town_clerk"],
                place=world.other_town,
                department="外镇办",
                phone="1",
            )
        assert Contact.objects.count() == before

    def test_empty_phone_is_refused_with_a_chinese_message(self, world):
        with pytest.raises(ServiceError) as exc:
            services.contact_create(actor=None, place=world.town, department="办", phone=" ")
        assert "空" in exc.value.message

    def test_unknown_kind_is_refused(self, world):
        with pytest.raises(ServiceError):
            services.contact_create(
                actor=None, place=world.town, department="办", phone="1", kind="fax"
            )
