"""Searches for an asyncio server: off the event loop, bounded, each with a time budget.

The C core releases the GIL for the whole search, so a search runs in a
worker thread while the event loop goes on serving games. At most
`max_searches` run at once (by default one per core but one, which stays
the event loop's: a search is pure CPU); at most `max_waiting` more wait for a worker, and past that a
request is refused at once with `SolverBusy`, so a crowd asking for moves
can neither starve the human games nor pile up memory. Each search stops at
its budget with `SearchTimeout`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from . import engine
from .book import load_book
from .engine import SearchTimeout
from .position import parse_position

__all__ = ["Solver", "SolverBusy", "SearchTimeout"]

T = TypeVar("T")


class SolverBusy(RuntimeError):
    """Every worker is searching and the waiting line is full."""


class Solver:
    """Bounded exact searches for one event loop's use."""

    def __init__(self, max_searches: int | None = None, max_waiting: int = 64, budget: float = 1.0) -> None:
        self.max_searches = max_searches or max(1, (os.cpu_count() or 1) - 1)
        self.max_waiting = max_waiting
        self.budget = budget
        self._pool = ThreadPoolExecutor(self.max_searches, thread_name_prefix="solver")
        self._slots = asyncio.Semaphore(self.max_searches)
        self._waiting = 0
        self.running = 0
        self.peak_running = 0

    @property
    def waiting(self) -> int:
        """Requests waiting for a worker."""
        return self._waiting

    async def solve(self, moves: str, budget: float | None = None, book: bool = True) -> int:
        """The exact score of the position after `moves` (Pons' convention)."""
        return await self._run(engine.solve, moves, budget, book)

    async def analyse(self, moves: str, budget: float | None = None, book: bool = True) -> list[int | None]:
        """The score of each of the 7 moves; None for a full column."""
        return await self._run(engine.analyse, moves, budget, book)

    async def _run(self, search: Callable[[str, float, bool], T], moves: str, budget: float | None, book: bool) -> T:
        parse_position(moves)  # bad input is refused before it takes a slot
        if self._slots.locked() and self._waiting >= self.max_waiting:
            raise SolverBusy(f"{self.max_searches} searches running and {self._waiting} waiting")
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self.running += 1
        self.peak_running = max(self.peak_running, self.running)
        loop = asyncio.get_running_loop()
        try:
            work = self._pool.submit(search, moves, budget or self.budget, book)
        except BaseException:
            self._release()
            raise
        # The slot is freed when the thread is done, not when the caller
        # stops waiting: a cancelled request still holds its core until its budget.
        work.add_done_callback(lambda _: self._release_from_thread(loop))
        return await asyncio.wrap_future(work)

    def _release_from_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            loop.call_soon_threadsafe(self._release)
        except RuntimeError:  # the loop closed during the search (the server stopped): nobody waits
            pass

    def _release(self) -> None:
        self.running -= 1
        self._slots.release()

    async def start(self) -> None:
        """Load the opening book in a worker, so the first search does not pay for it on the loop."""
        await asyncio.get_running_loop().run_in_executor(self._pool, load_book)

    def close(self) -> None:
        """Stop the workers once the searches under way end (each within its budget)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
