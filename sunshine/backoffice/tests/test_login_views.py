"""Two-factor log-in (issue 15 §4): after the password a member of staff in a role that sees
identifiers or health data gives a code from an authenticator app (or a one-time recovery
code), or adds an app first; wrong codes lock like wrong passwords; a password-only session
reaches no staff page, the admin nor the staff API."""

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from sunshine.core.models import AuditEntry
from sunshine.core.testing import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings):
    settings.SUNSHINE_REQUIRE_2FA = True


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The app's code now (or a step later: a code is accepted once, and within one step)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled(user, *, codes=("abcd2345", "efgh6789")) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="验证器", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    for c in codes:
        StaticToken.objects.create(device=static, token=c)
    return device


def password_step(client, username="town_clerk", **extra):
    return client.post("/staff/login/", {"username": username, "password": PASSWORD}, **extra)


def signed_in(client) -> bool:
    return client.get("/staff/").status_code == 200


class TestPasswordAlone:
    def test_password_alone_does_not_reach_staff_pages(self, client, world, required):
        response = password_step(client)
        assert response.status_code == 302 and response["Location"] == "/staff/login/enrol/"
        assert "_auth_user_id" not in client.session
        assert client.get("/staff/")["Location"].startswith("/staff/login/")
        assert AuditEntry.objects.filter(action="auth.password_ok").count() == 1
        assert not AuditEntry.objects.filter(action="auth.login").exists()

    def test_a_member_with_an_app_is_asked_for_the_code(self, client, world, required):
        enrolled(world.users["town_clerk"])
        assert password_step(client)["Location"] == "/staff/login/verify/"
        assert not signed_in(client)

    def test_observer_needs_no_second_factor(self, client, world, required):
        response = password_step(client, "observer")
        assert response["Location"] == "/staff/" and signed_in(client)

    def test_a_voluntary_app_is_asked_for_even_when_not_required(self, client, world):
        enrolled(world.users["observer"])
        assert password_step(client, "observer")["Location"] == "/staff/login/verify/"

    def test_nothing_changes_when_the_requirement_is_off(self, client, world):
        assert password_step(client)["Location"] == "/staff/" and signed_in(client)

    @pytest.mark.parametrize(
        ("path", "expected"),
        [("/staff/", 302), ("/admin/", 302), ("/api/staff/me", 401), ("/staff/people/", 302)],
    )
    def test_a_password_only_session_is_anonymous(self, client, world, required, path, expected):
        """Django's own `login()` (as the admin's form would call it) makes a session without
        the second factor: it reaches nothing."""
        client.force_login(world.users["county_admin"])
        assert client.get(path).status_code == expected

    def test_the_admin_login_form_sends_to_the_staff_login(self, client, world, required):
        response = client.get("/admin/login/?next=/admin/accounts/user/")
        assert response.status_code == 302
        assert response["Location"] == "/staff/login/?next=%2Fadmin%2Faccounts%2Fuser%2F"


class TestVerify:
    def test_the_right_code_signs_in_and_is_audited(self, client, world, required):
        device = enrolled(world.users["town_clerk"])
        password_step(client)
        response = client.post("/staff/login/verify/", {"code": code_for(device)})
        assert response.status_code == 302 and response["Location"] == "/staff/"
        assert signed_in(client)
        entry = AuditEntry.objects.get(action="auth.2fa_verify")
        assert entry.actor == world.users["town_clerk"] and entry.changes == {"device": "totp"}
        assert AuditEntry.objects.filter(action="auth.login").count() == 1

    def test_admin_opens_after_the_second_factor(self, client, world, required):
        device = enrolled(world.users["county_admin"])
        password_step(client, "county_admin")
        client.post("/staff/login/verify/", {"code": code_for(device)})
        assert client.get("/admin/").status_code == 200
        assert client.get("/api/staff/me").status_code == 200

    def test_next_is_kept_across_the_second_step(self, client, world, required):
        device = enrolled(world.users["town_clerk"])
        client.post(
            "/staff/login/",
            {"username": "town_clerk", "password": PASSWORD, "next": "/staff/places/"},
        )
        response = client.post("/staff/login/verify/", {"code": code_for(device)})
        assert response["Location"] == "/staff/places/"

    def test_a_recovery_code_works_once(self, client, world, required):
        enrolled(world.users["town_clerk"], codes=("abcd2345",))
        password_step(client)
        response = client.post("/staff/login/verify/", {"code": "ABCD 2345"})
        assert response["Location"] == "/staff/" and signed_in(client)
        entry = AuditEntry.objects.get(action="auth.2fa_verify")
        assert entry.changes == {"device": "recovery", "recovery_codes_left": 0}
        client.post("/staff/logout/")
        password_step(client)
        response = client.post("/staff/login/verify/", {"code": "abcd2345"})
        assert response.status_code == 200 and "验证码不正确或已用过" in response.content.decode()
        assert not signed_in(client)

    def test_wrong_codes_lock_even_the_right_code(self, client, world, required):
        device = enrolled(world.users["town_clerk"])
        password_step(client)
        for _ in range(4):
            response = client.post("/staff/login/verify/", {"code": "000000"})
            assert response.status_code == 200
        response = client.post("/staff/login/verify/", {"code": "000000"})
        assert response.status_code == 429 and "账号已暂时锁定" in response.content.decode()
        response = client.post("/staff/login/verify/", {"code": code_for(device, steps_ahead=1)})
        assert response.status_code == 429 and not signed_in(client)
        assert AuditEntry.objects.filter(action="auth.2fa_failed").count() == 5
        # The password step is locked for this user and address as well.
        assert password_step(client).status_code == 429

    def test_a_stale_password_step_starts_over(self, client, world, required, settings):
        enrolled(world.users["town_clerk"])
        password_step(client)
        settings.SUNSHINE_2FA_PENDING_SECONDS = -1
        assert client.get("/staff/login/verify/")["Location"] == "/staff/login/"

    def test_without_a_password_step_there_is_nothing_to_verify(self, client, world, required):
        assert client.get("/staff/login/verify/")["Location"] == "/staff/login/"
        assert client.get("/staff/login/enrol/")["Location"] == "/staff/login/"


class TestEnrol:
    def test_enrol_shows_a_qr_code_and_the_key_then_recovery_codes_once(
        self, client, world, required
    ):
        password_step(client)
        page = client.get("/staff/login/enrol/")
        html = page.content.decode()
        assert page.status_code == 200 and "<svg" in html and "绑定验证器" in html
        device = TOTPDevice.objects.get(user=world.users["town_clerk"], confirmed=False)
        secret = re.search(r'class="enrol-secret">([A-Z2-7 ]+)<', html).group(1)
        from base64 import b32encode

        assert secret.replace(" ", "") == b32encode(device.bin_key).decode()
        # Reloading shows the same key, not a new device.
        client.get("/staff/login/enrol/")
        assert TOTPDevice.objects.filter(user=world.users["town_clerk"]).count() == 1

        response = client.post("/staff/login/enrol/", {"code": code_for(device)})
        assert response["Location"] == "/staff/login/recovery-codes/"
        codes_page = client.get("/staff/login/recovery-codes/")
        codes = re.findall(r"<code>([a-z2-7]{8})</code>", codes_page.content.decode())
        assert len(codes) == 10 and codes_page["Cache-Control"].startswith("max-age=0")
        assert client.get("/staff/login/recovery-codes/")["Location"] == "/staff/"
        assert signed_in(client)
        actions = list(
            AuditEntry.objects.filter(action__startswith="auth.").values_list("action", flat=True)
        )
        for action in ("auth.password_ok", "auth.2fa_enrol_start", "auth.2fa_enrol", "auth.login"):
            assert action in actions

        client.post("/staff/logout/")
        password_step(client)
        assert client.post("/staff/login/verify/", {"code": codes[3]})["Location"] == "/staff/"

    def test_a_wrong_first_code_does_not_bind(self, client, world, required):
        password_step(client)
        client.get("/staff/login/enrol/")
        response = client.post("/staff/login/enrol/", {"code": "12345"})
        assert response.status_code == 200 and "验证码不正确" in response.content.decode()
        assert not TOTPDevice.objects.filter(confirmed=True).exists()
        assert AuditEntry.objects.filter(action="auth.2fa_failed").count() == 1
        assert not signed_in(client)

    def test_the_recovery_code_page_needs_a_fresh_enrolment(self, client, world):
        client.force_login(world.users["town_clerk"])
        assert client.get("/staff/login/recovery-codes/")["Location"] == "/staff/"
        client.logout()
        assert client.get("/staff/login/recovery-codes/")["Location"] == "/staff/login/"
