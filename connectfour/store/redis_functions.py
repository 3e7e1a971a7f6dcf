"""The store's function libraries on the server, and a call of one of their functions.

Every change to a game is ONE call of a function of ``redis.lua`` (the quick
match's, of ``redis_match.lua``), loaded with ``FUNCTION LOAD REPLACE`` the
first time (on every master of a Cluster: redis-py sends it to all), and
again where a server says it has none (a restart without persistence, a
master that never had it). A call goes to the master of its keys' slot
(routed here, ``target_nodes``: redis-py would ask the server which a
function's keys are, one more round trip each).

Whatever a client raises becomes a ``StoreError`` (``Functions.failed``), for
the store, its seats and its queue alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

from ..redis.slots import master_of, read_again
from .base import StoreError

#: The store's function library: ``cf_move``, ``cf_append``, ``cf_create``, ``cf_touch``, ``cf_delete``, ``cf_presence``.
LIBRARY = resources.files(__package__).joinpath("redis.lua").read_text()


def missing_function(result: object) -> bool:
    """Whether an answer says the server lacks the function (and so its library)."""
    return isinstance(result, ResponseError) and "function not found" in str(result).lower()


def function_call(function: str, keys: Sequence[bytes], args: Iterable[bytes | str]) -> tuple[bytes | str | int, ...]:
    """The command that calls ``function`` with ``keys`` and ``args``."""
    return ("FCALL", function, len(keys), *keys, *args)


def fcall(target: Any, function: str, keys: Sequence[bytes], args: Iterable[bytes | str], route: dict[str, Any]) -> Any:
    """FCALL on a client (an awaitable) or a pipeline (queued); ``route``: ``Functions.route``."""
    return target.execute_command(*function_call(function, keys, args), **route)


class Functions:
    """A store's client as its parts use it: the libraries loaded, a function called on the
    master of its keys, and what a client's error becomes."""

    def __init__(self, client: Redis | RedisCluster) -> None:
        self.client: Any = client
        #: Whether the server is a Cluster.
        self.cluster = isinstance(client, RedisCluster)
        #: The function libraries loaded (the store's, and the quick match's once used).
        self._libraries: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def loaded(self, library: str = LIBRARY) -> bool:
        return library in self._libraries

    async def load(self, library: str = LIBRARY) -> None:
        """Load (or replace) a function library: at the first call, and if the server lost it."""
        await self.client.function_load(library, replace=True)
        self._libraries.add(library)

    async def master(self, key: bytes) -> ClusterNode:
        """The Cluster's master owning ``key``'s slot."""
        node = await master_of(cast(RedisCluster, self.client), key)
        if node is None:
            raise StoreError(f"no master owns the slot of {key!r}")
        return node

    async def route(self, key: bytes) -> dict[str, Any]:
        """The keyword sending a function call to the master of ``key`` in a Cluster; none standalone."""
        if not self.cluster:
            return {}
        return {"target_nodes": await self.master(key)}

    async def call(
        self, function: str, keys: Sequence[bytes], args: Iterable[bytes | str], library: str = LIBRARY
    ) -> Any:
        """Call one of ``library``'s functions, loading it first if this server lacks it."""
        if library not in self._libraries:
            await self.load(library)
        args = list(args)
        route = await self.route(keys[0])
        try:
            return await fcall(self.client, function, keys, args, route)
        except ResponseError as exc:
            if not missing_function(exc):
                raise
        except RedisConnectionError:
            if not self.cluster:
                raise
            # Its master is gone (a failover?): read the map again, and call the slot's
            # master now, once (a retried call answers as the first: call ids, seqs).
            await read_again(self.client)
            return await fcall(self.client, function, keys, args, await self.route(keys[0]))
        await self.load(library)
        return await fcall(self.client, function, keys, args, route)

    def failed(self, exc: BaseException, what: str = "redis") -> StoreError:
        """The StoreError for a client's error. After a timeout (or a write to a connection
        reset meanwhile), every idle connection of the pool is dropped: the way to the server
        may have been cut, and a connection left half-open would wait its own timeout the
        next time it is used. (RedisCluster does so itself for the node concerned.)"""
        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, (RedisTimeout, RuntimeError)):
            self.purge()
        return StoreError(f"{what}: {exc}")

    def purge(self) -> None:
        """Drop every idle connection of the pool (standalone; RedisCluster does it per node)."""
        if self.cluster:
            return
        task = asyncio.ensure_future(self.client.connection_pool.disconnect(inuse_connections=False))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for the pool's purges on their way (the store is closing)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
