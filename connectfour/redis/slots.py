"""A Redis Cluster's map of slots, as redis-py's ``RedisCluster`` keeps it: one per process,
shared by its store and its bus (docs/architecture.md, "A Redis Cluster that changes while it runs").

Where a slot's master is (``master_of``, which reads the map the first time; ``master_now``), which nodes
are masters (``masters``), the node an ``ASK`` names (``node_at``); and two changes that
redis-py makes only after its own commands failed, and that the appends' and the bus's own
connections need at will: reading the map again (``read_again``) and learning a slot's
move from a ``MOVED`` (``learn_move``). For those two redis-py has no public call: they use
its ``nodes_manager`` as its own client does. tests/test_redis_py_contract.py holds each
of redis-py's parts used here (and in ``client.py``) to what this code relies on, against
the installed version and a real Cluster.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.cluster import PRIMARY
from redis.exceptions import MovedError, SlotNotCoveredError


def master_now(cluster: RedisCluster, key: bytes) -> ClusterNode | None:
    """The master the map names for ``key``'s slot; SlotNotCoveredError if the map has none
    (it was never read, or no master owns the slot)."""
    return cluster.get_node_from_key(key)  # type: ignore[arg-type]  # (bytes do: its keyslot encodes them)


async def master_of(cluster: RedisCluster, key: bytes) -> ClusterNode | None:
    """The master owning ``key``'s slot (reading the map of the slots the first time);
    None if no master does."""
    try:
        return master_now(cluster, key)
    except SlotNotCoveredError:  # no map yet (or a slot no master owns)
        await cluster.initialize()
        return master_now(cluster, key)


def masters(cluster: RedisCluster) -> set[str]:
    """The names (``host:port``) of the nodes the map holds for masters."""
    return {node.name for node in cluster.get_primaries()}


def node_at(cluster: RedisCluster, host: str, port: int) -> ClusterNode:
    """The Cluster's node at ``host:port``; made (as redis-py makes its own) if the map does not
    know it yet: a master given slots since it read the map, which an ``ASK`` names."""
    node = cluster.get_node(host, port)
    if node is None:
        settings: Any = cluster.get_connection_kwargs()  # (the connections' class among them)
        node = ClusterNode(host, port, PRIMARY, **settings)
    return node


async def read_again(cluster: RedisCluster) -> None:
    """Read the map of the slots again now (``CLUSTER SLOTS`` on a node it knows), whatever
    redis-py's own commands met: a master was lost, a subscription moved."""
    await cluster.nodes_manager.initialize()


async def learn_move(cluster: RedisCluster, moved: MovedError) -> None:
    """Teach the map a slot's new master, as a ``MOVED`` answer names it (redis-py's own
    client does so for its commands; this is for answers on connections of one's own)."""
    await cluster.nodes_manager.move_slot(moved)
