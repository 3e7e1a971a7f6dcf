"""Searches for an asyncio server: off the event loop, bounded, fair, each with a time budget.

The C core releases the GIL for the whole search, so a search runs in a
worker thread while the event loop goes on serving games. At most
`max_searches` run at once (by default one per core but one, which stays
the event loop's: a search is pure CPU); at most `max_waiting` more wait for a worker, and past that a
request is refused at once with `SolverBusy`, so a crowd asking for moves
can neither starve the human games nor pile up memory. Each search stops at
its budget with `SearchTimeout`.

Fairness: a request may name its `owner` (a client address), and each owner
has at most `per_owner` searches running or waiting (`OwnerBusy` past it), so
one address cannot take every worker and the whole waiting line. An `urgent`
request (the computer's move in a game) is given the next free worker ahead
of every other one waiting.
"""

from __future__ import annotations

import asyncio
import collections
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from . import engine
from .book import load_book
from .engine import SearchTimeout
from .position import parse_position

__all__ = ["OwnerBusy", "Solver", "SolverBusy", "SearchTimeout"]

T = TypeVar("T")


class SolverBusy(RuntimeError):
    """Every worker is searching and the waiting line is full."""


class OwnerBusy(SolverBusy):
    """This owner has its share of searches running or waiting already."""


class Solver:
    """Bounded exact searches for one event loop's use."""

    def __init__(
        self, max_searches: int | None = None, max_waiting: int = 64, budget: float = 1.0, per_owner: int = 2
    ) -> None:
        self.max_searches = max_searches or max(1, (os.cpu_count() or 1) - 1)
        self.max_waiting = max_waiting
        self.budget = budget
        #: Searches one owner may have running or waiting at once; 0 no limit.
        self.per_owner = per_owner
        self._pool = ThreadPoolExecutor(self.max_searches, thread_name_prefix="solver")
        self._free = self.max_searches
        #: Requests waiting for a worker, the urgent ones first.
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._queued: collections.deque[asyncio.Future[None]] = collections.deque()
        self._owners: dict[str, int] = {}
        self.running = 0
        self.peak_running = 0

    @property
    def waiting(self) -> int:
        """Requests waiting for a worker."""
        return sum(not future.done() for future in (*self._urgent, *self._queued))

    async def solve(self, moves: str, budget: float | None = None, book: bool = True) -> int:
        """The exact score of the position after `moves` (Pons' convention)."""
        return await self._run(engine.solve, moves, budget, book)

    async def analyse(
        self,
        moves: str,
        budget: float | None = None,
        book: bool = True,
        *,
        owner: str | None = None,
        urgent: bool = False,
    ) -> list[int | None]:
        """The score of each of the 7 moves; None for a full column. ``owner``: who asks (its
        share is bounded); ``urgent``: ahead of every request waiting (a game's move)."""
        return await self._run(engine.analyse, moves, budget, book, owner, urgent)

    async def _run(
        self,
        search: Callable[[str, float, bool], T],
        moves: str,
        budget: float | None,
        book: bool,
        owner: str | None = None,
        urgent: bool = False,
    ) -> T:
        parse_position(moves)  # bad input is refused before it takes a slot
        if owner is not None and self.per_owner and self._owners.get(owner, 0) >= self.per_owner:
            raise OwnerBusy(f"{self.per_owner} searches of this client already running or waiting")
        if not self._free and self.waiting >= self.max_waiting:
            raise SolverBusy(f"{self.max_searches} searches running and {self.waiting} waiting")
        if owner is not None:
            self._owners[owner] = self._owners.get(owner, 0) + 1
        try:
            await self._acquire(urgent)
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
        finally:
            if owner is not None:
                left = self._owners[owner] - 1
                if left:
                    self._owners[owner] = left
                else:
                    del self._owners[owner]

    async def _acquire(self, urgent: bool) -> None:
        if self._free and not self.waiting:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._queued).append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # given a worker just as it gave up
                self._free += 1
                self._hand_over()
            raise

    def _release_from_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            loop.call_soon_threadsafe(self._release)
        except RuntimeError:  # the loop closed during the search (the server stopped): nobody waits
            pass

    def _release(self) -> None:
        self.running -= 1
        self._free += 1
        self._hand_over()

    def _hand_over(self) -> None:
        """Give free workers to the requests waiting, the urgent ones first."""
        for line in (self._urgent, self._queued):
            while self._free and line:
                granted = line.popleft()
                if not granted.done():
                    self._free -= 1
                    granted.set_result(None)

    async def start(self) -> None:
        """Load the opening book in a worker, so the first search does not pay for it on the loop."""
        await asyncio.get_running_loop().run_in_executor(self._pool, load_book)

    def close(self) -> None:
        """Stop the workers once the searches under way end (each within its budget)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
