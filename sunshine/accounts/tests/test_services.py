"""Opening and closing staff accounts: role matches place level, scopes contain each other."""

import pytest
from django.contrib.auth import authenticate

from sunshine.accounts import roles, services
from sunshine.accounts.models import User
from sunshine.core.errors import ServiceError
from sunshine.core.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "new-pass-2026"


def create(world, **kwargs):
    args = {
        "actor": world.users["county_admin"],
        "username": "new",
        "password": PASSWORD,
        "role": roles.VILLAGE_CADRE,
        "place": world.village,
    }
    args.update(kwargs)
    return services.user_create(**args)


class TestUserCreate:
    def test_account_is_created_with_a_usable_password_and_audited(self, world, rf):
        user = create(world, full_name="王村干", mobile="13800138000", title="专干")
        assert (user.role, user.place, user.full_name) == (
            roles.VILLAGE_CADRE,
            world.village,
            "王村干",
        )
        assert not user.is_staff  # only roles that use the admin get is_staff
        assert authenticate(rf.post("/"), username="new", password=PASSWORD) == user
        entry = AuditEntry.objects.get(action="user.create", object_id=str(user.pk))
        assert entry.changes == {"role": roles.VILLAGE_CADRE, "place": world.village.code}
        assert entry.place_path == world.village.path

    def test_mobile_is_stored_as_11_digits_and_an_unassigned_segment_is_refused(self, world):
        assert create(world, mobile="+86 138-0013-8000").mobile == "13800138000"
        with pytest.raises(ServiceError, match="号段不存在") as exc:
            create(world, username="other", mobile="15412345678")
        assert exc.value.field == "mobile"

    def test_county_admin_gets_admin_access(self, world):
        user = create(world, role=roles.COUNTY_ADMIN, place=world.county)
        assert user.is_staff

    def test_role_and_place_level_mismatch_names_both(self, world):
        with pytest.raises(ServiceError) as exc:
            create(world, role=roles.TOWN_CLERK, place=world.village)
        assert exc.value.message == "乡镇工作人员的管辖地方应为乡镇，本镇一村是村（社区）。"
        assert exc.value.field == "place"
        assert not User.objects.filter(username="new").exists()

    def test_role_with_several_allowed_levels_lists_them(self, world):
        with pytest.raises(ServiceError, match="应为县、乡镇、单位"):
            create(world, role=roles.CLINIC_DOCTOR, place=world.village)

    def test_unknown_role_is_refused(self, world):
        with pytest.raises(ServiceError, match="角色 mayor 不存在"):
            create(world, role="mayor")

    def test_view_place_must_contain_the_place(self, world):
        with pytest.raises(ServiceError, match="可查看范围必须包含管辖地方") as exc:
            create(world, view_place=world.other_town)
        assert exc.value.field == "view_place"

    def test_view_place_wider_than_the_place_is_accepted(self, world):
        user = create(world, view_place=world.town)
        assert user.view_place == world.town

    def test_actor_cannot_grant_a_view_scope_wider_than_their_own(self, world):
        # A town clerk must not open an account that reads the whole county (and log in as it).
        with pytest.raises(ServiceError, match="可查看范围"):
            create(world, actor=world.users["town_clerk"], view_place=world.county)
        assert not User.objects.filter(username="new").exists()

    def test_duplicate_username_is_refused(self, world):
        with pytest.raises(ServiceError, match="用户名 town_clerk 已被使用") as exc:
            create(world, username="town_clerk")
        assert exc.value.field == "username"

    def test_actor_cannot_open_an_account_outside_their_place(self, world):
        with pytest.raises(ServiceError, match="只能在您管辖的地方之下开设账号"):
            create(world, actor=world.users["town_clerk"], place=world.other_village)
        assert not User.objects.filter(username="new").exists()

    def test_actor_from_another_county_is_refused(self, world):
        with pytest.raises(ServiceError):
            create(world, actor=world.users["other_county_admin"])

    def test_view_scope_does_not_let_the_actor_open_accounts(self, world):
        reader = create(world, role=roles.TOWN_CLERK, place=world.town, view_place=world.county)
        with pytest.raises(ServiceError, match="只能在您管辖的地方之下开设账号"):
            create(world, actor=reader, username="n2", place=world.other_village)

    def test_invalid_username_is_a_service_error(self, world):
        with pytest.raises(ServiceError):
            create(world, username="bad name!")


class TestUserDeactivate:
    def test_deactivated_user_can_no_longer_log_in_and_it_is_audited(self, world, rf):
        cadre = world.users["village_cadre"]
        services.user_deactivate(actor=world.users["town_clerk"], user=cadre, reason="离职")
        cadre.refresh_from_db()
        assert not cadre.is_active
        from sunshine.core.testing import PASSWORD as WORLD_PASSWORD

        assert authenticate(rf.post("/"), username=cadre.username, password=WORLD_PASSWORD) is None
        entry = AuditEntry.objects.get(action="user.deactivate")
        assert entry.reason == "离职" and entry.object_id == str(cadre.pk)

    def test_account_outside_scope_cannot_be_deactivated(self, world):
        with pytest.raises(ServiceError, match="只能停用您管辖范围内的账号"):
            services.user_deactivate(
                actor=world.users["town_clerk"], user=world.users["outsider"], reason="x"
            )
        world.users["outsider"].refresh_from_db()
        assert world.users["outsider"].is_active


class TestPasswordRules:
    def test_a_short_password_is_refused_in_chinese(self, world):
        with pytest.raises(ServiceError) as exc:
            create(world, password="123")
        assert exc.value.field == "password" and "密码不符合要求" in exc.value.message
