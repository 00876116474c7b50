"""Keep a few child processes running: a child that dies is started again after a back-off,
the others go on serving; stopping the supervisor stops every child.

Used by `sunshine run` for the web server, the task worker and the SMS simulator. Each child
runs in a process group of its own, so a Ctrl-C in the terminal reaches the supervisor only,
which then stops the children in order (SIGINT, then SIGKILL after the grace period) — no
child is restarted once stopping has begun.
"""

import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# Seconds to wait before the 1st, 2nd, 3rd … restart of a child that keeps dying.
BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
# A child that ran this long before dying starts again from the first back-off step.
STABLE_AFTER = 60.0


def describe_exit(returncode: int) -> str:
    """ "被信号 SIGKILL 终止" or "退出代码 1", for the terminal."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"被信号 {name} 终止"
    return f"退出代码 {returncode}"


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0  # deaths in a row, each one lengthening the back-off
    restart_at: float | None = None  # when a dead child is due to start again
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # pids, oldest first


class Supervisor:
    def __init__(
        self,
        children: dict[str, Sequence[str]],
        *,
        cwd=None,
        log: Callable[[str], None] = print,
        backoff: Sequence[float] = BACKOFF,
        stable_after: float = STABLE_AFTER,
        grace: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.children = {name: Child(name, list(argv)) for name, argv in children.items()}
        self.cwd, self.log, self.clock = cwd, log, clock
        self.backoff, self.stable_after, self.grace = tuple(backoff), stable_after, grace
        self.stopping = False

    def _start(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv, cwd=self.cwd, process_group=0)
        child.started_at, child.restart_at = self.clock(), None
        child.history.append(child.proc.pid)

    def start(self) -> None:
        for child in self.children.values():
            self._start(child)

    def poll(self) -> None:
        """One round: notice dead children, schedule their restart, start those that are due."""
        now = self.clock()
        for child in self.children.values():
            if self.stopping:
                return
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._start(child)
                    child.restarts += 1
                    self.log(f"{child.name}已重新启动（进程号 {child.proc.pid}）。")
                continue
            if child.proc is None or child.proc.poll() is None:
                continue
            if now - child.started_at >= self.stable_after:
                child.failures = 0
            delay = self.backoff[min(child.failures, len(self.backoff) - 1)]
            child.failures += 1
            child.restart_at = now + delay
            self.log(
                f"{child.name}意外退出（{describe_exit(child.proc.returncode)}），"
                f"{delay:g} 秒后重新启动；其他进程照常运行。"
            )

    def stop(self) -> None:
        """SIGINT to every live child, SIGKILL to any still running after the grace period."""
        self.stopping = True
        live = [c.proc for c in self.children.values() if c.proc and c.proc.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + self.grace
        for proc in live:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def run(self, *, interval: float = 0.5) -> None:
        """Start every child and watch them until SIGINT, SIGTERM or SIGHUP; then stop all."""

        def request_stop(*_):
            self.stopping = True

        previous = {
            sig: signal.signal(sig, request_stop)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        try:
            self.start()
            while not self.stopping:
                self.poll()
                time.sleep(interval)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
