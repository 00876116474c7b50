"""Which roles must sign in with a second factor (issue 15 §4)."""

import pytest

from sunshine.accounts import roles


@pytest.mark.parametrize(
    "capability",
    ["people.identifiers", "precheck.health", "rh.registry", "audit.view", "admin.use"],
)
def test_every_role_that_sees_identifiers_health_data_or_runs_the_system_needs_it(capability):
    for role in roles.ROLE_LABELS:
        if roles.has_capability(role, capability):
            assert roles.needs_two_factor(role), (role, capability)


def test_the_observer_alone_signs_in_with_the_password():
    exempt = [r for r in roles.ROLE_LABELS if not roles.needs_two_factor(r)]
    assert exempt == [roles.OBSERVER]


def test_superusers_always_need_it():
    assert roles.needs_two_factor("", is_superuser=True)
    assert not roles.needs_two_factor("")
