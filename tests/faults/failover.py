"""A failover a test controls: a primary, a replica fed through a relay the test
can stall (``link``), and relays in front (``front``, and more from
``relay()``) that the servers reach Valkey through and that the failover
points at the replica once it is promoted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import redis
from redis_server import RedisServer
from tcp_proxy import TcpProxy


def _replication_up(replica: RedisServer) -> bool:
    with redis.Redis(port=replica.port) as client:
        info = client.info("replication")
        return info.get("master_link_status") == "up" and info.get("master_sync_in_progress") == 0


class Failover:
    def __init__(self, cleanup: list[Callable[[], None]]) -> None:
        self.cleanup = cleanup
        self.primary = RedisServer()
        cleanup.append(self.primary.close)
        self.link = TcpProxy(self.primary.port)
        cleanup.append(self.link.close)
        self.replica = RedisServer(extra=[f"replicaof 127.0.0.1 {self.link.port}", "repl-timeout 60"])
        cleanup.append(self.replica.close)
        self.fronts: list[TcpProxy] = []
        self.front = self.relay()
        deadline = time.monotonic() + 15
        while not _replication_up(self.replica):
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.05)  # polling the replica's state

    def relay(self) -> TcpProxy:
        """Another way in to whichever server is the primary."""
        front = TcpProxy(self.primary.port)
        self.cleanup.append(front.close)
        self.fronts.append(front)
        return front

    def stall(self) -> None:
        """The replication link goes silent: the replica lags from now on."""
        self.link.cut("freeze")

    async def promote(self) -> None:
        """The primary dies; the replica takes over, every relay points at it, and it
        gets a replica of its own, as a failover's tooling would give it."""
        self.primary.stop(kill=True)
        with redis.Redis(port=self.replica.port) as client:
            client.execute_command("REPLICAOF", "NO", "ONE")
        for front in self.fronts:
            front.retarget(self.replica.port)
        self.spare = await asyncio.to_thread(RedisServer, extra=[f"replicaof 127.0.0.1 {self.replica.port}"])
        self.cleanup.append(self.spare.close)

    async def strike(self, stall: float = 1.0) -> None:
        """Stall, keep playing ``stall`` seconds, then promote."""
        self.stall()
        await asyncio.sleep(stall)  # the fault itself: play goes on while the replica lags
        await self.promote()
