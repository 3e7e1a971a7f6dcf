"""A `connectfour play` process for tests: typed into line by line, its output awaitable.

Its output is read as bytes, so that a test sees exactly what reached the
terminal (a carriage return or an escape character included).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading

from servers import ROOT


class Terminal:
    """A `connectfour play` process typed into line by line, its output awaitable."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "connectfour", "play", *args],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **env} if env else None,
        )  # fmt: skip
        self.lines: list[str] = []
        #: Every byte written to stdout and stderr so far.
        self.stdout = bytearray()
        self.stderr_bytes = bytearray()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._done = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_done = threading.Event()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout += line
            self._queue.put(line.decode("utf-8", "replace").rstrip("\n"))
        self._queue.put(None)
        self._done.set()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self.stderr_bytes += chunk
        self._stderr_done.set()

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """The next output line containing ``text``."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {text!r} in {timeout}s; output:\n" + "\n".join(self.lines)) from None
            if line is None:
                raise AssertionError(f"exited before {text!r}; output:\n" + "\n".join(self.lines) + self.stderr())
            self.lines.append(line)
            if text in line:
                return line

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def interrupt(self) -> None:
        """Ctrl-C."""
        self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 15.0) -> int:
        """The exit status, once the process has exited and its output is read."""
        code = self.proc.wait(timeout)
        self._done.wait(timeout)
        self._stderr_done.wait(timeout)
        return code

    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace")

    def finish(self, timeout: float = 30.0) -> tuple[int, str]:
        """Close the input; the exit status and stderr."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.wait(timeout)
        return code, self.stderr()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


class HostileServer:
    """A WebSocket server of the test's own, on a real socket, that answers any
    client's first frame with a script of frames (text, or bytes for a binary
    frame) and then says nothing; or, with ``silent``, never completes the
    WebSocket handshake at all. It runs in a thread, with its own event loop."""

    def __init__(self, script: list[str | bytes] | None = None, *, silent: bool = False) -> None:
        import asyncio

        from aiohttp import web

        self.script = script or []
        self.silent = silent
        self.received: list[str] = []
        #: Set once a client asked for the WebSocket, and once one sent a frame.
        self.requested = threading.Event()
        self.spoken_to = threading.Event()
        self.frames: queue.Queue[str] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._stopped = threading.Event()
        started = threading.Event()
        self.port = 0

        async def socket(request: web.Request) -> web.StreamResponse:
            self.requested.set()
            if self.silent:
                await asyncio.Event().wait()  # the handshake is never answered
            ws = web.WebSocketResponse(protocols=("connectfour.v1",), max_msg_size=0)
            await ws.prepare(request)
            first = True
            async for message in ws:
                self.received.append(message.data)
                self.frames.put(message.data)
                self.spoken_to.set()
                if first:  # on every connection: a client that reconnects is sent it again
                    first = False
                    for frame in self.script:
                        if isinstance(frame, bytes):
                            await ws.send_bytes(frame)
                        else:
                            await ws.send_str(frame)
            return ws

        async def start() -> None:
            app = web.Application()
            app.router.add_get("/ws", socket)
            self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = self._runner.addresses[0][1]

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(start())
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._stopped.set()

        threading.Thread(target=run, daemon=True).start()
        started.wait(10)
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    def next_frame(self, timeout: float = 10.0) -> str:
        """The next frame a client sent."""
        return self.frames.get(timeout=timeout)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._stopped.wait(10)
