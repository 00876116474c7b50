import pytest

from sunshine.core.errors import ServiceError
from sunshine.messaging import rules, subscriptions
from sunshine.messaging.models import Message, Subscription
from sunshine.messaging.testing import sms_code
from sunshine.publishing import services as publishing
from sunshine.publishing.models import Category

pytestmark = pytest.mark.django_db


def publish(world, levels):
    item = publishing.item_create(
        actor=world.users["town_clerk"],
        category=Category.objects.get(code="procedures"),
        place=world.town,
        title="生育登记办事指南",
        levels=levels,
    )
    publishing.item_submit(actor=world.users["town_clerk"], item=item)
    return publishing.item_publish(actor=world.users["county_clerk"], item=item)


class TestSubscribe:
    def test_a_bad_mobile_is_refused_in_chinese(self, world):
        with pytest.raises(ServiceError, match="手机号码"):
            subscriptions.subscribe(place=world.village, mobile="12345")

    def test_subscribing_twice_keeps_one_row_and_unsubscribe_stops_it(self, world):
        subscriptions.subscribe(place=world.village, mobile="13800001111")
        subscriptions.subscribe(place=world.village, mobile="13800001111")
        assert Subscription.objects.count() == 1
        assert subscriptions.unsubscribe(place=world.village, mobile="13800001111") == 1


class TestPublicationChannel:
    def test_subscribers_of_the_boards_that_show_the_item_get_one_notice_each(
        self, world, django_capture_on_commit_callbacks
    ):
        group = world.place("980101100001001")
        subscriptions.subscribe(place=world.town, mobile="13800000001")  # own board
        subscriptions.subscribe(place=group, mobile="13800000002")  # a group: targeted
        subscriptions.subscribe(
            place=world.village, mobile="13800000003"
        )  # village level: not targeted
        subscriptions.subscribe(place=world.other_village, mobile="13800000004")  # another town
        subscriptions.subscribe(place=world.town, mobile="13800000002")  # also on the town board
        with django_capture_on_commit_callbacks(execute=True):
            item = publish(world, ["group"])
        mobiles = sorted(
            Message.objects.filter(programme="publishing").values_list("mobile", flat=True)
        )
        assert mobiles == ["13800000001", "13800000002"]
        body = Message.objects.filter(programme="publishing").first().body
        assert "生育登记办事指南" in body and f"/i/{item.public_id}/" in body and "【" not in body

    def test_broadcasting_again_sends_nothing_twice(
        self, world, django_capture_on_commit_callbacks
    ):
        subscriptions.subscribe(place=world.town, mobile="13800000001")
        with django_capture_on_commit_callbacks(execute=True):
            item = publish(world, [])
        assert subscriptions.broadcast_publication(item) == 0
        assert Message.objects.filter(programme="publishing").count() == 1


class TestSubscribePage:
    @pytest.fixture(autouse=True)
    def _no_challenge(self, settings):
        """Several posts from one address: the picture challenge is tested in
        tests/test_public_forms.py."""
        settings.SUNSHINE_FORM_CAPTCHA_AFTER = 100

    def _post(self, client, world, **data):
        return client.post(f"/p/{world.village.code}/subscribe/", data)

    def _confirm(self, client, world, mobile, action, *, code=None):
        """The two steps, as a visitor without JavaScript: ask for a code, then bring it back."""
        sent = self._post(client, world, mobile=mobile, action=action)
        assert "验证码已发到" in sent.content.decode()
        code = code if code is not None else sms_code(mobile)
        return self._post(client, world, mobile=mobile, action=action, code=code, step="confirm")

    def test_form_subscribes_with_the_code_and_works_without_javascript(self, client, world):
        resp = self._confirm(client, world, "13800001111", "subscribe")
        assert resp.status_code == 200 and "订阅成功" in resp.content.decode()
        assert Subscription.objects.filter(place=world.village, is_active=True).exists()

    def test_the_code_is_an_instant_message_about_this_board(self, client, world):
        self._post(client, world, mobile="13800001111", action="subscribe")
        sms = Message.objects.get(programme="verification")
        assert sms.category == rules.INSTANT and sms.status == rules.QUEUED
        assert "订阅" in sms.body and world.village.name in sms.body

    def test_asking_for_a_code_subscribes_nobody(self, client, world):
        self._post(client, world, mobile="13800001111", action="subscribe")
        assert not Subscription.objects.exists()

    def test_nobody_can_subscribe_or_unsubscribe_a_number_without_its_code(self, client, world):
        subscriptions.subscribe(place=world.village, mobile="13800002222")
        for action in ("subscribe", "unsubscribe"):
            data = {"mobile": "13800002222", "action": action, "step": "confirm"}
            assert "请输入短信验证码" in self._post(client, world, **data).content.decode()
            body = self._post(client, world, **data, code="000000").content.decode()
            assert "验证码错误或已过期" in body
        assert Subscription.objects.filter(mobile="13800002222", is_active=True).count() == 1
        assert not Subscription.objects.exclude(mobile="13800002222").exists()

    def test_a_code_for_subscribing_does_not_unsubscribe(self, client, world):
        subscriptions.subscribe(place=world.village, mobile="13800002222")
        self._post(client, world, mobile="13800002222", action="subscribe")
        code = sms_code("13800002222")
        resp = self._post(
            client, world, mobile="13800002222", action="unsubscribe", code=code, step="confirm"
        )
        assert "验证码错误或已过期" in resp.content.decode()
        assert Subscription.objects.get(mobile="13800002222").is_active

    def test_unsubscribe_with_the_code_stops_the_notices(self, client, world):
        subscriptions.subscribe(place=world.village, mobile="13800002222")
        resp = self._confirm(client, world, "13800002222", "unsubscribe")
        assert "已取消订阅" in resp.content.decode()
        assert not Subscription.objects.get(mobile="13800002222").is_active

    def test_bad_mobile_shows_the_message_and_is_400(self, client, world):
        resp = self._post(client, world, mobile="123", action="subscribe")
        assert resp.status_code == 400 and "手机号码" in resp.content.decode()
        assert not Message.objects.exists()
