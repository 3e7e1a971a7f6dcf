"""The store in Redis (or Valkey): one store and bus for any number of processes, on any machines.

Every change to a game is ONE call of a server-side function (the library in
``redis.lua``, loaded with ``FUNCTION LOAD REPLACE``): it checks the version
(and, for a decision that read the presence, a claim or an expiry, that the
presence is still at the ``seq`` it read: the rulebook decided, the function
only compares), appends the event, updates the game's record, and announces it on
the game's sharded channel, so that a stored event is always announced and
an unstored one never is. Each call carries a call id: redis-py retries a
command after a connection error, and a retried append answers as the first
did instead of appending twice.

Keys (every key of a game shares its hash tag, so one Cluster slot holds it):

- ``cf:{<id>}:log``, ``:rec``, ``:calls``, ``:presence``: see ``redis.lua``;
  ``:sync``, written (for a minute) only to be waited for, when changes must
  be on replicas before they are acknowledged (``confirm``, ``replication.py``);
- ``cf:key:<key>``: ``"<id> watch"`` or ``"<id> join"``, the key index;
- ``cf:registry``: ZSET process -> when its registration runs out. Expiries
  stay as values (a process named in a presence but absent here registered
  before it took a seat, so absent means pruned long ago: dead). Entries a
  day past their expiry are pruned when any process renews.
- ``cf:open`` (unfinished games, by creation time), ``cf:unplayed`` (games
  without a move yet, by creation time), ``cf:done`` (finished games, by the
  time they finished): candidates for the sweeps, which check each game and
  drop the entries that no longer apply.

A finished game's keys expire ``retention`` seconds after its end (its
replay can be read from any process meanwhile).

Appends without a condition (moves, above all) are pipelined: all those a
process makes while one batch is on its way go in the next, one round trip
for the lot. A creation costs two round trips (the key index is in other
slots, so it is written first, ``SET NX``); an append with a presence's seq,
one of its own.

A connection error or a timeout becomes ``StoreError``: every socket has a
timeout, and the retries are few and short (a connection error is retried at
once, on a new connection; a timeout is not: the append of a batch, retries
included, takes ``timeout`` seconds at most). After a timeout every idle
connection of the pool is dropped, so that none left half-open by a
partition waits its own timeout later.

A Cluster (``redis+cluster://host:port[,host:port...]``, nodes to start from;
``rediss+cluster://`` for TLS; see ``connectfour/redis/client.py``): commands go through
redis-py's ``RedisCluster``. A game's keys share one slot, so each function
call goes to the master owning it (routed here, ``target_nodes``: redis-py
would ask the server which a function's keys are, one more round trip each);
the registry, the key index and the sweeps' sorted sets are plain keys, each
in its own slot, wherever that is. The function library is loaded on every
master (``FUNCTION LOAD`` goes to all of them), and on all again if one says
it has none. The appends' batches are split by master: one connection and
one round trip per master, in parallel. A Cluster that changes while the
store runs (resharding, a failover) is followed: an append answered
``MOVED``, ``ASK`` or ``TRYAGAIN``, or whose master cannot be reached, is
sent again where the slot is now (``_follow``); the other commands go
through ``RedisCluster``, which follows ``MOVED`` and ``ASK`` itself.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import secrets
import time
from collections.abc import Callable, Container, Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, cast

import msgspec
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import AskError, ClusterDownError, MovedError, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout

from ..bus.redis import RedisBus
from ..completion import completion
from ..domain import Player, Reason, Result, other
from ..domain.events import Claimed, Created, Event, Expired, Joined, Moved, Resigned, decode_event, encode_event
from ..domain.seats import TTL, Holder, Presence, decode_presence, encode_presence, first_look
from ..redis.client import FAILURES, client_for, cluster_url, connection_like, pack, without_password
from ..redis.slots import learn_move, master_of, node_at, read_again
from .base import Committed, ConditionFailed, GameRecord, KeyKind, Store, StoreError, VersionConflict, append
from .replication import AT_ONCE, Replication
from .seats import Seats

log = logging.getLogger("connectfour.store.redis")

#: Seconds a finished game is kept (its replay page works meanwhile), then it expires.
RETENTION = 30 * 86400.0
REGISTRY = b"cf:registry"
OPEN = b"cf:open"
UNPLAYED = b"cf:unplayed"
DONE = b"cf:done"
#: Registry entries this long past their expiry are pruned.
REGISTRY_KEPT = 86400.0
#: Games per pipeline in the sweeps.
CHUNK = 200
#: Attempts at a batch of appends after connection errors or timeouts, and the first pause between them.
ATTEMPTS = 3
BACKOFF = 0.0125

LIBRARY = resources.files(__package__).joinpath("redis.lua").read_text()

_Keys = tuple[bytes, bytes, bytes, bytes]
#: An append waiting for its batch: the game, the version, the event, who hears the outcome,
#: and when it was asked for (the loop's time): its answer is due ``timeout`` after that.
_Pending = tuple[str, int, Event, Committed, float]
_Command = tuple[bytes | str | int, ...]


def sync_key(game_id: str) -> bytes:
    """A key of the game's slot written only to be waited for: ``RedisStore.confirm``."""
    return b"cf:{" + game_id.encode() + b"}:sync"


def game_keys(game_id: str) -> _Keys:
    """The log, record, calls and presence of a game: one hash tag, one slot."""
    tag = b"cf:{" + game_id.encode() + b"}:"
    return tag + b"log", tag + b"rec", tag + b"calls", tag + b"presence"


def _index(key: str) -> bytes:
    return b"cf:key:" + key.encode()


def _time(value: float) -> bytes:
    """A time as the server keeps it: Python's shortest exact repr (Lua reads it as a number)."""
    if not math.isfinite(value):
        raise StoreError(f"not a time: {value!r}")
    return repr(float(value)).encode()


def _outcome(event: Event) -> tuple[bytes, bytes, bytes, bytes]:
    """What the record takes from an event: the move's column, the result and reason
    if it ends the game, whether the invite is spent (``GameRecord.advance``)."""
    if type(event) is Moved:
        column = b"%d" % event.column
        if event.end == "four":
            return column, event.player.encode(), b"four", b""
        if event.end == "full":
            return column, b"draw", b"full", b""
        return column, b"", b"", b""
    if isinstance(event, Joined):
        return b"", b"", b"", b"1"
    if isinstance(event, Resigned):
        return b"", other(event.player).encode(), b"resign", b""
    if isinstance(event, Claimed):
        return b"", event.player.encode(), b"claim", b""
    if isinstance(event, Expired):
        return b"", b"abandoned", b"expired", b""
    return b"", b"", b"", b""  # RematchOffered, RematchStarted


def _refusal(game_id: str, version: int, exc: ResponseError) -> StoreError:
    text = str(exc)
    if text.startswith("CONFLICT "):
        return VersionConflict(game_id, version, int(text[9:]))
    if text == "NOGAME":  # none at all: for an append, a log at version 0
        return VersionConflict(game_id, version, 0)
    if text.startswith("REFUSED"):
        return ConditionFailed(f"game {game_id}: {text[8:]}")
    return StoreError(f"game {game_id}: {text}")


def _fcall(
    target: Any, function: str, keys: Sequence[bytes], args: Iterable[bytes | str], route: dict[str, Any]
) -> Any:
    """FCALL on a client (an awaitable) or a pipeline (queued); ``route``: ``RedisStore._route``."""
    return target.execute_command("FCALL", function, len(keys), *keys, *args, **route)


def _key_of(command: _Command) -> bytes:
    """The key that places a command of the appends' batches: a function's first, else the first argument."""
    return cast(bytes, command[3] if command[0] == "FCALL" else command[1])


def _exclusive(value: float) -> str:
    """A score bound that excludes ``value`` itself."""
    return "(" + _time(value).decode()


def _missing_function(result: object) -> bool:
    return isinstance(result, ResponseError) and "function not found" in str(result).lower()


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def _record(game_id: str, fields: dict[bytes, bytes]) -> GameRecord:
    get = fields.get
    finished = get(b"finished_at")
    return GameRecord(
        id=game_id,
        watch_key=fields[b"watch_key"].decode(),
        join_key=_text(get(b"join_key")),
        red_token=fields[b"red_token"].decode(),
        yellow_token=fields[b"yellow_token"].decode(),
        created_at=float(fields[b"created_at"]),
        local=get(b"local") == b"1",
        invite_spent=get(b"invite_spent") == b"1",
        moves=[c - 48 for c in get(b"moves", b"")],
        updated_at=float(fields[b"updated_at"]),
        result=cast("Result | None", _text(get(b"result"))),
        reason=cast("Reason | None", _text(get(b"reason"))),
        finished_at=float(finished) if finished is not None else None,
        rematch_of=_text(get(b"rematch_of")),
        computer=cast("Player | None", _text(get(b"computer"))),
        level=int(get(b"level", b"0")),
        version=int(fields[b"version"]),
        host="yellow" if get(b"host") == b"yellow" else "red",
        public=get(b"public") == b"1",
        match=get(b"match") == b"1",
        red_name=_text(get(b"red_name")),
        yellow_name=_text(get(b"yellow_name")),
    )


def _created_fields(game_id: str, event: Created) -> list[bytes]:
    """The record of a new game, as the field, value pairs of its hash."""
    at = _time(event.at)
    fields = [
        b"id", game_id.encode(),
        b"watch_key", event.watch_key.encode(),
        b"red_token", event.red_token.encode(),
        b"yellow_token", event.yellow_token.encode(),
        b"created_at", at,
        b"updated_at", at,
        b"local", b"1" if event.local else b"0",
        b"invite_spent", b"1" if event.join_key is None else b"0",
        b"moves", b"",
        b"level", b"%d" % event.level,
        b"version", b"1",
    ]  # fmt: skip
    for name, value in (
        (b"join_key", event.join_key),
        (b"rematch_of", event.rematch_of),
        (b"computer", event.computer),
        (b"red_name", event.red_name),
        (b"yellow_name", event.yellow_name),
    ):
        if value is not None:
            fields += [name, value.encode()]
    if event.host != "red":
        fields += [b"host", event.host.encode()]
    if event.public:
        fields += [b"public", b"1"]
    if event.match:
        fields += [b"match", b"1"]
    return fields


#: Games whose versions one pipeline asks for (``versions``).
VERSIONS_CHUNK = 100


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
    ) -> None:
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
        self.seats = RedisSeats(self, ttl)
        from .redis_match import RedisMatchQueue  # (it builds on this module)

        self.match = RedisMatchQueue(self, ttl)
        self.retention = retention
        self._retention_ms = b"%d" % int(retention * 1000)
        self._call_prefix = secrets.token_hex(8).encode()
        self._calls = itertools.count()
        self._queue: list[_Pending] = []
        #: Games whose stored events must be confirmed where ``replication`` asks (``confirm``).
        self._confirms: list[tuple[str, Committed, float]] = []
        #: Commands that tidy the indexes after a game ended, sent with the next batch.
        self._index_updates: list[tuple[bytes | str, ...]] = []
        #: The task that sends the appends' batches: it lives on between them, waiting on ``_idle``.
        self._writer: asyncio.Task[None] | None = None
        self._idle: asyncio.Future[None] | None = None
        self._closing = False
        #: The appends' own connections (one per master in a Cluster, "" standalone), whose reads
        #: and writes are bounded by ``timeout`` as a whole (a socket timeout would cost a task
        #: per write on Python 3.11).
        self._connections: dict[str, Any] = {}
        self.timeout = timeout
        #: The function libraries loaded (this module's, and the quick match's when used).
        self._libraries: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> Redis | RedisCluster:
        return cast("Redis | RedisCluster", self._redis)

    async def _master(self, key: bytes) -> ClusterNode:
        """The Cluster's master owning ``key``'s slot (reading the map of the slots the first time)."""
        node = await master_of(cast(RedisCluster, self._redis), key)
        if node is None:
            raise StoreError(f"no master owns the slot of {key!r}")
        return node

    async def _route(self, key: bytes) -> dict[str, Any]:
        """The keyword sending a function call to the master of ``key`` in a Cluster; none standalone."""
        if not self.cluster:
            return {}
        return {"target_nodes": await self._master(key)}

    def _failed(self, exc: BaseException, what: str = "redis") -> StoreError:
        """The StoreError for a client's error. After a timeout (or a write to a connection
        reset meanwhile), every idle connection of the pool is dropped: the way to the server
        may have been cut, and a connection left half-open would wait its own timeout the
        next time it is used. (RedisCluster does so itself for the node concerned.)"""
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, (RedisTimeout, RuntimeError)):
            self._purge()
        return StoreError(f"{what}: {exc}")

    def _purge(self) -> None:
        """Drop every idle connection of the pool (standalone; RedisCluster does it per node)."""
        if self.cluster:
            return
        task = asyncio.ensure_future(self._redis.connection_pool.disconnect(inuse_connections=False))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _call(self) -> bytes:
        return b"%s-%d" % (self._call_prefix, next(self._calls))

    @property
    def _loaded(self) -> bool:
        return LIBRARY in self._libraries

    async def _load(self, library: str = LIBRARY) -> None:
        """Load (or replace) a function library: at the first call, and if the server lost it."""
        await self._redis.function_load(library, replace=True)
        self._libraries.add(library)

    async def _fcall(
        self, function: str, keys: Sequence[bytes], args: Iterable[bytes | str], library: str = LIBRARY
    ) -> Any:
        """Call one of ``library``'s functions, loading it first if this server lacks it."""
        if library not in self._libraries:
            await self._load(library)
        args = list(args)
        route = await self._route(keys[0])
        try:
            return await _fcall(self._redis, function, keys, args, route)
        except ResponseError as exc:
            if not _missing_function(exc):
                raise
        except RedisConnectionError:
            if not self.cluster:
                raise
            # Its master is gone (a failover?): read the map again, and call the slot's
            # master now, once (a retried call answers as the first: call ids, seqs).
            await read_again(self._redis)
            return await _fcall(self._redis, function, keys, args, await self._route(keys[0]))
        await self._load(library)
        return await _fcall(self._redis, function, keys, args, route)

    # -- appending ----------------------------------------------------------------------

    def append_nowait(
        self, game_id: str, version: int, event: Event, committed: Committed, presence_seq: int | None = None
    ) -> None:
        if presence_seq is not None or type(event) is Created:
            task = asyncio.ensure_future(self._append_alone(game_id, version, event, committed, presence_seq))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._queue.append((game_id, version, event, committed, asyncio.get_running_loop().time()))
        self._wake_writer()

    async def append(self, game_id: str, version: int, event: Event, presence_seq: int | None = None) -> None:
        await append(self, game_id, version, event, presence_seq)

    def _wake_writer(self) -> None:
        idle = self._idle
        if idle is not None:
            self._idle = None
            if not idle.done():
                idle.set_result(None)
        elif self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write(), name="cf-redis-appends")

    @property
    def writing(self) -> bool:
        """Whether appends (or updates of the indexes) are waiting or on their way."""
        return self._writer is not None and self._idle is None

    def _args(self, version: int, event: Event, call: bytes, condition: bytes = b"") -> list[bytes]:
        column, result, reason, joined = _outcome(event)
        return [
            b"%d" % version, call, encode_event(event), _time(event.at),
            column, result, reason, joined, self._retention_ms, condition,
        ]  # fmt: skip

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

    async def _send(
        self,
        batch: list[_Pending],
        index_updates: list[tuple[bytes | str, ...]],
        confirms: list[tuple[str, Committed, float]],
    ) -> None:
        waiting = [committed for *_, committed, _ in batch] + [done for _, done, _ in confirms]
        try:
            if not self._loaded:
                await self._load()
            # Each append is answered within ``timeout`` of its asking, whatever batch was on
            # its way meanwhile: the oldest one waiting sets the batch's deadline.
            now = asyncio.get_running_loop().time()
            oldest = min([asked for *_, asked in batch] + [asked for *_, asked in confirms], default=now)
            deadline = oldest + self.timeout
            commands: list[_Command] = list(index_updates)
            for game_id, version, event, _, _ in batch:
                args = self._args(version, event, self._call())
                commands.append(("FCALL", "cf_append", 4, *game_keys(game_id), *args))
            for game_id, _, _ in confirms:
                # A write to the game's slot that the batch's wait then covers.
                commands.append(("SET", sync_key(game_id), b"1", "PX", b"60000"))
            if self.cluster:
                results = await self._follow(commands, deadline)
            else:
                results, _ = await self._spread(commands, deadline)
                redo = [n for n, result in enumerate(results) if _missing_function(result)]
                if redo:
                    # The server lost the library (a restart without persistence): load it, then
                    # call again the ones refused for it, with the same call ids.
                    await self._load()
                    again, _ = await self._spread(
                        [commands[n] for n in redo], asyncio.get_running_loop().time() + self.timeout
                    )
                    for n, result in zip(redo, again):
                        results[n] = result
        except (*FAILURES, StoreError) as exc:
            error = self._failed(exc)
            for committed in waiting:
                _tell(committed, error)
            return
        except Exception as exc:  # never leave a caller waiting
            log.exception("the appends' batch failed")
            for committed in waiting:
                _tell(committed, StoreError(f"redis: {exc!r}"))
            return
        answers = results[len(index_updates) :]
        for (game_id, version, event, committed, _), result in zip(batch, answers):
            _tell(committed, self._answer(game_id, version, event, result))
        for (game_id, done, _), result in zip(confirms, answers[len(batch) :]):
            if isinstance(result, Exception) and not isinstance(result, StoreError):
                result = StoreError(f"game {game_id}: {result}")
            _tell(done, result if isinstance(result, StoreError) else None)

    async def _follow(self, commands: list[_Command], deadline: float) -> list[object]:
        """Send ``commands`` to their masters (``_spread``), and follow a Cluster that changes:

        - ``MOVED`` (the slot is another master's now: resharded, or failed over to a
          replica): redis-py's map learns it (``learn_move``, as its own client
          does), and the command goes to that master;
        - ``ASK`` (the slot is being migrated, and its keys are on the target already):
          the command goes to the target, after ``ASKING``, in the same write;
        - ``TRYAGAIN`` (during a migration, a function whose keys are split, or partly
          missing), ``CLUSTERDOWN``: the same again after a short pause;
        - a master that cannot be reached (the connection dropped, or cannot be made):
          the map is read again (``read_again``), and the command goes to the slot's
          master now if that is another;
        - "function not found" (a master that never had the library, or lost it): the
          library is loaded on that master, in the same write as the call again.

        Each call carries its call id, so a call the server ran before its answer was
        lost answers again as it did: nothing is appended twice. All of it within the
        batch's ``deadline``; what is still on its way then is a StoreError (unavailable),
        never stored in part: each call is one function, all or nothing."""
        cluster = cast(RedisCluster, self._redis)
        loop = asyncio.get_running_loop()
        results, nodes = await self._spread(commands, deadline)
        pending = list(range(len(commands)))
        #: The commands sent to a node the map does not name (ASK), and sent there again.
        targets: dict[int, tuple[ClusterNode, bool]] = {}
        for attempt in itertools.count():
            load: set[str] = set()
            pause = refresh = False
            for n in pending:
                result, node = results[n], nodes[n]
                if isinstance(result, MovedError):
                    await learn_move(cluster, result)
                    targets.pop(n, None)
                elif isinstance(result, AskError):
                    targets[n] = (node_at(cluster, result.host, int(result.port)), True)
                elif isinstance(result, TryAgainError):
                    pause = True  # (to the same node again, after ASKING if it was asked)
                elif isinstance(result, ClusterDownError):
                    pause = True
                    targets.pop(n, None)
                elif isinstance(result, _Unreachable):
                    refresh = pause = True
                    targets.pop(n, None)
                elif _missing_function(result) and node is not None:
                    load.add(node.name)  # (to the same node again, with the library first)
            pending = [
                n for n in pending
                if isinstance(results[n], (AskError, TryAgainError, ClusterDownError, _Unreachable)) or _missing_function(results[n])
            ]  # fmt: skip
            if not pending:
                return results
            targets = {n: targets[n] for n in pending if n in targets}
            wait = BACKOFF * 2 ** min(attempt, 4) if pause else 0.0
            if loop.time() + wait >= deadline:
                break
            if wait:
                await asyncio.sleep(wait)
            if refresh:
                try:
                    await read_again(cluster)
                except (*FAILURES, StoreError) as exc:
                    log.warning("cannot read the map of the Cluster's slots: %s", exc)
                    break
            log.info(
                "appends: %d calls again, after %s",
                len(pending),
                ", ".join(sorted({type(results[n]).__name__ for n in pending})),
            )
            again, where = await self._spread(
                [commands[n] for n in pending], deadline, [targets.get(n) for n in pending], load
            )
            for n, result, node in zip(pending, again, where):
                results[n], nodes[n] = result, node
        for n in pending:
            result = results[n]
            if not isinstance(result, StoreError):
                results[n] = StoreError(f"redis: its slot is moving, or its master changing ({result}); try again")
        return results

    async def _spread(
        self,
        commands: list[_Command],
        deadline: float,
        targets: Sequence[tuple[ClusterNode, bool] | None] | None = None,
        load: Container[str] = frozenset(),
    ) -> tuple[list[object], list[ClusterNode | None]]:
        """``_roundtrip`` to the server; in a Cluster, to each master its own commands, in
        parallel (or to the node of ``targets``, after ASKING if it says so; with the function
        library first, to the nodes named in ``load``). Each answer in its command's place,
        and the node it came from; a master that could not be reached answers ``_Unreachable``
        for each of its commands."""
        if not self.cluster:
            return await self._roundtrip(None, commands, deadline), [None] * len(commands)
        masters: dict[tuple[str, bool], tuple[ClusterNode, list[int]]] = {}
        for n, command in enumerate(commands):
            target = targets[n] if targets is not None else None
            node, asking = target if target is not None else (await self._master(_key_of(command)), False)
            masters.setdefault((node.name, asking), (node, []))[1].append(n)
        results: list[object] = [None] * len(commands)
        nodes: list[ClusterNode | None] = [None] * len(commands)
        answers = await asyncio.gather(
            *(
                self._roundtrip(node, [commands[n] for n in places], deadline, asking=asking, load=node.name in load)
                for (_, asking), (node, places) in masters.items()
            ),
            return_exceptions=True,
        )
        for (node, places), answer in zip(masters.values(), answers):
            if isinstance(answer, BaseException):
                if not isinstance(answer, Exception):
                    raise answer  # a cancellation
                error = self._failed(answer)
                answer = [_Unreachable(str(error))] * len(places)
            for n, result in zip(places, answer):
                results[n], nodes[n] = result, node
        return results, nodes

    def _connection_to(self, node: ClusterNode | None) -> Any:
        """The appends' own connection to the server, or to a Cluster's master."""
        key = node.name if node is not None else ""
        connection = self._connections.get(key)
        if connection is None:
            source = node if node is not None else self._redis.connection_pool
            connection = self._connections[key] = connection_like(source, socket_timeout=None)
        return connection

    async def _roundtrip(
        self,
        node: ClusterNode | None,
        commands: list[_Command],
        deadline: float,
        *,
        asking: bool = False,
        load: bool = False,
    ) -> list[object]:
        """Send ``commands`` in one write and read their answers (an error answer in its
        place), on the writer's own connection to ``node`` (None: the standalone server).
        After a connection error, reconnect and send them all again: an append carries
        its call id, so one the server ran before the answer was lost answers again as
        it did. All of it, retries included, before ``deadline`` (the loop's time).
        ``asking``: each command after an ASKING (a slot being migrated to ``node``);
        ``load``: the function library first."""
        loop = asyncio.get_running_loop()
        error: BaseException | None = None
        connection = self._connection_to(node)
        wire: list[_Command] = [("FUNCTION", "LOAD", "REPLACE", LIBRARY)] if load else []
        for command in commands:
            if asking:
                wire.append(("ASKING",))
            wire.append(command)
        replication = self.replication
        if replication.waits:
            # In the same write, on the same connection: it waits for what this connection wrote.
            wire.append(replication.command(deadline - loop.time()))
        for attempt in range(ATTEMPTS):
            if attempt:
                pause = BACKOFF * 2**attempt
                if loop.time() + pause >= deadline:
                    break
                await asyncio.sleep(pause)
            try:
                async with asyncio.timeout_at(deadline):
                    if not connection.is_connected:
                        await connection.connect()
                    await connection.send_packed_command(pack(wire), check_health=False)
                    results: list[object] = []
                    for command in wire:
                        try:
                            answer = await connection.read_response()
                        except ResponseError as exc:
                            answer = exc
                        if command[0] in ("ASKING", "FUNCTION"):
                            if isinstance(answer, ResponseError):
                                log.info("redis%s: %s answered %s", f" {node.name}" if node else "", command[0], answer)
                            continue
                        if command[0] in ("WAIT", "WAITAOF"):
                            short = replication.short(answer, node.name if node is not None else "")
                            if short is not None:
                                # Stored (what was not refused), but not where it must be before it is
                                # acknowledged: its outcome is unknown to the caller, who asks again.
                                results = [r if isinstance(r, Exception) else short for r in results]
                            continue
                        results.append(answer)
                    return results
            except (*FAILURES, OSError, TimeoutError) as exc:
                error = exc
                await connection.disconnect(nowait=True)
                if isinstance(exc, (TimeoutError, RedisTimeout, RuntimeError)):
                    self._purge()
        where = f" {node.name}" if node is not None else ""
        if error is None or isinstance(error, TimeoutError) or not str(error):
            raise StoreError(f"redis{where}: no answer in {self.timeout:g}s")
        raise StoreError(f"redis{where}: {error}")

    def _answer(self, game_id: str, version: int, event: Event, result: object) -> StoreError | None:
        if isinstance(result, StoreError):  # its master could not be reached
            return result
        if isinstance(result, ResponseError):
            return _refusal(game_id, version, result)
        if isinstance(result, Exception):
            return StoreError(f"game {game_id}: {result}")
        if isinstance(result, list):  # it ended the game: {version, watch key, join key}
            self._ended(game_id, event, result[1], result[2])
        return None

    def _ended(self, game_id: str, event: Event, watch_key: bytes, join_key: bytes) -> None:
        """The game ended: out of the open games, into the finished ones; its keys expire with it."""
        seconds = b"%d" % math.ceil(self.retention)
        member = game_id.encode()
        self._index_updates += [("ZREM", OPEN, member), ("ZADD", DONE, _time(event.at), member)]
        for key in (watch_key, join_key):
            if key:
                self._index_updates.append(("EXPIRE", b"cf:key:" + key, seconds))
        self._wake_writer()

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
            _tell(committed, self._failed(exc))
        else:
            _tell(committed, None)

    async def confirm(self, game_id: str) -> None:
        """Return once what is stored of the game is where ``replication`` asks (at once
        when it asks for nothing). The appends' writer sends a write to the game's slot
        in its next batch, which waits as every batch does: the wait covers everything
        the master took before that write. For a change stored outside the batches, and
        for a request sent again, answered from what is stored already."""
        if not self.replication.waits:
            return
        asked = asyncio.get_running_loop().time()
        await completion(lambda done: self._confirm_nowait(game_id, done, asked))

    def _confirm_nowait(self, game_id: str, done: Committed, asked: float) -> None:
        self._confirms.append((game_id, done, asked))
        self._wake_writer()

    async def _create(self, game_id: str, version: int, event: Created) -> None:
        if version != 1:
            last = (await self.versions([game_id]))[game_id]
            raise (
                VersionConflict(game_id, version, last)
                if version != last + 1
                else StoreError("a game begins with its Created at version 1")
            )
        # The key index first (other slots): a key already taken refuses the game.
        keys: list[tuple[bytes, bytes]] = [(_index(event.watch_key), b"%s watch" % game_id.encode())]
        if event.join_key is not None:
            keys.append((_index(event.join_key), b"%s join" % game_id.encode()))
        pipe = self._redis.pipeline(transaction=False)
        for key, value in keys:
            pipe.set(key, value, nx=True, get=True)
        answers = await pipe.execute()
        new = [key for (key, _), answer in zip(keys, answers) if answer is None]
        if any(answer is not None and answer != value for (_, value), answer in zip(keys, answers)):
            for key in new:  # one by one: in a Cluster, each in its own slot
                await self._redis.delete(key)
            raise StoreError(f"game {game_id}: one of its keys belongs to another game")
        member = game_id.encode()
        if not self._loaded:
            await self._load()
        call = self._call()
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(OPEN, {member: event.at}, nx=True)
        pipe.zadd(UNPLAYED, {member: event.at}, nx=True)
        keys_of_game = game_keys(game_id)
        route = await self._route(keys_of_game[0])
        _fcall(pipe, "cf_create", keys_of_game, [call, encode_event(event), *_created_fields(game_id, event)], route)
        opened, unplayed, created = await pipe.execute(raise_on_error=False)
        if _missing_function(created):
            await self._load()
            created = await self._fcall(
                "cf_create", game_keys(game_id), [call, encode_event(event), *_created_fields(game_id, event)]
            )
        if isinstance(created, Exception):
            tidy = self._redis.pipeline(transaction=False)
            for key in new:
                tidy.delete(key)
            if opened == 1:
                tidy.zrem(OPEN, member)
            if unplayed == 1:
                tidy.zrem(UNPLAYED, member)
            await tidy.execute()
            if isinstance(created, ResponseError):
                raise _refusal(game_id, version, created)
            raise StoreError(f"game {game_id}: {created}")

    async def _conditional(self, game_id: str, version: int, event: Event, presence_seq: int) -> None:
        """An append whose decision read the game's presence: stored only if its seq is unchanged."""
        args = self._args(version, event, self._call(), b"%d" % presence_seq)
        try:
            result = await self._fcall("cf_append", game_keys(game_id), args)
        except ResponseError as exc:
            raise _refusal(game_id, version, exc) from None
        error = self._answer(game_id, version, event, result)
        if error is not None:
            raise error

    # -- reading ------------------------------------------------------------------------

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        try:
            stored = await self._redis.lrange(game_keys(game_id)[0], after, -1)
        except FAILURES as exc:
            raise self._failed(exc, f"game {game_id}") from exc
        return [(version, decode_event(data)) for version, data in enumerate(stored, after + 1)]

    async def versions(self, game_ids: list[str]) -> dict[str, int]:
        if not game_ids:
            return {}
        # A pipeline per chunk: the heartbeat asks for every game a process follows,
        # and one pipeline of thousands would hold the event loop for as many
        # replies parsed in a row (7 ms for 1,000), delaying every move meanwhile.
        lengths: list[int] = []
        try:
            for start in range(0, len(game_ids), VERSIONS_CHUNK):
                pipe = self._redis.pipeline(transaction=False)
                for game_id in game_ids[start : start + VERSIONS_CHUNK]:
                    pipe.llen(game_keys(game_id)[0])
                lengths += await pipe.execute()
        except FAILURES as exc:
            raise self._failed(exc) from exc
        return dict(zip(game_ids, lengths))

    async def get(self, game_id: str) -> GameRecord | None:
        try:
            fields = cast("dict[bytes, bytes]", await self._redis.hgetall(game_keys(game_id)[1]))
        except FAILURES as exc:
            raise self._failed(exc, f"game {game_id}") from exc
        if not fields:
            return None
        record = _record(game_id, fields)
        if record.invite_spent and record.join_key is not None:
            # The guest's name is in its Joined event, not in the record the append keeps.
            for _, event in await self.read(game_id, 1):
                if isinstance(event, Joined):
                    record.advance_name(event)
                    break
        return record

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        try:
            found = cast("bytes | None", await self._redis.get(_index(key)))
        except FAILURES as exc:
            raise self._failed(exc) from exc
        if found is None:
            return None
        game_id, _, kind = found.decode().rpartition(" ")
        return game_id, cast(KeyKind, kind)

    async def touch(self, game_id: str, at: float) -> None:
        try:
            await self._fcall("cf_touch", game_keys(game_id)[1:2], [_time(at)])
        except ResponseError as exc:
            raise _refusal(game_id, 0, exc) from None
        except FAILURES as exc:
            raise self._failed(exc, f"game {game_id}") from exc

    # -- sweeps ---------------------------------------------------------------------------

    async def _candidates(self, index: bytes, before: float) -> list[str]:
        ids = cast("list[bytes]", await self._redis.zrangebyscore(index, "-inf", _exclusive(before)))
        return [game_id.decode() for game_id in ids]

    async def idle_games(self, before: float) -> list[str]:
        try:
            candidates = await self._candidates(OPEN, before)
            idle: list[str] = []
            over: list[str] = []
            for start in range(0, len(candidates), CHUNK):
                chunk = candidates[start : start + CHUNK]
                pipe = self._redis.pipeline(transaction=False)
                for game_id in chunk:
                    pipe.hmget(game_keys(game_id)[1], [b"updated_at", b"result"])
                for game_id, (updated, result) in zip(chunk, await pipe.execute()):
                    if updated is None or result is not None:
                        over.append(game_id)  # gone, or ended: not open any more
                    elif float(updated) < before:
                        idle.append(game_id)
            if over:
                await self._redis.zrem(OPEN, *over)
            # Finished games whose keys expired long ago leave the finished index.
            await self._redis.zremrangebyscore(DONE, "-inf", _exclusive(before - self.retention))
        except FAILURES as exc:
            raise self._failed(exc) from exc
        return idle

    async def prune(self, before: float) -> int:
        try:
            candidates = dict.fromkeys(await self._candidates(OPEN, before) + await self._candidates(DONE, before))
            return await self._delete(list(candidates), b"idle", before, frozenset())
        except FAILURES as exc:
            raise self._failed(exc) from exc

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        try:
            return await self._delete(await self._candidates(UNPLAYED, before), b"unplayed", before, keep)
        except FAILURES as exc:
            raise self._failed(exc) from exc

    async def _delete(self, candidates: list[str], mode: bytes, before: float, keep: Container[str]) -> int:
        """Delete the candidates that still qualify (checked by the function, so a move
        stored meanwhile keeps a game), with their keys and index entries."""
        if not self._loaded:
            await self._load()
        deleted = 0
        for start in range(0, len(candidates), CHUNK):
            chunk = [game_id for game_id in candidates[start : start + CHUNK] if game_id not in keep]
            if not chunk:
                continue
            pipe = self._redis.pipeline(transaction=False)
            for game_id in chunk:
                keys = game_keys(game_id)
                _fcall(pipe, "cf_delete", keys, [mode, _time(before)], await self._route(keys[0]))
            tidy = self._redis.pipeline(transaction=False)
            for game_id, answer in zip(chunk, await pipe.execute()):
                member = game_id.encode()
                status = answer[0]
                if status == b"deleted":
                    deleted += 1
                    for key in answer[1:]:
                        if key:  # one by one: in a Cluster, each in its own slot
                            tidy.delete(b"cf:key:" + key)
                    tidy.zrem(OPEN, member)
                    tidy.zrem(UNPLAYED, member)
                    tidy.zrem(DONE, member)
                elif status == b"gone":
                    tidy.zrem(OPEN, member)
                    tidy.zrem(UNPLAYED, member)
                    tidy.zrem(DONE, member)
                elif status == b"played":
                    tidy.zrem(UNPLAYED, member)
            await tidy.execute()
        return deleted

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
            if not self._loaded:
                await self._load()
        except FAILURES as exc:
            raise self._failed(exc, f"redis at {self.location}") from exc
        if self.bus.started:
            await self.bus.flush()

    async def close(self) -> None:
        """Wait for the appends on their way, then let the connections go."""
        self._closing = True
        while self._writer is not None or self._tasks:
            self._wake_writer()  # the writer sends what is left, then ends
            await asyncio.gather(*[t for t in (self._writer, *self._tasks) if t is not None], return_exceptions=True)
        for connection in self._connections.values():
            await connection.disconnect()
        if self._own_bus:
            await self.bus.close()
        if self._own_client:
            await self._redis.aclose()


#: Attempts at a presence's change that keeps losing to other processes' changes.
PRESENCE_ATTEMPTS = 16


def next_seq(old: int) -> int:
    """A presence's next ``seq``: the time in microseconds, and always past the one before,
    so that a presence deleted and made again does not go back either."""
    return max(old + 1, time.time_ns() // 1000)


def stored_presence(fields: dict[bytes, bytes]) -> Presence | None:
    """The presence a ``cf:{<id>}:presence`` hash holds; None if there is none. A hash of the
    layout before ``json`` (one field per seat) is read too, and rewritten at its next change."""
    body = fields.get(b"json")
    if body:
        return decode_presence(body)
    seq = fields.get(b"seq")
    if seq is None:
        return None
    holders: dict[str, object] = {}
    for color in ("red", "yellow"):
        process, connection = fields.get(color.encode()), fields.get(f"{color}_c".encode())
        if process is not None and connection is not None:
            holders[color] = Holder(process.decode(), int(connection))
        left = fields.get(f"{color}_left".encode())
        if left is not None:
            holders[f"{color}_left"] = float(left)
    watching = {name[2:].decode(): int(count) for name, count in fields.items() if name.startswith(b"w:")}
    return Presence(seq=int(seq), watching=watching, **holders)  # type: ignore[arg-type]


class _Unreachable(StoreError):
    """The master of a command could not be reached (in a Cluster: its slot may have another now)."""


def _tell(committed: Committed, error: StoreError | None) -> None:
    try:
        committed(error)
    except Exception:
        log.exception("a caller's completion callback failed")


class RedisSeats:
    """``Seats`` in Redis: each game's presence in ``cf:{<id>}:presence``, the registry in
    ``cf:registry``. A change is made here, by ``Presence``'s own methods, on the presence
    as read; the ``cf_presence`` function writes it (and announces it as version 0) only
    if the stored one is still that one, and else answers the stored one to make the
    change on again: no rule of the seats is written twice."""

    def __init__(self, store: RedisStore, ttl: float = TTL) -> None:
        self._store = store
        self.ttl = ttl

    async def _read(self, game_id: str) -> Presence | None:
        try:
            fields = await self._store.client.hgetall(game_keys(game_id)[3])
        except FAILURES as exc:
            raise self._store._failed(exc, f"game {game_id}") from exc
        return stored_presence(cast("dict[bytes, bytes]", fields))  # (no decode_responses: bytes)

    async def _change(
        self, game_id: str, now: float, change: Callable[[Presence], Presence], *, announce: bool = True
    ) -> Presence:
        """Make ``change`` on the stored presence (a first look at ``now`` if there is none) and
        store it, again on the newer one each time another process changed it first."""
        keys = game_keys(game_id)
        current = await self._read(game_id)
        for _ in range(PRESENCE_ATTEMPTS):
            base = current if current is not None else first_look(now)
            changed = change(base)
            if changed is base and current is not None:
                return current  # nothing to change
            made = msgspec.structs.replace(changed, seq=next_seq(base.seq if current is not None else 0))
            args = [
                b"%d" % current.seq if current is not None else b"",
                b"%d" % made.seq,
                encode_presence(made),
                b"1" if made.red is None and made.yellow is None and not made.watching else b"0",
                b"1" if announce else b"0",
            ]
            try:
                answer = await self._store._fcall("cf_presence", (keys[3], keys[1]), args)
            except FAILURES as exc:
                raise self._store._failed(exc, f"game {game_id}") from exc
            if answer == 1:
                return made
            seq, body = answer
            current = decode_presence(body) if seq and body else None  # (an older layout's: made anew)
        raise StoreError(f"game {game_id}: its presence kept changing")

    async def take(self, game_id: str, colors: tuple[Player, ...], holder: Holder, now: float) -> Presence:
        return await self._change(game_id, now, lambda presence: presence.take(colors, holder))

    async def leave(self, game_id: str, holder: Holder, now: float) -> Presence:
        return await self._change(game_id, now, lambda presence: presence.leave(holder, now))

    async def watch(self, game_id: str, process: str, count: int, now: float) -> Presence:
        def watched(presence: Presence) -> Presence:
            return presence if presence.watching.get(process, 0) == count else presence.watched(process, count)

        return await self._change(game_id, now, watched)

    async def presence(self, game_id: str, now: float) -> Presence:
        """The game's presence; a first look, stored unannounced, if it had none."""
        return await self._change(game_id, now, lambda presence: presence, announce=False)

    async def renew(self, process: str, now: float) -> None:
        try:
            pipe = self._store.client.pipeline(transaction=False)
            pipe.zadd(REGISTRY, {process: now + self.ttl})
            pipe.zremrangebyscore(REGISTRY, "-inf", _exclusive(now - REGISTRY_KEPT))
            await pipe.execute()
        except FAILURES as exc:
            raise self._store._failed(exc) from exc

    async def stop(self, process: str, now: float) -> None:
        try:
            await self._store.client.zadd(REGISTRY, {process: now}, lt=True)
        except FAILURES as exc:
            raise self._store._failed(exc) from exc

    async def expiries(self, processes: set[str]) -> dict[str, float]:
        if not processes:
            return {}
        named = list(processes)
        try:
            scores = await self._store.client.zmscore(REGISTRY, named)
        except FAILURES as exc:
            raise self._store._failed(exc) from exc
        return {process: score for process, score in zip(named, scores) if score is not None}


if TYPE_CHECKING:  # mypy checks that these are what the service takes

    def _a_store(store: RedisStore) -> Store:
        return store

    def _seats(seats: RedisSeats) -> Seats:
        return seats
