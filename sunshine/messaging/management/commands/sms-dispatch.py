import gc
import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from sunshine.messaging import services, tasks

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "发送到期的短信。--loop 一直运行（可以多个进程同时运行）。"

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--idle", type=float, default=0.5, help="没有到期短信时等待的秒数")

    def handle(self, *args, loop, idle, **opts):
        stop = False

        def on_signal(*_):
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        total = 0
        # Everything loaded so far (Django, the apps, the URL tree) lives as long as the
        # process: out of the collector's sight, a full collection no longer walks it. The
        # loop allocates tens of thousands of short-lived containers a second (a claim of 500
        # decodes to a thousand lists and dicts), none of them in a cycle: the youngest
        # generation is collected every 50,000 allocations, not every 700.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        while not stop:
            try:
                n = services.dispatch_batch(worker=tasks.worker_name())
            except (DatabaseError, connection.Database.Error) as exc:
                # The database went away, or dropped this session (a batch held longer than
                # SUNSHINE_SMS_LEASE_SECONDS): the batch rolled back, so its messages are still
                # queued. Reconnect and go on; a one-shot run reports the error.
                if not loop:
                    raise
                log.warning("SMS dispatch: %s; reconnecting", exc)
                connection.close()
                time.sleep(idle)
                continue
            total += n
            if not loop:
                if n == 0:
                    break
                continue
            if n == 0:
                time.sleep(idle)
        self.stdout.write(f"已发送 {total} 条。")
