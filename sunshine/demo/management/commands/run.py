"""Run the platform: the web server, the task worker and (by default) the SMS simulator,
supervised — a child that dies is started again while the others keep serving; Ctrl-C or
SIGTERM stops all of it."""

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from sunshine.demo.supervisor import Supervisor


class Command(BaseCommand):
    help = "同时启动网站和后台任务进程（某个进程意外退出会自动重启；Ctrl-C 全部停止）。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("SUNSHINE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        # Two sync workers: a long request (a big page, an upload) holds one worker while the
        # other keeps answering the portal; on 2 cores sync workers serve a small page about
        # twice as fast as threads (README, "Stack").
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("SUNSHINE_WEB_WORKERS", "2"))
        )

    def _simulator(self, python, manage, host, port) -> list[str]:
        """The embedded default's SMS gateway: a local HTTP simulator that posts receipts and
        replies back to this server, as a provider would."""
        from urllib.parse import urlparse

        sim = urlparse(settings.SUNSHINE_SMS_SIMULATOR_URL)
        return [
            python,
            manage,
            "sms-simulator",
            "--host",
            sim.hostname or "127.0.0.1",
            "--port",
            str(sim.port or 8025),
            # it reads the callback secret from the settings: not on a command line
            "--platform",
            f"http://{host}:{port}",
        ]

    def handle(self, *args, host, port, web_workers, **opts):
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        children = {
            "网站": [
                python,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(max(1, web_workers)),
                "--access-logfile",
                "-",
                "--logger-class",  # the SMS callback secret stays out of the log
                "sunshine.messaging.accesslog.TokenMaskingLogger",
                "--graceful-timeout",
                "5",
            ],
            "任务进程": [python, manage, "run_huey", "--quiet"],
        }
        if settings.SUNSHINE_SMS_BACKEND == "simulator":
            children["短信模拟器"] = self._simulator(python, manage, host, port)

        def log(line: str) -> None:
            self.stderr.write(line)
            self.stderr.flush()

        supervisor = Supervisor(children, cwd=settings.BASE_DIR, log=log)
        self.stdout.write(
            f"阳光计生已启动：http://{host}:{port}/   工作台：http://{host}:{port}/staff/"
        )
        if "短信模拟器" in children:
            self.stdout.write(
                f"短信模拟器：{settings.SUNSHINE_SMS_SIMULATOR_URL}/（收到的短信、模拟回复）"
            )
        self.stdout.write("某个进程意外退出时会自动重新启动。按 Ctrl-C 停止。")
        self.stdout.flush()
        supervisor.run()
        self.stdout.write("已停止。")
