"""How the Redis bus follows a Cluster that changes while it runs.

A subscription is gone from its master when

- the server says so: an ``sunsubscribe`` the bus did not ask for (the slot
  was given to another master, ``CLUSTER SETSLOT ... NODE``, or the master
  became a replica in a failover), or ``MOVED`` in answer to an
  ``SSUBSCRIBE`` (the map was out of date): the link calls ``moved``;
- its connection is lost, or cannot be made again (the link calls
  ``suspect``), and the map read again names another master for its slot
  (the master died, its replica took over).

Then the follower reads the map again (``read_again``, one ``CLUSTER
SLOTS``), subscribes on the slot's master now, and once it holds tells the
bus, which calls its ``on_resubscribed`` callbacks: the announcements made
meanwhile, on the old master or the new one, are read back from the store. A
subscriber waiting for its confirmation meanwhile waits for the new one
(``waiting``). A link left with nothing to carry, to a server that is no
master any more, is closed. Again, with backoff, while some are on their way.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from redis.asyncio.cluster import RedisCluster

from ..redis.client import ERRORS
from ..redis.slots import master_now, masters, read_again
from ..store.base import StoreError
from .redis_link import ALL, Link, Wiring, stop_task

log = logging.getLogger("connectfour.bus.redis")


class FollowedBus(Protocol):
    """What the follower asks of the bus it follows for."""

    @property
    def links(self) -> dict[str, Link]:
        """The bus's links by master (``host:port``): the follower retires those left idle."""
        ...

    async def link_for(self, name: bytes) -> Link: ...

    async def move_subscription(self, name: bytes) -> Link | None:
        """Subscribe the channel on its slot's master now: the link it holds on, or None if
        nobody here wants it any more."""
        ...

    def tell_resubscribed(self) -> None: ...


class Topology:
    def __init__(self, bus: FollowedBus, cluster: RedisCluster, wiring: Wiring) -> None:
        self._bus = bus
        self._cluster = cluster
        self._wiring = wiring
        #: The channels gone from their master, not yet subscribed on the new one;
        #: each with a future done once it is (subscribers wait on it).
        self._moving: dict[bytes, asyncio.Future[None]] = {}
        #: The links lost, whose channels may have another master now.
        self._suspects: set[Link] = set()
        #: The task that follows the Cluster's changes (while there are some to follow).
        self._follower: asyncio.Task[None] | None = None

    def waiting(self, name: bytes) -> asyncio.Future[None] | None:
        """Done once ``name``, gone from its master, holds on the new one; None unless it is moving."""
        return self._moving.get(name)

    def moved(self, name: bytes) -> None:
        """A channel is gone from its master: make it again on the slot's master now."""
        if name not in self._moving:
            self._moving[name] = asyncio.get_running_loop().create_future()
        self._follow()

    def suspect(self, link: Link) -> None:
        """A connection was lost, or cannot be made: its master may be no master any more."""
        self._suspects.add(link)
        self._follow()

    async def close(self) -> None:
        if self._follower is not None:
            await stop_task(self._follower)
        for moving in self._moving.values():
            if not moving.done():
                moving.set_exception(StoreError("the bus is closed"))
                moving.exception()  # (retrieved: nobody may wait on it)

    def _follow(self) -> None:
        if self._follower is None and not self._wiring.closed:
            self._follower = asyncio.get_running_loop().create_task(self._following(), name="cf-redis-bus-follower")

    async def _following(self) -> None:
        """Read the map of the slots again; move the channels of the suspect connections whose
        slot has another master now; subscribe each channel gone from its master on the new
        one; then tell the service. Again (with backoff) while some are still on their way."""
        cluster, wiring = self._cluster, self._wiring
        pause = wiring.backoff[0]
        try:
            while (self._moving or self._suspects) and not wiring.closed:
                try:
                    await read_again(cluster)
                    listen = await self._check_suspects()
                except (*ERRORS, StoreError) as exc:
                    log.warning("bus: cannot read the map of the Cluster's slots (%s); again in %.2fs", exc, pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, wiring.backoff[1])
                    continue
                names = list(self._moving)
                results = await asyncio.gather(
                    *(self._resubscribe_moved(name) for name in names), *listen, return_exceptions=True
                )
                made = sum(1 for result in results[: len(names)] if result is True)
                primaries, links = masters(cluster), self._bus.links
                for key, link in list(links.items()):
                    if not link.channels and not link.all and key not in primaries:
                        del links[key]  # nothing to carry, from a server that is no master now
                        self._suspects.discard(link)
                        link.retired = True
                        await link.stop()
                if made or listen:
                    log.info("bus: %d games subscribed again on their slots' new masters", made)
                    self._bus.tell_resubscribed()
                if self._moving or self._suspects:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, wiring.backoff[1])
                else:
                    pause = wiring.backoff[0]
        finally:
            self._follower = None
            if (self._moving or self._suspects) and not wiring.closed:
                self._follow()

    async def _check_suspects(self) -> list[Any]:
        """The channels of the suspect connections whose slot has another master now are
        moved; so is ``cf:all``'s subscription (returned: the listens to wait for)."""
        listens: list[Any] = []
        suspects, self._suspects = self._suspects, set()
        links = self._bus.links
        for link in suspects:
            if links.get(link.key) is not link:
                continue
            gone = []
            for name in list(link.channels):
                node = master_now(self._cluster, name)
                if node is not None and node.name != link.key:
                    gone.append(name)
            link.lose(gone)
            if link.all:
                node = master_now(self._cluster, ALL)
                if node is not None and node.name != link.key:
                    link.all = False
                    listens.append((await self._bus.link_for(ALL)).listen())
        return listens

    async def _resubscribe_moved(self, name: bytes) -> bool:
        """Subscribe a channel gone from its master on the one the map names now: True once
        it holds there (and its waiters are told), False if it is still on its way."""
        try:
            link = await self._bus.move_subscription(name)
        except StoreError as exc:  # Moved (the map was out of date) or not confirmed: again later
            if self._wiring.closed:
                return False
            log.info("bus: %s is not subscribed on its new master yet (%s)", name.decode(), exc)
            return False
        if link is None:  # nobody wants it any more
            self._settle(name)
            return False
        if name not in link.channels:
            return False  # gone again meanwhile
        self._settle(name)
        return True

    def _settle(self, name: bytes) -> None:
        moving = self._moving.pop(name, None)
        if moving is not None and not moving.done():
            moving.set_result(None)
