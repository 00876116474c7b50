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


def sms_code(mobile: str) -> str:
    """The newest verification code texted to `mobile` (read from the outbox, as the phone
    would): for tests that go through a form's two steps."""
    import re

    from sunshine.messaging.models import Message
    from sunshine.messaging.verification import PROGRAMME

    message = Message.objects.filter(programme=PROGRAMME, mobile=mobile).order_by("-pk").first()
    assert message is not None, f"no verification code was sent to {mobile}"
    return re.search(r"验证码(\d{6})", message.body).group(1)
