"""What each role may do (user.can) and how a staff member is shown."""

import pytest

from sunshine.accounts import roles
from sunshine.accounts.models import User

ALL_CAPABILITIES = sorted(set().union(*roles.CAPABILITIES.values()))


class TestCan:
    @pytest.mark.parametrize("role", [r for r, _ in roles.ROLE_CHOICES])
    @pytest.mark.parametrize("capability", ALL_CAPABILITIES)
    def test_each_role_has_exactly_its_capabilities(self, role, capability):
        user = User(username="u", role=role)
        assert user.can(capability) is (capability in roles.CAPABILITIES[role])

    @pytest.mark.parametrize(
        "role,capability,allowed",
        [
            (roles.COUNTY_ADMIN, "admin.use", True),
            (roles.COUNTY_CLERK, "admin.use", False),
            (roles.TOWN_CLERK, "places.change", True),
            (roles.VILLAGE_CADRE, "places.change", False),
            (roles.DISCIPLINE_INSPECTOR, "audit.view", True),
            (roles.TOWN_CLERK, "audit.view", False),
            (roles.OBSERVER, "staff.view", False),
        ],
    )
    def test_key_permissions(self, role, capability, allowed):
        assert User(username="u", role=role).can(capability) is allowed

    def test_every_role_may_view_places(self):
        assert all(User(username="u", role=r).can("places.view") for r in roles.ROLE_LABELS)

    def test_inactive_user_can_nothing(self):
        user = User(username="u", role=roles.COUNTY_ADMIN, is_active=False, is_superuser=True)
        assert not any(user.can(c) for c in ALL_CAPABILITIES)

    def test_superuser_can_everything_even_without_a_role(self):
        user = User(username="u", is_superuser=True)
        assert all(user.can(c) for c in [*ALL_CAPABILITIES, "future.capability"])

    def test_user_without_a_role_can_nothing(self):
        assert not User(username="u").can("places.view")

    def test_unknown_capability_is_refused(self):
        assert not User(username="u", role=roles.COUNTY_ADMIN).can("places.delete")


class TestDisplay:
    def test_full_name_is_shown_else_username(self):
        assert str(User(username="u", full_name="张三")) == "张三"
        assert str(User(username="u")) == "u"
        assert User(username="u", full_name="张三").get_full_name() == "张三"

    def test_role_label_is_chinese_and_superuser_is_named(self):
        assert User(username="u", role=roles.TOWN_CLERK).role_label == "乡镇工作人员"
        assert User(username="u", is_superuser=True).role_label == "超级管理员"
        assert User(username="u").role_label == ""
