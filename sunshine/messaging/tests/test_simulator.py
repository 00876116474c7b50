"""The SMS simulator as a real HTTP server on a free port, pushing to a real local receiver."""

import http.client
import importlib
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management.base import CommandError

from sunshine.messaging.simulator_server import sms_size, start_server

SIG = "阳光计生"  # 【阳光计生】 is 6 characters


class Receiver:
    """The platform's end of the pushes: records every JSON body per path and answers like
    the platform must ({"code":0,"msg":"接收成功"}), or with HTTP 500 for the first
    `fail_first` pushes."""

    def __init__(self, fail_first=0):
        self.bodies: dict[str, list] = {}
        self.fail_first = fail_first
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= 1
                    if not failing:
                        receiver.bodies.setdefault(self.path, []).append(json.loads(raw))
                status, body = (
                    (500, b"down") if failing else (200, '{"code":0,"msg":"接收成功"}'.encode())
                )
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def items(self, path):
        with self.lock:
            return [item for body in self.bodies.get(path, []) for item in body]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_for(predicate, seconds=5.0):
    """Poll until predicate() is truthy; bounded, for the background push thread only."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met before the deadline")


def call(server, method, path, payload=None, *, raw=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    body = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
    conn.request(method, path, body=body, headers=headers or {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    ctype = response.getheader("Content-Type", "")
    return response.status, (json.loads(data) if "json" in ctype else data.decode()), response


def msg(out_id, phone="13812345678", text="您好，请按时检查。"):
    return {"out_id": out_id, "phone": phone, "text": text, "template_code": "SMS_1", "params": {}}


def send(server, *messages, signature=SIG):
    status, data, _ = call(
        server, "POST", "/send", {"signature": signature, "messages": list(messages)}
    )
    assert status == 200, data
    return {r["out_id"]: r for r in data["results"]}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def simulator(receiver):
    servers = []

    def make(**options):
        options = {
            "receipts_url": receiver.url + "/receipts",
            "replies_url": receiver.url + "/replies",
            "receipt_delay": 0,
            "push_backoff": 0.01,
            **options,
        }
        server, _ = start_server("127.0.0.1", 0, **options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


class TestSend:
    def test_single_message_is_accepted_with_an_alibaba_style_biz_id(self, simulator):
        results = send(simulator(), msg("m-1"))
        assert results["m-1"]["ok"] is True
        assert results["m-1"]["error"] == ""
        assert results["m-1"]["biz_id"].endswith("^0")

    def test_biz_ids_are_random_so_the_next_ones_cannot_be_guessed(self, simulator):
        results = send(simulator(), *(msg(f"z-{i}", phone=f"136{i:08d}") for i in range(30)))
        numbers = sorted(int(r["biz_id"].removesuffix("^0")) for r in results.values())
        assert all(len(str(n)) == 18 for n in numbers)
        gaps = [b - a for a, b in itertools.pairwise(numbers)]
        assert min(gaps) > 1000, "consecutive BizIds: a forger could plant the next ones"

    def test_batch_of_one_hundred_gets_one_result_and_distinct_biz_id_each(self, simulator):
        server = simulator()
        results = send(server, *(msg(f"b-{i}", phone=f"139{i:08d}") for i in range(100)))
        assert len(results) == 100
        assert all(r["ok"] for r in results.values())
        assert len({r["biz_id"] for r in results.values()}) == 100

    def test_more_than_one_hundred_messages_are_refused_as_a_whole(self, simulator):
        server = simulator()
        status, data, _ = call(
            server,
            "POST",
            "/send",
            {"signature": SIG, "messages": [msg(f"x{i}") for i in range(101)]},
        )
        assert status == 400
        assert data["code"] == "isv.INVALID_PARAMETERS"
        assert call(server, "GET", "/stats")[1]["received"] == 0

    def test_malformed_json_and_missing_out_id_are_refused(self, simulator):
        server = simulator()
        assert call(server, "POST", "/send", raw=b"{not json")[0] == 400
        status, data, _ = call(
            server, "POST", "/send", {"signature": SIG, "messages": [{"phone": "13812345678"}]}
        )
        assert status == 400 and "out_id" in data["message"]

    def test_invalid_number_and_missing_signature_are_refused_per_message(self, simulator):
        server = simulator()
        results = send(server, msg("bad", phone="1381234567"), msg("good"))
        assert results["bad"] == {
            "out_id": "bad",
            "biz_id": "",
            "ok": False,
            "error": "isv.MOBILE_NUMBER_ILLEGAL",
        }
        assert results["good"]["ok"] is True
        assert (
            send(server, msg("nosig"), signature="")["nosig"]["error"]
            == "isv.SMS_SIGNATURE_ILLEGAL"
        )

    def test_resent_out_id_is_counted_as_a_duplicate_and_sent_again(self, simulator):
        server = simulator()
        first = send(server, msg("dup-1"), msg("once"))
        again = send(server, msg("dup-1"))
        send(server, msg("dup-1"))
        assert again["dup-1"]["ok"] and again["dup-1"]["biz_id"] != first["dup-1"]["biz_id"]
        stats = call(server, "GET", "/stats?detail=1")[1]
        assert (stats["received"], stats["unique"], stats["duplicates"]) == (4, 2, 2)
        assert stats["duplicated_out_ids"] == {"dup-1": 3}

    def test_duplicates_are_counted_exactly_under_concurrent_senders(self, simulator):
        server = simulator(receipts_url="")

        def worker(n):
            for i in range(20):
                send(server, msg(f"c-{i}"), msg(f"w{n}-{i}"))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = call(server, "GET", "/stats")[1]
        assert stats["received"] == 8 * 20 * 2
        assert stats["unique"] == 20 + 8 * 20
        assert stats["duplicates"] == 7 * 20

    def test_error_rate_answers_whole_calls_with_503_without_counting_them(self, simulator):
        server = simulator(error_rate=1.0)
        status, data, _ = call(server, "POST", "/send", {"signature": SIG, "messages": [msg("e1")]})
        assert status == 503 and data["code"] == "ServiceUnavailable"
        assert call(server, "GET", "/stats")[1]["received"] == 0


class TestFailRate:
    def outcomes(self, server, n=200):
        results = {}
        for start in range(0, n, 100):
            batch = (msg(f"f-{i}", phone=f"137{i:08d}") for i in range(start, min(n, start + 100)))
            results |= send(server, *batch)
        return results

    def test_seeded_failures_are_reproducible_and_of_both_kinds(self, simulator, receiver):
        first = self.outcomes(simulator(fail_rate=0.5, seed=7))
        second = self.outcomes(simulator(fail_rate=0.5, seed=7, receipts_url=""))
        key = {k: (r["ok"], r["error"]) for k, r in first.items()}
        assert key == {k: (r["ok"], r["error"]) for k, r in second.items()}
        refused = [k for k, r in first.items() if not r["ok"]]
        assert {first[k]["error"] for k in refused} == {"isv.BUSINESS_LIMIT_CONTROL"}
        undelivered = wait_for(
            lambda: (
                [i for i in receiver.items("/receipts") if not i["success"]]
                if len(receiver.items("/receipts")) == 200 - len(refused)
                else None
            )
        )
        # half of 0.5 each way, give or take chance
        assert 25 <= len(refused) <= 75 and 25 <= len(undelivered) <= 75
        assert all(i["err_code"] != "DELIVERED" and i["err_msg"] for i in undelivered)

    def test_failed_count_is_refusals_plus_failed_receipts(self, simulator, receiver):
        server = simulator(fail_rate=0.5, seed=3)
        results = self.outcomes(server, n=100)
        refused = sum(not r["ok"] for r in results.values())
        accepted = 100 - refused
        wait_for(lambda: len(receiver.items("/receipts")) == accepted)
        undelivered = sum(not i["success"] for i in receiver.items("/receipts"))
        stats = call(server, "GET", "/stats")[1]
        assert stats["failed"] == refused + undelivered

    def test_a_different_seed_gives_different_failures(self, simulator):
        a = self.outcomes(simulator(fail_rate=0.5, seed=1, receipts_url=""), n=100)
        b = self.outcomes(simulator(fail_rate=0.5, seed=2, receipts_url=""), n=100)
        assert {k: r["ok"] for k, r in a.items()} != {k: r["ok"] for k, r in b.items()}

    def test_a_throttled_message_resent_gets_a_fresh_chance(self, simulator):
        server = simulator(fail_rate=0.5, seed=11, receipts_url="")
        refused = [k for k, r in self.outcomes(server, n=100).items() if not r["ok"]]
        retried = send(server, *(msg(k, phone="13700000000") for k in refused))
        assert any(r["ok"] for r in retried.values())


class TestReceipts:
    def test_receipt_has_alibaba_smsreport_fields(self, simulator, receiver):
        server = simulator()
        results = send(server, msg("r-1", phone="13912345678", text="请于明天上午到卫生院检查。"))
        [item] = wait_for(lambda: receiver.items("/receipts"))
        assert set(item) == {
            "phone_number",
            "send_time",
            "report_time",
            "success",
            "err_code",
            "err_msg",
            "sms_size",
            "biz_id",
            "out_id",
        }
        assert item["phone_number"] == "13912345678"
        assert item["out_id"] == "r-1"
        assert item["biz_id"] == results["r-1"]["biz_id"]
        assert (item["success"], item["err_code"], item["err_msg"]) == (
            True,
            "DELIVERED",
            "用户接收成功",
        )
        assert item["sms_size"] == "1"
        assert len(item["send_time"]) == 19 and item["send_time"][10] == " "
        assert item["report_time"] >= item["send_time"]
        assert wait_for(lambda: call(server, "GET", "/stats")[1]["receipts_sent"]) == 1

    @pytest.mark.parametrize(
        ("body_length", "parts"), [(64, 1), (65, 2), (128, 2), (154, 3), (160, 3)]
    )
    def test_sms_size_counts_signature_and_bills_long_messages_in_67s(
        self, simulator, receiver, body_length, parts
    ):
        # 【阳光计生】 is 6 characters: 64 + 6 = 70 → 1; 71 → 2; 134 → 2; 160 → 67+67+26 = 3
        send(simulator(), msg("long", text="检" * body_length))
        [item] = wait_for(lambda: receiver.items("/receipts"))
        assert item["sms_size"] == str(parts)
        assert sms_size("检" * body_length, SIG) == parts

    def test_receipts_of_a_batch_come_as_one_array(self, simulator, receiver):
        send(simulator(), *(msg(f"a-{i}", phone=f"135{i:08d}") for i in range(5)))
        wait_for(lambda: len(receiver.items("/receipts")) == 5)
        assert [len(body) for body in receiver.bodies["/receipts"]] == [5]

    def test_push_is_retried_while_the_platform_is_down(self, simulator, receiver):
        receiver.fail_first = 2
        server = simulator()
        send(server, msg("retry-1"))
        [item] = wait_for(lambda: receiver.items("/receipts"))
        assert item["out_id"] == "retry-1"
        assert call(server, "GET", "/stats")[1]["receipts_sent"] == 1

    def test_push_gives_up_after_the_last_attempt(self, simulator, receiver):
        receiver.fail_first = 100
        server = simulator(push_attempts=3)
        send(server, msg("lost-1"))
        wait_for(lambda: call(server, "GET", "/stats")[1]["receipts_failed"] == 1)
        assert receiver.fail_first == 100 - 3

    def test_repeat_receipts_pushes_the_same_receipt_twice(self, simulator, receiver):
        server = simulator(repeat_receipts=1.0)
        send(server, msg("twice-1"), msg("twice-2", phone="13700000001"))
        items = wait_for(
            lambda: len(receiver.items("/receipts")) == 4 and receiver.items("/receipts")
        )
        assert sorted(i["out_id"] for i in items) == ["twice-1", "twice-1", "twice-2", "twice-2"]
        by_id = [i for i in items if i["out_id"] == "twice-1"]
        assert by_id[0] == by_id[1]
        assert call(server, "GET", "/stats")[1]["receipts_repeated"] == 2

    def test_no_receipts_are_pushed_without_a_receipts_url(self, simulator, receiver):
        server = simulator(receipts_url="")
        send(server, msg("quiet-1"))
        wait_for(lambda: server.pusher.pending() == 0)
        assert receiver.items("/receipts") == []


class TestReplies:
    def test_injected_reply_is_pushed_as_an_smsup_array(self, simulator, receiver):
        server = simulator()
        send(server, msg("before-reply"))
        status, data, _ = call(
            server, "POST", "/inject-reply", {"phone": "13812345678", "content": "1"}
        )
        assert status == 200
        assert data["delivered"] is True
        assert data["platform_answer"] == {"code": 0, "msg": "接收成功"}
        [body] = receiver.bodies["/replies"]
        assert isinstance(body, list)
        [item] = body
        assert {"phone_number", "content", "send_time", "dest_code", "sequence_id"} <= set(item)
        assert (item["phone_number"], item["content"]) == ("13812345678", "1")
        assert item["sequence_id"] == data["sequence_id"]
        assert item["sign_name"] == f"【{SIG}】"

    def test_every_reply_gets_a_new_sequence_id(self, simulator, receiver):
        server = simulator()
        for content in ("TD", "TD", "退订"):
            call(server, "POST", "/inject-reply", {"phone": "13812345678", "content": content})
        ids = [i["sequence_id"] for i in receiver.items("/replies")]
        assert len(ids) == 3 == len(set(ids))
        assert all(isinstance(i, int) for i in ids)
        assert max(ids) - min(ids) > 1000  # random, not counted
        assert call(server, "GET", "/stats")[1]["replies_sent"] == 3

    def test_refused_reply_is_reported_and_pushed_again_later(self, simulator, receiver):
        receiver.fail_first = 1
        server = simulator()
        status, data, _ = call(
            server, "POST", "/inject-reply", {"phone": "13812345678", "content": "2"}
        )
        assert status == 200 and data["delivered"] is False and data["platform_status"] == 500
        [item] = wait_for(lambda: receiver.items("/replies"))
        assert item["sequence_id"] == data["sequence_id"]

    def test_bad_reply_requests_are_refused_with_a_chinese_message(self, simulator):
        server = simulator()
        status, data, _ = call(server, "POST", "/inject-reply", {"phone": "12", "content": "1"})
        assert status == 400 and "手机号码" in data["message"]
        status, data, _ = call(
            simulator(replies_url=""),
            "POST",
            "/inject-reply",
            {"phone": "13812345678", "content": "1"},
        )
        assert status == 400 and "--replies-url" in data["message"]

    def test_reply_form_on_the_page_pushes_and_redirects_back(self, simulator, receiver):
        server = simulator()
        status, _, response = call(
            server,
            "POST",
            "/inject-reply",
            raw=b"phone=13812345678&content=%E9%80%80%E8%AE%A2",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 303 and response.getheader("Location") == "/"
        assert receiver.items("/replies")[0]["content"] == "退订"


class TestStatsAndPage:
    def test_reset_clears_counters_and_history(self, simulator):
        server = simulator(receipts_url="")
        send(server, msg("s-1"), msg("s-1"), msg("bad", phone="1"))
        stats = call(server, "GET", "/stats")[1]
        assert {k: stats[k] for k in ("received", "unique", "duplicates", "failed")} == {
            "received": 3,
            "unique": 2,
            "duplicates": 1,
            "failed": 1,
        }
        assert call(server, "POST", "/reset")[0] == 200
        stats = call(server, "GET", "/stats")[1]
        assert (
            stats["received"] == stats["unique"] == stats["failed"] == stats["receipts_sent"] == 0
        )
        assert call(server, "GET", "/messages")[1] == []

    def test_page_lists_messages_with_masked_phones_newest_first(self, simulator):
        server = simulator()
        send(
            server,
            msg("p-1", phone="13812345678", text="第一条<b>"),
            msg("p-2", phone="13987654321", text="第二条"),
        )
        status, page, response = call(server, "GET", "/")
        assert status == 200 and response.getheader("Content-Type").startswith("text/html")
        assert "138****5678" in page and "139****4321" in page
        assert "13812345678" not in page and "13987654321" not in page
        assert "第一条&lt;b&gt;" in page  # escaped
        assert page.index("p-2") < page.index("p-1")
        assert 'lang="zh-CN"' in page and '<label for="phone">' in page

    def test_page_keeps_only_the_last_two_hundred_messages(self, simulator):
        server = simulator(receipts_url="")
        for start in range(0, 250, 50):
            send(server, *(msg(f"h-{i}", phone=f"136{i:08d}") for i in range(start, start + 50)))
        rows = call(server, "GET", "/messages")[1]
        assert len(rows) == 200
        assert rows[0]["out_id"] == "h-249" and rows[-1]["out_id"] == "h-50"
        assert rows[0]["phone"] == "136****0249"

    def test_page_shows_the_receipt_outcome(self, simulator, receiver):
        server = simulator()
        send(server, msg("st-1"))
        wait_for(lambda: receiver.items("/receipts"))
        assert "已送达" in call(server, "GET", "/")[1]

    def test_unknown_path_is_404(self, simulator):
        assert call(simulator(), "GET", "/nope")[0] == 404


class TestCommand:
    def test_platform_option_pushes_to_this_platforms_secret_addresses(self, settings, monkeypatch):
        from django.core.management import call_command

        command = importlib.import_module("sunshine.messaging.management.commands.sms-simulator")
        started = {}

        def fake_start(host, port, **options):
            started.update(options)
            raise OSError("stop here")

        monkeypatch.setattr(command, "start_server", fake_start)
        with pytest.raises(CommandError):
            call_command("sms-simulator", "--port", "0", "--platform", "http://127.0.0.1:8000/")
        token = settings.SUNSHINE_SMS_CALLBACK_TOKEN
        assert started["receipts_url"] == f"http://127.0.0.1:8000/sms/receipts/{token}/"
        assert started["replies_url"] == f"http://127.0.0.1:8000/sms/replies/{token}/"
