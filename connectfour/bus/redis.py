"""The bus between processes: Redis (or Valkey) sharded pub/sub, standalone or Cluster.

Each game has a sharded channel, ``cf:{<game_id>}:chan``, in the slot of the
game's keys, where the store's functions announce ``"<version> <json>"``:
events by version, presences as version 0. What is said to every process
goes on the plain channel ``cf:all``.

A process keeps ONE subscriptions' connection (a ``Link``, ``redis_link.py``)
per server it needs: one for a standalone server; in a Cluster (a
``redis+cluster://`` URL), one per master owning the slot of a channel it
wants, since ``SSUBSCRIBE`` must go to the shard of the channel (``cf:all``
rides on the connection of its own slot's master: a plain ``PUBLISH`` reaches
every node of a Cluster). Each link reads its connection in a task of its own
and hands each announcement here, which decodes it once and hands it to the
game's subscribers.

Pub/sub is at most once: while a connection is down, announcements are lost.
Each link reconnects by itself (with backoff), subscribes again to every
channel wanted there (one slot per ``SSUBSCRIBE`` in a Cluster, which refuses
channels of several slots in one), and then the bus calls the callbacks given
to ``on_resubscribed``, so that a service reads back from the store what it
may have missed. A dead connection is noticed even when nothing closes it (a
partition that drops packets, a half-open connection): see ``redis_link.py``.

In a Cluster, the master of a channel is looked up when a game is first
subscribed, in redis-py's map of the slots (``connectfour/redis/slots.py``);
a Cluster that changes while the bus runs is followed (``redis_topology.py``).
Commands (SPUBLISH, PUBLISH) go through redis-py's ``RedisCluster``, which
follows ``MOVED`` itself.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import msgspec
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster

from ..domain.events import decode_event, encode_event
from ..domain.seats import Presence, decode_presence, encode_presence
from ..redis.client import ERRORS, bus_client, cluster_url
from ..redis.pipe import Endpoint, Pipe
from ..redis.slots import master_of
from ..store.base import StoreError
from .base import Bus, Delivery, Hearing, Known, Message
from .redis_link import ALL, Link, Moved, Wiring
from .redis_topology import Topology
from .said import Topic, decode_said, encode_said

log = logging.getLogger("connectfour.bus.redis")

#: Seconds between attempts to reconnect: doubling from the first to the last.
BACKOFF = (0.02, 1.0)
#: Seconds without a byte from the server before asking it (PING); a PING unanswered
#: for ``timeout`` seconds while nothing comes means the connection is dead.
HEALTH = 5.0


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
        #: Standalone: where the subscriptions' connection goes.
        self._endpoint: Endpoint | None = (
            None if self.cluster else Endpoint.of(ConnectionPool.from_url(url), name=self.name)
        )
        self._wiring = Wiring(
            timeout=timeout,
            health=health,
            backoff=backoff,
            cluster=self.cluster,
            announce=self._announce,
            hear=self._hear,
            resubscribed=self._after_resubscription,
            moved=self._moved,
            suspect=self._suspect,
        )
        #: Cluster: follows its changes.
        self._topology = Topology(self, cast(RedisCluster, self._client), self._wiring) if self.cluster else None
        #: A test's hook, as LocalBus's: return True to lose this announcement for this subscriber.
        self.drop: Callable[[str, int, Delivery], bool] | None = None
        #: Announcements handed to subscribers so far (tests wait on it).
        self.delivered = 0
        #: Announcements dropped undecoded: every subscriber had applied them (``knows``).
        self.known = 0
        self._wanted: dict[str, list[Delivery]] = {}
        self._knows: dict[Delivery, Known] = {}
        self._listeners: list[tuple[Topic, Hearing]] = []
        self._resubscribed: list[Callable[[], None]] = []
        #: The subscriptions' connections, by server ("" standalone, a node's name in a Cluster).
        self._links: dict[str, Link] = {}
        #: The connection each wanted game's channel is subscribed on.
        self._home: dict[str, Link] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def timeout(self) -> float:
        """Seconds a subscription (or a flush, or a PING) waits for the server before StoreError."""
        return self._wiring.timeout

    @property
    def health(self) -> float:
        return self._wiring.health

    @property
    def backoff(self) -> tuple[float, float]:
        return self._wiring.backoff

    # -- the Bus interface ----------------------------------------------------------

    async def subscribe(self, game_id: str, deliver: Delivery) -> None:
        if self._wiring.closed:
            raise StoreError("the bus is closed")
        name = channel(game_id)
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            moving = self._topology.waiting(name) if self._topology is not None else None
            if moving is None:
                link = self._home.get(game_id) or await self.link_for(name)
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
            except Moved:
                continue  # on its way to the new master now

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
        link = await self.link_for(ALL)
        await link.listen()

    def tell_all(self, topic: Topic, body: bytes) -> None:
        self._background(self._client.publish(ALL, encode_said(topic, body)))

    # -- beyond the interface ---------------------------------------------------------

    def knows(self, deliver: Delivery, known: Known) -> None:
        self._knows[deliver] = known

    def on_resubscribed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time a connection came back and every subscription on it
        holds again: announcements made meanwhile were lost, read them from the store."""
        self._resubscribed.append(callback)

    async def flush(self) -> None:
        """Return once every announcement the server(s) sent this process before now
        was delivered: a PING on each subscriptions' connection, answered after them.
        StoreError if one is not connected, or does not answer, within ``timeout``."""
        if not self.cluster and not self._links:
            await self.link_for(ALL)  # standalone: the one connection, made now
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
        self._wiring.closed = True
        if self._topology is not None:
            await self._topology.close()
        links, self._links = list(self._links.values()), {}
        for link in links:
            await link.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own_client:
            await self._client.aclose()

    # -- the connections (and what a Cluster's topology follower asks) -----------------------

    @property
    def links(self) -> dict[str, Link]:
        """The subscriptions' connections, by server ("" standalone, a node's name in a Cluster)."""
        return self._links

    def carrier(self, key: str, endpoint: Endpoint) -> Pipe | None:
        """The subscriptions' connection to a server ("" standalone, a node's name in a
        Cluster), while it serves, for the appends of a store on the same server and
        database: their announcements then come back in the same read as their answers.
        None while a write of ours is still to be answered (``Link.settled``)."""
        link = self._links.get(key)
        if link is None or link.pipe is None or not link.pipe.is_open or not link.settled:
            return None
        return link.pipe if link.endpoint.same_server(endpoint) else None

    async def link_for(self, name: bytes) -> Link:
        """The subscriptions' connection for a channel: the one, or its master's in a Cluster."""
        if self._wiring.closed:
            raise StoreError("the bus is closed")
        if self._endpoint is not None:
            key, endpoint = "", self._endpoint
        else:
            try:
                node = await master_of(cast(RedisCluster, self._client), name)
            except ERRORS as exc:
                raise StoreError(f"the bus cannot find the master of {name.decode()}: {exc}") from exc
            if node is None:
                raise StoreError(f"no master owns {name.decode()}")
            if self._wiring.closed:
                raise StoreError("the bus is closed")
            key, endpoint = node.name, Endpoint.of(node, name=self.name)
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = Link(self._wiring, key, endpoint)
        return link

    async def move_subscription(self, name: bytes) -> Link | None:
        """Subscribe a channel gone from its master on the one the map names now: the link it
        holds on (once the server confirmed it), None if nobody here wants it any more."""
        game_id = _game(name)
        if game_id not in self._wanted:
            return None
        link = await self.link_for(name)
        self._home[game_id] = link
        await link.subscribe(name)
        return link

    def tell_resubscribed(self) -> None:
        for callback in list(self._resubscribed):
            try:
                callback()
            except Exception:
                log.exception("bus: a resubscription callback failed")

    def _moved(self, name: bytes) -> None:
        if self._topology is not None:
            self._topology.moved(name)

    def _suspect(self, link: Link) -> None:
        if self._topology is not None:
            self._topology.suspect(link)

    def _after_resubscription(self, link: Link) -> None:
        log.info("bus: subscribed again to %d games%s", len(link.channels), f" on {link.key}" if link.key else "")
        self.tell_resubscribed()

    # -- what the links read --------------------------------------------------------------

    def _background(self, coro: Any) -> None:
        async def run() -> None:
            try:
                await coro
            except (*ERRORS, RuntimeError) as exc:  # (uvloop's, writing to a reset connection)
                log.warning("could not publish: %s", exc)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
            if version:
                # A change of this process's own, heard back: applied already, not decoded again.
                knows = self._knows
                if all((known := knows.get(each)) is not None and known(game_id, version) for each in subscribers):
                    self.known += 1
                    return
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


if TYPE_CHECKING:  # mypy checks that this is what a store and the service take, and its follower
    from .redis_topology import FollowedBus

    def _a_bus(bus: RedisBus) -> Bus:
        return bus

    def _followed(bus: RedisBus) -> FollowedBus:
        return bus
