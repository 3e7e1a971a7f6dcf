"""The store in Redis (or Valkey): one store and bus for any number of processes, on any machines.

Every change to a game is ONE call of a server-side function (``redis_functions.py``,
the library in ``redis.lua``): it checks the version (and, for a decision that read
the presence, a claim or an expiry, that the presence is still at the ``seq`` it
read: the rulebook decided, the function only compares), appends the event, and
announces it on the game's sharded channel, so that a stored event is always announced
and an unstored one never is. A move the game goes on after (``cf_move``) is that and
nothing more; an event that ends the game also marks the record and sets the keys'
expiry (``cf_append``). The record ``get`` answers is the log folded. Each call carries a call id:
a command is sent again after a connection error, and a retried append answers
as the first did instead of appending twice.

Keys (``redis_layout.py``; every key of a game shares its hash tag, so one Cluster
slot holds it): ``cf:{<id>}:log``, ``:rec``, ``:calls``, ``:presence`` (see
``redis.lua``), and ``:sync``, written (for a minute) only to be waited for, when
changes must be on replicas before they are acknowledged (``confirm``,
``replication.py``); ``cf:key:<key>``, the key index; ``cf:open``, ``cf:unplayed``,
``cf:done``, the sweeps' candidates (``redis_sweeps.py``); ``cf:registry``
(``redis_seats.py``). A finished game's keys expire ``retention`` seconds after its
end (its replay can be read from any process meanwhile).

Appends without a condition (moves, above all) are batched (``redis_batcher.py``):
all those a process makes while one batch is on its way, or within ``batch_interval``
of the last one sent, go in the next, one round trip for the lot, sent and followed
through a Cluster's changes by ``redis_routing.py``. The same way, one round trip each (``Router.ask``), go a
game's reads and the changes that are not batched: a creation costs two (the key
index is in other slots, so it is written first, ``SET NX``); an append with a
presence's seq, and a presence's change, one each. redis-py carries the rest (the
libraries' loading, the heartbeat, the sweeps, the quick match).

A connection error or a timeout becomes ``StoreError``: every socket has a timeout,
and the retries are few and short (``connectfour/redis/client.py``: a connection
error is retried at once, on a new connection; a timeout is not: the append of a
batch, retries included, takes ``timeout`` seconds at most). After a timeout every
idle connection of the pool is dropped, so that none left half-open by a partition
waits its own timeout later.

A Cluster (``redis+cluster://host:port[,host:port...]``, nodes to start from;
``rediss+cluster://`` for TLS): commands go through redis-py's ``RedisCluster``, which
follows ``MOVED`` and ``ASK`` itself; each function call goes to the master owning
its game's slot; the registry, the key index and the sweeps' sorted sets are plain
keys, each in its own slot, wherever that is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Container
from typing import TYPE_CHECKING, Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from ..bus.redis import RedisBus
from ..completion import completion
from ..domain.events import Created, Event, decode_event, encode_event
from ..domain.seats import TTL
from ..redis.client import FAILURES, client_for, cluster_url, without_password
from .base import Committed, GameRecord, KeyKind, Store, StoreError, VersionConflict, append
from .redis_batcher import AppendBatcher, tell
from .redis_functions import Functions, function_call
from .redis_layout import (
    OPEN,
    UNPLAYED,
    CallIds,
    answered,
    append_args,
    created_fields,
    encode_time,
    game_keys,
    index_key,
    log_key,
    refusal,
)
from .redis_match import RedisMatchQueue
from .redis_routing import Command, Router
from .redis_seats import RedisSeats
from .redis_sweeps import RedisSweeps
from .replication import AT_ONCE, Replication

__all__ = ["RETENTION", "RedisStore", "game_keys"]

#: Seconds a finished game is kept (its replay page works meanwhile), then it expires.
RETENTION = 30 * 86400.0
#: Games whose versions one round trip asks for (``versions``).
VERSIONS_CHUNK = 500


class RedisStore:
    def __init__(
        self,
        url: str,
        *,
        retention: float = RETENTION,
        client: Redis | RedisCluster | None = None,
        bus: RedisBus | None = None,
        ttl: float = TTL,
        timeout: float = 2.0,
        replication: Replication = AT_ONCE,
        batch_interval: float = 0.0,
    ) -> None:
        if not 0 <= batch_interval < timeout:
            raise ValueError(f"the batch interval must be 0 or more and under {timeout:g}s, not {batch_interval:g}")
        #: What a change waits for before it is acknowledged (nothing, by default).
        self.replication = replication
        #: Whether the server is a Cluster (a ``redis+cluster://`` URL).
        self.cluster = cluster_url(url) is not None
        if client is not None and isinstance(client, RedisCluster) != self.cluster:
            raise ValueError("a Cluster's URL (redis+cluster://) goes with a RedisCluster client, and only it")
        self._redis: Any = client if client is not None else client_for(url, timeout=timeout)
        self._location = without_password(url)
        self._own_client = client is None
        self.bus: RedisBus = bus if bus is not None else RedisBus(url, client=self._redis, timeout=timeout)
        self._own_bus = bus is None
        self._functions = Functions(self._redis)
        self._router = Router(self._functions, timeout, replication, carrier=self.bus.carrier)
        self.seats = RedisSeats(self._functions, self._router, ttl)
        self.match = RedisMatchQueue(self._functions, ttl)
        self.retention = retention
        self.timeout = timeout
        self._call_ids = CallIds()
        self._sweeps = RedisSweeps(self._functions, retention)
        self._batcher = AppendBatcher(
            self._functions, self._router, self._call_ids, retention=retention, timeout=timeout, interval=batch_interval
        )
        #: The appends that are not batched (a creation, a conditional append), each in its task.
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> Redis | RedisCluster:
        return cast("Redis | RedisCluster", self._redis)

    # -- appending ----------------------------------------------------------------------

    def append_nowait(
        self, game_id: str, version: int, event: Event, committed: Committed, presence_seq: int | None = None
    ) -> None:
        if presence_seq is not None or type(event) is Created:
            task = asyncio.ensure_future(self._append_alone(game_id, version, event, committed, presence_seq))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._batcher.add(game_id, version, event, committed)

    async def append(self, game_id: str, version: int, event: Event, presence_seq: int | None = None) -> None:
        await append(self, game_id, version, event, presence_seq)

    @property
    def writing(self) -> bool:
        """Whether appends (or updates of the indexes) are waiting or on their way."""
        return self._batcher.writing

    async def _append_alone(
        self, game_id: str, version: int, event: Event, committed: Committed, presence_seq: int | None
    ) -> None:
        try:
            if isinstance(event, Created):
                await self._create(game_id, version, event)
            elif presence_seq is not None:
                await self._conditional(game_id, version, event, presence_seq)
            await self.confirm(game_id)
        except (*FAILURES, StoreError) as exc:
            tell(committed, self._functions.failed(exc))
        else:
            tell(committed, None)

    async def confirm(self, game_id: str) -> None:
        """Return once what is stored of the game is where ``replication`` asks (at once
        when it asks for nothing). The appends' next batch carries a write to the game's
        slot, which waits as every batch does: the wait covers everything the master took
        before that write. For a change stored outside the batches, and
        for a request sent again, answered from what is stored already."""
        if not self.replication.waits:
            return
        asked = asyncio.get_running_loop().time()
        await completion(lambda done: self._batcher.confirm(game_id, done, asked))

    async def _create(self, game_id: str, version: int, event: Created) -> None:
        if version != 1:
            last = (await self.versions([game_id]))[game_id]
            raise (
                VersionConflict(game_id, version, last)
                if version != last + 1
                else StoreError("a game begins with its Created at version 1")
            )
        # The key index first (other slots): a key already taken refuses the game.
        keys: list[tuple[bytes, bytes]] = [(index_key(event.watch_key), b"%s watch" % game_id.encode())]
        if event.join_key is not None:
            keys.append((index_key(event.join_key), b"%s join" % game_id.encode()))
        router = self._router
        answers = [
            answered(answer, f"game {game_id}")
            for answer in await router.ask([("SET", *key, "NX", "GET") for key in keys])
        ]
        new = [key for (key, _), answer in zip(keys, answers) if answer is None]
        if any(answer is not None and answer != value for (_, value), answer in zip(keys, answers)):
            if new:  # (in a Cluster, each to its own slot's master)
                await router.ask([("DEL", key) for key in new])
            raise StoreError(f"game {game_id}: one of its keys belongs to another game")
        member, at = game_id.encode(), encode_time(event.at)
        args = [self._call_ids.next(), encode_event(event), *created_fields(event)]
        keys_of_game = game_keys(game_id)
        opened, unplayed, created = await router.ask(
            [
                ("ZADD", OPEN, "NX", at, member),
                ("ZADD", UNPLAYED, "NX", at, member),
                function_call("cf_create", keys_of_game, args),
            ]
        )
        if isinstance(created, Exception):
            tidy: list[Command] = [("DEL", key) for key in new]
            if opened == 1:
                tidy.append(("ZREM", OPEN, member))
            if unplayed == 1:
                tidy.append(("ZREM", UNPLAYED, member))
            if tidy:
                await router.ask(tidy)
            if isinstance(created, ResponseError):
                raise refusal(game_id, version, created)
            raise StoreError(f"game {game_id}: {created}")

    async def _conditional(self, game_id: str, version: int, event: Event, presence_seq: int) -> None:
        """An append whose decision read the game's presence: stored only if its seq is unchanged."""
        args = append_args(version, event, self._call_ids.next(), self._batcher.retention_ms, b"%d" % presence_seq)
        (result,) = await self._router.ask([function_call("cf_append", game_keys(game_id), args)])
        error = self._batcher.answer(game_id, version, event, result)
        if error is not None:
            raise error

    # -- reading ------------------------------------------------------------------------

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        (stored,) = await self._router.ask([("LRANGE", game_keys(game_id)[0], after, -1)])
        return [
            (version, decode_event(data))
            for version, data in enumerate(cast("list[bytes]", answered(stored, f"game {game_id}")), after + 1)
        ]

    async def versions(self, game_ids: list[str]) -> dict[str, int]:
        # A round trip per chunk: the heartbeat asks for every game a process follows, and
        # one of thousands would hold the event loop for as many replies read in a row.
        lengths: list[object] = []
        for start in range(0, len(game_ids), VERSIONS_CHUNK):
            lengths += await self._router.ask(
                [("LLEN", log_key(game_id)) for game_id in game_ids[start : start + VERSIONS_CHUNK]]
            )
        return {game_id: cast(int, answered(length, f"game {game_id}")) for game_id, length in zip(game_ids, lengths)}

    async def get(self, game_id: str) -> GameRecord | None:
        # The record is the log folded (the hash keeps only what the functions read),
        # and the last time someone looked at the game (``touch``).
        log, rec = game_keys(game_id)[:2]
        stored, touched = [
            answered(answer, f"game {game_id}")
            for answer in await self._router.ask([("LRANGE", log, 0, -1), ("HGET", rec, "updated_at")])
        ]
        record = GameRecord.folded(game_id, map(decode_event, cast("list[bytes]", stored)))
        if record is not None and touched is not None:
            record.updated_at = max(record.updated_at, float(cast(bytes, touched)))
        return record

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        (answer,) = await self._router.ask([("GET", index_key(key))])
        found = cast("bytes | None", answered(answer))
        if found is None:
            return None
        game_id, _, kind = found.decode().rpartition(" ")
        return game_id, cast(KeyKind, kind)

    async def touch(self, game_id: str, at: float) -> None:
        (answer,) = await self._router.ask([function_call("cf_touch", game_keys(game_id)[1:2], [encode_time(at)])])
        if isinstance(answer, ResponseError):
            raise refusal(game_id, 0, answer)
        answered(answer, f"game {game_id}")

    # -- sweeps ---------------------------------------------------------------------------

    async def idle_games(self, before: float) -> list[str]:
        return await self._sweeps.idle_games(before)

    async def prune(self, before: float) -> int:
        return await self._sweeps.prune(before)

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        return await self._sweeps.delete_unplayed(before, keep)

    # -- the process's part -----------------------------------------------------------------

    @property
    def location(self) -> str:
        """The server's URL, without its password."""
        return self._location

    @property
    def in_process(self) -> bool:
        return False

    async def ping(self) -> None:
        """Raise StoreError unless the server answers now (every node, in a Cluster), and,
        once the bus has connections, unless each of them answers too (a process that
        cannot hear the others is no place for new players); loads the functions the
        first time (so that a server without them, older than Redis 7, is refused at the start)."""
        try:
            await self._redis.ping()
            if not self._functions.loaded():
                await self._functions.load()
        except FAILURES as exc:
            raise self._functions.failed(exc, f"redis at {self.location}") from exc
        if self.bus.started:
            await self.bus.flush()

    async def close(self) -> None:
        """Wait for the appends on their way, then let the connections go."""
        while self._batcher.running or self._tasks:
            # What is left is sent (an append alone that ends a game queues more).
            await asyncio.gather(self._batcher.drain(), *self._tasks, return_exceptions=True)
        await self._functions.settle()
        await self._router.close()
        if self._own_bus:
            await self.bus.close()
        if self._own_client:
            await self._redis.aclose()


if TYPE_CHECKING:  # mypy checks that this is what the service takes

    def _a_store(store: RedisStore) -> Store:
        return store
