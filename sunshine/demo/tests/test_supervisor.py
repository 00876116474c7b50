"""`sunshine run` keeps serving when one of its processes dies (issue 15 §6): the supervisor
restarts a dead child after a back-off, leaves the others alone and stops all on request.

The first class drives the supervisor with small `sleep` children and an injected clock; the
second runs the real `manage.py run` (gunicorn, huey consumer, SMS simulator) and kills its
task worker with SIGKILL — bounded to well under a minute."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sunshine.demo.supervisor import Supervisor, describe_exit

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
ROOT = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _wait(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.fixture
def supervisor():
    lines: list[str] = []
    clock = Clock()
    sup = Supervisor(
        {"网站": SLEEPER, "任务进程": SLEEPER, "短信模拟器": SLEEPER},
        log=lines.append,
        backoff=(1, 2, 5),
        stable_after=60,
        grace=5,
        clock=clock,
    )
    sup.lines, sup.fake_clock = lines, clock
    sup.start()
    yield sup
    sup.stop()


class TestSupervisor:
    def test_a_killed_child_is_restarted_after_the_backoff_and_the_others_keep_running(
        self, supervisor
    ):
        web, worker = supervisor.children["网站"], supervisor.children["任务进程"]
        web_pid, old_pid = web.proc.pid, worker.proc.pid
        worker.proc.send_signal(signal.SIGKILL)
        worker.proc.wait(timeout=5)
        supervisor.poll()
        assert supervisor.lines == [
            "任务进程意外退出（被信号 SIGKILL 终止），1 秒后重新启动；其他进程照常运行。"
        ]
        supervisor.poll()  # not yet due
        assert worker.proc.pid == old_pid
        supervisor.fake_clock.now += 1
        supervisor.poll()
        assert worker.proc.pid != old_pid and worker.proc.poll() is None
        assert supervisor.lines[-1] == f"任务进程已重新启动（进程号 {worker.proc.pid}）。"
        assert web.proc.pid == web_pid and web.proc.poll() is None
        assert supervisor.children["短信模拟器"].proc.poll() is None

    def test_a_child_that_keeps_dying_waits_longer_each_time(self, supervisor):
        worker = supervisor.children["任务进程"]
        delays = []
        for _ in range(4):
            worker.proc.kill()
            worker.proc.wait(timeout=5)
            supervisor.poll()
            delays.append(worker.restart_at - supervisor.fake_clock.now)
            supervisor.fake_clock.now = worker.restart_at
            supervisor.poll()
        assert delays == [1, 2, 5, 5]

    def test_a_child_that_ran_long_enough_starts_again_from_the_first_step(self, supervisor):
        worker = supervisor.children["任务进程"]
        for _ in range(2):
            worker.proc.kill()
            worker.proc.wait(timeout=5)
            supervisor.poll()
            supervisor.fake_clock.now = worker.restart_at
            supervisor.poll()
        supervisor.fake_clock.now += 61
        worker.proc.kill()
        worker.proc.wait(timeout=5)
        supervisor.poll()
        assert worker.restart_at - supervisor.fake_clock.now == 1

    def test_stop_ends_every_child_and_nothing_is_restarted_afterwards(self, supervisor):
        procs = [c.proc for c in supervisor.children.values()]
        supervisor.stop()
        assert all(p.poll() is not None for p in procs)
        supervisor.fake_clock.now += 100
        supervisor.poll()
        assert [c.proc for c in supervisor.children.values()] == procs

    def test_children_do_not_share_the_terminals_process_group(self, supervisor):
        # A Ctrl-C reaches the supervisor only; it stops the children itself, in order.
        for child in supervisor.children.values():
            assert os.getpgid(child.proc.pid) == child.proc.pid != os.getpgid(0)

    def test_exit_descriptions_are_plain_chinese(self):
        assert describe_exit(-signal.SIGKILL) == "被信号 SIGKILL 终止"
        assert describe_exit(3) == "退出代码 3"


# A real `manage.py run` -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> dict[int, str]:
    """Live child processes of `pid` with their command lines, read from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and state != "Z":
            found[int(entry.name)] = cmd
    return found


def _pid_of(pid: int, needle: str) -> int | None:
    return next((p for p, cmd in _children(pid).items() if needle in cmd), None)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_sunshine_run_restarts_a_killed_task_worker_and_keeps_serving(tmp_path):
    port, sim_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PYTEST_CURRENT_TEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SUNSHINE_VAR_DIR=str(tmp_path),
        SECRET_KEY="run-test-not-secret",
        SUNSHINE_SMS_BACKEND="simulator",
        SUNSHINE_SMS_SIMULATOR_URL=f"http://127.0.0.1:{sim_port}",
        SUNSHINE_WEB_WORKERS="1",
    )
    log = open(tmp_path / "run.log", "wb")
    run = subprocess.Popen(
        [sys.executable, "manage.py", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    health = f"http://127.0.0.1:{port}/healthz"
    seen: set[int] = set()
    try:
        assert _wait(lambda: _answers(health), 30, 0.2), (tmp_path / "run.log").read_text()
        seen.update(_children(run.pid))
        worker = _pid_of(run.pid, "run_huey")
        web = _pid_of(run.pid, "gunicorn")
        assert worker and web and _pid_of(run.pid, "sms-simulator")
        os.kill(worker, signal.SIGKILL)
        assert _wait(lambda: _pid_of(run.pid, "run_huey") not in (None, worker), 15, 0.1), (
            tmp_path / "run.log"
        ).read_text()
        assert run.poll() is None
        assert _pid_of(run.pid, "gunicorn") == web and _answers(health)
        assert _pid_of(run.pid, "sms-simulator")
        children = set(_children(run.pid))
        seen.update(children)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=20) == 0
        assert _wait(lambda: not any(Path(f"/proc/{p}").exists() for p in children), 5)
        text = (tmp_path / "run.log").read_text()
        assert "任务进程意外退出（被信号 SIGKILL 终止）" in text and "已停止。" in text
    finally:
        seen.update(_children(run.pid))
        for pid in seen:  # each child is a process group of its own
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=10)
        log.close()
