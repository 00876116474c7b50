"""Log-in lockouts (issue 15 §4): a lockout holds one user name from one address, so nobody
can lock a named colleague out from elsewhere; the address is core.middleware.client_ip (the
proxy-aware one); the county admin lists current lockouts and unlocks one, and resets a lost
authenticator, each audited."""

import pytest
from axes.models import AccessAttempt
from django_otp.plugins.otp_totp.models import TOTPDevice

from sunshine.core.models import AuditEntry
from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.django_db

HERE, ELSEWHERE = "198.51.100.7", "203.0.113.20"


def attempt(client, password, *, ip=HERE, username="town_clerk"):
    return client.post(
        "/staff/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def lock(client, *, ip=HERE, username="town_clerk"):
    for i in range(5):
        attempt(client, f"wrong-{i}", ip=ip, username=username)
    assert attempt(client, PASSWORD, ip=ip, username=username).status_code == 429


class TestLockoutByUserAndAddress:
    def test_another_address_can_still_log_in_as_the_locked_user(self, client, world):
        lock(client, ip=HERE)
        response = attempt(client, PASSWORD, ip=ELSEWHERE)
        assert response.status_code == 302 and response["Location"] == "/staff/"

    def test_another_user_at_the_locked_address_is_not_locked(self, client, world):
        lock(client, ip=HERE)
        response = attempt(client, PASSWORD, ip=HERE, username="village_cadre")
        assert response.status_code == 302

    def test_the_address_comes_from_the_sites_client_ip_function(self, client, world, monkeypatch):
        """Behind a proxy every request has the proxy's REMOTE_ADDR: axes must count by the
        address client_ip gives (here: a test header), or one attacker locks everyone."""
        from sunshine.core import middleware

        monkeypatch.setattr(
            middleware, "client_ip", lambda request: request.META.get("HTTP_X_TEST_CLIENT", "")
        )
        for i in range(5):
            client.post(
                "/staff/login/",
                {"username": "town_clerk", "password": f"wrong-{i}"},
                HTTP_X_TEST_CLIENT=HERE,
            )
        assert AccessAttempt.objects.get().ip_address == HERE
        response = client.post(
            "/staff/login/",
            {"username": "town_clerk", "password": PASSWORD},
            HTTP_X_TEST_CLIENT=ELSEWHERE,
        )
        assert response.status_code == 302


class TestLockoutList:
    def test_county_admin_sees_the_lockout_and_unlocks_it(self, client, world):
        lock(client, ip=HERE)
        client.force_login(world.users["county_admin"])
        page = client.get("/staff/lockouts/").content.decode()
        assert "town_clerk" in page and HERE in page
        pk = AccessAttempt.objects.get(username="town_clerk").pk
        response = client.post(f"/staff/lockouts/{pk}/unlock/")
        assert response.status_code == 302 and response["Location"] == "/staff/lockouts/"
        assert not AccessAttempt.objects.filter(username="town_clerk").exists()
        entry = AuditEntry.objects.get(action="auth.unlock")
        assert entry.actor == world.users["county_admin"]
        assert entry.object_id == str(world.users["town_clerk"].pk)
        assert entry.changes["ip"] == HERE
        client.logout()
        assert attempt(client, PASSWORD, ip=HERE).status_code == 302

    def test_a_few_failures_are_not_a_lockout(self, client, world):
        attempt(client, "wrong", ip=HERE)
        client.force_login(world.users["county_admin"])
        assert "现在没有被锁定的登录" in client.get("/staff/lockouts/").content.decode()

    @pytest.mark.parametrize(
        "role", ["county_clerk", "town_clerk", "village_cadre", "discipline_inspector"]
    )
    def test_other_roles_are_refused(self, client, world, role):
        lock(client, ip=HERE)
        pk = AccessAttempt.objects.get().pk
        client.force_login(world.users[role])
        assert client.get("/staff/lockouts/").status_code == 403
        assert client.post(f"/staff/lockouts/{pk}/unlock/").status_code == 403
        assert AccessAttempt.objects.filter(pk=pk).exists()

    def test_anonymous_is_sent_to_login(self, client, world):
        assert client.get("/staff/lockouts/")["Location"].startswith("/staff/login/")

    def test_another_countys_admin_neither_sees_nor_unlocks_it(self, client, world):
        lock(client, ip=HERE)
        pk = AccessAttempt.objects.get().pk
        client.force_login(world.users["other_county_admin"])
        assert "town_clerk" not in client.get("/staff/lockouts/").content.decode()
        assert client.post(f"/staff/lockouts/{pk}/unlock/").status_code == 404
        assert AccessAttempt.objects.filter(pk=pk).exists()

    def test_unlock_is_post_only(self, client, world):
        lock(client, ip=HERE)
        pk = AccessAttempt.objects.get().pk
        client.force_login(world.users["county_admin"])
        assert client.get(f"/staff/lockouts/{pk}/unlock/").status_code == 405


class TestTwoFactorReset:
    def enrol(self, user):
        return TOTPDevice.objects.create(user=user, name="验证器", confirmed=True)

    def test_county_admin_resets_a_lost_authenticator(self, client, world, settings):
        clerk = world.users["town_clerk"]
        self.enrol(clerk)
        client.force_login(world.users["county_admin"])
        assert "已绑定验证器" in client.get(f"/staff/users/{clerk.pk}/").content.decode()
        response = client.post(f"/staff/users/{clerk.pk}/two-factor/reset/", {"reason": "手机丢失"})
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=clerk).exists()
        entry = AuditEntry.objects.get(action="auth.2fa_reset")
        assert entry.actor == world.users["county_admin"] and entry.reason == "手机丢失"
        settings.SUNSHINE_REQUIRE_2FA = True
        client.logout()
        assert attempt(client, PASSWORD)["Location"] == "/staff/login/enrol/"

    def test_another_countys_admin_gets_404(self, client, world):
        clerk = world.users["town_clerk"]
        self.enrol(clerk)
        client.force_login(world.users["other_county_admin"])
        assert client.post(f"/staff/users/{clerk.pk}/two-factor/reset/").status_code == 404
        assert TOTPDevice.objects.filter(user=clerk).exists()

    def test_a_clerk_who_may_view_staff_cannot_reset(self, client, world):
        clerk = world.users["town_clerk"]
        self.enrol(clerk)
        client.force_login(world.users["county_clerk"])
        page = client.get(f"/staff/users/{clerk.pk}/").content.decode()
        assert "重置两步验证" not in page
        assert client.post(f"/staff/users/{clerk.pk}/two-factor/reset/").status_code == 403
        assert TOTPDevice.objects.filter(user=clerk).exists()
