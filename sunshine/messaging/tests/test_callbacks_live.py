"""The simulator pushing receipts to a running platform at the generated secret address, as
`sunshine run` wires it: every receipt is applied, even one that overtakes the worker's
record of the send (answered 503, pushed again)."""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from sunshine.messaging import rules, services
from sunshine.messaging.backends import callback_urls
from sunshine.messaging.backends.simulator import SimulatorGateway
from sunshine.messaging.models import Message
from sunshine.messaging.simulator_server import start_server

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.django_db(transaction=True)
def test_receipts_pushed_by_the_simulator_are_applied(live_server, settings):
    receipts, replies = callback_urls(live_server.url)
    server, _ = start_server(
        port=0, receipt_delay=0, push_backoff=0.05, receipts_url=receipts, replies_url=replies
    )
    settings.SUNSHINE_SMS_SIMULATOR_URL = server.url  # for the worker nudged at commit
    settings.SUNSHINE_SMS_QUIET_START = settings.SUNSHINE_SMS_QUIET_END = "00:00"
    try:
        with transaction.atomic():
            for i in range(20):
                services.message_enqueue(
                    programme="test", mobile=f"1380000{i:04d}", body="请按时复查。", now=NOW
                )
        gateway = SimulatorGateway(url=server.url, timeout=5)
        services.dispatch_batch(worker="w", now=timezone.now(), gateway=gateway)
        assert server.state.stats()["unique"] == 20
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if Message.objects.filter(status=rules.DELIVERED).count() == 20:
                break
            time.sleep(0.05)
        assert Message.objects.filter(status=rules.DELIVERED).count() == 20
        assert server.state.stats()["receipts_failed"] == 0
    finally:
        server.stop()
