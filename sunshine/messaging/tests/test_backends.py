"""The gateways against real local servers: the simulator, and a fake Alibaba Cloud endpoint
that checks the request signature with its own implementation of the POP rules."""

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from sunshine.messaging.backends import get_gateway
from sunshine.messaging.backends.aliyun import (
    AliyunGateway,
    canonical_query,
    is_transient,
    percent_encode,
    sign,
    signed_params,
    string_to_sign,
    v3_authorization,
    v3_request,
)
from sunshine.messaging.backends.base import Outgoing
from sunshine.messaging.backends.console import ConsoleGateway
from sunshine.messaging.backends.http import GatewayUnavailable
from sunshine.messaging.backends.simulator import SimulatorGateway
from sunshine.messaging.simulator_server import start_server

KEY_ID, SECRET = "testId", "testSecret"
# Requests signed by Alibaba Cloud's official Python SDK (make_aliyun_sdk_vectors.py).
SDK = json.loads((Path(__file__).with_name("aliyun_sdk_vectors.json")).read_text(encoding="utf-8"))
SDK_CASES = {case["name"]: case for case in SDK["cases"]}
PARAM_NAMES = {
    "phone_numbers": "PhoneNumbers",
    "sign_name": "SignName",
    "template_code": "TemplateCode",
    "template_param": "TemplateParam",
    "out_id": "OutId",
    "sms_up_extend_code": "SmsUpExtendCode",
    "phone_number_json": "PhoneNumberJson",
    "sign_name_json": "SignNameJson",
    "template_param_json": "TemplateParamJson",
}


def out(
    out_id, mobile="13812345678", text="您好", signature="阳光计生", template="SMS_1", **params
):
    return Outgoing(out_id, mobile, text, signature, template, params)


def free_port_nobody_listens_on():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- simulator
@pytest.fixture
def simulator():
    servers = []

    def make(**options):
        server, _ = start_server("127.0.0.1", 0, receipt_delay=0, **options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def gateway_for(server, timeout=5):
    return SimulatorGateway(url=server.url, timeout=timeout)


class TestSimulatorGateway:
    def test_batch_results_carry_the_biz_id_as_provider_id(self, simulator):
        server = simulator()
        batch = [out(f"g-{i}", mobile=f"139{i:08d}") for i in range(100)]
        results = gateway_for(server).send(batch)
        assert sorted(r.out_id for r in results) == sorted(m.out_id for m in batch)
        assert all(r.ok and r.provider_id.endswith("^0") for r in results)
        assert server.state.stats()["received"] == 100

    def test_more_than_max_batch_is_a_programming_error(self, simulator):
        with pytest.raises(ValueError):
            gateway_for(simulator()).send([out(f"m{i}") for i in range(101)])

    def test_resend_of_the_same_out_id_reaches_the_provider_as_a_duplicate(self, simulator):
        server = simulator()
        gateway = gateway_for(server)
        gateway.send([out("same")])
        gateway.send([out("same")])
        assert server.state.stats()["duplicates"] == 1

    def test_illegal_number_is_a_permanent_failure(self, simulator):
        [result] = gateway_for(simulator()).send([out("bad", mobile="1234")])
        assert (result.ok, result.transient) == (False, False)
        assert result.error == "isv.MOBILE_NUMBER_ILLEGAL"

    def test_throttling_is_a_transient_failure(self, simulator):
        server = simulator(fail_rate=1.0, seed=5)
        results = gateway_for(server).send([out(f"t-{i}", mobile=f"137{i:08d}") for i in range(40)])
        throttled = [r for r in results if not r.ok]
        assert throttled, "with fail_rate 1 about half are refused at once"
        assert all(r.transient and r.error == "isv.BUSINESS_LIMIT_CONTROL" for r in throttled)

    def test_a_503_answer_makes_every_message_transient(self, simulator):
        results = gateway_for(simulator(error_rate=1.0)).send([out("a"), out("b")])
        assert [(r.ok, r.transient) for r in results] == [(False, True), (False, True)]
        assert results[0].error.startswith("ServiceUnavailable")

    def test_messages_with_different_signatures_go_in_separate_calls(self, simulator):
        server = simulator()
        gateway_for(server).send([out("s1"), out("s2", signature="睢宁县卫健委")])
        texts = {m["out_id"]: m["text"] for m in server.messages()}
        assert texts == {"s1": "【阳光计生】您好", "s2": "【睢宁县卫健委】您好"}

    def test_connection_is_kept_alive_between_batches(self, simulator):
        gateway = gateway_for(simulator())
        gateway.send([out("k1")])
        sock = gateway.client._local.conn.sock
        gateway.send([out("k2")])
        assert gateway.client._local.conn.sock is sock

    def test_a_connection_the_server_dropped_while_idle_is_reopened(self, simulator):
        server = simulator()
        gateway = gateway_for(server)
        gateway.send([out("i1")])
        with server._active_lock:
            for sock in server._active:
                sock.shutdown(socket.SHUT_RDWR)
        [result] = gateway.send([out("i2")])
        assert result.ok
        assert server.state.stats()["unique"] == 2

    def test_refused_connection_raises(self):
        gateway = SimulatorGateway(
            url=f"http://127.0.0.1:{free_port_nobody_listens_on()}", timeout=2
        )
        with pytest.raises(GatewayUnavailable):
            gateway.send([out("x")])

    def test_timeout_raises(self):
        with socket.socket() as silent:  # accepts connections, never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            gateway = SimulatorGateway(
                url=f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.2
            )
            with pytest.raises(GatewayUnavailable):
                gateway.send([out("x")])

    def test_stopped_simulator_raises_on_a_kept_alive_connection(self, simulator):
        server = simulator()
        gateway = gateway_for(server)
        gateway.send([out("before")])
        server.stop()
        with pytest.raises(GatewayUnavailable):
            gateway.send([out("after")])


# --------------------------------------------------------------------------- Alibaba Cloud
def pop_encode(value: str) -> str:
    """The POP rule as Alibaba's Java sample writes it, independent of the gateway's code."""
    encoded = urllib.parse.quote_plus(value, safe="", encoding="utf-8")
    return encoded.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def expected_signature(method: str, params: dict, secret: str) -> str:
    query = "&".join(f"{pop_encode(k)}={pop_encode(v)}" for k, v in sorted(params.items()))
    text = method + "&" + pop_encode("/") + "&" + pop_encode(query)
    return base64.b64encode(
        hmac.new((secret + "&").encode(), text.encode(), hashlib.sha1).digest()
    ).decode()


def expected_v3_problem(method, path, query: dict, headers, body: bytes, secret) -> str:
    """What is wrong with a V3-signed request as a server sees it ("" when nothing), written
    from Alibaba's V3 description independently of the gateway's code."""
    auth = headers.get("Authorization", "")
    prefix = "ACS3-HMAC-SHA256 Credential="
    if not auth.startswith(prefix):
        return "no ACS3-HMAC-SHA256 Authorization"
    fields = dict(
        part.split("=", 1) for part in auth[len(prefix) - len("Credential=") :].split(",")
    )
    signed = fields["SignedHeaders"].split(";")
    if (
        not {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"}
        <= set(signed)
        or "x-acs-content-sha256" not in signed
    ):
        return f"headers not signed: {signed}"
    if headers["x-acs-content-sha256"] != hashlib.sha256(body).hexdigest():
        return "body hash"
    canonical_query = "&".join(f"{pop_encode(k)}={pop_encode(v)}" for k, v in sorted(query.items()))
    canonical_headers = "".join(f"{h}:{headers[h].strip()}\n" for h in signed)
    request = "\n".join(
        [
            method,
            path,
            canonical_query,
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(request.encode()).hexdigest()
    expected = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return "" if hmac.compare_digest(expected, fields["Signature"]) else "signature"


class FakeAliyun:
    """dysmsapi on 127.0.0.1: verifies the signature and the parameters of every call and
    answers like Alibaba. Numbers ending 0000 are illegal, ending 9999 are throttled; a
    number ending 5000 makes the endpoint fail with HTTP 500."""

    COMMON = {
        "AccessKeyId",
        "Action",
        "Format",
        "RegionId",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Version",
        "Signature",
    }

    def __init__(self, secret=SECRET):
        self.calls: list[dict] = []
        self.signatures: list[str] = []
        self.problems: list[str] = []
        self.nonces: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
                path, _, query = self.path.partition("?")
                query = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
                if "Authorization" in self.headers:
                    status, answer = fake.answer_v3(path, query, form, self.headers, raw, secret)
                else:
                    status, answer = fake.answer(form, secret)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def check(self, ok: bool, problem: str):
        if not ok:
            self.problems.append(problem)

    def answer_v3(self, path, query, form, headers, raw: bytes, secret: str):
        problem = expected_v3_problem("POST", path, query, headers, raw, secret)
        if problem == "signature":
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched",
            }
        self.check(not problem, problem)
        self.check(headers["x-acs-version"] == "2017-05-25", "version")
        self.check(headers["host"] == self.url.split("/")[2], "host")
        self.check(headers["x-acs-signature-nonce"] not in self.nonces, "nonce reused")
        self.nonces.add(headers["x-acs-signature-nonce"])
        stamp = dt.datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC
        )
        self.check(
            abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=5), "date not UTC now"
        )
        self.check(not set(query) & set(form), "a parameter both in query and body")
        params = {**query, **form, "Action": headers["x-acs-action"]}
        self.signatures.append("v3")
        return self.respond(params)

    def answer(self, params: dict, secret: str):
        given = params.get("Signature", "")
        unsigned = {k: v for k, v in params.items() if k != "Signature"}
        if given != expected_signature("POST", unsigned, secret):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched",
            }
        self.check(
            self.COMMON <= set(params), f"missing common parameters: {self.COMMON - set(params)}"
        )
        self.check(
            params["Format"] == "JSON" and params["Version"] == "2017-05-25", "format/version"
        )
        self.check(params["RegionId"] == "cn-hangzhou", "region")
        self.check(
            params["SignatureMethod"] == "HMAC-SHA1" and params["SignatureVersion"] == "1.0",
            "method",
        )
        self.check(params["SignatureNonce"] not in self.nonces, "nonce reused")
        self.nonces.add(params["SignatureNonce"])
        stamp = dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC
        )
        self.check(
            abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=5), "timestamp not UTC now"
        )
        self.signatures.append("v2")
        return self.respond(params)

    def respond(self, params: dict):
        self.calls.append(params)
        if params["Action"] == "SendSms":
            self.check(
                {"PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"} <= set(params),
                "SendSms params",
            )
            phones = [params["PhoneNumbers"]]
            json.loads(params["TemplateParam"])
        elif params["Action"] == "SendBatchSms":
            phones = json.loads(params["PhoneNumberJson"])
            signs = json.loads(params["SignNameJson"])
            values = json.loads(params["TemplateParamJson"])
            self.check(len(phones) == len(signs) == len(values) <= 100, "batch arrays not parallel")
            # One OutId per call would name one of its messages for all: none is sent.
            self.check("OutId" not in params, "SendBatchSms sent with an OutId")
        else:
            return 404, {"Code": "InvalidAction.NotFound", "Message": params["Action"]}
        if any(p.endswith("5000") for p in phones):
            return 500, {
                "Code": "InternalError",
                "Message": "The request processing has failed due to some unknown error.",
            }
        if any(p.endswith("0000") for p in phones):
            return 200, {
                "Code": "isv.MOBILE_NUMBER_ILLEGAL",
                "Message": "非法手机号",
                "RequestId": "r",
            }
        if any(p.endswith("9999") for p in phones):
            return 200, {
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "触发分钟级流控",
                "RequestId": "r",
            }
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "RequestId": "r",
            "BizId": f"{len(self.calls):018d}^0",
        }

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def aliyun():
    fake = FakeAliyun()
    yield fake
    fake.close()
    assert fake.problems == []


def aliyun_gateway(fake, **kwargs):
    return AliyunGateway(endpoint=fake.url, key_id=KEY_ID, secret=SECRET, timeout=5, **kwargs)


class TestAliyunSigning:
    # Alibaba Cloud's published SMS signing example (GET, Format XML).
    DOC_PARAMS = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }

    def test_known_answer_of_alibabas_published_example(self):
        assert sign("GET", self.DOC_PARAMS, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="

    def test_string_to_sign_of_the_published_example(self):
        text = string_to_sign("GET", self.DOC_PARAMS)
        assert text.startswith(
            "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
        )
        assert "%26SignName%3D%25E9%2598%25BF%25E9%2587%258C" in text
        assert "%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D" in text
        assert text.endswith("%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25")

    def test_percent_encoding_follows_pop_rules(self):
        assert percent_encode("a b") == "a%20b"
        assert percent_encode("*") == "%2A"
        assert percent_encode("~-_.") == "~-_."
        assert percent_encode("+/=&") == "%2B%2F%3D%26"
        assert percent_encode("阳") == "%E9%98%B3"
        sample = "【阳光】 a+b*c~d/e"
        assert percent_encode(sample) == pop_encode(sample)

    def test_canonical_query_is_sorted_by_name(self):
        assert canonical_query({"b": "2", "B": "1", "a": "x y"}) == "B=1&a=x%20y&b=2"

    def test_signed_params_with_fixed_nonce_and_timestamp(self):
        when = dt.datetime(2024, 3, 1, 9, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        params = signed_params(
            "SendSms",
            {"PhoneNumbers": "13812345678"},
            KEY_ID,
            SECRET,
            nonce="fixed-nonce",
            timestamp=when,
        )
        assert params["Timestamp"] == "2024-03-01T01:30:05Z"  # converted to UTC
        assert params["SignatureNonce"] == "fixed-nonce"
        assert {
            k: params[k]
            for k in ("Format", "RegionId", "Version", "SignatureMethod", "SignatureVersion")
        } == {
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "Version": "2017-05-25",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
        }
        unsigned = {k: v for k, v in params.items() if k != "Signature"}
        assert params["Signature"] == expected_signature("POST", unsigned, SECRET)
        assert (
            params["Signature"] == "E/gwnEhiv5mh9TfsvEWRy0XwSK4="
        )  # frozen: any change in signing shows

    def test_error_codes_are_classified(self):
        for code in (
            "isv.BUSINESS_LIMIT_CONTROL",
            "isv.DAY_LIMIT_CONTROL",
            "isp.SYSTEM_ERROR",
            "Throttling.User",
            "HTTP 502",
            "SignatureDoesNotMatch",
            "isv.AMOUNT_NOT_ENOUGH",
        ):
            assert is_transient(code), code
        for code in (
            "isv.MOBILE_NUMBER_ILLEGAL",
            "isv.SMS_TEMPLATE_ILLEGAL",
            "isv.BLACK_KEY_CONTROL_LIMIT",
            "isv.TEMPLATE_MISSING_PARAMETERS",
            "isv.INVALID_PARAMETERS",
        ):
            assert not is_transient(code), code


class TestAliyunSigningAgainstTheOfficialSdk:
    """Each case: a request the SDK signed with a fixed date and nonce; ours must be the same
    request, byte for byte where it is signed."""

    def test_the_vectors_cover_chinese_special_characters_and_both_actions(self):
        assert len(SDK_CASES) >= 5
        assert {c["action"] for c in SDK_CASES.values()} == {"SendSms", "SendBatchSms"}
        text = json.dumps(SDK["cases"], ensure_ascii=False)
        assert "睢宁县" in text and "😀" in text and "&i%j" in text

    @pytest.mark.parametrize("name", sorted(SDK_CASES))
    def test_v3_authorization_of_the_sdks_own_request(self, name):
        case = SDK_CASES[name]
        r = case["v3"]
        headers = {k: v for k, v in r["headers"].items() if k != "Authorization"}
        body_hash = hashlib.sha256(r["body"].encode()).hexdigest()
        assert headers["x-acs-content-sha256"] == body_hash
        got = v3_authorization(
            r["method"],
            r["pathname"],
            r["query"],
            headers,
            body_hash,
            case["key_id"],
            case["secret"],
        )
        assert got == r["headers"]["Authorization"]

    @pytest.mark.parametrize("name", sorted(SDK_CASES))
    def test_v3_request_is_the_one_the_sdk_sends(self, name):
        case = SDK_CASES[name]
        sdk = case["v3"]
        params = {PARAM_NAMES[k]: v for k, v in case["request"].items()}
        path, body, headers = v3_request(
            case["action"],
            params,
            case["key_id"],
            case["secret"],
            host="dysmsapi.aliyuncs.com",
            nonce=case["nonce"],
            timestamp=case["date"],
            user_agent=SDK["user_agent"],
            # the SDK signs the name of its credential provider too
            extra_headers={
                "x-acs-credentials-provider": sdk["headers"]["x-acs-credentials-provider"]
            },
        )
        assert headers == sdk["headers"]
        assert body.decode() == sdk["body"]
        sent_query = dict(urllib.parse.parse_qsl(path.partition("?")[2], keep_blank_values=True))
        assert sent_query == sdk["query"]
        sdk_url_query = urllib.parse.urlsplit(sdk["url"]).query
        assert sent_query == dict(urllib.parse.parse_qsl(sdk_url_query, keep_blank_values=True))

    @pytest.mark.parametrize("name", sorted(SDK_CASES))
    def test_v2_signature_of_the_sdks_own_request(self, name):
        case = SDK_CASES[name]
        r = case["v2"]
        params = {k: v for k, v in r["query"].items() if k != "Signature"}
        params.update(urllib.parse.parse_qsl(r["body"], keep_blank_values=True))
        assert sign(r["method"], params, case["secret"]) == r["query"]["Signature"]

    def test_a_date_given_as_a_datetime_is_sent_in_utc(self):
        when = dt.datetime(2024, 3, 1, 9, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        _, _, headers = v3_request("SendSms", {}, KEY_ID, SECRET, host="h", timestamp=when)
        assert headers["x-acs-date"] == "2024-03-01T01:30:05Z"


class TestAliyunGateway:
    def test_v3_is_the_default_and_v2_is_chosen_by_setting(self, aliyun):
        aliyun_gateway(aliyun).send([out("s3")])
        with override_settings(ALIYUN_SMS_SIGNATURE_VERSION="v2"):
            aliyun_gateway(aliyun).send([out("s2")])
        assert aliyun.signatures == ["v3", "v2"]
        assert [c["OutId"] for c in aliyun.calls] == ["s3", "s2"]

    @pytest.mark.parametrize("version", ["v2", "v3"])
    def test_batch_mode_with_either_signature(self, aliyun, version):
        batch = [out("b1", mobile="13800000001"), out("b2", mobile="13800000002", name="李*")]
        results = aliyun_gateway(aliyun, use_batch=True, signature_version=version).send(batch)
        assert all(r.ok for r in results) and aliyun.signatures == [version]
        [call] = aliyun.calls
        assert json.loads(call["TemplateParamJson"]) == [{}, {"name": "李*"}]

    def test_an_unknown_signature_version_is_a_configuration_error(self, aliyun):
        with pytest.raises(ImproperlyConfigured, match="v3 或 v2"):
            aliyun_gateway(aliyun, signature_version="v4")

    def test_single_message_goes_as_sendsms_with_outid(self, aliyun):
        [result] = aliyun_gateway(aliyun).send([out("o-1", text="", name="王*", date="3月5日")])
        assert result.ok and result.provider_id == "000000000000000001^0"
        [call] = aliyun.calls
        assert call["Action"] == "SendSms"
        assert (call["PhoneNumbers"], call["SignName"], call["TemplateCode"], call["OutId"]) == (
            "13812345678",
            "阳光计生",
            "SMS_1",
            "o-1",
        )
        assert json.loads(call["TemplateParam"]) == {"name": "王*", "date": "3月5日"}

    def test_by_default_each_message_is_its_own_sendsms_so_outid_survives(self, aliyun):
        batch = [out(f"o-{i}", mobile=f"1391234{i:04d}") for i in range(1, 13)]
        results = aliyun_gateway(aliyun).send(batch)
        assert sorted(r.out_id for r in results) == sorted(m.out_id for m in batch)
        assert all(r.ok for r in results)
        assert sorted(c["OutId"] for c in aliyun.calls) == sorted(m.out_id for m in batch)
        assert {c["Action"] for c in aliyun.calls} == {"SendSms"}
        assert len({r.provider_id for r in results}) == 12

    def test_batch_mode_sends_one_sendbatchsms_per_template(self, aliyun):
        batch = [
            out("a1", mobile="13800000001", n=1),
            out("a2", mobile="13800000002", n=2),
            out("b1", mobile="13800000003", template="SMS_2"),
        ]
        results = {r.out_id: r for r in aliyun_gateway(aliyun, use_batch=True).send(batch)}
        batch_call = next(c for c in aliyun.calls if c["Action"] == "SendBatchSms")
        assert json.loads(batch_call["PhoneNumberJson"]) == ["13800000001", "13800000002"]
        assert json.loads(batch_call["SignNameJson"]) == ["阳光计生", "阳光计生"]
        assert json.loads(batch_call["TemplateParamJson"]) == [{"n": "1"}, {"n": "2"}]
        assert batch_call["TemplateCode"] == "SMS_1"
        assert (
            results["a1"].provider_id == results["a2"].provider_id
        )  # receipts match on biz_id + phone
        single = next(c for c in aliyun.calls if c["Action"] == "SendSms")
        assert single["OutId"] == "b1" and results["b1"].ok

    def test_batch_mode_never_puts_one_number_twice_in_a_call(self, aliyun):
        batch = [
            out("x1", mobile="13800000001"),
            out("x2", mobile="13800000001"),
            out("x3", mobile="13800000002"),
        ]
        aliyun_gateway(aliyun, use_batch=True).send(batch)
        phone_lists = [
            json.loads(c["PhoneNumberJson"]) for c in aliyun.calls if c["Action"] == "SendBatchSms"
        ]
        singles = [c["PhoneNumbers"] for c in aliyun.calls if c["Action"] == "SendSms"]
        assert phone_lists == [["13800000001", "13800000002"]] and singles == ["13800000001"]

    def test_refused_batch_is_resent_one_by_one_so_only_the_bad_number_fails(self, aliyun):
        batch = [
            out("ok1", mobile="13800000001"),
            out("bad", mobile="13800000000"),
            out("ok2", mobile="13800000002"),
        ]
        results = {r.out_id: r for r in aliyun_gateway(aliyun, use_batch=True).send(batch)}
        assert results["bad"].ok is False and results["bad"].transient is False
        assert results["ok1"].ok and results["ok2"].ok
        assert [c["Action"] for c in aliyun.calls].count("SendSms") == 3

    def test_illegal_number_is_permanent_and_throttling_transient(self, aliyun):
        results = {
            r.out_id: r
            for r in aliyun_gateway(aliyun).send(
                [out("ill", mobile="13800000000"), out("thr", mobile="13899999999")]
            )
        }
        assert (results["ill"].ok, results["ill"].transient) == (False, False)
        assert results["ill"].error.startswith("isv.MOBILE_NUMBER_ILLEGAL")
        assert (results["thr"].ok, results["thr"].transient) == (False, True)
        assert results["thr"].error.startswith("isv.BUSINESS_LIMIT_CONTROL")

    def test_server_error_is_transient(self, aliyun):
        [result] = aliyun_gateway(aliyun).send([out("e", mobile="13800005000")])
        assert (result.ok, result.transient) == (False, True)
        assert result.error.startswith("InternalError")

    def test_wrong_secret_is_refused_by_the_provider_and_kept_for_retry(self, aliyun):
        gateway = AliyunGateway(endpoint=aliyun.url, key_id=KEY_ID, secret="wrong", timeout=5)
        [result] = gateway.send([out("w")])
        assert result.error.startswith("SignatureDoesNotMatch") and result.transient

    def test_message_without_template_code_fails_without_a_call(self, aliyun):
        [result] = aliyun_gateway(aliyun).send([out("nt", template="")])
        assert (result.ok, result.transient) == (False, False)
        assert "TemplateCode" in result.error and aliyun.calls == []

    def test_unreachable_endpoint_raises(self):
        gateway = AliyunGateway(
            endpoint=f"http://127.0.0.1:{free_port_nobody_listens_on()}/",
            key_id=KEY_ID,
            secret=SECRET,
            timeout=2,
        )
        with pytest.raises(GatewayUnavailable):
            gateway.send([out("u1"), out("u2", mobile="13800000002")])

    def test_missing_credentials_are_a_configuration_error(self):
        with override_settings(ALIYUN_SMS_ACCESS_KEY_ID="", ALIYUN_SMS_ACCESS_KEY_SECRET=""):
            with pytest.raises(ImproperlyConfigured):
                AliyunGateway()


# --------------------------------------------------------------------------- console, choice
class TestConsoleGateway:
    def test_prints_the_signed_text_with_a_masked_phone_and_succeeds(self):
        stream = io.StringIO()
        [result] = ConsoleGateway(stream=stream).send([out("c1", text="请按时复查。")])
        assert result.ok and result.provider_id.startswith("console-")
        line = stream.getvalue()
        assert "138****5678" in line and "13812345678" not in line
        assert "【阳光计生】请按时复查。" in line and "c1" in line


class TestGetGateway:
    @pytest.mark.parametrize(
        ("name", "cls"),
        [("simulator", SimulatorGateway), ("console", ConsoleGateway), ("aliyun", AliyunGateway)],
    )
    def test_backend_is_chosen_by_setting(self, name, cls):
        with override_settings(
            SUNSHINE_SMS_BACKEND=name,
            ALIYUN_SMS_ACCESS_KEY_ID="k",
            ALIYUN_SMS_ACCESS_KEY_SECRET="s",
        ):
            assert isinstance(get_gateway(), cls)
