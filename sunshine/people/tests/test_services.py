"""Every write to residents and couples: validation in Chinese, scope, audit rows."""

import datetime as dt
import json

import pytest

from sunshine.accounts import roles
from sunshine.accounts import services as account_services
from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry
from sunshine.core.testing import PASSWORD
from sunshine.core.validators import id_check_char
from sunshine.people import services
from sunshine.people.models import Couple, Household, Resident

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 28)
GROUP_1 = "980101100001001"  # 本镇一村第1组
OTHER_GROUP = "980101101001001"  # 外镇一村第1组
VILLAGE_2 = "980101100002"  # 本镇二村


def idn(body17: str) -> str:
    return body17 + id_check_char(body17)


MAN = idn("98010119800101011")  # 17th digit odd: male
WOMAN = idn("98010119820202022")  # even: female


def data(**over) -> dict:
    base = {
        "name": "新居民",
        "sex": "男",
        "id_number": MAN,
        "mobile": "13700001111",
        "place_code": GROUP_1,
        "household_number": "",
        "hukou_type": "农村",
        "status": "在册",
    }
    return {**base, **over}


def data_of(resident: Resident, **over) -> dict:
    current = {
        "name": resident.name,
        "sex": resident.get_sex_display(),
        "id_number": resident.id_number,
        "mobile": resident.mobile,
        "place_code": resident.place.code,
        "household_number": resident.household.number if resident.household else "",
    }
    return data(**{**current, **over})


def system_resident(name, body17, sex, code=GROUP_1) -> Resident:
    return services.resident_create(
        actor=None,
        data=data(name=name, id_number=idn(body17), sex=sex, place_code=code),
        today=TODAY,
    )


class TestResidentCreate:
    def test_valid_data_creates_the_resident_with_the_birth_date_from_the_id(self, world):
        clerk = world.users["town_clerk"]
        r = services.resident_create(
            actor=clerk, data=data(household_number="H9", mobile="+86 137-0000-1111"), today=TODAY
        )
        r.refresh_from_db()
        assert (r.name, r.sex, r.birth_date) == ("新居民", "M", dt.date(1980, 1, 1))
        assert (r.mobile, r.place, r.place_path) == (
            "13700001111",
            world.place(GROUP_1),
            r.place.path,
        )
        assert (r.household.number, r.household.county_code) == ("H9", "980101")
        assert (r.hukou_type, r.status) == ("rural", "resident")
        entry = AuditEntry.objects.get(action="resident.create", object_id=str(r.pk))
        assert entry.actor == clerk and entry.place_path == r.place_path
        assert entry.changes == {"place": GROUP_1}

    @pytest.mark.parametrize(
        "typed", ["0086 137 0000 1111", "8613700001111", "１３７００００１１１１"]
    )
    def test_mobile_with_a_country_prefix_or_full_width_digits_is_stored_as_11_digits(
        self, world, typed
    ):
        r = services.resident_create(
            actor=world.users["town_clerk"], data=data(mobile=typed), today=TODAY
        )
        r.refresh_from_db()
        assert r.mobile == "13700001111"

    def test_members_with_the_same_household_number_share_one_household(self, world):
        a = services.resident_create(actor=None, data=data(household_number="H9"), today=TODAY)
        b = services.resident_create(
            actor=None, data=data(id_number=WOMAN, sex="女", household_number="H9"), today=TODAY
        )
        assert a.household_id == b.household_id
        assert Household.objects.filter(number="H9").count() == 1

    @pytest.mark.parametrize(
        ("over", "header", "reason"),
        [
            ({"name": " "}, "姓名", "不能为空"),
            ({"name": "张" * 51}, "姓名", "超过50个字"),
            ({"id_number": ""}, "身份证号码", "不能为空"),
            (
                {"id_number": MAN[:-1] + ("0" if MAN[-1] != "0" else "1")},
                "身份证号码",
                "校验位不对",
            ),
            ({"id_number": "980101800101011"}, "身份证号码", "旧的15位号码"),
            ({"id_number": idn("98010120991231011")}, "身份证号码", "不合理"),
            ({"sex": "女"}, "性别", "与身份证号码不一致"),
            ({"sex": "未知"}, "性别", "应填“男”或“女”"),
            ({"birth_date": "1980-01-02"}, "出生日期", "与身份证号码中的出生日期不一致"),
            ({"birth_date": "去年"}, "出生日期", "日期格式"),
            ({"mobile": "12345"}, "手机号码", "应为11位数字"),
            ({"mobile": "15412345678"}, "手机号码", "号段不存在"),  # 1[3-9] passed it
            ({"mobile": "025-83456789"}, "手机号码", "不能是固定电话号码"),
            ({"place_code": ""}, "所在地编码", "不能为空"),
            ({"place_code": "980101100009009"}, "所在地编码", "不存在"),
            ({"place_code": "980101100000"}, "所在地编码", "应为村（社区）或村民小组"),
            ({"residence_code": "980101100009"}, "居住地编码", "不存在"),
            ({"hukou_type": "外籍"}, "户籍类型", "应填“农村”或“城镇”"),
            ({"status": "失踪"}, "状态", "应填“在册”“迁出”或“死亡”"),
            ({"household_number": "1" * 33}, "户号", "超过32个字符"),
        ],
    )
    def test_each_invalid_field_is_refused_naming_the_chinese_column(
        self, world, over, header, reason
    ):
        before = Resident.objects.count()
        with pytest.raises(ServiceError) as exc:
            services.resident_create(
                actor=world.users["town_clerk"], data=data(**over), today=TODAY
            )
        assert exc.value.field == header
        assert f"{header}：" in exc.value.message and reason in exc.value.message
        assert Resident.objects.count() == before
        assert not AuditEntry.objects.filter(action="resident.create").exclude(actor=None).exists()

    def test_several_errors_are_all_reported_and_the_first_names_the_field(self, world):
        with pytest.raises(ServiceError) as exc:
            services.resident_create(actor=None, data=data(name="", mobile="123"), today=TODAY)
        assert exc.value.field == "姓名"
        assert "姓名：不能为空" in exc.value.message and "手机号码：" in exc.value.message

    def test_a_residence_under_the_town_is_accepted(self, world):
        r = services.resident_create(
            actor=world.users["town_clerk"], data=data(residence_code="980101100R001"), today=TODAY
        )
        assert r.residence == world.place("980101100R001")

    def test_a_registered_id_number_is_refused_without_echoing_it_in_full(self, world):
        existing = world.residents["own"]
        with pytest.raises(ServiceError) as exc:
            services.resident_create(
                actor=world.users["town_clerk"],
                data=data(id_number=existing.id_number.lower(), name="另一人"),
                today=TODAY,
            )
        assert exc.value.field == "身份证号码" and "已登记" in exc.value.message
        assert existing.id_number not in exc.value.message
        assert Resident.objects.filter(id_number=existing.id_number).count() == 1

    @pytest.mark.parametrize(
        ("user", "code"),
        [("town_clerk", OTHER_GROUP), ("village_cadre", VILLAGE_2), ("outsider", GROUP_1)],
    )
    def test_a_place_outside_the_actors_scope_is_refused(self, world, user, code):
        with pytest.raises(ServiceError) as exc:
            services.resident_create(
                actor=world.users[user], data=data(place_code=code), today=TODAY
            )
        assert exc.value.field == "所在地编码" and "不在您的管辖范围内" in exc.value.message
        assert not Resident.objects.filter(id_number=MAN).exists()

    def test_a_wider_view_scope_does_not_widen_where_one_may_register(self, world):
        clerk = account_services.user_create(
            actor=None,
            username="viewer",
            password=PASSWORD,
            role=roles.TOWN_CLERK,
            place=world.town,
            view_place=world.county,
        )
        with pytest.raises(ServiceError, match="不在您的管辖范围内"):
            services.resident_create(actor=clerk, data=data(place_code=OTHER_GROUP), today=TODAY)

    def test_the_system_itself_may_register_anywhere_and_is_audited_as_system(self, world):
        r = services.resident_create(actor=None, data=data(place_code=OTHER_GROUP), today=TODAY)
        assert r.place_path == world.place(OTHER_GROUP).path
        entry = AuditEntry.objects.get(action="resident.create", object_id=str(r.pk))
        assert entry.actor is None and entry.actor_label == "系统"


class TestResidentUpdate:
    def test_changes_are_saved_and_audited_with_the_mobile_hidden(self, world):
        clerk, r = world.users["town_clerk"], world.residents["own"]
        services.resident_update(
            actor=clerk,
            resident=r,
            data=data_of(r, name="改名甲", mobile="13999990000", status="迁出"),
            today=TODAY,
        )
        r.refresh_from_db()
        assert (r.name, r.mobile, r.status) == ("改名甲", "13999990000", "moved")
        entry = AuditEntry.objects.get(action="resident.update", object_id=str(r.pk))
        assert entry.actor == clerk
        assert entry.changes["name"] == ["本镇居民甲", "改名甲"]
        assert entry.changes["status"] == ["resident", "moved"]
        assert entry.changes["mobile"] == ["（已隐去）", "（已隐去）"]
        text = json.dumps(entry.changes, ensure_ascii=False)
        assert "13800001234" not in text and "13999990000" not in text

    def test_only_changed_fields_are_in_the_audit_diff(self, world):
        r = world.residents["own"]
        services.resident_update(
            actor=world.users["town_clerk"], resident=r, data=data_of(r, name="只改名"), today=TODAY
        )
        entry = AuditEntry.objects.get(action="resident.update")
        assert set(entry.changes) == {"name"}

    def test_moving_to_another_group_updates_the_place_and_its_path(self, world):
        r = world.residents["own"]
        services.resident_update(
            actor=world.users["town_clerk"],
            resident=r,
            data=data_of(r, place_code="980101100001002"),
            today=TODAY,
        )
        r.refresh_from_db()
        group_2 = world.place("980101100001002")
        assert (r.place, r.place_path) == (group_2, group_2.path)
        entry = AuditEntry.objects.get(action="resident.update")
        assert entry.changes["place"] == [str(world.place(GROUP_1).pk), str(group_2.pk)]

    def test_the_id_number_is_not_editable(self, world):
        r = world.residents["own"]
        original = r.id_number
        services.resident_update(
            actor=world.users["town_clerk"],
            resident=r,
            data=data_of(r, id_number=MAN, name="换号企图"),
            today=TODAY,
        )
        r.refresh_from_db()
        assert r.id_number == original and r.name == "换号企图"
        assert not Resident.objects.filter(id_number=MAN).exists()
        assert "id_number" not in AuditEntry.objects.get(action="resident.update").changes

    @pytest.mark.parametrize("user", ["outsider", "other_village_cadre"])
    def test_a_resident_outside_the_actors_scope_cannot_be_edited(self, world, user):
        r = world.residents["own"]
        with pytest.raises(ServiceError, match="只能修改您管辖范围内的居民"):
            services.resident_update(
                actor=world.users[user], resident=r, data=data_of(r, name="越权"), today=TODAY
            )
        r.refresh_from_db()
        assert r.name == "本镇居民甲"
        assert not AuditEntry.objects.filter(action="resident.update").exists()

    def test_a_resident_cannot_be_moved_out_of_the_actors_scope(self, world):
        r = world.residents["own"]
        with pytest.raises(ServiceError) as exc:
            services.resident_update(
                actor=world.users["town_clerk"],
                resident=r,
                data=data_of(r, place_code=OTHER_GROUP),
                today=TODAY,
            )
        assert exc.value.field == "所在地编码"
        r.refresh_from_db()
        assert r.place.code == GROUP_1

    def test_an_invalid_field_leaves_the_resident_unchanged(self, world):
        r = world.residents["own"]
        with pytest.raises(ServiceError) as exc:
            services.resident_update(
                actor=world.users["town_clerk"],
                resident=r,
                data=data_of(r, name="新名", mobile="999"),
                today=TODAY,
            )
        assert exc.value.field == "手机号码"
        r.refresh_from_db()
        assert (r.name, r.mobile) == ("本镇居民甲", "13800001234")


class TestCoupleCreate:
    def test_couple_is_registered_at_the_wifes_place_with_children_and_an_audit_row(self, world):
        clerk = world.users["town_clerk"]
        husband, wife = world.residents["own"], world.residents["own2"]
        child = system_resident("孩子", "98010120150601031", "男")
        couple = services.couple_create(
            actor=clerk,
            husband=husband,
            wife=wife,
            marriage_date=dt.date(2014, 5, 1),
            children=[child],
        )
        couple.refresh_from_db()
        assert (couple.husband, couple.wife, couple.is_active) == (husband, wife, True)
        assert (couple.place_id, couple.place_path) == (wife.place_id, wife.place_path)
        assert couple.marriage_date == dt.date(2014, 5, 1)
        assert list(couple.children.all()) == [child]
        assert list(child.parent_couples.all()) == [couple]
        entry = AuditEntry.objects.get(action="couple.create")
        assert entry.actor == clerk and entry.object_id == str(couple.pk)
        assert entry.place_path == wife.place_path and entry.changes == {"children": [child.pk]}

    def test_husband_must_be_male_and_wife_female(self, world):
        with pytest.raises(ServiceError, match="丈夫应为男性，妻子应为女性"):
            services.couple_create(
                actor=world.users["town_clerk"],
                husband=world.residents["own2"],
                wife=world.residents["own"],
            )
        assert not Couple.objects.exists()

    def test_two_men_are_refused(self, world):
        second_man = system_resident("男二", "98010119800101051", "男")
        with pytest.raises(ServiceError, match="请核对夫妇的性别"):
            services.couple_create(actor=None, husband=world.residents["own"], wife=second_man)

    def test_the_same_couple_cannot_be_registered_twice(self, world):
        husband, wife = world.residents["own"], world.residents["own2"]
        services.couple_create(actor=None, husband=husband, wife=wife)
        with pytest.raises(ServiceError, match="这对夫妇已经登记"):
            services.couple_create(actor=None, husband=husband, wife=wife)
        assert Couple.objects.count() == 1

    @pytest.mark.parametrize("who", ["husband", "wife"])
    def test_someone_already_in_an_active_marriage_is_refused(self, world, who):
        husband, wife = world.residents["own"], world.residents["own2"]
        services.couple_create(actor=None, husband=husband, wife=wife)
        if who == "husband":
            pair = {"husband": husband, "wife": system_resident("女二", "98010119820202042", "女")}
        else:
            pair = {"husband": system_resident("男二", "98010119800101051", "男"), "wife": wife}
        with pytest.raises(ServiceError, match="已有存续的婚姻登记"):
            services.couple_create(actor=world.users["town_clerk"], **pair)
        assert Couple.objects.count() == 1

    def test_a_marriage_no_longer_in_force_does_not_block_a_new_one(self, world):
        husband, wife = world.residents["own"], world.residents["own2"]
        services.couple_create(actor=None, husband=husband, wife=wife)
        Couple.objects.update(is_active=False)  # no service yet ends a marriage
        second_wife = system_resident("女二", "98010119820202042", "女")
        couple = services.couple_create(actor=None, husband=husband, wife=second_wife)
        assert couple.is_active and Couple.objects.count() == 2

    def test_a_spouse_outside_the_actors_scope_is_refused_by_name(self, world):
        wife = world.residents["own2"]
        with pytest.raises(ServiceError, match="外镇居民丙 不在您的管辖范围内"):
            services.couple_create(
                actor=world.users["town_clerk"], husband=world.residents["other"], wife=wife
            )
        assert not Couple.objects.exists()

    def test_a_child_outside_the_actors_scope_is_refused(self, world):
        with pytest.raises(ServiceError, match="外镇居民丙 不在您的管辖范围内"):
            services.couple_create(
                actor=world.users["town_clerk"],
                husband=world.residents["own"],
                wife=world.residents["own2"],
                children=[world.residents["other"]],
            )
        assert not Couple.objects.exists()

    def test_a_viewer_of_the_county_registers_only_couples_whose_wife_is_in_their_town(self, world):
        viewer = account_services.user_create(
            actor=None,
            username="viewer",
            password=PASSWORD,
            role=roles.TOWN_CLERK,
            place=world.other_town,
            view_place=world.county,
        )
        with pytest.raises(ServiceError, match="夫妇按妻子的所在地登记"):
            services.couple_create(
                actor=viewer, husband=world.residents["other"], wife=world.residents["own2"]
            )
        assert not Couple.objects.exists()

    def test_the_system_may_register_a_couple_across_towns(self, world):
        couple = services.couple_create(
            actor=None, husband=world.residents["other"], wife=world.residents["own2"]
        )
        assert couple.place_path == world.residents["own2"].place_path
        assert AuditEntry.objects.get(action="couple.create").actor_label == "系统"
