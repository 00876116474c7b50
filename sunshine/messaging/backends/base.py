from dataclasses import dataclass
from typing import NamedTuple


class Outgoing(NamedTuple):
    """One message for a gateway. A named tuple, not a frozen dataclass: the dispatcher builds
    one per message sent, and a frozen dataclass's __init__ (object.__setattr__ per field)
    cost as much as rendering the text."""

    out_id: str  # unique per message; the gateway echoes it back in receipts (OutId)
    mobile: str
    text: str  # the body as rendered, without the signature
    signature: str  # without 【】
    template_code: str = ""  # the provider's approved template (Alibaba TemplateCode)
    params: dict = {}  # never mutated: a shared empty default is safe


@dataclass(frozen=True)
class SendResult:
    out_id: str
    ok: bool
    provider_id: str = ""  # the provider's id for the send (Alibaba BizId)
    error: str = ""
    transient: bool = True  # a failure worth retrying (timeouts, throttling, 5xx)


class Gateway:
    """Send a batch; return one result per message, in any order. Must not raise for a
    per-message failure; raise only when the whole call failed (then every message in the
    batch is retried, and the provider may have sent some: OutId lets receipts tell)."""

    max_batch = 100

    def send(self, batch: list[Outgoing]) -> list[SendResult]:
        raise NotImplementedError
