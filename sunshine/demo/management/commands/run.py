"""Run the platform: the web server and the task worker together; Ctrl-C stops all of it."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "同时启动网站和后台任务进程（Ctrl-C 全部停止）。"

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("SUNSHINE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--web-workers", type=int, default=int(os.environ.get("SUNSHINE_WEB_WORKERS", "1"))
        )

    def _simulator(self, python, manage, host, port):
        """The embedded default's SMS gateway: a local HTTP simulator that posts receipts and
        replies back to this server, as a provider would."""
        from urllib.parse import urlparse

        sim = urlparse(settings.SUNSHINE_SMS_SIMULATOR_URL)
        return subprocess.Popen(
            [
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
            ],
            cwd=settings.BASE_DIR,
        )

    def handle(self, *args, host, port, web_workers, **opts):
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        procs = {
            "网站": subprocess.Popen(
                [
                    python,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(web_workers),
                    "--access-logfile",
                    "-",
                    "--logger-class",  # the SMS callback secret stays out of the log
                    "sunshine.messaging.accesslog.TokenMaskingLogger",
                    "--graceful-timeout",
                    "5",
                ],
                cwd=settings.BASE_DIR,
            ),
            "任务进程": subprocess.Popen(
                [python, manage, "run_huey", "--quiet"], cwd=settings.BASE_DIR
            ),
        }
        if settings.SUNSHINE_SMS_BACKEND == "simulator":
            procs["短信模拟器"] = self._simulator(python, manage, host, port)
        self.stdout.write(
            f"阳光计生已启动：http://{host}:{port}/   工作台：http://{host}:{port}/staff/"
        )
        if "短信模拟器" in procs:
            self.stdout.write(
                f"短信模拟器：{settings.SUNSHINE_SMS_SIMULATOR_URL}/（收到的短信、模拟回复）"
            )
        self.stdout.write("按 Ctrl-C 停止。")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(
                            f"{name}意外退出（代码 {proc.returncode}），正在停止全部进程。"
                        )
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            deadline = time.time() + 10
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.stdout.write("已停止。")
