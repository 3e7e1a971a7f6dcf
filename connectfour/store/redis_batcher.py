"""The appends' batches: every append without a condition (moves, above all) that a process
makes while one batch is on its way goes in the next, one round trip for the lot.

A batch is sent at the end of the loop's turn it was begun in (or as soon as the
one before it is answered), but, under load (``pacing.py``), never sooner than
``interval`` after the one before it was sent: a process then sends Redis a batch
every ``interval`` at most, so that each carries more appends (Redis's cost is above
all per batch: a wake-up, a read, the AOF's write, the answer's write), and an
append asked after a quiet moment, or while appends come slowly, still goes at
once. Standalone, on a connection that is open and with no wait for the
replication, it is written at once and its answer handled in a callback: no task,
no coroutine, and no timer of its own: one watches the deadline of whichever batch
is on its way (``_watch``). Otherwise (a
Cluster, a replication to wait for, no connection yet, or the library to load),
and whenever that quick way fails (the connection lost, the library gone), the
same commands, with the same call ids, take the router's way in a task: it
reconnects, follows a Cluster, loads the library and retries, all by the same
deadline. Each append is answered within the store's ``timeout`` of its asking,
whatever batch was on its way meanwhile. An append that ends a game also tidies
the indexes of the sweeps, with the next batch; a confirmation
(``RedisStore.confirm``) is a write to the game's slot in the next batch, which
waits as every batch does.
"""

from __future__ import annotations

import asyncio
import logging
import math

from redis.exceptions import ResponseError

from .. import metrics
from ..domain.events import Event
from ..redis.client import FAILURES, pack
from ..redis.pipe import Pipe, Reply
from .base import Committed, StoreError
from .pacing import Pacing
from .redis_functions import Functions, function_call, missing_function
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


class _Batch:
    """A batch on its way: what it carries, its commands (each call with its call id, the
    same if it is sent again) and the deadline of its answer."""

    __slots__ = ("appends", "index_updates", "confirms", "commands", "deadline", "pipe", "done")

    def __init__(
        self,
        appends: list[_Pending],
        index_updates: list[Command],
        confirms: list[_Confirm],
        commands: list[Command],
        deadline: float,
    ) -> None:
        self.appends = appends
        self.index_updates = index_updates
        self.confirms = confirms
        self.commands = commands
        self.deadline = deadline
        #: The connection it was written to at once, while its answer is awaited there.
        self.pipe: Pipe | None = None
        #: Whether its callers heard (the answer came, or the deadline passed first).
        self.done = False

    def callers(self) -> list[Committed]:
        return [committed for *_, committed, _ in self.appends] + [done for _, done, _ in self.confirms]


class AppendBatcher:
    def __init__(
        self,
        functions: Functions,
        router: Router,
        call_ids: CallIds,
        *,
        retention: float,
        timeout: float,
        interval: float = 0.0,
    ) -> None:
        self._functions = functions
        self._router = router
        self._call_ids = call_ids
        self.retention = retention
        #: A finished game's keys are kept this long (``cf_append``'s argument).
        self.retention_ms = b"%d" % int(retention * 1000)
        self.timeout = timeout
        #: The least time from one batch sent to the next under load (seconds; under ``timeout``).
        self.interval = interval
        self._pacing = Pacing(interval)
        self._queue: list[_Pending] = []
        #: Games whose stored events must be confirmed where the replication asks (``confirm``).
        self._confirms: list[_Confirm] = []
        #: Commands that tidy the indexes after a game ended, sent with the next batch.
        self._index_updates: list[Command] = []
        #: The batch on its way, if any: the next waits for its answer.
        self._on_way: _Batch | None = None
        #: Whether a send is due at the end of this turn of the loop.
        self._due = False
        #: The tasks of batches on the router's way (at most one at a time).
        self._tasks: set[asyncio.Task[None]] = set()
        #: The timer that goes off by the deadline of the batch written at once (``_watch``).
        self._watching: asyncio.TimerHandle | None = None
        #: Who waits for every batch to be answered (``drain``).
        self._drained: list[asyncio.Future[None]] = []

    def add(self, game_id: str, version: int, event: Event, committed: Committed) -> None:
        """Queue an append for the next batch."""
        loop = asyncio.get_running_loop()
        self._queue.append((game_id, version, event, committed, loop.time()))
        self._schedule(loop)

    def confirm(self, game_id: str, done: Committed, asked: float) -> None:
        """Queue a write to the game's slot for the next batch: ``done`` hears once the batch's
        wait covered it (everything the master took before it)."""
        self._confirms.append((game_id, done, asked))
        self._schedule()

    @property
    def writing(self) -> bool:
        """Whether appends (or updates of the indexes) are waiting or on their way."""
        return self._on_way is not None or self._waiting()

    @property
    def running(self) -> bool:
        """Whether a batch is on its way or due."""
        return self._on_way is not None or self._due or self._waiting()

    async def drain(self) -> None:
        """Wait until every batch, those waiting included, is answered: the store is closing."""
        while self.running:
            self._schedule()
            drained: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._drained.append(drained)
            await drained

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
        self._schedule()

    def _waiting(self) -> bool:
        return bool(self._queue or self._index_updates or self._confirms)

    def _schedule(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Send what waits at the end of this turn of the loop, or, under load, ``interval``
        after the last batch was sent if that is later, unless a batch is on its way (what
        waits then goes when it is answered)."""
        if not self._due and self._on_way is None:
            self._due = True
            loop = loop or asyncio.get_running_loop()
            at = self._pacing.not_before
            if at > loop.time():
                loop.call_at(at, self._send)
            else:
                loop.call_soon(self._send)

    def _send(self) -> None:
        """Send what waits as one batch: at once on an open connection, else the router's way."""
        self._due = False
        if self._on_way is not None:
            return
        if not self._waiting():
            self._tell_drained()
            return
        batch = self._batch()
        self._on_way = batch
        if self.interval:
            self._pacing.wrote(len(batch.appends) + len(batch.confirms), asyncio.get_running_loop().time())
        metrics.count("connectfour_redis_batches_total")
        pipe = self._router.ready() if self._functions.loaded() else None
        if pipe is None:
            self._the_long_way(batch)
            return
        try:
            pipe.send(pack(batch.commands))
        except Exception:  # (the connection closing under it)
            self._the_long_way(batch)
            return
        batch.pipe = pipe
        self._watch(batch.deadline)
        pipe.replies(len(batch.commands)).add_done_callback(lambda answers: self._answered(batch, answers))

    def _batch(self) -> _Batch:
        """What waits, as one batch: the commands, each call with a call id of its own."""
        appends, self._queue = self._queue, []
        index_updates, self._index_updates = self._index_updates, []
        confirms, self._confirms = self._confirms, []
        # Each append is answered within ``timeout`` of its asking, whatever batch was on
        # its way meanwhile: the oldest one waiting sets the batch's deadline.
        oldest = min(
            [asked for *_, asked in appends] + [asked for *_, asked in confirms],
            default=asyncio.get_running_loop().time(),
        )
        commands: list[Command] = list(index_updates)
        call_ids, retention_ms = self._call_ids, self.retention_ms
        for game_id, version, event, _, _ in appends:
            if goes_on(event):  # a move, the hot path: compare, append, announce
                commands.append(("FCALL", "cf_move", 1, log_key(game_id), *move_args(version, event, call_ids.next())))
            else:
                args = append_args(version, event, call_ids.next(), retention_ms)
                commands.append(function_call("cf_append", game_keys(game_id), args))
        for game_id, _, _ in confirms:
            # A write to the game's slot that the batch's wait then covers.
            commands.append(("SET", sync_key(game_id), b"1", "PX", b"60000"))
        return _Batch(appends, index_updates, confirms, commands, oldest + self.timeout)

    def _answered(self, batch: _Batch, answers: asyncio.Future[list[Reply]]) -> None:
        """The answers of a batch sent at once; a lost connection, or a server that lost the
        library, sends the same calls again the router's way."""
        if batch.done:
            return  # its deadline passed first
        if answers.cancelled() or answers.exception() is not None:
            self._the_long_way(batch)
            return
        results = answers.result()
        if any(missing_function(result) for result in results):
            self._the_long_way(batch)
            return
        self._finish(batch, results)

    def _watch(self, deadline: float) -> None:
        """Have the watch go off by ``deadline``: one timer for every batch written at once,
        moved only to an earlier deadline (arming and cancelling a timer per batch cost 2 µs,
        and a batch is a move or two)."""
        if self._watching is None or deadline < self._watching.when():
            if self._watching is not None:
                self._watching.cancel()
            self._watching = asyncio.get_running_loop().call_at(deadline, self._watched)

    def _watched(self) -> None:
        """The watch went off: the batch on its way, if any, is late, or is watched till its own deadline."""
        went_off, self._watching = self._watching, None
        batch = self._on_way
        if went_off is None or batch is None or batch.done or batch.pipe is None:
            return
        if batch.deadline <= went_off.when():  # (as a timer of its own would have gone off)
            self._late(batch, batch.pipe)
        else:
            self._watch(batch.deadline)

    def _late(self, batch: _Batch, pipe: Pipe) -> None:
        """No answer by the deadline: the connection goes, and the callers hear so."""
        if batch.done:
            return
        self._router.lost(pipe)
        self._fail(batch, StoreError(f"redis: no answer in {self.timeout:g}s"))

    def _the_long_way(self, batch: _Batch) -> None:
        batch.pipe = None  # (the router's way keeps the deadline itself)
        task = asyncio.get_running_loop().create_task(self._route(batch), name="cf-redis-appends")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _route(self, batch: _Batch) -> None:
        """The router's way: it connects, follows a Cluster, loads the library and tries again
        (the same calls, with the same call ids) until the batch's deadline."""
        functions = self._functions
        try:
            if not functions.loaded():
                await functions.load()
            results = await self._router.send(batch.commands, batch.deadline)
        except (*FAILURES, StoreError) as exc:
            self._fail(batch, functions.failed(exc))
            return
        except Exception as exc:  # never leave a caller waiting
            log.exception("the appends' batch failed")
            self._fail(batch, StoreError(f"redis: {exc!r}"))
            return
        self._finish(batch, results)

    def _fail(self, batch: _Batch, error: StoreError) -> None:
        batch.done = True
        for committed in batch.callers():
            tell(committed, error)
        self._next(batch)

    def _finish(self, batch: _Batch, results: list[object]) -> None:
        batch.done = True
        answers = results[len(batch.index_updates) :]
        for (game_id, version, event, committed, _), result in zip(batch.appends, answers):
            tell(committed, self.answer(game_id, version, event, result))
        for (game_id, done, _), result in zip(batch.confirms, answers[len(batch.appends) :]):
            if isinstance(result, Exception) and not isinstance(result, StoreError):
                result = StoreError(f"game {game_id}: {result}")
            tell(done, result if isinstance(result, StoreError) else None)
        self._next(batch)

    def _next(self, batch: _Batch) -> None:
        """A batch answered: what waited meanwhile goes now."""
        if self._on_way is batch:
            self._on_way = None
        if self._waiting():
            if self._pacing.not_before > asyncio.get_running_loop().time():
                self._schedule()  # when the interval since the last batch is out
            else:
                self._send()
        elif not self._due:
            self._tell_drained()

    def _tell_drained(self) -> None:
        drained, self._drained = self._drained, []
        for future in drained:
            if not future.done():
                future.set_result(None)
