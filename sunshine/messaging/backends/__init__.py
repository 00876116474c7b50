"""SMS gateways. The backend is chosen by SUNSHINE_SMS_BACKEND: simulator | aliyun | console."""

from django.conf import settings
from django.utils.module_loading import import_string

from sunshine.messaging.backends.base import Gateway, Outgoing, SendResult  # noqa: F401

BACKENDS = {
    "simulator": "sunshine.messaging.backends.simulator.SimulatorGateway",
    "aliyun": "sunshine.messaging.backends.aliyun.AliyunGateway",
    "console": "sunshine.messaging.backends.console.ConsoleGateway",
}


def backend_path() -> str:
    name = settings.SUNSHINE_SMS_BACKEND
    return BACKENDS.get(name, name)


def uses_provider() -> bool:
    """True when messages go to a real provider (Alibaba Cloud), whose pushes reach the
    callback addresses from the internet."""
    return backend_path() == BACKENDS["aliyun"]


def callback_urls(base: str) -> tuple[str, str]:
    """This platform's receipt and reply addresses under `base` (e.g. http://127.0.0.1:8000),
    with the secret token: what a provider, or the simulator, is told to push to."""
    token = settings.SUNSHINE_SMS_CALLBACK_TOKEN
    base = base.rstrip("/")
    return f"{base}/sms/receipts/{token}/", f"{base}/sms/replies/{token}/"


def get_gateway() -> Gateway:
    return import_string(backend_path())()
