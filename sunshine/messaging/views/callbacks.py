"""Where the provider (or the simulator) pushes delivery receipts and replies. The provider
retries anything but HTTP 200 with {"code":0}, so these are idempotent and answer that way
even for an empty push. A wrong token is a 404 (compared in constant time); a body that is
not JSON at all is a 400, so a misconfiguration shows; a malformed element inside a push is
logged and skipped, and the rest is applied and acknowledged — a 500 would make the provider
resend the whole push and then drop it. Receipts that arrive before their message is
recorded as sent are answered 503, and the provider pushes them again."""

import dataclasses
import hmac
import json
import logging
from contextlib import contextmanager

from django.conf import settings
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sunshine.core import context
from sunshine.messaging import rules, services
from sunshine.messaging.backends import uses_provider

log = logging.getLogger(__name__)
OK = {"code": 0, "msg": "接收成功"}
NOT_JSON = {"code": 1, "msg": "请求内容不是 JSON 数组"}
AGAIN = {"code": 1, "msg": "部分回执对应的短信还没有记录为已发送，请稍后重新推送"}


def _authentic(token: str) -> bool:
    expected = settings.SUNSHINE_SMS_CALLBACK_TOKEN
    if uses_provider() and rules.callback_token_problem(expected):
        # The start-up check refuses this; a web server started without it must not open
        # the door either.
        log.error("SMS callback refused: SUNSHINE_SMS_CALLBACK_TOKEN is too weak")
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


def _payload(request, token: str) -> list | None:
    if not _authentic(token):
        raise Http404("无效的地址。")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, list) else [data] if isinstance(data, dict) else None


@contextmanager
def _token_hidden(request, token: str):
    """What the push causes (an objection filed, an appointment confirmed) is audited with the
    request's path: the secret must not be copied into the audit log."""
    info = context.current()
    reset = context.set_current(
        dataclasses.replace(info, path=request.path.replace(token, "<token>"))
    )
    try:
        yield
    finally:
        context.reset(reset)


@csrf_exempt
@require_POST
def receipts(request, token):
    data = _payload(request, token)
    if data is None:
        return JsonResponse(NOT_JSON, status=400)
    with _token_hidden(request, token):
        outcome = services.receipts_record(data)
    if outcome.early:
        return JsonResponse(AGAIN, status=503, headers={"Retry-After": "5"})
    return JsonResponse(OK)


@csrf_exempt
@require_POST
def replies(request, token):
    data = _payload(request, token)
    if data is None:
        return JsonResponse(NOT_JSON, status=400)
    with _token_hidden(request, token):
        services.replies_receive(data)
    return JsonResponse(OK)
