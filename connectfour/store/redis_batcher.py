"""The appends' batches: every append without a condition (moves, above all) that a process
makes while one batch is on its way goes in the next, one round trip for the lot.

One task (the writer) sends the batches and lives on between them, waiting for
the next append; each append is answered within the store's ``timeout`` of its
asking, whatever batch was on its way meanwhile. An append that ends a game
also tidies the indexes of the sweeps, with the next batch; a confirmation
(``RedisStore.confirm``) is a write to the game's slot in the next batch, which
waits as every batch does.
"""

from __future__ import annotations

import asyncio
import logging
import math

from redis.exceptions import ResponseError

from ..domain.events import Event
from ..redis.client import FAILURES
from .base import Committed, StoreError
from .redis_functions import Functions
from .redis_layout import (
    DONE,
    OPEN,
    CallIds,
    append_args,
    encode_time,
    game_keys,
    goes_on,
    log_key,
    move_args,
    refusal,
    sync_key,
)
from .redis_routing import Command, Router

log = logging.getLogger("connectfour.store.redis")

#: An append waiting for its batch: the game, the version, the event, who hears the outcome,
#: and when it was asked for (the loop's time): its answer is due ``timeout`` after that.
_Pending = tuple[str, int, Event, Committed, float]
#: A confirmation waiting for its batch: the game, who hears the outcome, when it was asked for.
_Confirm = tuple[str, Committed, float]


def tell(committed: Committed, error: StoreError | None) -> None:
    """Tell a caller its append's outcome; a callback that fails is logged, not raised."""
    try:
        committed(error)
    except Exception:
        log.exception("a caller's completion callback failed")


class AppendBatcher:
    def __init__(
        self, functions: Functions, router: Router, call_ids: CallIds, *, retention: float, timeout: float
    ) -> None:
        self._functions = functions
        self._router = router
        self._call_ids = call_ids
        self.retention = retention
        #: A finished game's keys are kept this long (``cf_append``'s argument).
        self.retention_ms = b"%d" % int(retention * 1000)
        self.timeout = timeout
        self._queue: list[_Pending] = []
        #: Games whose stored events must be confirmed where the replication asks (``confirm``).
        self._confirms: list[_Confirm] = []
        #: Commands that tidy the indexes after a game ended, sent with the next batch.
        self._index_updates: list[Command] = []
        #: The task that sends the batches: it lives on between them, waiting on ``_idle``.
        self._writer: asyncio.Task[None] | None = None
        self._idle: asyncio.Future[None] | None = None
        self._closing = False

    def add(self, game_id: str, version: int, event: Event, committed: Committed) -> None:
        """Queue an append for the next batch."""
        self._queue.append((game_id, version, event, committed, asyncio.get_running_loop().time()))
        self._wake_writer()

    def confirm(self, game_id: str, done: Committed, asked: float) -> None:
        """Queue a write to the game's slot for the next batch: ``done`` hears once the batch's
        wait covered it (everything the master took before it)."""
        self._confirms.append((game_id, done, asked))
        self._wake_writer()

    @property
    def writing(self) -> bool:
        """Whether appends (or updates of the indexes) are waiting or on their way."""
        return self._writer is not None and self._idle is None

    @property
    def running(self) -> bool:
        """Whether the writer task is there (busy or waiting for more)."""
        return self._writer is not None

    async def drain(self) -> None:
        """Send what is left, and let the writer end: the store is closing."""
        self._closing = True
        self._wake_writer()
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    def answer(self, game_id: str, version: int, event: Event, result: object) -> StoreError | None:
        """What an append's answer means: None if it was stored; else the StoreError (its
        refusal, or its master unreachable). An event that ended the game has its indexes
        tidied with the next batch."""
        if isinstance(result, StoreError):  # its master could not be reached
            return result
        if isinstance(result, ResponseError):
            return refusal(game_id, version, result)
        if isinstance(result, Exception):
            return StoreError(f"game {game_id}: {result}")
        if isinstance(result, list):  # it ended the game: {version, watch key, join key}
            self._ended(game_id, event, result[1], result[2])
        return None

    def _ended(self, game_id: str, event: Event, watch_key: bytes, join_key: bytes) -> None:
        """The game ended: out of the open games, into the finished ones; its keys expire with it."""
        seconds = b"%d" % math.ceil(self.retention)
        member = game_id.encode()
        self._index_updates += [("ZREM", OPEN, member), ("ZADD", DONE, encode_time(event.at), member)]
        for key in (watch_key, join_key):
            if key:
                self._index_updates.append(("EXPIRE", b"cf:key:" + key, seconds))
        self._wake_writer()

    def _wake_writer(self) -> None:
        idle = self._idle
        if idle is not None:
            self._idle = None
            if not idle.done():
                idle.set_result(None)
        elif self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write(), name="cf-redis-appends")

    async def _write(self) -> None:
        """Send what was appended meanwhile, one pipeline per round trip; then wait for more
        (a task per batch would cost more than one waiting) until the store closes."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                while self._queue or self._index_updates or self._confirms:
                    batch, self._queue = self._queue, []
                    index_updates, self._index_updates = self._index_updates, []
                    confirms, self._confirms = self._confirms, []
                    await self._send(batch, index_updates, confirms)
                if self._closing:
                    return
                idle = self._idle = loop.create_future()
                await idle
        finally:
            self._writer = self._idle = None

    async def _send(self, batch: list[_Pending], index_updates: list[Command], confirms: list[_Confirm]) -> None:
        functions = self._functions
        waiting = [committed for *_, committed, _ in batch] + [done for _, done, _ in confirms]
        try:
            if not functions.loaded():
                await functions.load()
            # Each append is answered within ``timeout`` of its asking, whatever batch was on
            # its way meanwhile: the oldest one waiting sets the batch's deadline.
            now = asyncio.get_running_loop().time()
            oldest = min([asked for *_, asked in batch] + [asked for *_, asked in confirms], default=now)
            deadline = oldest + self.timeout
            commands: list[Command] = list(index_updates)
            call_ids, retention_ms = self._call_ids, self.retention_ms
            for game_id, version, event, _, _ in batch:
                if goes_on(event):  # a move, the hot path: compare, append, announce
                    commands.append(
                        ("FCALL", "cf_move", 1, log_key(game_id), *move_args(version, event, call_ids.next()))
                    )
                else:
                    args = append_args(version, event, call_ids.next(), retention_ms)
                    commands.append(("FCALL", "cf_append", 4, *game_keys(game_id), *args))
            for game_id, _, _ in confirms:
                # A write to the game's slot that the batch's wait then covers.
                commands.append(("SET", sync_key(game_id), b"1", "PX", b"60000"))
            results = await self._router.send(commands, deadline)
        except (*FAILURES, StoreError) as exc:
            error = functions.failed(exc)
            for committed in waiting:
                tell(committed, error)
            return
        except Exception as exc:  # never leave a caller waiting
            log.exception("the appends' batch failed")
            for committed in waiting:
                tell(committed, StoreError(f"redis: {exc!r}"))
            return
        answers = results[len(index_updates) :]
        for (game_id, version, event, committed, _), result in zip(batch, answers):
            tell(committed, self.answer(game_id, version, event, result))
        for (game_id, done, _), result in zip(confirms, answers[len(batch) :]):
            if isinstance(result, Exception) and not isinstance(result, StoreError):
                result = StoreError(f"game {game_id}: {result}")
            tell(done, result if isinstance(result, StoreError) else None)
