"""A gateway that keeps what it is sent, for tests that must not leave the machine."""

from sunshine.messaging.backends.base import Gateway, Outgoing, SendResult


class RecordingGateway(Gateway):
    def __init__(self, *, fail: dict[str, tuple[str, bool]] | None = None, down: bool = False):
        self.sent: list[Outgoing] = []
        self.fail = fail or {}  # mobile → (error, transient)
        self.down = down

    def send(self, batch: list[Outgoing]) -> list[SendResult]:
        if self.down:
            raise ConnectionError("gateway down")
        results = []
        for o in batch:
            self.sent.append(o)
            if o.mobile in self.fail:
                error, transient = self.fail[o.mobile]
                results.append(
                    SendResult(out_id=o.out_id, ok=False, error=error, transient=transient)
                )
            else:
                results.append(
                    SendResult(out_id=o.out_id, ok=True, provider_id=f"biz-{len(self.sent)}")
                )
        return results
