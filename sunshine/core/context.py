"""Who is asking and from where, for the audit log, without threading `request` everywhere."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    ip: str = ""
    user_agent: str = ""
    path: str = ""


_current: ContextVar[RequestInfo] = ContextVar("sunshine_request", default=RequestInfo())


def current() -> RequestInfo:
    return _current.get()


def set_current(info: RequestInfo):
    return _current.set(info)


def reset(token) -> None:
    _current.reset(token)
