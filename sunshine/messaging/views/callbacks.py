"""Where the provider (or the simulator) pushes delivery receipts and replies. The provider
retries anything but HTTP 200 with {"code":0}, so these are idempotent and answer that way
even for an empty push; a bad token or body is refused so a misconfiguration shows."""

import json

from django.conf import settings
from django.http import Http404, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sunshine.messaging import services

OK = {"code": 0, "msg": "接收成功"}


def _payload(request, token: str) -> list[dict]:
    if not constant_time_compare(token, settings.SUNSHINE_SMS_CALLBACK_TOKEN):
        raise Http404("无效的地址。")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, list) else [data] if isinstance(data, dict) else None


@csrf_exempt
@require_POST
def receipts(request, token):
    data = _payload(request, token)
    if data is None:
        return JsonResponse({"code": 1, "msg": "请求内容不是 JSON 数组"}, status=400)
    services.receipts_record(data)
    return JsonResponse(OK)


@csrf_exempt
@require_POST
def replies(request, token):
    data = _payload(request, token)
    if data is None:
        return JsonResponse({"code": 1, "msg": "请求内容不是 JSON 数组"}, status=400)
    services.replies_receive(data)
    return JsonResponse(OK)
