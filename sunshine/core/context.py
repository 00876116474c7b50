"""Who is asking and from where, for the audit log, without threading `request` everywhere."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    ip: str = ""
    user_agent: str = ""
    path: str = ""


_EMPTY = RequestInfo()
_current: ContextVar[RequestInfo | None] = ContextVar("sunshine_request", default=None)


def current() -> RequestInfo:
    return _current.get() or _EMPTY


def set_current(info: RequestInfo):
    return _current.set(info)


def reset(token) -> None:
    _current.reset(token)
