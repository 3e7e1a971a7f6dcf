"""The bus between processes: Redis (or Valkey) sharded pub/sub.

Each game has a sharded channel, ``cf:{<game_id>}:chan``, in the slot of the
game's keys, where the store's functions announce ``"<version> <json>"``:
events by version, presences as version 0. A process keeps ONE connection
for all its subscriptions (``SSUBSCRIBE`` per game it has members in) and one
task reading it, which decodes each announcement once and hands it to the
game's subscribers here. What is said to every process goes on the plain
channel ``cf:all``.

Pub/sub is at most once: while the connection is down, announcements are
lost. The bus reconnects by itself (with backoff), subscribes again to every
channel wanted, and then calls the callbacks given to ``on_resubscribed``, so
that a service reads back from the store what it may have missed.

(Standalone Redis or Valkey; in a Cluster a process needs one such
connection per shard, which this does not do yet. The keys and channels are
laid out for it: a game's channel lives in its keys' slot.)
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import msgspec
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection
from redis.exceptions import RedisError, ResponseError

from ..domain.events import decode_event, encode_event
from ..domain.seats import Presence, decode_presence, encode_presence
from ..store.base import StoreError
from .base import Bus, Delivery, Hearing, Message

log = logging.getLogger("connectfour.bus.redis")

#: The plain channel every process listens on.
ALL = b"cf:all"
#: Seconds between attempts to reconnect: doubling from the first to the last.
BACKOFF = (0.02, 1.0)
#: Seconds without a byte from the server before asking it (PING); as long again without one and the connection is dead.
HEALTH = 5.0
#: Channels per SSUBSCRIBE when subscribing again to everything.
CHUNK = 500

_Command = tuple[bytes, ...]


def channel(game_id: str) -> bytes:
    """The game's sharded channel: in the slot of its keys (``cf:{<game_id>}:...``)."""
    return b"cf:{" + game_id.encode() + b"}:chan"


def _game(channel: bytes) -> str:
    return channel[4:-6].decode()


def announcement(version: int, message: Message) -> bytes:
    """What a game's channel carries: the version, a space, the JSON."""
    body = encode_presence(message) if isinstance(message, Presence) else encode_event(message)
    return b"%d %s" % (version, body)


class RedisBus:
    def __init__(
        self,
        url: str,
        *,
        client: Redis | None = None,
        timeout: float = 2.0,
        health: float = HEALTH,
        backoff: tuple[float, float] = BACKOFF,
    ) -> None:
        #: Seconds a subscription (or a flush) waits for the server before StoreError.
        self.timeout = timeout
        self.health = health
        self.backoff = backoff
        #: The subscriptions' connection's name on the server (CLIENT LIST).
        self.name = f"connectfour-bus-{secrets.token_hex(4)}"
        # The subscriptions' connection: RESP2, whose pub/sub messages are plain replies.
        self._pool = ConnectionPool.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, protocol=2, client_name=self.name
        )
        #: For PUBLISH and SPUBLISH (tell_all, publish).
        self._client = client if client is not None else Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._own_client = client is None
        #: A test's hook, as LocalBus's: return True to lose this announcement for this subscriber.
        self.drop: Callable[[str, int, Delivery], bool] | None = None
        #: Announcements handed to subscribers so far (tests wait on it).
        self.delivered = 0
        self._wanted: dict[str, list[Delivery]] = {}
        self._listeners: list[Hearing] = []
        self._resubscribed: list[Callable[[], None]] = []
        # -- the state of the current connection --
        self._connected = False
        self._up: asyncio.Event | None = None
        self._outbox: list[_Command] = []
        self._wake: asyncio.Event | None = None
        #: Per channel, the last command sent on this connection: True subscribe, False unsubscribe.
        self._sent: dict[bytes, bool] = {}
        #: Per channel, the confirmations still due for the commands sent.
        self._due: dict[bytes, int] = {}
        #: Subscribers waiting for the server to confirm their channel.
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        #: PINGs sent, by payload: answered once everything sent before has been read.
        self._pongs: dict[bytes, asyncio.Future[None] | Callable[[], None]] = {}
        self._tokens = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    # -- the Bus interface ----------------------------------------------------------

    async def subscribe(self, game_id: str, deliver: Delivery) -> None:
        self._start()
        subscribers = self._wanted.setdefault(game_id, [])
        if deliver not in subscribers:
            subscribers.append(deliver)
        name = channel(game_id)
        if self._connected:
            if not self._sent.get(name):
                self._command(b"SSUBSCRIBE", name)
                self._sent[name] = True
                self._due[name] = self._due.get(name, 0) + 1
            elif not self._due.get(name):
                return  # confirmed, and nothing sent since
        # Not connected: the reconnection subscribes to every channel wanted, and confirms it.
        await self._confirmed(name)

    def unsubscribe(self, game_id: str, deliver: Delivery) -> None:
        subscribers = self._wanted.get(game_id)
        if not subscribers or deliver not in subscribers:
            return
        subscribers.remove(deliver)
        if subscribers:
            return
        del self._wanted[game_id]
        name = channel(game_id)
        if self._connected and self._sent.get(name):
            self._command(b"SUNSUBSCRIBE", name)
            self._sent[name] = False
            self._due[name] = self._due.get(name, 0) + 1

    def subscribers(self, game_id: str) -> int:
        return len(self._wanted.get(game_id, ()))

    def publish(self, game_id: str, version: int, message: Message) -> None:
        """Announce on the game's channel (the store's functions do so themselves for what they store)."""
        self._background(cast(Any, self._client).execute_command("SPUBLISH", channel(game_id), announcement(version, message)))

    async def listen(self, hear: Hearing) -> None:
        self._start()
        self._listeners.append(hear)
        if len(self._listeners) > 1:
            return
        if self._connected:
            self._command(b"SUBSCRIBE", ALL)
            self._sent[ALL] = True
            self._due[ALL] = self._due.get(ALL, 0) + 1
        await self._confirmed(ALL)

    def tell_all(self, message: bytes) -> None:
        self._background(self._client.publish(ALL, message))

    # -- beyond the interface ---------------------------------------------------------

    def on_resubscribed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time the connection came back and every subscription
        holds again: announcements made meanwhile were lost, read them from the store."""
        self._resubscribed.append(callback)

    async def flush(self) -> None:
        """Return once every announcement the server sent this process before now
        was delivered: a PING on the subscriptions' connection, answered after them."""
        self._start()
        assert self._up is not None
        try:
            await asyncio.wait_for(self._up.wait(), self.timeout)
        except TimeoutError:
            raise StoreError("the bus is not connected") from None
        token = b"flush-%d" % next(self._tokens)
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs[token] = answered
        self._command(b"PING", token)
        try:
            await asyncio.wait_for(answered, self.timeout)
        except TimeoutError:
            raise StoreError("the bus did not answer") from None
        finally:
            self._pongs.pop(token, None)

    @property
    def connected(self) -> bool:
        return self._connected

    async def close(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            await _stop(task)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._pool.disconnect()
        if self._own_client:
            await self._client.aclose()

    # -- the connection -----------------------------------------------------------------

    def _start(self) -> None:
        if self._closed:
            raise StoreError("the bus is closed")
        if self._task is None:
            self._up = asyncio.Event()
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cf-redis-bus")

    def _command(self, *args: bytes) -> None:
        self._outbox.append(args)
        assert self._wake is not None
        self._wake.set()

    async def _confirmed(self, name: bytes) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, self.timeout)
        except TimeoutError:
            raise StoreError(f"the subscription to {name.decode()} was not confirmed in {self.timeout:g}s") from None

    def _background(self, coro: Any) -> None:
        async def run() -> None:
            try:
                await coro
            except RedisError as exc:
                log.warning("could not publish: %s", exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        assert self._up is not None and self._wake is not None
        connection: Any = cast(Any, self._pool).make_connection()
        first, pause = True, self.backoff[0]
        while not self._closed:
            try:
                await connection.connect()
            except (RedisError, OSError) as exc:
                log.warning("bus: cannot connect (%s); again in %.2fs", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.backoff[1])
                continue
            self._resubscribe(again=not first)
            first = False
            started = asyncio.get_running_loop().time()
            try:
                await self._serve(connection)
            except (RedisError, OSError) as exc:
                log.warning("bus: connection lost (%s); reconnecting", exc)
            finally:
                self._connected = False
                self._up.clear()
                for answer in self._pongs.values():
                    if isinstance(answer, asyncio.Future) and not answer.done():
                        answer.set_exception(StoreError("the bus lost its connection"))
                self._pongs = {k: v for k, v in self._pongs.items() if not isinstance(v, asyncio.Future)}
                await connection.disconnect(nowait=True)
            if asyncio.get_running_loop().time() - started < 1.0:  # lost at once: not in a tight loop
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.backoff[1])
            else:
                pause = self.backoff[0]

    def _resubscribe(self, *, again: bool) -> None:
        """A new connection: subscribe to everything wanted, in one write."""
        assert self._up is not None
        self._outbox, self._sent, self._due = [], {}, {}
        channels = [channel(game_id) for game_id in self._wanted]
        if self._listeners:
            self._outbox.append((b"SUBSCRIBE", ALL))
            self._sent[ALL], self._due[ALL] = True, 1
        for start in range(0, len(channels), CHUNK):
            chunk = channels[start : start + CHUNK]
            self._outbox.append((b"SSUBSCRIBE", *chunk))
            for name in chunk:
                self._sent[name], self._due[name] = True, 1
        # Waiters for channels no longer wanted have nothing to wait for.
        for name in [name for name in self._waiters if name not in self._due]:
            for waiter in self._waiters.pop(name):
                if not waiter.done():
                    waiter.set_result(None)
        if again:
            token = b"resubscribed-%d" % next(self._tokens)
            self._pongs[token] = self._after_resubscription
            self._outbox.append((b"PING", token))
        self._connected = True
        self._up.set()

    def _after_resubscription(self) -> None:
        log.info("bus: subscribed again to %d games", len(self._wanted))
        for callback in list(self._resubscribed):
            try:
                callback()
            except Exception:
                log.exception("bus: a resubscription callback failed")

    async def _serve(self, connection: Connection) -> None:
        serving = [True]
        writer = asyncio.get_running_loop().create_task(self._write(connection, serving), name="cf-redis-bus-writer")
        try:
            await self._read(connection, writer)
        finally:
            serving[0] = False
            assert self._wake is not None
            self._wake.set()
            await _stop(writer)

    async def _write(self, connection: Connection, serving: list[bool]) -> None:
        wake = self._wake
        assert wake is not None
        while serving[0]:
            if not self._outbox:
                wake.clear()
                await wake.wait()
                continue
            commands, self._outbox = self._outbox, []
            await connection.send_packed_command(connection.pack_commands(commands), check_health=False)

    async def _read(self, connection: Connection, writer: asyncio.Future[None]) -> None:
        asked = False
        while not self._closed:
            if writer.done():
                writer.result()  # its error: the connection is gone
            try:
                response = await connection.read_response(timeout=self.health, disconnect_on_error=False)
            except ResponseError as exc:
                log.error("bus: the server refused a command: %s", exc)
                continue
            if response is None:  # nothing for a while
                if asked:
                    raise ConnectionError("the server did not answer a PING")
                asked = True
                self._command(b"PING", b"health")
                continue
            asked = False
            self._handle(response)

    def _handle(self, response: Any) -> None:
        if isinstance(response, bytes):  # a PING's answer while subscribed to nothing
            self._pong(response)
            return
        kind = response[0]
        if kind == b"smessage":
            self._announce(response[1], response[2])
        elif kind == b"message":
            for hear in list(self._listeners):
                try:
                    hear(response[2])
                except Exception:
                    log.exception("bus: a listener failed")
        elif kind in (b"ssubscribe", b"sunsubscribe", b"subscribe", b"unsubscribe"):
            self._confirm(response[1])
        elif kind == b"pong":
            self._pong(response[1])

    def _announce(self, name: bytes, data: bytes) -> None:
        game_id = _game(name)
        subscribers = self._wanted.get(game_id)
        if not subscribers:
            return
        try:
            space = data.index(b" ")
            version = int(data[:space])
            message: Message = decode_presence(data[space + 1 :]) if version == 0 else decode_event(data[space + 1 :])
        except (ValueError, msgspec.DecodeError) as exc:
            log.error("bus: game %s: an announcement that does not decode: %s", game_id, exc)
            return
        drop = self.drop
        for deliver in list(subscribers) if len(subscribers) > 1 else subscribers:
            if drop is not None and drop(game_id, version, deliver):
                continue
            self.delivered += 1
            try:
                deliver(game_id, version, message)
            except Exception:
                log.exception("bus: game %s: a subscriber failed on version %d", game_id, version)

    def _confirm(self, name: bytes) -> None:
        due = self._due.get(name, 0) - 1
        if due > 0:
            self._due[name] = due
            return
        self._due.pop(name, None)
        if not self._sent.get(name, True):
            self._sent.pop(name, None)  # unsubscribed, and confirmed
        for waiter in self._waiters.pop(name, ()):
            if not waiter.done():
                waiter.set_result(None)

    def _pong(self, token: bytes) -> None:
        answer = self._pongs.pop(token, None)
        if answer is None:
            return
        if isinstance(answer, asyncio.Future):
            if not answer.done():
                answer.set_result(None)
        else:
            answer()


async def _stop(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it is over. Again if need be: on Python 3.11,
    ``asyncio.wait_for`` (inside redis-py's writes) swallows a cancellation that
    arrives as what it waits for completes."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.debug("bus: a task ended with %r", task.exception())


if TYPE_CHECKING:  # mypy checks that this is what a store and the service take

    def _a_bus(bus: RedisBus) -> Bus:
        return bus
