"""SMS gateways. The backend is chosen by SUNSHINE_SMS_BACKEND: simulator | aliyun | console."""

from django.conf import settings
from django.utils.module_loading import import_string

from sunshine.messaging.backends.base import Gateway, Outgoing, SendResult  # noqa: F401

BACKENDS = {
    "simulator": "sunshine.messaging.backends.simulator.SimulatorGateway",
    "aliyun": "sunshine.messaging.backends.aliyun.AliyunGateway",
    "console": "sunshine.messaging.backends.console.ConsoleGateway",
}


def get_gateway() -> Gateway:
    name = settings.SUNSHINE_SMS_BACKEND
    path = BACKENDS.get(name, name)
    return import_string(path)()
