"""Alibaba Cloud SMS (dysmsapi, API version 2017-05-25), RPC style, standard library only.

Sending: every message goes out as its own **SendSms** call carrying ``OutId = out_id``, on up
to ALIYUN_SMS_CONCURRENCY keep-alive connections in parallel (the API allows 5000 calls a
second). Reason: SendBatchSms carries one OutId per call, not one per message, so it cannot
name the message a receipt is for. Its receipts carry the call's ``biz_id`` and the
``phone_number``, and after a timeout the platform never learns that BizId, so it cannot
recognise the receipts of a resend — and SPEC §7 rests crash recovery on OutId.

SendBatchSms is available as an option (``ALIYUN_SMS_USE_BATCH = True``): messages of a
batch with the same TemplateCode and distinct numbers go out in one call (≤ 100 numbers,
parallel JSON arrays PhoneNumberJson / SignNameJson / TemplateParamJson). Every message of the
call gets the call's BizId as ``provider_id``; the call is sent without an OutId (one for the
call would name one of its messages for all), so its receipts have an empty ``out_id`` and are
matched on ``biz_id + phone_number``. If such a call is refused for a reason that is not
transient (one illegal number refuses the whole call), the group is resent message by
message with SendSms so that only the bad message fails.

Signing, V3 (ACS3-HMAC-SHA256, Alibaba's recommendation and the default;
``ALIYUN_SMS_SIGNATURE_VERSION=v3``), as the official SDK does it: the action's parameters
go in the query string, SendBatchSms's JSON arrays in a form body. CanonicalRequest = METHOD
\n path \n canonical query (sorted, RFC 3986-encoded) \n canonical headers (every signed
header, lower-cased name ``:`` trimmed value, sorted, one a line) \n signed header names
joined by ``;`` \n hex SHA-256 of the body; StringToSign = "ACS3-HMAC-SHA256" \n hex
SHA-256 of CanonicalRequest; Signature = hex HMAC-SHA256(AccessKeySecret, StringToSign), sent
as ``Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=…,Signature=…``.
The tests reproduce requests signed by the official SDK (tests/aliyun_sdk_vectors.json).

Signing, V2 (RPC, SignatureVersion 1.0; ``ALIYUN_SMS_SIGNATURE_VERSION=v2``): the parameters,
percent-encoded per POP (RFC 3986: only A–Z a–z 0–9 - _ . ~ stay; space → %20, * → %2A, ~
kept), sorted by name and joined as ``k=v&k=v``; StringToSign = METHOD & percentEncode("/") &
percentEncode(that query); Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)).
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sunshine.messaging.backends.base import Gateway, Outgoing, SendResult
from sunshine.messaging.backends.http import GatewayUnavailable, client_for

API_VERSION = "2017-05-25"
REGION = "cn-hangzhou"
SIGNATURE_VERSIONS = ("v3", "v2")
V3_ALGORITHM = "ACS3-HMAC-SHA256"
USER_AGENT = "Sunshine-SMS/1.0"
# Parameters that the official SDK sends in a form body rather than the query string.
BODY_PARAMS = {
    "SendBatchSms": frozenset(
        {"PhoneNumberJson", "SignNameJson", "TemplateParamJson", "SmsUpExtendCodeJson"}
    )
}

# Codes worth retrying later. Account-level refusals (balance, suspended account, wrong key,
# RAM permission) are here too: an operator fixes the account, and meanwhile the messages must
# not fail for good and turn into call tasks.
TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # frequency limit per number (1/min, 50/day …)
        "isv.DAY_LIMIT_CONTROL",
        "isv.MONTH_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isv.ACCOUNT_ABNORMAL",
        "isv.ACCOUNT_NOT_EXISTS",
        "isp.SYSTEM_ERROR",
        "isp.RAM_PERMISSION_DENY",
        "SignatureNonceUsed",
        "SignatureDoesNotMatch",
        "InvalidTimeStamp.Expired",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "Forbidden.RAM",
        "ServiceUnavailable",
        "InternalError",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "BadResponse",  # unreadable answer: the message may or may not have gone
    }
)


def is_transient(code: str) -> bool:
    """True when a provider error code is worth a retry; False for a message that will never
    go (isv.MOBILE_NUMBER_ILLEGAL, isv.SMS_TEMPLATE_ILLEGAL, isv.TEMPLATE_MISSING_PARAMETERS,
    isv.BLACK_KEY_CONTROL_LIMIT, isv.INVALID_PARAMETERS …). An answer without a provider code
    ("HTTP 502", a proxy's page) says nothing about the message: transient."""
    return (
        code in TRANSIENT_CODES
        or code.startswith(("isp.", "Throttling", "HTTP "))
        or code.endswith("LIMIT_CONTROL")
    )


def percent_encode(value) -> str:
    """POP percent-encoding. ``quote(safe="~")`` keeps exactly the RFC 3986 unreserved set,
    which is what URLEncoder plus the replacements + → %20, * → %2A, %7E → ~ produce."""
    return quote(str(value), safe="~", encoding="utf-8")


def canonical_query(params: dict) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def string_to_sign(method: str, params: dict) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(method: str, params: dict, secret: str) -> str:
    """The RPC signature of ``params`` (which must not contain Signature itself)."""
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def common_params(access_key_id: str, action: str, *, nonce=None, timestamp=None) -> dict:
    return {
        "AccessKeyId": access_key_id,
        "Action": action,
        "Format": "JSON",
        "RegionId": REGION,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce or str(uuid.uuid4()),
        "SignatureVersion": "1.0",
        "Timestamp": utc_stamp(timestamp),
        "Version": API_VERSION,
    }


def signed_params(
    action: str, params: dict, key_id: str, secret: str, method: str = "POST", **common
) -> dict:
    """The full parameter set of a call, Signature included."""
    out = {**common_params(key_id, action, **common), **params}
    out["Signature"] = sign(method, out, secret)
    return out


def utc_stamp(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- V3 (ACS3-HMAC-SHA256) ----------------------------------------------------------------
def v3_canonical_headers(headers: dict) -> tuple[str, str]:
    """(canonical headers, signed header names) over every header given."""
    values: dict[str, list[str]] = {}
    for name, value in headers.items():
        if value is not None:
            values.setdefault(name.lower(), []).append(str(value).strip())
    names = sorted(values)
    text = "".join(f"{n}:{','.join(sorted(values[n]))}\n" for n in names)
    return text, ";".join(names)


def v3_authorization(
    method: str, path: str, query: dict, headers: dict, payload_hash: str, key_id: str, secret: str
) -> str:
    """The Authorization header of a request whose `headers` are all signed (Authorization
    itself not among them)."""
    canonical_headers, signed = v3_canonical_headers(headers)
    canonical_request = "\n".join(
        (
            method.upper(),
            path or "/",
            canonical_query(query),
            canonical_headers,
            signed,
            payload_hash,
        )
    )
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    signature = hmac.new(
        secret.encode(), f"{V3_ALGORITHM}\n{digest}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{V3_ALGORITHM} Credential={key_id},SignedHeaders={signed},Signature={signature}"


def v3_request(
    action: str,
    params: dict,
    key_id: str,
    secret: str,
    *,
    host: str,
    nonce: str | None = None,
    timestamp: dt.datetime | str | None = None,
    user_agent: str = USER_AGENT,
    extra_headers: dict | None = None,
) -> tuple[str, bytes, dict]:
    """One signed RPC call as the official SDK sends it: (path with query, body, headers).
    The action's parameters go in the query string, except those the SDK puts in a form body
    (SendBatchSms's JSON arrays)."""
    in_body = BODY_PARAMS.get(action, frozenset())
    query = {k: str(v) for k, v in params.items() if k not in in_body and v is not None}
    form = {k: str(v) for k, v in params.items() if k in in_body and v is not None}
    body = urlencode(sorted(form.items())).encode() if form else b""
    stamp = timestamp if isinstance(timestamp, str) else utc_stamp(timestamp)
    headers = {
        "host": host,
        "x-acs-version": API_VERSION,
        "x-acs-action": action,
        "user-agent": user_agent,
        "x-acs-date": stamp,
        "x-acs-signature-nonce": nonce or str(uuid.uuid4()),
        "accept": "application/json",
        **({"content-type": "application/x-www-form-urlencoded"} if form else {}),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        **(extra_headers or {}),
    }
    headers["Authorization"] = v3_authorization(
        "POST", "/", query, headers, headers["x-acs-content-sha256"], key_id, secret
    )
    path = "/?" + canonical_query(query) if query else "/"
    return path, body, headers


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _template_param(params: dict) -> str:
    return _json({k: str(v) for k, v in (params or {}).items()})


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """Long-lived worker threads, so that their keep-alive connections are reused."""
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="aliyun-sms")
        return _pools[workers]


class AliyunGateway(Gateway):
    max_batch = 100

    def __init__(
        self,
        *,
        endpoint=None,
        key_id=None,
        secret=None,
        timeout=None,
        use_batch=None,
        concurrency=None,
        signature_version=None,
    ):
        self.key_id = key_id or settings.ALIYUN_SMS_ACCESS_KEY_ID
        self.secret = secret or settings.ALIYUN_SMS_ACCESS_KEY_SECRET
        if not self.key_id or not self.secret:
            raise ImproperlyConfigured(
                "未配置阿里云短信密钥：请设置 ALIYUN_SMS_ACCESS_KEY_ID 和 "
                "ALIYUN_SMS_ACCESS_KEY_SECRET，或改用 SUNSHINE_SMS_BACKEND=simulator。"
            )
        self.endpoint = endpoint or settings.ALIYUN_SMS_ENDPOINT
        self.timeout = timeout or settings.SUNSHINE_SMS_HTTP_TIMEOUT
        self.use_batch = (
            use_batch if use_batch is not None else getattr(settings, "ALIYUN_SMS_USE_BATCH", False)
        )
        self.concurrency = concurrency or getattr(settings, "ALIYUN_SMS_CONCURRENCY", 4)
        self.signature_version = (
            signature_version or getattr(settings, "ALIYUN_SMS_SIGNATURE_VERSION", "v3")
        ).lower()
        if self.signature_version not in SIGNATURE_VERSIONS:
            raise ImproperlyConfigured(
                f"ALIYUN_SMS_SIGNATURE_VERSION 只能是 v3 或 v2，现在是“{self.signature_version}”。"
            )
        self.client = client_for(self.endpoint, self.timeout)
        self.host = urlsplit(self.endpoint).netloc

    # -- one call ------------------------------------------------------------------------
    def call(self, action: str, params: dict) -> tuple[str, dict]:
        """POST one signed call; return (Code, response body). Raises GatewayUnavailable."""
        if self.signature_version == "v3":
            path, body, headers = v3_request(
                action, params, self.key_id, self.secret, host=self.host
            )
        else:
            path = "/"
            body = urlencode(signed_params(action, params, self.key_id, self.secret)).encode()
            headers = {
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
            }
        status, raw = self.client.request("POST", path, body=body, headers=headers)
        try:
            data = json.loads(raw.decode("utf-8"))
            code = str(data.get("Code") or "")
        except (ValueError, AttributeError):
            data, code = {}, ""
        if not code:
            code = f"HTTP {status}" if status != 200 else "BadResponse"
        elif status >= 500 and code == "OK":
            code = f"HTTP {status}"
        return code, data

    @staticmethod
    def _result(out_id: str, code: str, data: dict) -> SendResult:
        if code == "OK":
            return SendResult(out_id, ok=True, provider_id=str(data.get("BizId") or ""))
        message = str(data.get("Message") or "")
        error = f"{code}: {message}" if message else code
        return SendResult(out_id, ok=False, error=error[:200], transient=is_transient(code))

    # -- SendSms -------------------------------------------------------------------------
    def send_one(self, msg: Outgoing) -> SendResult:
        if not msg.template_code:
            return SendResult(
                msg.out_id,
                ok=False,
                transient=False,
                error="no_template: 阿里云只能按审核过的模板发送，这条短信没有服务商模板代码（TemplateCode）",
            )
        params = {
            "PhoneNumbers": msg.mobile,
            "SignName": msg.signature.strip().strip("【】"),
            "TemplateCode": msg.template_code,
            "TemplateParam": _template_param(msg.params),
            "OutId": msg.out_id,
        }
        code, data = self.call("SendSms", params)
        return self._result(msg.out_id, code, data)

    # -- SendBatchSms --------------------------------------------------------------------
    def send_group(self, group: list[Outgoing]) -> list[SendResult]:
        if len(group) == 1:
            return [self.send_one(group[0])]
        params = {
            "PhoneNumberJson": _json([m.mobile for m in group]),
            "SignNameJson": _json([m.signature.strip().strip("【】") for m in group]),
            "TemplateCode": group[0].template_code,
            "TemplateParamJson": _json([{k: str(v) for k, v in m.params.items()} for m in group]),
        }
        code, data = self.call("SendBatchSms", params)
        if code != "OK" and not is_transient(code):
            return [self.send_one(m) for m in group]  # let only the bad message fail
        return [self._result(m.out_id, code, data) for m in group]

    def _groups(self, batch: list[Outgoing]) -> list[list[Outgoing]]:
        if not self.use_batch:
            return [[m] for m in batch]
        groups: list[list[Outgoing]] = []
        open_: dict[str, list[list[Outgoing]]] = {}
        for m in batch:
            if not m.template_code:
                groups.append([m])
                continue
            for group in open_.setdefault(m.template_code, []):
                if len(group) < 100 and all(g.mobile != m.mobile for g in group):
                    group.append(m)
                    break
            else:
                group = [m]
                open_[m.template_code].append(group)
                groups.append(group)
        return groups

    def send(self, batch: list[Outgoing]) -> list[SendResult]:
        if not batch:
            return []
        groups = self._groups(batch)
        if len(groups) == 1:
            return self.send_group(groups[0])
        futures = [(g, _pool(self.concurrency).submit(self.send_group, g)) for g in groups]
        results: list[SendResult] = []
        failures: list[Exception] = []
        for group, future in futures:
            try:
                results.extend(future.result())
            except GatewayUnavailable as exc:
                failures.append(exc)
                results.extend(
                    SendResult(m.out_id, ok=False, error=f"unavailable: {exc}"[:200]) for m in group
                )
        if len(failures) == len(groups):
            raise failures[0]
        return results
