"""One protection for every public form (sunshine.core.publicforms, docs/public-forms.md):
every public POST counts against the visitor's (proxy-aware) address, meets a picture
challenge after a few posts, stops at an hourly limit, and a mobile named too often in a day
is refused whatever the address."""

import re

import pytest
from django.utils import timezone

from sunshine.messaging.models import Message, Subscription, VerificationCode
from sunshine.precheck.models import Registration
from sunshine.precheck.tests.desk_helpers import id_number, institution, slot
from sunshine.publishing.models import Objection
from sunshine.rhregistry import rules as rh_rules
from sunshine.rhregistry import testing as rh
from sunshine.rhregistry.models import Donor

pytestmark = pytest.mark.django_db

REGISTER = "/precheck/register/"
CAPTCHA_IMAGE = re.compile(r'<img src="(/captcha/image/(\w+)/)"')


def _registration(world, s, n, *, mobile=None):
    """A valid public registration of a different couple each time."""
    return {
        "town": world.town.code,
        "village": world.village.code,
        "woman_name": "王小红",
        "woman_id_number": id_number(
            female=True, n=n, birth=f"1990{1 + n // 28:02d}{1 + n % 28:02d}"
        ),
        "woman_mobile": mobile or f"1390000{n:04d}",
        "man_name": "李大明",
        "man_id_number": id_number(female=False, n=n, birth="19900101"),
        "planned_month": "2027-03",
        "consent_data": "on",
        "slot": str(s.pk),
    }


def _solve(html: str) -> dict:
    """Answer the page's picture challenge as a person would: read the picture (here, the
    library's own record of what it shows)."""
    from captcha.models import CaptchaStore

    key = CAPTCHA_IMAGE.search(html).group(2)
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


# Each public form: its URL, a valid post, and what that post writes.
def _objection(world):
    from sunshine.publishing.tests.test_services import notice

    item = notice(world, now=timezone.now())
    return f"/i/{item.public_id}/", lambda n: {"text": f"第{n}条异议：名单有误"}, Objection


def _register(world):
    s = slot(institution(world), capacity=500)
    url = f"{REGISTER}?town={world.town.code}"
    return url, lambda n: _registration(world, s, n), Registration


def _rh_join(world):
    def data(n):
        return {
            "name": "陈熊猫",
            "id_number": rh.id_number(),
            "mobile": f"1371234{n:04d}",
            "abo": "AB",
            "rhd": "neg",
            "consent_scope": [rh_rules.EMERGENCY],
            "place": world.village.code,
            "consent": "on",
        }

    return "/rh/join/", data, Donor


def _rh_withdraw(world):
    d = rh.donor(world.village, mobile="13712340000")
    return (
        "/rh/withdraw/",
        lambda n: {"id_number": d.id_number, "mobile": f"1371234{n:04d}", "step": "send"},
        VerificationCode,
    )


def _subscribe(world):
    return (
        f"/p/{world.village.code}/subscribe/",
        lambda n: {"mobile": f"1380000{n:04d}", "action": "subscribe"},
        VerificationCode,
    )


FORMS = {
    "objection": _objection,
    "precheck-register": _register,
    "rh-join": _rh_join,
    "rh-withdraw": _rh_withdraw,
    "board-subscribe": _subscribe,
}


@pytest.mark.parametrize("name", FORMS)
class TestEveryPublicForm:
    def test_after_a_few_posts_the_challenge_appears_and_a_post_without_it_writes_nothing(
        self, client, world, settings, name
    ):
        url, data, model = FORMS[name](world)
        before = model.objects.count()
        assert "/captcha/image/" not in client.get(url).content.decode()
        for n in range(settings.SUNSHINE_FORM_CAPTCHA_AFTER):
            response = client.post(url, data(n))
            assert response.status_code in (200, 302), response.content.decode()[-3000:]
        written = model.objects.count()
        assert written == before + settings.SUNSHINE_FORM_CAPTCHA_AFTER
        page = client.get(url).content.decode()
        assert "/captcha/image/" in page and "请输入图中的字符" in page
        body = client.post(url, data(90)).content.decode()
        assert "请输入图中的字符" in body and CAPTCHA_IMAGE.search(body)
        assert model.objects.count() == written

    def test_with_the_challenge_answered_the_post_goes_through(self, client, world, settings, name):
        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 0
        url, data, model = FORMS[name](world)
        before = model.objects.count()
        wrong = client.post(
            url, {**data(1), **_solve(client.get(url).content.decode()), "captcha_1": "XXXX"}
        )
        assert "图中的字符输入不对" in wrong.content.decode()
        assert model.objects.count() == before
        response = client.post(url, {**data(2), **_solve(client.get(url).content.decode())})
        assert response.status_code in (200, 302)
        assert model.objects.count() == before + 1

    def test_a_new_picture_keeps_what_was_typed_and_submits_nothing(
        self, client, world, settings, name
    ):
        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 0
        url, data, model = FORMS[name](world)
        before = model.objects.count()
        first = CAPTCHA_IMAGE.search(client.get(url).content.decode()).group(2)
        posted = data(3)
        body = client.post(url, {**posted, "captcha_refresh": "1"}).content.decode()
        assert CAPTCHA_IMAGE.search(body).group(2) != first
        typed = posted.get("mobile") or posted.get("woman_mobile") or posted.get("text")
        assert f"{typed}" in body
        assert model.objects.count() == before

    def test_an_address_over_its_hourly_limit_is_told_how_long_to_wait(
        self, client, world, settings, name
    ):
        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 100
        settings.SUNSHINE_FORM_POSTS_PER_HOUR = 2
        url, data, model = FORMS[name](world)
        for n in range(2):
            client.post(url, data(n))
        written = model.objects.count()
        body = client.post(url, data(5)).content.decode()
        assert re.search(r"提交过于频繁，请\d+分钟后再试", body)
        assert model.objects.count() == written


class TestRegistrationBurst:
    """Issue 15: 124 bookings from one address in 10 s filled 13 slots."""

    def test_a_burst_from_one_address_books_only_until_the_challenge(self, client, world, settings):
        s = slot(institution(world), capacity=500)
        statuses = [
            client.post(REGISTER, _registration(world, s, n)).status_code for n in range(124)
        ]
        assert Registration.objects.count() == settings.SUNSHINE_FORM_CAPTCHA_AFTER == 3
        assert statuses[:3] == [302, 302, 302] and set(statuses[3:]) == {200}

    def test_even_a_script_that_answers_the_challenge_stops_at_the_hourly_limit(
        self, client, world, settings
    ):
        s = slot(institution(world), capacity=500)
        refused = ""
        for n in range(40):
            page = client.get(REGISTER, {"town": world.town.code}).content.decode()
            answer = _solve(page) if CAPTCHA_IMAGE.search(page) else {}
            response = client.post(REGISTER, {**_registration(world, s, n), **answer})
            if response.status_code == 200:
                refused = response.content.decode()
                break
        assert Registration.objects.count() == settings.SUNSHINE_FORM_POSTS_PER_HOUR == 20
        assert re.search(r"提交过于频繁，请\d+分钟后再试", refused)

    def test_one_mobile_is_limited_per_day_whatever_the_address(self, client, world, settings):
        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 100
        s = slot(institution(world), capacity=500)
        limit = settings.SUNSHINE_FORM_POSTS_PER_MOBILE_PER_DAY
        for n in range(limit):
            data = _registration(world, s, n, mobile="13900001234")
            assert client.post(REGISTER, data, REMOTE_ADDR=f"10.1.0.{n}").status_code == 302
        data = _registration(world, s, 50, mobile="139 0000 1234")
        body = client.post(REGISTER, data, REMOTE_ADDR="10.1.1.1").content.decode()
        assert "这个手机号码提交次数过多" in body
        assert Registration.objects.count() == limit


class TestBehindAProxy:
    """The limits count visitors, not the proxy: with SUNSHINE_TRUSTED_PROXIES, two visitors
    behind it are two addresses; without it, a forwarded header changes nothing."""

    def _burst(self, client, world, s, forwarded, first):
        for n in range(first, first + 3):
            client.post(
                REGISTER,
                _registration(world, s, n),
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=forwarded,
            )

    def _challenged(self, client, world, forwarded) -> bool:
        page = client.get(
            REGISTER,
            {"town": world.town.code},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        return "/captcha/image/" in page.content.decode()

    def test_two_visitors_behind_a_trusted_proxy_are_counted_apart(self, client, world, settings):
        settings.SUNSHINE_TRUSTED_PROXIES = ["10.0.0.1"]
        s = slot(institution(world), capacity=500)
        self._burst(client, world, s, "203.0.113.7", 0)
        assert self._challenged(client, world, "203.0.113.7")
        assert not self._challenged(client, world, "198.51.100.2")

    def test_an_untrusted_sender_cannot_escape_by_forging_the_header(self, client, world):
        s = slot(institution(world), capacity=500)
        self._burst(client, world, s, "203.0.113.7", 0)
        assert self._challenged(client, world, "198.51.100.2")


class TestSubscriptionNeedsTheCode:
    def test_anyone_subscribing_someone_else_gets_nothing_without_the_code(self, client, world):
        url = f"/p/{world.village.code}/subscribe/"
        client.post(url, {"mobile": "13800001111", "action": "subscribe"})
        client.post(
            url,
            {"mobile": "13800001111", "action": "subscribe", "step": "confirm", "code": "111111"},
        )
        assert not Subscription.objects.exists()
        assert Message.objects.filter(programme="verification", mobile="13800001111").count() == 1


class TestThePicture:
    def test_the_challenge_picture_is_drawn_with_the_configured_font(self, client, world, settings):
        from pathlib import Path

        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 0
        url = f"/p/{world.village.code}/subscribe/"
        image = CAPTCHA_IMAGE.search(client.get(url).content.decode()).group(1)
        response = client.get(image)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert (
            b"".join(response.streaming_content if response.streaming else [response.content])[:4]
            == b"\x89PNG"
        )
        assert Path(settings.CAPTCHA_FONT_PATH).is_file()
