"""Write aliyun_sdk_vectors.json: requests signed by Alibaba Cloud's official Python SDK.

Run in a scratch virtualenv outside the project (the SDK is not a dependency):

    python3 -m venv /tmp/sdkvenv
    /tmp/sdkvenv/bin/pip install alibabacloud_tea_openapi alibabacloud_openapi_util \
        alibabacloud-dysmsapi20170525
    /tmp/sdkvenv/bin/python sunshine/messaging/tests/make_aliyun_sdk_vectors.py

The SDK's clock, nonce and user agent are fixed, and its HTTP call is replaced by one that
records the request it was about to send (method, path, query, headers, body and the URL),
for the V3 signature (ACS3-HMAC-SHA256, the SDK's default) and for V2 (HMAC-SHA1).
"""

import json
import sys
from importlib.metadata import version
from pathlib import Path

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as openapi_models
from alibabacloud_tea_openapi.utils import Utils
from darabonba.core import DaraCore
from darabonba.runtime import RuntimeOptions

USER_AGENT = "AlibabaCloud (Sunshine test vectors) Python/3"
OUT = Path(__file__).with_name("aliyun_sdk_vectors.json")

CASES = [
    {
        "name": "ascii SendSms",
        "key_id": "testId",
        "secret": "testSecret",
        "date": "2026-12-05T01:02:03Z",
        "nonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "action": "SendSms",
        "request": {
            "phone_numbers": "13812345678",
            "sign_name": "Sunshine",
            "template_code": "SMS_1",
            "template_param": '{"code":"1234"}',
            "out_id": "0192a3b4c5d6e7f8091a2b3c4d5e6f70",
        },
    },
    {
        "name": "Chinese signature and parameters",
        "key_id": "LTAI5tQ8exampleKEY",
        "secret": "k3yS3cr3t/With+Symbols=",
        "date": "2024-02-29T23:59:59Z",
        "nonce": "nonce-中文-1",
        "action": "SendSms",
        "request": {
            "phone_numbers": "15300000001",
            "sign_name": "睢宁县卫健委",
            "template_code": "SMS_71390007",
            "template_param": json.dumps(
                {"name": "王*梅", "date": "3月5日（周四）", "place": "姚集镇卫生院"},
                ensure_ascii=False,
                separators=(",", ":"),
            ),
            "out_id": "out-中文",
        },
    },
    {
        "name": "special characters",
        "key_id": "id with space",
        "secret": "s&e=c r+e*t~%",
        "date": "2025-01-01T00:00:00Z",
        "nonce": "a b+c*d~e/f?g=h&i%j",
        "action": "SendSms",
        "request": {
            "phone_numbers": "13900000000,13900000001",
            "sign_name": "【阳光】 计生",
            "template_code": "SMS_2",
            "template_param": json.dumps(
                {"t": "a b+c*d~e/f?g=h&i%j'k\"l<>#[]{}|\\^`!$(),;:@ \n\t😀（）、。"},
                ensure_ascii=False,
            ),
            "out_id": "~-_.",
            "sms_up_extend_code": "",
        },
    },
    {
        "name": "SendBatchSms with one OutId for the call",
        "key_id": "testId",
        "secret": "testSecret",
        "date": "2026-06-15T08:30:00Z",
        "nonce": "batch-nonce-0001",
        "action": "SendBatchSms",
        "request": {
            "phone_number_json": json.dumps(["13812345678", "13987654321"]),
            "sign_name_json": json.dumps(["阳光计生", "阳光计生"], ensure_ascii=False),
            "template_code": "SMS_3",
            "template_param_json": json.dumps(
                [{"name": "张*"}, {"name": "李* & 王*"}], ensure_ascii=False
            ),
            "out_id": "batch-call-1",
        },
    },
    {
        "name": "long template parameters",
        "key_id": "k",
        "secret": "x" * 30,
        "date": "2030-10-10T10:10:10Z",
        "nonce": "0" * 32,
        "action": "SendSms",
        "request": {
            "phone_numbers": "19912345678",
            "sign_name": "阳光计生",
            "template_code": "SMS_4",
            "template_param": json.dumps({"body": "孕期提醒：" * 60}, ensure_ascii=False),
        },
    },
]


class Captured(BaseException):
    """Raised instead of sending (a BaseException, so the SDK's retry loop lets it through)."""

    def __init__(self, request):
        self.request = request


def capture(request, runtime=None):
    raise Captured(request)


def signed_request(case: dict, algorithm: str | None) -> dict:
    Utils.get_timestamp = staticmethod(lambda: case["date"])
    Utils.get_nonce = staticmethod(lambda: case["nonce"])
    Utils.get_user_agent = staticmethod(lambda *args, **kwargs: USER_AGENT)
    DaraCore.do_action = staticmethod(capture)
    config = openapi_models.Config(
        access_key_id=case["key_id"],
        access_key_secret=case["secret"],
        endpoint="dysmsapi.aliyuncs.com",
    )
    if algorithm:
        config.signature_algorithm = algorithm
    client = Client(config)
    runtime = RuntimeOptions()
    try:
        if case["action"] == "SendSms":
            client.send_sms_with_options(sms_models.SendSmsRequest(**case["request"]), runtime)
        else:
            client.send_batch_sms_with_options(
                sms_models.SendBatchSmsRequest(**case["request"]), runtime
            )
    except Captured as done:
        r = done.request
    else:
        raise AssertionError("the SDK sent nothing")
    body = r.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return {
        "method": r.method,
        "pathname": r.pathname,
        "query": {k: v for k, v in r.query.items() if v is not None},
        "headers": {k: v for k, v in r.headers.items() if v is not None},
        "body": body or "",
        "url": DaraCore.compose_url(r),
    }


def main() -> None:
    vectors = {
        "generated_by": {
            name: version(name)
            for name in (
                "alibabacloud-tea-openapi",
                "alibabacloud-openapi-util",
                "alibabacloud-dysmsapi20170525",
                "darabonba-core",
            )
        },
        "python": sys.version.split()[0],
        "user_agent": USER_AGENT,
        "cases": [],
    }
    for case in CASES:
        vectors["cases"].append(
            {
                **case,
                "v3": signed_request(case, None),
                "v2": signed_request(case, "v2"),
            }
        )
    OUT.write_text(json.dumps(vectors, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(CASES)} cases written to {OUT}")


if __name__ == "__main__":
    main()
