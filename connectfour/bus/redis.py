"""The bus between processes: Redis (or Valkey) sharded pub/sub, standalone or Cluster.

Each game has a sharded channel, ``cf:{<game_id>}:chan``, in the slot of the
game's keys, where the store's functions announce ``"<version> <json>"``:
events by version, presences as version 0. What is said to every process
goes on the plain channel ``cf:all``.

A process keeps ONE subscriptions' connection per server it needs: one for a
standalone server; in a Cluster (a ``redis+cluster://`` URL, see
``cluster_url``), one per master owning the slot of a channel it wants,
since ``SSUBSCRIBE`` must go to the shard of the channel (``cf:all`` rides on
the connection of its own slot's master: a plain ``PUBLISH`` reaches every
node of a Cluster). Each connection has one task reading it, which decodes
each announcement once and hands it to the game's subscribers here.

Pub/sub is at most once: while a connection is down, announcements are lost.
Each connection reconnects by itself (with backoff), subscribes again to
every channel wanted there, and then calls the callbacks given to
``on_resubscribed``, so that a service reads back from the store what it may
have missed.

A dead connection is noticed even when nothing closes it (a partition that
drops packets, a half-open connection): after every write a PING follows,
and when ``health`` seconds pass without a byte a PING is sent too; a PING
unanswered for ``timeout`` seconds while the connection is silent means the
connection is dead: it is dropped and made again.

In a Cluster, the master of a channel is looked up once, when a game is
first subscribed; a slot that moves to another master later (resharding, a
failover) is not followed: its channel's ``SSUBSCRIBE`` is refused with
``MOVED`` (logged) until the process restarts. Commands (SPUBLISH, PUBLISH)
go through redis-py's ``RedisCluster``, which follows ``MOVED`` itself.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import msgspec
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection
from redis.exceptions import RedisClusterException, RedisError, ResponseError, SlotNotCoveredError

from ..domain.events import decode_event, encode_event
from ..domain.seats import Presence, decode_presence, encode_presence
from ..store.base import StoreError
from .base import Bus, Delivery, Hearing, Message

log = logging.getLogger("connectfour.bus.redis")

#: The plain channel every process listens on.
ALL = b"cf:all"
#: Seconds between attempts to reconnect: doubling from the first to the last.
BACKOFF = (0.02, 1.0)
#: Seconds without a byte from the server before asking it (PING); a PING unanswered
#: for ``timeout`` seconds while nothing comes means the connection is dead.
HEALTH = 5.0
#: Channels per SSUBSCRIBE when subscribing again to everything.
CHUNK = 500
#: The schemes of a Cluster's URL, and the ones redis-py takes for them.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
#: What a Redis client may raise: RedisError, or RedisClusterException (which is not one).
ERRORS = (RedisError, RedisClusterException)

_Command = tuple[bytes, ...]


def cluster_url(url: str) -> str | None:
    """For a Cluster's URL, ``redis+cluster://[user:password@]host:port`` (``rediss+cluster://``
    for TLS; any one node, the client finds the others), the URL redis-py's ``RedisCluster``
    takes (``redis://``, ``rediss://``); None for any other URL (a standalone server)."""
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower()) if sep else None
    return f"{plain}://{rest}" if plain is not None else None


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
        client: Redis | RedisCluster | None = None,
        timeout: float = 2.0,
        health: float = HEALTH,
        backoff: tuple[float, float] = BACKOFF,
    ) -> None:
        #: Seconds a subscription (or a flush, or a PING) waits for the server before StoreError.
        self.timeout = timeout
        self.health = health
        self.backoff = backoff
        #: The subscriptions' connections' name on the server (CLIENT LIST).
        self.name = f"connectfour-bus-{secrets.token_hex(4)}"
        plain = cluster_url(url)
        #: Whether the server is a Cluster (one subscriptions' connection per master).
        self.cluster = plain is not None
        self._pool: ConnectionPool | None = None
        self._client: Any  # Redis | RedisCluster: for PUBLISH and SPUBLISH (tell_all, publish)
        if plain is not None:
            if client is not None and not isinstance(client, RedisCluster):
                raise ValueError("a Cluster's URL needs a RedisCluster client")
            self._client = client if client is not None else RedisCluster.from_url(
                plain, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        else:
            if isinstance(client, RedisCluster):
                raise ValueError("a RedisCluster client needs a Cluster's URL (redis+cluster://)")
            # The subscriptions' connection: RESP2, whose pub/sub messages are plain replies.
            self._pool = ConnectionPool.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, protocol=2, client_name=self.name
            )
            self._client = client if client is not None else Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        self._own_client = client is None
        #: A test's hook, as LocalBus's: return True to lose this announcement for this subscriber.
        self.drop: Callable[[str, int, Delivery], bool] | None = None
        #: Announcements handed to subscribers so far (tests wait on it).
        self.delivered = 0
        self._wanted: dict[str, list[Delivery]] = {}
        self._listeners: list[Hearing] = []
        self._resubscribed: list[Callable[[], None]] = []
        #: The subscriptions' connections, by server ("" standalone, a node's name in a Cluster).
        self._links: dict[str, _Link] = {}
        #: The connection each wanted game's channel is subscribed on.
        self._home: dict[str, _Link] = {}
        self._tokens = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    # -- the Bus interface ----------------------------------------------------------

    async def subscribe(self, game_id: str, deliver: Delivery) -> None:
        if self._closed:
            raise StoreError("the bus is closed")
        name = channel(game_id)
        link = self._home.get(game_id) or await self._link_for(name)
        subscribers = self._wanted.setdefault(game_id, [])
        if deliver not in subscribers:
            subscribers.append(deliver)
        self._home.setdefault(game_id, link)
        await self._home[game_id].subscribe(name)

    def unsubscribe(self, game_id: str, deliver: Delivery) -> None:
        subscribers = self._wanted.get(game_id)
        if not subscribers or deliver not in subscribers:
            return
        subscribers.remove(deliver)
        if subscribers:
            return
        del self._wanted[game_id]
        link = self._home.pop(game_id, None)
        if link is not None:
            link.unsubscribe(channel(game_id))

    def subscribers(self, game_id: str) -> int:
        return len(self._wanted.get(game_id, ()))

    def publish(self, game_id: str, version: int, message: Message) -> None:
        """Announce on the game's channel (the store's functions do so themselves for what they store)."""
        self._background(self._client.execute_command("SPUBLISH", channel(game_id), announcement(version, message)))

    async def listen(self, hear: Hearing) -> None:
        self._listeners.append(hear)
        if len(self._listeners) > 1:
            return
        link = await self._link_for(ALL)
        await link.listen()

    def tell_all(self, message: bytes) -> None:
        self._background(self._client.publish(ALL, message))

    # -- beyond the interface ---------------------------------------------------------

    def on_resubscribed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time a connection came back and every subscription on it
        holds again: announcements made meanwhile were lost, read them from the store."""
        self._resubscribed.append(callback)

    async def flush(self) -> None:
        """Return once every announcement the server(s) sent this process before now
        was delivered: a PING on each subscriptions' connection, answered after them.
        StoreError if one is not connected, or does not answer, within ``timeout``."""
        if not self.cluster and not self._links:
            await self._link_for(ALL)  # standalone: the one connection, made now
        links = list(self._links.values())
        results = await asyncio.gather(*(link.flush() for link in links), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    @property
    def started(self) -> bool:
        """Whether the bus has made a subscriptions' connection (it does at the first need)."""
        return bool(self._links)

    @property
    def connected(self) -> bool:
        """Whether every subscriptions' connection is up (False before the first)."""
        return bool(self._links) and all(link.connected for link in self._links.values())

    async def close(self) -> None:
        self._closed = True
        links, self._links = list(self._links.values()), {}
        for link in links:
            await link.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pool is not None:
            await self._pool.disconnect()
        if self._own_client:
            await self._client.aclose()

    # -- the connections ----------------------------------------------------------------

    async def _link_for(self, name: bytes) -> _Link:
        """The subscriptions' connection for a channel: the one, or its master's in a Cluster."""
        if self._closed:
            raise StoreError("the bus is closed")
        if self._pool is not None:
            pool = self._pool
            key = ""
            make: Callable[[], Connection] = lambda: cast(Any, pool).make_connection()  # noqa: E731
        else:
            cluster = cast(RedisCluster, self._client)
            try:
                try:
                    node = cluster.get_node_from_key(cast(str, name))  # bytes do (its keyslot encodes)
                except SlotNotCoveredError:  # no map of the slots yet
                    await cluster.initialize()
                    node = cluster.get_node_from_key(cast(str, name))  # bytes do (its keyslot encodes)
            except ERRORS as exc:
                raise StoreError(f"the bus cannot find the master of {name.decode()}: {exc}") from exc
            if node is None:
                raise StoreError(f"no master owns {name.decode()}")
            if self._closed:
                raise StoreError("the bus is closed")
            key = node.name
            kwargs = {
                **node.connection_kwargs,
                "socket_timeout": self.timeout,
                "socket_connect_timeout": self.timeout,
                "protocol": 2,
                "client_name": self.name,
            }
            connection_class = node.connection_class
            make = lambda: connection_class(**kwargs)  # noqa: E731
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = _Link(self, key, make)
        return link

    def _background(self, coro: Any) -> None:
        async def run() -> None:
            try:
                await coro
            except (*ERRORS, RuntimeError) as exc:  # (uvloop's, writing to a reset connection)
                log.warning("could not publish: %s", exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _after_resubscription(self, link: _Link) -> None:
        log.info("bus: subscribed again to %d games%s", len(link.channels), f" on {link.key}" if link.key else "")
        for callback in list(self._resubscribed):
            try:
                callback()
            except Exception:
                log.exception("bus: a resubscription callback failed")

    def _hear(self, data: bytes) -> None:
        for hear in list(self._listeners):
            try:
                hear(data)
            except Exception:
                log.exception("bus: a listener failed")

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


class _Link:
    """One subscriptions' connection (to the server, or to one master of a Cluster):
    the channels wanted on it, the state of the current connection, its reader task."""

    def __init__(self, bus: RedisBus, key: str, make: Callable[[], Connection]) -> None:
        self.bus = bus
        #: The master's name ("host:port") in a Cluster, "" standalone.
        self.key = key
        self._make = make
        #: The sharded channels wanted on this connection; and whether ``cf:all`` is.
        self.channels: set[bytes] = set()
        self.all = False
        # -- the state of the current connection --
        self.connected = False
        self._up = asyncio.Event()
        self._outbox: list[_Command] = []
        self._wake = asyncio.Event()
        #: Per channel, the last command sent on this connection: True subscribe, False unsubscribe.
        self._sent: dict[bytes, bool] = {}
        #: Per channel, the confirmations still due for the commands sent.
        self._due: dict[bytes, int] = {}
        #: Subscribers waiting for the server to confirm their channel.
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        #: PINGs sent with a payload someone waits on: answered once everything sent before has been read.
        self._pongs: dict[bytes, asyncio.Future[None] | Callable[[], None]] = {}
        #: When each PING still unanswered was sent, oldest first.
        self._pings: collections.deque[float] = collections.deque()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"cf-redis-bus {key}".rstrip())

    # -- what the bus asks --------------------------------------------------------------

    async def subscribe(self, name: bytes) -> None:
        self.channels.add(name)
        if self.connected:
            if not self._sent.get(name):
                self._command(b"SSUBSCRIBE", name)
                self._sent[name] = True
                self._due[name] = self._due.get(name, 0) + 1
            elif not self._due.get(name):
                return  # confirmed, and nothing sent since
        # Not connected: the reconnection subscribes to every channel wanted, and confirms it.
        await self._confirmed(name)

    def unsubscribe(self, name: bytes) -> None:
        self.channels.discard(name)
        if self.connected and self._sent.get(name):
            self._command(b"SUNSUBSCRIBE", name)
            self._sent[name] = False
            self._due[name] = self._due.get(name, 0) + 1

    async def listen(self) -> None:
        self.all = True
        if self.connected:
            self._command(b"SUBSCRIBE", ALL)
            self._sent[ALL] = True
            self._due[ALL] = self._due.get(ALL, 0) + 1
        await self._confirmed(ALL)

    async def flush(self) -> None:
        timeout = self.bus.timeout
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            raise StoreError(f"the bus is not connected{self._where()}") from None
        token = b"flush-%d" % next(self.bus._tokens)
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs[token] = answered
        self._command(b"PING", token)
        try:
            await asyncio.wait_for(answered, timeout)
        except TimeoutError:
            raise StoreError(f"the bus did not answer{self._where()}") from None
        finally:
            self._pongs.pop(token, None)

    async def stop(self) -> None:
        await _stop(self._task)

    # -- the connection -------------------------------------------------------------------

    def _where(self) -> str:
        return f" ({self.key})" if self.key else ""

    def _command(self, *args: bytes) -> None:
        self._outbox.append(args)
        self._wake.set()

    async def _confirmed(self, name: bytes) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, self.bus.timeout)
        except TimeoutError:
            raise StoreError(f"the subscription to {name.decode()} was not confirmed in {self.bus.timeout:g}s") from None

    async def _run(self) -> None:
        bus = self.bus
        connection: Any = self._make()
        first, pause = True, bus.backoff[0]
        loop = asyncio.get_running_loop()
        while not bus._closed:
            try:
                await connection.connect()
            except Exception as exc:  # RedisError, OSError; any: the task lives on
                log.warning("bus: cannot connect%s (%s); again in %.2fs", self._where(), exc, pause)
                await connection.disconnect(nowait=True)
                await asyncio.sleep(pause)
                pause = min(pause * 2, bus.backoff[1])
                continue
            self._resubscribe(again=not first)
            first = False
            started = loop.time()
            try:
                await self._serve(connection)
            except Exception as exc:  # RedisError, OSError, uvloop's RuntimeError on a reset transport...
                log.warning("bus: connection lost%s (%s); reconnecting", self._where(), exc)
            finally:
                self.connected = False
                self._up.clear()
                for answer in self._pongs.values():
                    if isinstance(answer, asyncio.Future) and not answer.done():
                        answer.set_exception(StoreError("the bus lost its connection"))
                self._pongs = {k: v for k, v in self._pongs.items() if not isinstance(v, asyncio.Future)}
                await connection.disconnect(nowait=True)
            if loop.time() - started < 1.0:  # lost at once: not in a tight loop
                await asyncio.sleep(pause)
                pause = min(pause * 2, bus.backoff[1])
            else:
                pause = bus.backoff[0]

    def _resubscribe(self, *, again: bool) -> None:
        """A new connection: subscribe to everything wanted, in one write, then a PING
        (whose answer says that every subscription holds)."""
        self._outbox, self._sent, self._due = [], {}, {}
        self._pings.clear()
        self._pongs = {k: v for k, v in self._pongs.items() if isinstance(v, asyncio.Future)}
        channels = list(self.channels)
        if self.all:
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
        token = b"resubscribed-%d" % next(self.bus._tokens)
        if again:
            self._pongs[token] = lambda: self.bus._after_resubscription(self)
        self._outbox.append((b"PING", token))
        self.connected = True
        self._up.set()

    async def _serve(self, connection: Connection) -> None:
        serving = [True]
        writer = asyncio.get_running_loop().create_task(self._write(connection, serving), name="cf-redis-bus-writer")
        try:
            await self._read(connection, writer)
        finally:
            serving[0] = False
            self._wake.set()
            await _stop(writer)

    async def _write(self, connection: Connection, serving: list[bool]) -> None:
        wake = self._wake
        loop = asyncio.get_running_loop()
        while serving[0]:
            if not self._outbox:
                wake.clear()
                await wake.wait()
                continue
            commands, self._outbox = self._outbox, []
            pings = sum(1 for command in commands if command[0] == b"PING")
            if not pings:  # every write is followed by a PING: its answer shows the connection lives
                commands.append((b"PING", b"sync"))
                pings = 1
            self._pings.extend(itertools.repeat(loop.time(), pings))
            await connection.send_packed_command(connection.pack_commands(commands), check_health=False)

    async def _read(self, connection: Connection, writer: asyncio.Future[None]) -> None:
        bus = self.bus
        loop = asyncio.get_running_loop()
        # Reads wait this long at most, so that a silent connection is looked at often.
        tick = min(bus.health, bus.timeout) / 4
        heard = loop.time()
        while not bus._closed:
            if writer.done():
                writer.result()  # its error: the connection is gone
            try:
                response = await connection.read_response(timeout=tick, disconnect_on_error=False)
            except ResponseError as exc:
                log.error("bus: the server refused a command%s: %s", self._where(), exc)
                heard = loop.time()
                continue
            now = loop.time()
            if response is None:  # nothing for a while
                if self._pings:
                    if now - self._pings[0] > bus.timeout:
                        raise ConnectionError(f"the server did not answer a PING in {bus.timeout:g}s")
                elif now - heard > bus.health:
                    self._command(b"PING", b"health")
                continue
            heard = now
            self._handle(response)

    def _handle(self, response: Any) -> None:
        if isinstance(response, bytes):  # a PING's answer while subscribed to nothing
            self._pong(response)
            return
        kind = response[0]
        if kind == b"smessage":
            self.bus._announce(response[1], response[2])
        elif kind == b"message":
            self.bus._hear(response[2])
        elif kind in (b"ssubscribe", b"sunsubscribe", b"subscribe", b"unsubscribe"):
            self._confirm(response[1])
        elif kind == b"pong":
            self._pong(response[1])

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
        if self._pings:
            self._pings.popleft()
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
