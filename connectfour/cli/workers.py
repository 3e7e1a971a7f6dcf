"""``connectfour serve --workers N``: N server processes on one port.

Each worker is a whole ``connectfour serve`` with the same options, bound to
the same port with SO_REUSEPORT, so the kernel spreads new connections over
them; they share games through Redis, never through this process. The
supervisor only starts them, starts again one that dies (after a pause that
grows while they keep dying at once), and on SIGTERM or SIGINT stops them
all and waits for them.

For /metrics, the workers share a fresh directory (prometheus-client's
multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``: ``connectfour/metrics.py``),
so that any of them answers with the sum over all of them. The supervisor
drops the live gauges of a dead worker from it, and removes it at the end.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from types import FrameType

from prometheus_client import multiprocess

log = logging.getLogger("connectfour.workers")

#: A worker that lives less than this counts as dying at once: the next start waits.
QUICK_DEATH = 5.0
#: Longest wait before starting again a worker that keeps dying at once.
MAX_PAUSE = 30.0
#: Seconds workers get to stop cleanly before they are killed.
STOP_TIMEOUT = 15.0
#: Exit status of a worker that cannot run at all (Redis unreachable at start, a bad option):
#: starting it again would not help, so the supervisor stops.
FATAL = 3


def worker_command(argv: Sequence[str]) -> list[str]:
    """The command line of one worker: the same options, one process, the port shared."""
    args: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers="):
            continue
        args.append(arg)
    return [sys.executable, "-m", "connectfour", *args, "--reuse-port"]


class Supervisor:
    def __init__(self, command: list[str], count: int, metrics: str | None = None) -> None:
        """``metrics``: the workers' shared metrics directory (None: they share none)."""
        self.command = command
        self.count = count
        self.metrics = metrics
        self._env = None if metrics is None else {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics}
        self.workers: dict[int, tuple[subprocess.Popen[bytes], float]] = {}  # slot -> process, started at
        self._pauses = [0.0] * count
        self._stopping = False

    def _start(self, slot: int) -> None:
        process = subprocess.Popen(self.command, env=self._env)
        self.workers[slot] = (process, time.monotonic())
        log.info("worker %d started (pid %d)", slot, process.pid)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        for slot in range(self.count):
            self._start(slot)
        status = 0
        due: dict[int, float] = {}  # slot -> when to start it again
        while not self._stopping:
            time.sleep(0.2)
            now = time.monotonic()
            for slot, (process, started) in list(self.workers.items()):
                code = process.poll()
                if code is None:
                    continue
                del self.workers[slot]
                if self.metrics is not None:  # its live gauges (connections...) are gone; its counts stay
                    multiprocess.mark_process_dead(process.pid, self.metrics)  # type: ignore[no-untyped-call]
                if code == FATAL:
                    log.error("worker %d cannot run (exit status %d): stopping", slot, code)
                    self._stopping, status = True, 1
                    break
                quick = now - started < QUICK_DEATH
                pause = self._pauses[slot] = min(MAX_PAUSE, max(0.5, self._pauses[slot] * 2)) if quick else 0.0
                log.error(
                    "worker %d (pid %d) died with status %d; starting it again in %gs", slot, process.pid, code, pause
                )
                due[slot] = now + pause
            for slot, when in list(due.items()):
                if when <= now and not self._stopping:
                    del due[slot]
                    self._start(slot)
        self._stop_all()
        return status

    def _stop_all(self) -> None:
        for process, _ in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process, _ in self.workers.values():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker pid %d did not stop in %gs: killed", process.pid, STOP_TIMEOUT)
                process.kill()
                process.wait()
        log.info("all workers stopped")


def supervise(argv: Sequence[str], count: int) -> int:
    """Run ``count`` workers of the ``serve`` command in ``argv`` until SIGTERM."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryDirectory(prefix="connectfour-metrics-") as metrics:
        log.info("workers share their metrics in %s", metrics)
        return Supervisor(worker_command(argv), count, metrics).run()
