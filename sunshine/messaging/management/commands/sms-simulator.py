"""`sunshine sms-simulator`: run the local SMS provider (see simulator_server for its API)."""

import signal
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sunshine.messaging.backends import callback_urls
from sunshine.messaging.simulator_server import start_server


def _share(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "启动本地短信模拟器：接收发送请求、推送回执、模拟上行回复（Ctrl-C 停止）。"

    def add_arguments(self, parser):
        default = urlsplit(settings.SUNSHINE_SMS_SIMULATOR_URL)
        parser.add_argument("--host", default=default.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=default.port or 8025)
        parser.add_argument(
            "--platform",
            metavar="URL",
            default="",
            help="把回执和上行推送到这个地址上的本平台（如 http://127.0.0.1:8000），"
            "地址中的密钥取自本平台的设置；--receipts-url/--replies-url 可再单独指定",
        )
        parser.add_argument(
            "--receipts-url",
            default=getattr(settings, "SUNSHINE_SMS_SIMULATOR_RECEIPTS_URL", ""),
            help="平台接收状态报告（SmsReport）的地址；不设则不推送回执",
        )
        parser.add_argument(
            "--replies-url",
            default=getattr(settings, "SUNSHINE_SMS_SIMULATOR_REPLIES_URL", ""),
            help="平台接收上行短信（SmsUp）的地址",
        )
        parser.add_argument("--fail-rate", type=_share, default=0.0, help="失败比例 0–1")
        parser.add_argument("--receipt-delay", type=float, default=1.0, help="回执延迟（秒）")
        parser.add_argument("--seed", type=int, default=None, help="随机种子（结果可重现）")
        parser.add_argument(
            "--repeat-receipts",
            type=_share,
            nargs="?",
            const=0.1,
            default=0.0,
            help="重复推送回执的比例（不带值为 0.1），真实服务商也会重复推送",
        )
        parser.add_argument(
            "--error-rate", type=_share, default=0.0, help="整次请求返回 503 的比例 0–1"
        )
        parser.add_argument("--verbose", action="store_true", help="逐条打印 HTTP 请求")

    def handle(self, *args, host, port, receipt_delay, **opts):
        if receipt_delay < 0:
            raise CommandError("--receipt-delay 不能为负数。")
        if opts["platform"]:
            receipts, replies = callback_urls(opts["platform"])
            opts["receipts_url"] = opts["receipts_url"] or receipts
            opts["replies_url"] = opts["replies_url"] or replies
        try:
            server, _ = start_server(
                host,
                port,
                receipts_url=opts["receipts_url"],
                replies_url=opts["replies_url"],
                fail_rate=opts["fail_rate"],
                receipt_delay=receipt_delay,
                seed=opts["seed"],
                repeat_receipts=opts["repeat_receipts"],
                error_rate=opts["error_rate"],
                verbose=opts["verbose"],
            )
        except OSError as exc:
            raise CommandError(f"无法在 {host}:{port} 启动短信模拟器：{exc}") from exc
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write(f"短信模拟器已启动：{server.url}/   统计：{server.url}/stats")
        if not opts["receipts_url"]:
            self.stdout.write("未设置 --receipts-url：不推送状态报告。")
        self.stdout.write("按 Ctrl-C 停止。")
        while not stop.wait(0.5):
            pass
        server.stop()
        self.stdout.write("短信模拟器已停止。")
