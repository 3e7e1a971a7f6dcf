"""The application in the test's own process, on a thread of its own, with a game clock
the test moves: a minute of a timed game passes in an instant, never in real time.

`connectfour serve` reads the wall clock; here the service's clock is the wall clock plus
an offset the test adds to (``GameClock.advance``), and its timers (a flag, the first
move's window, the computer's pause) fall due on that clock: moved past a deadline, the
clock fires its timer at once. Everything else is as `serve` runs it (the front door, the
runner, a memory store). The pages count down on their own clocks from what the server
told them: a jump shows on them with the next move.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from aiohttp import web

import connectfour.web.app as app_module
from connectfour.config import Settings
from connectfour.web.front import Site
from connectfour.web.server import make_runner


class GameClock:
    """The wall clock moved on by the test (seconds since the epoch, as the service reads
    it), and the service's timers on it; they run on the server's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.offset = 0.0
        self.loop = loop
        self._timers: set[Timer] = set()

    def __call__(self) -> float:
        return time.time() + self.offset

    def schedule(self, delay: float, callback: Callable[[], None]) -> Timer:
        """The service's scheduler: ``callback`` once this clock reads ``delay`` seconds later."""
        timer = Timer(self, self() + delay, callback)
        self._timers.add(timer)
        timer.arm()
        return timer

    def advance(self, seconds: float) -> None:
        """Move the clock on (from the test's thread); a timer now due fires at once."""

        async def move() -> None:
            self.offset += seconds
            for timer in list(self._timers):
                timer.arm()

        asyncio.run_coroutine_threadsafe(move(), self.loop).result(timeout=10)


class Timer:
    """One timer: due at a reading of the clock, armed on the loop for the real time until then."""

    def __init__(self, clock: GameClock, due: float, callback: Callable[[], None]) -> None:
        self._clock = clock
        self.due = due
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None

    def arm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._clock.loop.call_later(max(0.0, self.due - self._clock()), self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._clock._timers.discard(self)

    def _fire(self) -> None:
        self._clock._timers.discard(self)
        self._callback()


class InProcessServer:
    """The app on 127.0.0.1, its event loop on a daemon thread; ``clock`` is its games' clock."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.clock = GameClock(self.loop)
        self._thread = threading.Thread(target=self.loop.run_forever, name="in-process server", daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None
        port = self._call(self._start(settings))
        self.url = f"http://127.0.0.1:{port}"

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    async def _start(self, settings: Settings) -> int:
        # The games' time and timers are the test's.
        app = app_module.create_app(settings, game_clock=self.clock, schedule=self.clock.schedule)
        self._runner = make_runner(app)
        await self._runner.setup()
        site = Site(self._runner, "127.0.0.1", 0)
        await site.start()
        return site.port

    def close(self) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@contextmanager
def in_process_server(**settings: object) -> Iterator[InProcessServer]:
    server = InProcessServer(Settings(**settings))
    try:
        yield server
    finally:
        server.close()
