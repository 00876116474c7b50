import pytest

from sunshine.core.errors import ServiceError
from sunshine.messaging import subscriptions
from sunshine.messaging.models import Message, Subscription
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
    def test_form_subscribes_and_works_without_javascript(self, client, world):
        resp = client.post(
            f"/p/{world.village.code}/subscribe/", {"mobile": "13800001111", "action": "subscribe"}
        )
        assert resp.status_code == 200 and "订阅成功" in resp.content.decode()
        assert Subscription.objects.filter(place=world.village, is_active=True).exists()

    def test_bad_mobile_shows_the_message_and_is_400(self, client, world):
        resp = client.post(
            f"/p/{world.village.code}/subscribe/", {"mobile": "123", "action": "subscribe"}
        )
        assert resp.status_code == 400 and "手机号码" in resp.content.decode()
