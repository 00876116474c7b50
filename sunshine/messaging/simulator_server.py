"""A local SMS provider that behaves like Alibaba Cloud SMS, for development, demos, tests and
benchmarks. Standard library only; no Django needed to run it.

HTTP API
  POST /send          {"signature": "阳光计生", "messages": [{"out_id", "phone", "text",
                      "template_code", "params"}, …≤100]}
                      → {"code": "OK", "results": [{"out_id", "biz_id", "ok", "error"}]}
                      400 {"code": "isv.INVALID_PARAMETERS", "message"} for a malformed call,
                      503 {"code": "ServiceUnavailable"} for the --error-rate share of calls.
  POST /inject-reply  {"phone", "content"[, "dest_code", "sign_name"]} (JSON or a form) → pushes
                      an SmsUp array to --replies-url at once (retried later if refused)
                      → {"code": "OK", "sequence_id", "delivered", "platform_status",
                      "platform_answer"}
  GET  /stats         {"received", "unique", "duplicates", "failed", "receipts_sent", …}
                      (?detail=1 adds "duplicated_out_ids": {out_id: times})
  GET  /messages      the last 200 messages as JSON (phones masked)
  POST /reset         clears counters, history and pending pushes
  GET  /              a Chinese HTML page: counters, a reply form, the last 200 messages

Behaviour
  - Every message is counted by out_id (a resend is a duplicate) and, when accepted, gets a
    random BizId like Alibaba's ("123456789012345678^0"). Like Alibaba, it does not
    de-duplicate. Replies get random sequence ids.
  - A number that is not a mainland mobile is refused (isv.MOBILE_NUMBER_ILLEGAL); a missing
    signature is refused (isv.SMS_SIGNATURE_ILLEGAL); more than 500 characters is refused
    (isv.PARAM_LENGTH_LIMIT). Of the rest, a --fail-rate share fails: half at once
    (isv.BUSINESS_LIMIT_CONTROL, worth a retry), half later in the receipt
    (MOBILE_NOT_ON_SERVICE …). With --seed the outcome depends only on (seed, out_id, how many
    times that out_id was sent), so it does not depend on thread timing.
  - After --receipt-delay seconds it pushes SmsReport arrays (≤100 items) to --receipts-url;
    sms_size is "1" up to 70 characters (【signature】 included), else ceil(n / 67) — a string,
    as Alibaba sends it. A push counts as received when the platform answers HTTP 200 with
    {"code": 0}; otherwise it is retried with backoff (--push-attempts). --repeat-receipts
    SHARE pushes that share of receipts twice, as real providers sometimes do.
"""

import dataclasses
import datetime as dt
import heapq
import html
import itertools
import json
import math
import random
import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sunshine.core.masking import mask_mobile

BEIJING = dt.timezone(dt.timedelta(hours=8))
MAX_BATCH = 100
MAX_LENGTH = 500
MAX_BODY = 2 * 1024 * 1024
HISTORY = 200
MOBILE = re.compile(r"1[3-9]\d{9}")
THROTTLED = "isv.BUSINESS_LIMIT_CONTROL"
UNDELIVERED = (
    ("MOBILE_NOT_ON_SERVICE", "停机、空号、暂停服务、关机、不在服务区"),
    ("MOBILE_TERMINAL_ERROR", "手机终端问题，如内存满、SIM卡满、非法设备等"),
    ("MOBILE_IN_BLACK", "手机号在黑名单"),
)


def sms_size(text: str, signature: str) -> int:
    """Billed parts: 【signature】 + text, every character counts one; ≤ 70 → 1, else parts
    of 67."""
    sig = signature.strip().strip("【】")
    n = len(f"【{sig}】{text}" if sig else text)
    return 1 if n <= 70 else math.ceil(n / 67)


def _now_text() -> str:
    return dt.datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


@dataclasses.dataclass
class Options:
    receipts_url: str = ""
    replies_url: str = ""
    fail_rate: float = 0.0
    receipt_delay: float = 1.0
    seed: int | None = None
    repeat_receipts: float = 0.0
    error_rate: float = 0.0  # share of /send calls answered 503 (the whole call fails)
    push_attempts: int = 4
    push_backoff: float = 0.5  # seconds before the 2nd push attempt, doubled after that
    push_timeout: float = 5.0
    verbose: bool = False

    def __post_init__(self):
        for name in ("fail_rate", "repeat_receipts", "error_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} 应在 0 到 1 之间，现在是 {value}。")
        if self.receipt_delay < 0:
            raise ValueError("receipt_delay 不能为负数。")


def post_json(url: str, payload, timeout: float) -> tuple[bool, int, object]:
    """POST a JSON document the way Alibaba pushes; (accepted, HTTP status, answer). Accepted
    means HTTP 200 with {"code": 0}."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        return False, exc.code, exc.read()[:500].decode("utf-8", "replace")
    except (OSError, ValueError) as exc:
        return False, 0, repr(exc)
    try:
        answer = json.loads(raw.decode("utf-8"))
    except ValueError:
        return False, status, raw[:500].decode("utf-8", "replace")
    accepted = status == 200 and isinstance(answer, dict) and str(answer.get("code")) == "0"
    return accepted, status, answer


@dataclasses.dataclass
class Job:
    kind: str  # "receipt" | "reply"
    items: list
    attempt: int = 1
    records: list = dataclasses.field(default_factory=list)  # history rows to mark (receipts)


class State:
    """Counters and history; every mutation under `lock`."""

    def __init__(self, options: Options):
        self.options = options
        self.lock = threading.Lock()
        self.reset()

    @staticmethod
    def new_biz_id() -> str:
        """18 random digits and ^0, like Alibaba's. Random, not counted: a sequential BizId
        lets anyone who can reach the receipt address guess the next ones."""
        return f"{secrets.randbelow(9 * 10**17) + 10**17}^0"

    @staticmethod
    def new_sequence_id() -> int:
        return secrets.randbelow(9 * 10**15) + 10**15

    def reset(self):
        self.rng = random.Random(self.options.seed)
        self.seen: dict[str, int] = {}
        self.received = self.duplicates = self.rejected = self.undelivered = 0
        self.receipts_sent = self.receipts_failed = self.receipts_repeated = 0
        self.replies_sent = self.replies_failed = 0
        self.recent: deque = deque(maxlen=HISTORY)
        self.replies: deque = deque(maxlen=50)
        self.last_signature = ""

    def chance(self, out_id: str, nth: int) -> random.Random:
        if self.options.seed is None:
            return self.rng
        return random.Random(f"{self.options.seed}:{out_id}:{nth}")

    def stats(self, detail: bool = False) -> dict:
        with self.lock:
            data = {
                "received": self.received,
                "unique": len(self.seen),
                "duplicates": self.duplicates,
                "failed": self.rejected + self.undelivered,
                "rejected": self.rejected,
                "undelivered": self.undelivered,
                "receipts_sent": self.receipts_sent,
                "receipts_repeated": self.receipts_repeated,
                "receipts_failed": self.receipts_failed,
                "replies_sent": self.replies_sent,
                "replies_failed": self.replies_failed,
            }
            if detail:
                dup = itertools.islice(((k, n) for k, n in self.seen.items() if n > 1), 1000)
                data["duplicated_out_ids"] = dict(dup)
        return data


class Pusher(threading.Thread):
    """Pushes receipts and replies to the platform when due; retries refused pushes."""

    def __init__(self, server: "SimulatorServer"):
        super().__init__(name="sms-simulator-pusher", daemon=True)
        self.server = server
        self.cond = threading.Condition()
        self.heap: list = []
        self.order = itertools.count()
        self.stopping = False

    def schedule(self, delay: float, job: Job) -> None:
        with self.cond:
            heapq.heappush(self.heap, (time.monotonic() + delay, next(self.order), job))
            self.cond.notify()

    def clear(self) -> None:
        with self.cond:
            self.heap.clear()

    def pending(self) -> int:
        with self.cond:
            return len(self.heap)

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify()
        if self.is_alive():
            self.join(timeout=5)

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.stopping:
                    now = time.monotonic()
                    if self.heap and self.heap[0][0] <= now:
                        break
                    self.cond.wait(self.heap[0][0] - now if self.heap else None)
                if self.stopping:
                    return
                now = time.monotonic()
                due = []
                while self.heap and self.heap[0][0] <= now:
                    due.append(heapq.heappop(self.heap)[2])
            try:
                self.deliver(due)
            except Exception:  # a push must never kill the thread
                import traceback

                traceback.print_exc()

    def deliver(self, jobs: list[Job]) -> None:
        state, options = self.server.state, self.server.options
        receipts: dict[int, list] = {}  # attempt → items, merged into arrays of ≤ 100
        for job in jobs:
            if job.kind == "reply":
                self.push_reply(job)
                continue
            if job.records:
                stamp = _now_text()
                with state.lock:
                    for item, record in zip(job.items, job.records, strict=True):
                        item.setdefault("report_time", stamp)
                        record["status"] = (
                            "已送达" if item["success"] else f"未送达：{item['err_code']}"
                        )
            receipts.setdefault(job.attempt, []).extend(job.items)
        if not options.receipts_url:
            return
        for attempt, items in receipts.items():
            for start in range(0, len(items), MAX_BATCH):
                chunk = items[start : start + MAX_BATCH]
                accepted, _, _ = post_json(options.receipts_url, chunk, options.push_timeout)
                with state.lock:
                    if accepted:
                        state.receipts_sent += len(chunk)
                    elif attempt >= options.push_attempts:
                        state.receipts_failed += len(chunk)
                if not accepted and attempt < options.push_attempts:
                    backoff = options.push_backoff * 2 ** (attempt - 1)
                    self.schedule(backoff, Job("receipt", chunk, attempt + 1))

    def push_reply(self, job: Job) -> tuple[bool, int, object]:
        state, options = self.server.state, self.server.options
        accepted, status, answer = post_json(options.replies_url, job.items, options.push_timeout)
        with state.lock:
            if accepted:
                state.replies_sent += 1
            elif job.attempt >= options.push_attempts:
                state.replies_failed += 1
        if not accepted and job.attempt < options.push_attempts:
            backoff = options.push_backoff * 2 ** (job.attempt - 1)
            self.schedule(backoff, Job("reply", job.items, job.attempt + 1))
        return accepted, status, answer


class BadRequest(Exception):
    pass


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, options: Options):
        self.options = options
        self.state = State(options)
        self.pusher = Pusher(self)
        self._active: set = set()
        self._active_lock = threading.Lock()
        self._serving = False  # set by start_server: shutdown() would wait forever otherwise
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def process_request(self, request, client_address):
        with self._active_lock:
            self._active.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._active_lock:
            self._active.discard(request)
        super().shutdown_request(request)

    def stop(self) -> None:
        """Stop accepting, drop open keep-alive connections, stop the pusher."""
        if self._serving:
            self.shutdown()
        self.server_close()
        with self._active_lock:
            active = list(self._active)
        for sock in active:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.pusher.stop()

    # -- the provider's work ---------------------------------------------------------
    def accept(self, payload) -> tuple[int, dict]:
        if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
            raise BadRequest("请求应为 JSON 对象，含 signature 和 messages 列表。")
        messages = payload["messages"]
        if not 1 <= len(messages) <= MAX_BATCH:
            raise BadRequest(f"一次发送 1 到 {MAX_BATCH} 条短信，收到 {len(messages)} 条。")
        if not all(isinstance(m, dict) and str(m.get("out_id") or "") for m in messages):
            raise BadRequest("每条短信都要有 out_id。")
        signature = str(payload.get("signature") or "").strip().strip("【】")
        options, state = self.options, self.state
        sent_at = _now_text()
        clock = sent_at[11:]
        results, items, records = [], [], []
        with state.lock:
            if options.error_rate and state.rng.random() < options.error_rate:
                return 503, {"code": "ServiceUnavailable", "message": "模拟的服务端故障"}
            if signature:
                state.last_signature = signature
            for m in messages:
                out_id = str(m["out_id"])
                phone = str(m.get("phone") or "")
                text = str(m.get("text") or "")
                nth = state.seen.get(out_id, 0)
                state.seen[out_id] = nth + 1
                state.received += 1
                if nth:
                    state.duplicates += 1
                error = ""
                if not MOBILE.fullmatch(phone):
                    error = "isv.MOBILE_NUMBER_ILLEGAL"
                elif not signature:
                    error = "isv.SMS_SIGNATURE_ILLEGAL"
                elif len(text) + len(signature) + 2 > MAX_LENGTH:
                    error = "isv.PARAM_LENGTH_LIMIT"
                undelivered = None
                if not error and options.fail_rate:
                    rng = state.chance(out_id, nth)
                    if rng.random() < options.fail_rate:
                        if rng.random() < 0.5:
                            error = THROTTLED
                        else:
                            undelivered = rng.choice(UNDELIVERED)
                record = {
                    "time": clock,
                    "phone": phone,
                    "text": f"【{signature}】{text}" if signature else text,
                    "out_id": out_id,
                    "status": f"被拒：{error}" if error else "已受理",
                }
                state.recent.append(record)
                if error:
                    state.rejected += 1
                    results.append({"out_id": out_id, "biz_id": "", "ok": False, "error": error})
                    continue
                biz_id = state.new_biz_id()
                results.append({"out_id": out_id, "biz_id": biz_id, "ok": True, "error": ""})
                if undelivered:
                    state.undelivered += 1
                code, reason = undelivered or ("DELIVERED", "用户接收成功")
                items.append(
                    {
                        "phone_number": phone,
                        "send_time": sent_at,
                        "success": undelivered is None,
                        "err_code": code,
                        "err_msg": reason,
                        "sms_size": str(sms_size(text, signature)),
                        "biz_id": biz_id,
                        "out_id": out_id,
                    }
                )
                records.append(record)
            repeats = []
            if items and options.repeat_receipts:
                repeats = [i for i in items if state.rng.random() < options.repeat_receipts]
                state.receipts_repeated += len(repeats)
        if items:
            self.pusher.schedule(options.receipt_delay, Job("receipt", items, records=records))
        if repeats:
            self.pusher.schedule(options.receipt_delay + 0.05, Job("receipt", repeats))
        return 200, {"code": "OK", "results": results}

    def inject_reply(self, data: dict) -> tuple[int, dict]:
        phone = str(data.get("phone") or "").strip()
        content = str(data.get("content") or "").strip()
        if not MOBILE.fullmatch(phone):
            raise BadRequest("手机号码应为 11 位大陆手机号。")
        if not content:
            raise BadRequest("回复内容不能为空。")
        if not self.options.replies_url:
            raise BadRequest("模拟器没有设置 --replies-url，上行短信无处推送。")
        state = self.state
        with state.lock:
            sequence_id = state.new_sequence_id()
            sign_name = str(data.get("sign_name") or state.last_signature)
            state.replies.append(
                {"time": _now_text()[11:], "phone": phone, "content": content, "id": sequence_id}
            )
        item = {
            "phone_number": phone,
            "content": content,
            "send_time": _now_text(),
            "dest_code": str(data.get("dest_code") or ""),
            "sequence_id": sequence_id,
            "sign_name": f"【{sign_name}】" if sign_name else "",
        }
        accepted, status, answer = self.pusher.push_reply(Job("reply", [item]))
        return 200, {
            "code": "OK",
            "sequence_id": sequence_id,
            "delivered": accepted,
            "platform_status": status,
            "platform_answer": answer,
        }

    def reset(self) -> None:
        self.pusher.clear()
        with self.state.lock:
            self.state.reset()

    def messages(self) -> list[dict]:
        with self.state.lock:
            rows = list(self.state.recent)
        return [{**r, "phone": mask_mobile(r["phone"])} for r in reversed(rows)]

    def page(self) -> str:
        stats = self.state.stats()
        with self.state.lock:
            rows = list(self.state.recent)
            replies = list(self.state.replies)
        e = html.escape
        labels = [
            ("received", "收到"),
            ("unique", "不同编号"),
            ("duplicates", "重复发送"),
            ("failed", "失败"),
            ("receipts_sent", "已推送回执"),
            ("replies_sent", "已推送上行"),
        ]
        counters = "".join(
            f"<tr><th scope=row>{e(label)}</th><td>{stats[k]}</td></tr>" for k, label in labels
        )
        body = (
            "".join(
                f"<tr><td>{e(r['time'])}</td><td>{e(mask_mobile(r['phone']))}</td><td>{e(r['text'])}</td>"
                f"<td><code>{e(r['out_id'])}</code></td><td>{e(r['status'])}</td></tr>"
                for r in reversed(rows)
            )
            or '<tr><td colspan="5">还没有收到短信。</td></tr>'
        )
        reply_rows = "".join(
            f"<li>{e(r['time'])} {e(mask_mobile(r['phone']))}：{e(r['content'])}</li>"
            for r in reversed(replies)
        )
        o = self.options
        return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>短信模拟器</title>
<style>
body{{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;font-size:16px;
margin:0 auto;max-width:70rem;padding:1rem;color:#1f2328;line-height:1.6}}
h1{{color:#a61b1b;font-size:1.5rem}} h2{{font-size:1.2rem;margin-top:1.5rem}}
table{{border-collapse:collapse;width:100%}} th,td{{border-bottom:1px solid #d0d7de;
padding:.35rem .5rem;text-align:left;vertical-align:top}} .counters{{width:auto}}
input,button{{font-size:1rem;padding:.4rem .6rem;margin:.2rem .5rem .2rem 0}}
button{{background:#a61b1b;color:#fff;border:0;border-radius:4px;cursor:pointer}}
</style></head><body>
<h1>短信模拟器</h1>
<p>开发和演示用：短信不会真正发出。回执推送到 <code>{e(o.receipts_url or "（未设置）")}</code>，
上行推送到 <code>{e(o.replies_url or "（未设置）")}</code>。<a href="/">刷新</a></p>
<h2>计数</h2>
<table class="counters">{counters}</table>
<h2>模拟上行回复</h2>
<form method="post" action="/inject-reply">
<label for="phone">手机号码</label> <input id="phone" name="phone" inputmode="numeric"
maxlength="11" required>
<label for="content">回复内容</label> <input id="content" name="content" required>
<button type="submit">推送</button></form>
<ul>{reply_rows}</ul>
<h2>最近收到的短信（最多 {HISTORY} 条，新的在前）</h2>
<table><thead><tr><th scope="col">时间</th><th scope="col">手机号码</th><th scope="col">内容</th>
<th scope="col">编号（OutId）</th><th scope="col">状态</th></tr></thead>
<tbody>{body}</tbody></table>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "SunshineSmsSimulator/1.0"
    disable_nagle_algorithm = True
    timeout = 30  # an idle keep-alive connection is closed after this
    server: SimulatorServer

    def log_message(self, format, *args):
        if self.server.options.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._send(status, body, "application/json; charset=utf-8")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise BadRequest("请求太大。")
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/stats":
            detail = parse_qs(parts.query).get("detail", ["0"])[0] not in ("", "0")
            self._json(200, self.server.state.stats(detail))
        elif parts.path == "/messages":
            self._json(200, self.server.messages())
        elif parts.path == "/":
            self._send(200, self.server.page().encode(), "text/html; charset=utf-8")
        else:
            self._json(404, {"code": "NotFound", "message": "没有这个地址。"})

    def do_POST(self):
        path = urlsplit(self.path).path
        form = False
        try:
            raw = self._body()
            if path == "/send":
                status, data = self.server.accept(self._parse_json(raw))
            elif path == "/inject-reply":
                form = "application/x-www-form-urlencoded" in (
                    self.headers.get("Content-Type") or ""
                )
                if form:
                    fields = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
                else:
                    fields = self._parse_json(raw)
                    if not isinstance(fields, dict):
                        raise BadRequest('请求应为 JSON 对象：{"phone", "content"}。')
                status, data = self.server.inject_reply(fields)
            elif path == "/reset":
                self.server.reset()
                status, data = 200, {"code": "OK"}
            else:
                status, data = 404, {"code": "NotFound", "message": "没有这个地址。"}
        except BadRequest as exc:
            status, data = 400, {"code": "isv.INVALID_PARAMETERS", "message": str(exc)}
        if form and status == 200:
            self._send(303, b"", "text/plain; charset=utf-8", {"Location": "/"})
        elif form:
            message = html.escape(data["message"])
            page = (
                f'<!doctype html><meta charset="utf-8"><p>{message}</p><p><a href="/">返回</a></p>'
            )
            self._send(status, page.encode(), "text/html; charset=utf-8")
        else:
            self._json(status, data)

    @staticmethod
    def _parse_json(raw: bytes):
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise BadRequest("请求体不是有效的 UTF-8 JSON。") from None


def make_server(host: str = "127.0.0.1", port: int = 8025, **options) -> SimulatorServer:
    server = SimulatorServer((host, port), Options(**options))
    server.pusher.start()
    return server


def start_server(host: str = "127.0.0.1", port: int = 8025, **options):
    """Start the simulator in a background thread; return (server, thread). Port 0 picks a
    free port (server.url tells which). Stop it with server.stop()."""
    server = make_server(host, port, **options)
    server._serving = True
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name="sms-simulator",
        daemon=True,
    )
    thread.start()
    return server, thread
