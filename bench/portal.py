"""Requests per second of a place's board page, against a bare Django view.

Builds the demo county in a temporary SQLite database, serves the platform
(`config.wsgi:application`) and a bare Django app (bench/bare_django.py, same page bytes, no
database, no middleware) with the same gunicorn settings (sync workers, 127.0.0.1, no access
log), loads each in turn from 127.0.0.1 with wrk (or a bounded Python load generator when wrk
is missing), and prints the medians as one JSON line, last, on stdout:

    .venv/bin/python bench/portal.py --quick     # about 25 s
    .venv/bin/python bench/portal.py             # about 1.5 min

Progress goes to stderr. The load is bounded: fixed connections, fixed duration, loopback only.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
HOST = "127.0.0.1"
# The demo's first village-level place (a 社区 of the first 街道): the demo `village` user's
# place. Its board queries the place, its ancestors, its children and the contacts above it.
DEFAULT_CODE = "990101001001"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def child_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("REDIS_URL", "DJANGO_SETTINGS_MODULE", "SUNSHINE_LOG_LEVEL"):
        env.pop(name, None)
    env.update(
        SUNSHINE_VAR_DIR=str(tmp / "var"),
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",  # absolute: sqlite:////tmp/...
        SUNSHINE_ALLOWED_HOSTS=HOST,
        SUNSHINE_DEBUG="0",
        SECRET_KEY="bench-only-not-secret",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def build_data(env: dict[str, str], code: str, items: int) -> None:
    manage = str(ROOT / "manage.py")
    started = time.monotonic()
    for cmd in (["migrate", "--noinput", "-v0"], ["build-demo", "--seed", "1"]):
        done = subprocess.run(
            [sys.executable, manage, *cmd],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    done = subprocess.run(
        [sys.executable, str(BENCH_DIR / "_board_items.py"), code, str(items)],
        cwd=ROOT,
        env=dict(env, DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"seeding board items failed:\n{done.stdout}\n{done.stderr}")
    log(f"data: board {code} has {done.stdout.strip()} published items")
    # WhiteNoise warns once per worker when STATIC_ROOT is missing; give it one.
    (Path(env["SUNSHINE_VAR_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
    log(f"data: demo county built in {time.monotonic() - started:.1f} s")


class Server:
    """One gunicorn, in its own process group so that stopping it stops its workers."""

    def __init__(self, name: str, app: str, chdir: Path, env: dict, workers: int, tmp: Path):
        self.name, self.port = name, free_port()
        self.log_path = tmp / f"{name}.log"
        self.cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            app,
            "--chdir",
            str(chdir),
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--graceful-timeout",
            "5",
            # No --access-logfile: gunicorn writes no access log unless one is named.
        ]
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.cmd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def wait_ready(self, path: str, timeout: float = 60) -> bytes:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise SystemExit(f"{self.name}: gunicorn exited\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url(path), timeout=5) as resp:
                    body = resp.read()
                    if resp.status == 200:
                        return body
                    last = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                raise SystemExit(
                    f"{self.name}: GET {path} answered {exc.code}\n{self.log_tail()}"
                ) from None
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise SystemExit(
            f"{self.name}: not ready after {timeout:.0f} s ({last})\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group (new session)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


# ---- load ---------------------------------------------------------------------------------

WRK_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
WRK_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(\w+)", re.M)
WRK_SOCKET = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", re.M
)
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)", re.M)


def load_wrk(url: str, threads: int, connections: int, duration: int) -> dict:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "--latency",
        url,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=duration + 30)
    finally:  # interrupted or timed out: stop wrk and reap it
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    rps, total = WRK_RPS.search(out), WRK_TOTAL.search(out)
    if proc.returncode != 0 or not rps or not total:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
    sock = WRK_SOCKET.search(out)
    non2xx = WRK_NON2XX.search(out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    return {
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)),
        "errors": sum(int(n) for n in sock.groups()) if sock else 0,
        "bad_status": int(non2xx.group(1)) if non2xx else 0,
        "latency": f"p50 {p50.group(1)} p99 {p99.group(1)}" if p50 and p99 else "",
        "p99_ms": _ms(p99.group(1)) if p99 else None,
    }


def _ms(value: str) -> float:
    """wrk's '850.00us', '12.34ms', '1.02s' → milliseconds."""
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def _py_load_process(port: int, path: str, connections: int, duration: float) -> tuple:
    """One load process: `connections` threads, each a keep-alive client, for `duration` s."""
    started = time.monotonic()
    deadline = started + duration
    counts = [0, 0, 0]  # ok, bad status, errors
    lock = threading.Lock()

    def client() -> None:
        ok = bad = err = 0
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        while time.monotonic() < deadline:
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    ok += 1
                else:
                    bad += 1
            except (OSError, http.client.HTTPException):
                err += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
        conn.close()
        with lock:
            counts[0] += ok
            counts[1] += bad
            counts[2] += err

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (*counts, time.monotonic() - started)


def load_python(port: int, path: str, procs: int, connections: int, duration: int) -> dict:
    per = [connections // procs + (1 if i < connections % procs else 0) for i in range(procs)]
    with ProcessPoolExecutor(max_workers=procs) as pool:
        futures = [pool.submit(_py_load_process, port, path, n, duration) for n in per if n > 0]
        results = [f.result(timeout=duration + 30) for f in futures]
    ok, bad, err = (sum(r[i] for r in results) for i in range(3))
    return {
        "rps": sum(r[0] / r[3] for r in results),
        "requests": ok + bad,
        "errors": err,
        "bad_status": bad,
        "latency": "",
    }


def run_load(server: Server, path: str, args, duration: int) -> dict:
    if args.tool == "wrk":
        result = load_wrk(server.url(path), args.threads, args.connections, duration)
    else:
        result = load_python(server.port, path, args.threads, args.connections, duration)
    if result["bad_status"]:
        raise SystemExit(
            f"{server.name}: {result['bad_status']} responses were not 200\n{server.log_tail()}"
        )
    if result["errors"] > max(10, result["requests"] // 100):
        raise SystemExit(
            f"{server.name}: {result['errors']} socket errors for {result['requests']} requests"
            f"\n{server.log_tail()}"
        )
    if server.proc is None or server.proc.poll() is not None:
        raise SystemExit(f"{server.name}: gunicorn died under load\n{server.log_tail()}")
    return result


# ---- main ---------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="one short round (under a minute)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    p.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    p.add_argument("--threads", type=int, default=2, help="load threads/processes (default 2)")
    p.add_argument("--duration", type=int, help="seconds per measurement (10; 5 with --quick)")
    p.add_argument("--rounds", type=int, help="rounds per server (3; 1 with --quick)")
    p.add_argument("--code", default=DEFAULT_CODE, help=f"place code (default {DEFAULT_CODE})")
    p.add_argument(
        "--items", type=int, default=50, help="published items on the board (default 50)"
    )
    p.add_argument(
        "--tool", choices=["wrk", "python"], help="load generator (default: wrk if installed)"
    )
    args = p.parse_args(argv)
    args.duration = args.duration or (5 if args.quick else 10)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.warmup = 2 if args.quick else 3
    args.tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    for name in ("workers", "connections", "threads", "duration", "rounds"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    args.connections = min(args.connections, 256)  # bounded load, whatever is asked
    args.duration = min(args.duration, 60)
    args.rounds = min(args.rounds, 10)
    args.threads = min(args.threads, args.connections)
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # so `finally` stops the servers
    path = f"/p/{args.code}/"
    log(
        f"portal bench: {path} vs bare Django; gunicorn {args.workers} sync workers; "
        f"{args.tool} {args.threads} threads {args.connections} connections; "
        f"{args.rounds} x {args.duration} s each"
    )
    load_avg = os.getloadavg()[0]
    if load_avg > 0.5:
        log(f"warning: load average {load_avg:.1f} before the run; figures will be noisy")
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="sunshine-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = child_env(tmp)
        try:
            build_data(env, args.code, args.items)
            platform = Server("platform", "config.wsgi:application", ROOT, env, args.workers, tmp)
            servers.append(platform)
            platform.start()
            page = platform.wait_ready(path)
            page_file = tmp / "board.html"
            page_file.write_bytes(page)

            bare_env = dict(env, BENCH_PAGE_FILE=str(page_file))
            baseline = Server(
                "baseline", "bare_django:application", BENCH_DIR, bare_env, args.workers, tmp
            )
            servers.append(baseline)
            baseline.start()
            if baseline.wait_ready(path) != page:
                raise SystemExit("baseline does not serve the board page's bytes")
            log(f"page: {path} {len(page)} bytes from both servers")

            for server in (platform, baseline):
                run_load(server, path, args, args.warmup)
            rps: dict[str, list[float]] = {"platform": [], "baseline": []}
            p99: dict[str, list[float]] = {"platform": [], "baseline": []}
            for i in range(args.rounds):
                order = (platform, baseline) if i % 2 == 0 else (baseline, platform)
                for server in order:
                    r = run_load(server, path, args, args.duration)
                    rps[server.name].append(r["rps"])
                    if r.get("p99_ms") is not None:
                        p99[server.name].append(r["p99_ms"])
                    log(
                        f"round {i + 1}/{args.rounds} {server.name:8} {r['rps']:8.1f} req/s"
                        f"  ({r['requests']} requests, {r['errors']} socket errors"
                        f"{', ' + r['latency'] if r['latency'] else ''})"
                    )
        except KeyboardInterrupt:
            log("interrupted")
            return 130
        finally:
            for server in reversed(servers):
                server.stop()

    value = statistics.median(rps["platform"])
    baseline_rps = statistics.median(rps["baseline"])
    result = {
        "bench": "portal",
        "value": round(value, 1),
        "unit": "req/s",
        "baseline": round(baseline_rps, 1),
        "ratio": round(value / baseline_rps, 3),
        "p99_ms": round(statistics.median(p99["platform"]), 1) if p99["platform"] else None,
        "baseline_p99_ms": round(statistics.median(p99["baseline"]), 1)
        if p99["baseline"]
        else None,
        "items_on_board": args.items,
        "page": path,
        "page_bytes": len(page),
        "workers": args.workers,
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "load": args.tool,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
