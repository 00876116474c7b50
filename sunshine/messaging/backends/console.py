"""Development backend: prints each message (phone masked) to stdout, like Django's console
e-mail backend, logs it at INFO on "sunshine.messaging.console", and reports success."""

import logging
import sys
import threading
import uuid

from sunshine.core.masking import mask_mobile
from sunshine.messaging.backends.base import Gateway, Outgoing, SendResult

logger = logging.getLogger("sunshine.messaging.console")


class ConsoleGateway(Gateway):
    max_batch = 100
    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, batch: list[Outgoing]) -> list[SendResult]:
        results = []
        lines = []
        for msg in batch:
            provider_id = f"console-{uuid.uuid4().hex[:16]}"
            sig = msg.signature.strip().strip("【】")
            text = f"【{sig}】{msg.text}" if sig else msg.text
            line = f"短信 {msg.out_id} → {mask_mobile(msg.mobile)}：{text}（{provider_id}）"
            logger.info(line)
            lines.append(line + "\n")
            results.append(SendResult(msg.out_id, ok=True, provider_id=provider_id))
        with self._lock:
            self.stream.write("".join(lines))
            self.stream.flush()
        return results
