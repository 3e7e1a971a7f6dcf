"""Real servers for tests: a `connectfour serve` process, read through its log."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`python -m connectfour serve` on a free port; its stderr lines are kept and awaitable."""

    def __init__(
        self, *args: str, port: int | None = None, env: dict[str, str] | None = None, db: str | Path | None = None
    ) -> None:
        self.port = port or free_port()
        if db is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="connectfour-")
            db = Path(self._tmp.name) / "games.db"
        self.db = Path(db)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        # With PORT in the environment, the server must find its port there.
        port_args = [] if env and "PORT" in env else ["--port", str(self.port)]
        command = [
            sys.executable, "-m", "connectfour", "serve", "--host", "127.0.0.1", *port_args, "--db", str(self.db), *args
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for_log("serving on")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_log(self, text: str, timeout: float = 15.0) -> str:
        """Block until a log line containing ``text`` appears (or was seen already)."""
        for line in self.lines:
            if text in line:
                return line
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no log line with {text!r} in {timeout}s; log:\n" + "\n".join(self.lines)
                ) from None
            if line is None:
                raise AssertionError(f"server exited before logging {text!r}; log:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if text in line:
                return line

    def wait_for_lines(self, text: str, count: int, timeout: float = 15.0) -> list[str]:
        """Block until ``count`` log lines contain ``text``."""
        found = [line for line in self.lines if text in line]
        while len(found) < count:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"{len(found)} of {count} log lines with {text!r} in {timeout}s") from None
            if line is None:
                raise AssertionError(f"server exited with {len(found)} of {count} lines with {text!r}")
            self.lines.append(line)
            if text in line:
                found.append(line)
        return found

    def log(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return "\n".join(self.lines)
            if line is None:
                return "\n".join(self.lines)
            self.lines.append(line)

    def terminate(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
