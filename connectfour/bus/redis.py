"""The bus between processes: Redis (or Valkey) sharded pub/sub, standalone or Cluster.

Each game has a sharded channel, ``cf:{<game_id>}:chan``, in the slot of the
game's keys, where the store's functions announce ``"<version> <json>"``:
events by version, presences as version 0. What is said to every process
goes on the plain channel ``cf:all``.

A process keeps ONE subscriptions' connection per server it needs: one for a
standalone server; in a Cluster (a ``redis+cluster://`` URL), one per master owning the slot of a channel it wants,
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

In a Cluster, the master of a channel is looked up when a game is first
subscribed, in redis-py's map of the slots (``connectfour/redis/slots.py``); a Cluster that changes while the
bus runs is followed. A subscription is gone from its master when

- the server says so: an ``sunsubscribe`` the bus did not ask for (the slot
  was given to another master, ``CLUSTER SETSLOT ... NODE``, or the master
  became a replica in a failover), or ``MOVED`` in answer to an
  ``SSUBSCRIBE`` (the map was out of date);
- its connection is lost, or cannot be made again, and the map read again
  names another master for its slot (the master died, its replica took over).

Then the bus reads the map again (``read_again``, one ``CLUSTER SLOTS``), subscribes on the slot's master now, and once it holds
calls the ``on_resubscribed`` callbacks: the announcements made meanwhile,
on the old master or the new one, are read back from the store. A
subscriber waiting for its confirmation meanwhile waits for the new one
(within ``timeout``). A connection left with nothing to carry, to a server
that is no master any more, is closed. Commands (SPUBLISH, PUBLISH) go
through redis-py's ``RedisCluster``, which follows ``MOVED`` itself. On a
connection's return, its channels are subscribed again one slot per
``SSUBSCRIBE`` (a Cluster refuses channels of several slots in one).
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
from redis.crc import key_slot
from redis.exceptions import AskError, ResponseError

from ..domain.events import decode_event, encode_event
from ..domain.seats import Presence, decode_presence, encode_presence
from ..redis.client import ERRORS, bus_client, cluster_url, connection_like, subscriptions_pool
from ..redis.slots import master_now, master_of, masters, read_again
from ..store.base import StoreError
from .base import Bus, Delivery, Hearing, Message
from .said import Topic, decode_said, encode_said

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

_Command = tuple[bytes, ...]


class _Moved(StoreError):
    """A subscription waited for went away from its master: the bus makes it on the new one."""


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
        #: Whether the server is a Cluster (one subscriptions' connection per master).
        self.cluster = cluster_url(url) is not None
        if self.cluster and client is not None and not isinstance(client, RedisCluster):
            raise ValueError("a Cluster's URL needs a RedisCluster client")
        if not self.cluster and isinstance(client, RedisCluster):
            raise ValueError("a RedisCluster client needs a Cluster's URL (redis+cluster://)")
        #: For PUBLISH and SPUBLISH (tell_all, publish).
        self._client: Any = client if client is not None else bus_client(url, timeout=timeout)
        self._own_client = client is None
        #: Standalone: where the subscriptions' connection comes from.
        self._pool: ConnectionPool | None = (
            None if self.cluster else subscriptions_pool(url, timeout=timeout, name=self.name)
        )
        #: A test's hook, as LocalBus's: return True to lose this announcement for this subscriber.
        self.drop: Callable[[str, int, Delivery], bool] | None = None
        #: Announcements handed to subscribers so far (tests wait on it).
        self.delivered = 0
        self._wanted: dict[str, list[Delivery]] = {}
        self._listeners: list[tuple[Topic, Hearing]] = []
        self._resubscribed: list[Callable[[], None]] = []
        #: The subscriptions' connections, by server ("" standalone, a node's name in a Cluster).
        self._links: dict[str, _Link] = {}
        #: The connection each wanted game's channel is subscribed on.
        self._home: dict[str, _Link] = {}
        self._tokens = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        #: Cluster: the channels gone from their master, not yet subscribed on the new one;
        #: each with a future done once it is (subscribers wait on it).
        self._moving: dict[bytes, asyncio.Future[None]] = {}
        #: Cluster: the connections lost, whose channels may have another master now.
        self._suspects: set[_Link] = set()
        #: The task that follows the Cluster's changes (while there are some to follow).
        self._follower: asyncio.Task[None] | None = None

    # -- the Bus interface ----------------------------------------------------------

    async def subscribe(self, game_id: str, deliver: Delivery) -> None:
        if self._closed:
            raise StoreError("the bus is closed")
        name = channel(game_id)
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            moving = self._moving.get(name)
            if moving is None:
                link = self._home.get(game_id) or await self._link_for(name)
            subscribers = self._wanted.setdefault(game_id, [])
            if deliver not in subscribers:
                subscribers.append(deliver)
            if moving is not None:  # on its way to another master: wait until it holds there
                try:
                    async with asyncio.timeout_at(deadline):
                        await asyncio.shield(moving)
                except TimeoutError:
                    raise StoreError(
                        f"the subscription to {name.decode()} was not made again in {self.timeout:g}s"
                    ) from None
                return
            self._home.setdefault(game_id, link)
            try:
                await self._home[game_id].subscribe(name)
                return
            except _Moved:
                continue  # in ``_moving`` now

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

    async def listen(self, topic: Topic, hear: Hearing) -> None:
        self._listeners.append((topic, hear))
        if len(self._listeners) > 1:
            return
        link = await self._link_for(ALL)
        await link.listen()

    def tell_all(self, topic: Topic, body: bytes) -> None:
        self._background(self._client.publish(ALL, encode_said(topic, body)))

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
        if self._follower is not None:
            await _stop(self._follower)
        links, self._links = list(self._links.values()), {}
        for link in links:
            await link.stop()
        for moving in self._moving.values():
            if not moving.done():
                moving.set_exception(StoreError("the bus is closed"))
                moving.exception()  # (retrieved: nobody may wait on it)
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
            try:
                node = await master_of(cast(RedisCluster, self._client), name)
            except ERRORS as exc:
                raise StoreError(f"the bus cannot find the master of {name.decode()}: {exc}") from exc
            if node is None:
                raise StoreError(f"no master owns {name.decode()}")
            if self._closed:
                raise StoreError("the bus is closed")
            key = node.name
            timeout, client_name = self.timeout, self.name
            make = lambda: cast(  # noqa: E731
                Connection,
                connection_like(
                    node, socket_timeout=timeout, socket_connect_timeout=timeout, protocol=2, client_name=client_name
                ),
            )
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = _Link(self, key, make)
        return link

    # -- a Cluster that changes ----------------------------------------------------------

    def _moved(self, name: bytes) -> None:
        """A channel is gone from its master: make it again on the slot's master now."""
        if name not in self._moving:
            self._moving[name] = asyncio.get_running_loop().create_future()
        self._follow()

    def _suspect(self, link: _Link) -> None:
        """A connection was lost, or cannot be made: its master may be no master any more."""
        self._suspects.add(link)
        self._follow()

    def _follow(self) -> None:
        if self._follower is None and not self._closed:
            self._follower = asyncio.get_running_loop().create_task(self._following(), name="cf-redis-bus-follower")

    async def _following(self) -> None:
        """Read the map of the slots again; move the channels of the suspect connections whose
        slot has another master now; subscribe each channel gone from its master on the new
        one; then tell the service. Again (with backoff) while some are still on their way."""
        cluster = cast(RedisCluster, self._client)
        pause = self.backoff[0]
        try:
            while (self._moving or self._suspects) and not self._closed:
                try:
                    await read_again(cluster)
                    listen = await self._check_suspects(cluster)
                except (*ERRORS, StoreError) as exc:
                    log.warning("bus: cannot read the map of the Cluster's slots (%s); again in %.2fs", exc, pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, self.backoff[1])
                    continue
                names = list(self._moving)
                results = await asyncio.gather(
                    *(self._resubscribe_moved(name) for name in names), *listen, return_exceptions=True
                )
                made = sum(1 for result in results[: len(names)] if result is True)
                primaries = masters(cluster)
                for key, link in list(self._links.items()):
                    if not link.channels and not link.all and key not in primaries:
                        del self._links[key]  # nothing to carry, from a server that is no master now
                        self._suspects.discard(link)
                        link.retired = True
                        await link.stop()
                if made or listen:
                    log.info("bus: %d games subscribed again on their slots' new masters", made)
                    self._tell_resubscribed()
                if self._moving or self._suspects:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, self.backoff[1])
                else:
                    pause = self.backoff[0]
        finally:
            self._follower = None
            if (self._moving or self._suspects) and not self._closed:
                self._follow()

    async def _check_suspects(self, cluster: RedisCluster) -> list[Any]:
        """The channels of the suspect connections whose slot has another master now are
        moved; so is ``cf:all``'s subscription (returned: the listens to wait for)."""
        listens: list[Any] = []
        suspects, self._suspects = self._suspects, set()
        for link in suspects:
            if self._links.get(link.key) is not link:
                continue
            gone = []
            for name in list(link.channels):
                node = master_now(cluster, name)
                if node is not None and node.name != link.key:
                    gone.append(name)
            link.lose(gone)
            if link.all:
                node = master_now(cluster, ALL)
                if node is not None and node.name != link.key:
                    link.all = False
                    listens.append((await self._link_for(ALL)).listen())
        return listens

    async def _resubscribe_moved(self, name: bytes) -> bool:
        """Subscribe a channel gone from its master on the one the map names now: True once
        it holds there (and its waiters are told), False if it is still on its way."""
        game_id = _game(name)
        if game_id not in self._wanted:
            self._settle(name)
            return False
        try:
            link = await self._link_for(name)
            self._home[game_id] = link
            await link.subscribe(name)
        except StoreError as exc:  # _Moved (the map was out of date) or not confirmed: again later
            if self._closed:
                return False
            log.info("bus: %s is not subscribed on its new master yet (%s)", name.decode(), exc)
            return False
        if name not in link.channels:
            return False  # gone again meanwhile
        self._settle(name)
        return True

    def _settle(self, name: bytes) -> None:
        moving = self._moving.pop(name, None)
        if moving is not None and not moving.done():
            moving.set_result(None)

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
        self._tell_resubscribed()

    def _tell_resubscribed(self) -> None:
        for callback in list(self._resubscribed):
            try:
                callback()
            except Exception:
                log.exception("bus: a resubscription callback failed")

    def _hear(self, data: bytes) -> None:
        try:
            said = decode_said(data)
        except ValueError as exc:  # (msgspec's DecodeError): not ours, or another version's
            log.error("bus: something said to every process does not decode: %s", exc)
            return
        for topic, hear in list(self._listeners):
            if topic != said.topic:
                continue
            try:
                hear(said.body)
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
        #: Closed by the bus, with nothing left to carry: a flush waiting on it has nothing to wait for.
        self.retired = False
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
        #: When the server was last heard from on the current connection (loop time).
        self._heard = 0.0
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

    def lose(self, names: list[bytes]) -> None:
        """These channels are no longer subscribed here (their slot went to another master):
        the bus makes them on the new one; whoever waits for them here waits for that."""
        for name in names:
            if name not in self.channels:
                continue
            self.channels.discard(name)
            self._sent.pop(name, None)
            self._due.pop(name, None)
            for waiter in self._waiters.pop(name, ()):
                if not waiter.done():
                    waiter.set_exception(_Moved(f"{name.decode()} moved"))
            self.bus._moved(name)

    def lose_slot(self, slot: int) -> None:
        self.lose([name for name in self.channels if key_slot(name) == slot])

    async def flush(self) -> None:
        timeout = self.bus.timeout
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            raise StoreError(f"the bus is not connected{self._where()}") from None
        if self.retired:
            return
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
        if self.retired:  # a flush waiting on it has nothing to wait for
            for answer in self._pongs.values():
                if isinstance(answer, asyncio.Future) and not answer.done():
                    answer.set_result(None)
            self._up.set()

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
            raise StoreError(
                f"the subscription to {name.decode()} was not confirmed in {self.bus.timeout:g}s"
            ) from None

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
                if bus.cluster:
                    bus._suspect(self)
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
                if bus.cluster and not bus._closed:
                    bus._suspect(self)
            finally:
                self.connected = False
                self._up.clear()
                for answer in self._pongs.values():
                    if isinstance(answer, asyncio.Future) and not answer.done():
                        if self.retired:
                            answer.set_result(None)
                        else:
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
        if self.bus.cluster:  # one slot per SSUBSCRIBE: a Cluster refuses several (CROSSSLOT)
            slots: dict[int, list[bytes]] = {}
            for name in channels:
                slots.setdefault(key_slot(name), []).append(name)
            groups = list(slots.values())
        else:
            groups = [channels]
        for group in groups:
            for start in range(0, len(group), CHUNK):
                chunk = group[start : start + CHUNK]
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
        """Read, write and watch the connection, each in a task of its own for as long as it
        lasts; the first of them to end (the watchdog finding it dead, an error) ends it."""
        serving = [True]
        loop = asyncio.get_running_loop()
        # The reads wait with no timeout of their own (an object and a timer per message
        # otherwise): the watchdog looks at the connection every tick instead.
        timeout = connection.socket_timeout
        connection.socket_timeout = None
        self._heard = loop.time()
        tasks = [
            loop.create_task(self._read(connection), name="cf-redis-bus-reader"),
            loop.create_task(self._write(connection, serving), name="cf-redis-bus-writer"),
            loop.create_task(self._watch(), name="cf-redis-bus-watchdog"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # its error: the connection is gone
        finally:
            serving[0] = False
            self._wake.set()
            for task in tasks:
                await _stop(task)
            connection.socket_timeout = timeout  # for the next connection's handshake

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

    async def _read(self, connection: Connection) -> None:
        bus = self.bus
        loop = asyncio.get_running_loop()
        while not bus._closed:
            try:
                response = await connection.read_response(disconnect_on_error=False)
            except ResponseError as exc:
                self._heard = loop.time()
                if isinstance(exc, AskError) and bus.cluster:  # MOVED (a subclass): an SSUBSCRIBE of a slot gone
                    log.info("bus: the slot %d is not on %s any more", exc.slot_id, self.key)
                    self.lose_slot(exc.slot_id)
                    continue
                log.error("bus: the server refused a command%s: %s", self._where(), exc)
                continue
            self._heard = loop.time()
            self._handle(response)

    async def _watch(self) -> None:
        """Every tick: a connection silent while a PING waits longer than ``timeout`` is dead;
        one silent longer than ``health`` is asked (PING)."""
        bus = self.bus
        loop = asyncio.get_running_loop()
        tick = min(bus.health, bus.timeout) / 4
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            if now - self._heard < tick:
                continue
            if self._pings:
                if now - self._pings[0] > bus.timeout:
                    raise ConnectionError(f"the server did not answer a PING in {bus.timeout:g}s")
            elif now - self._heard > bus.health:
                self._command(b"PING", b"health")

    def _handle(self, response: Any) -> None:
        if isinstance(response, bytes):  # a PING's answer while subscribed to nothing
            self._pong(response)
            return
        kind = response[0]
        if kind == b"smessage":
            self.bus._announce(response[1], response[2])
        elif kind == b"message":
            self.bus._hear(response[2])
        elif kind == b"sunsubscribe" and not self._due.get(response[1]) and self._sent.get(response[1]):
            # Not asked for: the server dropped the subscription, its slot is on another master now.
            log.info("bus: %s was unsubscribed by %s (its slot moved)", response[1].decode(), self.key)
            self.lose([response[1]])
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
