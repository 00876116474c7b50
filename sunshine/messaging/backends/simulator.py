"""The gateway to the local SMS simulator (`sunshine sms-simulator`, simulator_server.py).

POST {SUNSHINE_SMS_SIMULATOR_URL}/send with
``{"signature": "...", "messages": [{"out_id", "phone", "text", "template_code", "params"}]}``
on a keep-alive connection per thread; the answer is
``{"code": "OK", "results": [{"out_id", "biz_id", "ok", "error"}]}``. Error codes are
Alibaba's, so they are classified the same way (aliyun.is_transient).
"""

import json

from django.conf import settings

from sunshine.messaging.backends.aliyun import is_transient
from sunshine.messaging.backends.base import Gateway, Outgoing, SendResult
from sunshine.messaging.backends.http import client_for

MAX_BATCH = 100


class SimulatorGateway(Gateway):
    max_batch = MAX_BATCH

    def __init__(self, url: str | None = None, timeout: float | None = None):
        self.url = (url or settings.SUNSHINE_SMS_SIMULATOR_URL).rstrip("/")
        self.timeout = timeout or settings.SUNSHINE_SMS_HTTP_TIMEOUT
        self.client = client_for(self.url, self.timeout)

    def send(self, batch: list[Outgoing]) -> list[SendResult]:
        """One request per signature (the API takes one signature per call). Raises
        GatewayUnavailable (a ConnectionError) when the simulator cannot be reached."""
        if len(batch) > self.max_batch:
            raise ValueError(f"一次最多发送 {self.max_batch} 条，收到 {len(batch)} 条。")
        by_signature: dict[str, list[Outgoing]] = {}
        for msg in batch:
            by_signature.setdefault(msg.signature, []).append(msg)
        results: list[SendResult] = []
        for signature, group in by_signature.items():
            results.extend(self._send(signature, group))
        return results

    def _send(self, signature: str, group: list[Outgoing]) -> list[SendResult]:
        payload = {
            "signature": signature,
            "messages": [
                {
                    "out_id": m.out_id,
                    "phone": m.mobile,
                    "text": m.text,
                    "template_code": m.template_code,
                    "params": m.params,
                }
                for m in group
            ],
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        status, raw = self.client.request(
            "POST", "/send", body=body, headers={"Content-Type": "application/json"}
        )
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        code = str(data.get("code") or f"HTTP {status}")
        if status != 200 or code != "OK":
            error = f"{code}: {data.get('message', '')}".rstrip(": ")[:200]
            transient = status >= 500 or is_transient(code)
            return [SendResult(m.out_id, ok=False, error=error, transient=transient) for m in group]
        answered = {r.get("out_id"): r for r in data.get("results") or [] if isinstance(r, dict)}
        results = []
        for m in group:
            r = answered.get(m.out_id)
            if r is None:
                results.append(
                    SendResult(m.out_id, ok=False, error="no_result: 网关没有返回这条短信的结果")
                )
            elif r.get("ok"):
                results.append(
                    SendResult(m.out_id, ok=True, provider_id=str(r.get("biz_id") or ""))
                )
            else:
                error = str(r.get("error") or "unknown")
                results.append(
                    SendResult(m.out_id, ok=False, error=error[:200], transient=is_transient(error))
                )
        return results
