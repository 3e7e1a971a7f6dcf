"""What the Redis store and bus rely on in redis-py beyond its documented API, held to it
against the installed redis-py (and a real valkey-server, and a real Cluster of three
masters): an upgrade that changes one of these fails the test named for it.

The parts: a Cluster's ``nodes_manager`` (its ``initialize()`` reads the map of the
slots again at will, its ``move_slot`` learns a MOVED), a ``ClusterNode`` made by hand
from the client's connection settings, the ``connection_class`` and
``connection_kwargs`` of a node and of a pool (connections of one's own, and the
pool's class replaced), an SSLConnection's ``ssl_context``, ``send_packed_command``'s
``check_health``, ``get_node_from_key`` taking bytes, and the errors a reply is made
(``MOVED``, ``ASK``, ``TRYAGAIN``, ``CLUSTERDOWN``, with their slot and node: public
classes, made by ``connectfour/redis/pipe.py`` as redis-py makes them). Every use is in
``connectfour/redis/`` (``slots.py``, ``client.py``, ``pipe.py``) and
``connectfour/store/redis_routing.py``.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.cluster import RedisCluster as ClusterClient
from redis.asyncio.connection import Connection, SSLConnection
from redis.cluster import PRIMARY
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis_server import RedisCluster

from connectfour.redis.client import client_for, cluster_client, pack
from connectfour.redis.pipe import Endpoint, open_pipe
from connectfour.redis.slots import learn_move, master_now, master_of, node_at, read_again

KEY = b"cf:{contract}:log"


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    """Three masters of this module's own: the tests move slots."""
    made = RedisCluster()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
async def client(cluster: RedisCluster) -> AsyncIterator[ClusterClient]:
    made = cluster_client(cluster.url, socket_timeout=5, socket_connect_timeout=5)
    await made.initialize()
    yield made
    await made.aclose()


def another_master(cluster: RedisCluster, port: int) -> int:
    return next(other for other in cluster.ports if other != port)


# -- a Cluster's map of the slots: nodes_manager ------------------------------------------------


async def test_nodes_manager_initialize_reads_the_map_of_a_real_cluster_again(cluster, client):
    """``slots.read_again``: the map is redis-py's cache, read again only when asked;
    ``nodes_manager.initialize()`` reads it now (``RedisCluster.initialize()`` reads it only
    after redis-py's own commands failed)."""
    assert inspect.iscoroutinefunction(client.nodes_manager.initialize)
    slot = key_slot(KEY)
    source = cluster.master_of(slot)
    target = another_master(cluster, source)
    assert master_now(client, KEY).port == source
    await asyncio.to_thread(cluster.move_slot, slot, target)  # every master holds it on the target now
    assert master_now(client, KEY).port == source  # the map is redis-py's, as it read it
    await read_again(client)
    assert master_now(client, KEY).port == target


async def test_nodes_manager_move_slot_is_awaited_and_learns_the_master_a_moved_names(cluster, client):
    """``slots.learn_move``: what the appends do with a MOVED on their own connections."""
    assert inspect.iscoroutinefunction(client.nodes_manager.move_slot)
    slot = key_slot(KEY)
    owner = master_now(client, KEY).port
    other = another_master(cluster, owner)
    await learn_move(client, MovedError(f"{slot} 127.0.0.1:{other}"))
    node = master_now(client, KEY)
    assert node.port == other and node.server_type == PRIMARY
    assert master_now(client, b"cf:{elsewhere}:log") is not None  # the rest of the map is kept
    await read_again(client)  # (the server never moved it)
    assert master_now(client, KEY).port == owner


async def test_get_node_from_key_takes_bytes_and_without_a_map_raises_slot_not_covered(cluster):
    """``slots.master_of``: a key in bytes is placed as its text would be; a client that never
    read the map says SlotNotCoveredError (and ``master_of`` reads it then)."""
    fresh = cluster_client(cluster.url, socket_timeout=5, socket_connect_timeout=5)
    try:
        with pytest.raises(SlotNotCoveredError):
            fresh.get_node_from_key(KEY)
        node = await master_of(fresh, KEY)
        assert node is not None and node.port == cluster.master_of(key_slot(KEY))
        assert fresh.get_node_from_key(KEY) is fresh.get_node_from_key(KEY.decode())
        assert fresh.keyslot(KEY) == key_slot(KEY)  # (redis.crc.key_slot: the bus's links group channels by it)
        assert int(cluster.command(cluster.ports[0], "CLUSTER", "KEYSLOT", KEY.decode())) == key_slot(KEY)
    finally:
        await fresh.aclose()


async def test_a_cluster_node_made_by_hand_from_the_connection_kwargs_reaches_its_node(cluster, client, redis_url):
    """``slots.node_at``: a node an ASK names that the map does not know yet is made as
    redis-py makes its own (``ClusterNode(host, port, PRIMARY, **settings)``), with the
    client's settings (``get_connection_kwargs``, which are the ones its nodes get)."""
    assert client.get_connection_kwargs() is client.nodes_manager.connection_kwargs
    known = node_at(client, "127.0.0.1", cluster.ports[0])
    assert known is client.get_node("127.0.0.1", cluster.ports[0])
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])  # a server the map does not know
    assert client.get_node("127.0.0.1", port) is None
    made = node_at(client, "127.0.0.1", port)
    assert isinstance(made, ClusterNode)
    assert (made.name, made.host, made.port, made.server_type) == (f"127.0.0.1:{port}", "127.0.0.1", port, PRIMARY)
    assert "host" not in client.get_connection_kwargs()  # (the node took a copy)
    assert await made.execute_command("PING") is True
    await made.disconnect()


# -- connections of one's own: connection_class and connection_kwargs ---------------------------


async def test_a_cluster_nodes_connection_kwargs_say_where_a_connection_of_ones_own_goes(client):
    """The bus's links to a Cluster's masters, and the appends' connections to them
    (``Endpoint.of``: host, port, credentials, database from ``connection_kwargs``)."""
    node = client.get_primaries()[0]
    assert issubclass(node.connection_class, Connection)
    assert node.connection_kwargs["host"] == node.host and node.connection_kwargs["port"] == node.port
    endpoint = Endpoint.of(node, name="contract-node")
    assert (endpoint.host, endpoint.port) == (node.host, node.port)
    pipe = await open_pipe(endpoint)
    try:
        pipe.send(pack([("CLIENT", "GETNAME")]))
        assert await asyncio.wait_for(pipe.replies(1), 5) == [b"contract-node"]
    finally:
        pipe.close()


async def test_a_pools_connection_class_and_kwargs(redis_url):
    """The appends' connection to a standalone server goes where the store's pool's go
    (``connection_kwargs``); the pool's class, which ``client_for`` replaced, makes the pool's
    connections and sends every command through its ``send_packed_command(command, check_health)``."""
    client = client_for(redis_url, timeout=2.0)
    try:
        pool = client.connection_pool
        assert pool.connection_class.__name__.startswith("Reset")
        base = pool.connection_class.__mro__[1]
        assert list(inspect.signature(base.send_packed_command).parameters)[1:3] == ["command", "check_health"]
        assert isinstance(pool.make_connection(), pool.connection_class)
        pooled = await pool.get_connection()
        assert isinstance(pooled, pool.connection_class)
        await pool.release(pooled)
        sent: list[object] = []
        send = pool.connection_class.send_packed_command

        async def counted(self: Connection, command: object, check_health: bool = True) -> None:
            sent.append(command)
            await send(self, command, check_health)

        pool.connection_class.send_packed_command = counted
        try:
            assert await client.ping() is True
        finally:
            pool.connection_class.send_packed_command = send
        assert sent, "a command did not go through the pool's class's send_packed_command"
        endpoint = Endpoint.of(pool)
        assert (endpoint.host, endpoint.port, endpoint.db) == (
            pool.connection_kwargs["host"],
            pool.connection_kwargs["port"],
            0,
        )
    finally:
        await client.aclose()


def test_a_tls_pools_connection_class_holds_its_tls_context():
    """``rediss://``: the connection class is an SSLConnection whose ``ssl_context.get()``
    gives the ``ssl.SSLContext`` its connections use (``Endpoint.of`` takes it)."""
    pool = ConnectionPool.from_url("rediss://h:6380/0?ssl_cert_reqs=none")
    assert issubclass(pool.connection_class, SSLConnection)
    context = pool.connection_class(**pool.connection_kwargs).ssl_context.get()
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_NONE


# -- the errors a reply is parsed into -----------------------------------------------------------


@pytest.mark.parametrize(
    "reply, error",
    [
        ("MOVED 866 127.0.0.1:7001", MovedError),
        ("ASK 866 127.0.0.1:7002", AskError),
        ("TRYAGAIN Multiple keys request during rehashing of slot", TryAgainError),
        ("CLUSTERDOWN The cluster is down", ClusterDownError),
    ],
)
async def test_a_clusters_error_replies_are_the_errors_the_appends_and_the_bus_follow(redis_url, reply, error):
    """``Router._follow`` tells them apart by class (a MovedError is an AskError: the bus's
    reader takes both as a slot gone); MOVED and ASK carry the slot and the node."""
    assert issubclass(MovedError, AskError)
    pipe = await open_pipe(Endpoint.of(ConnectionPool.from_url(redis_url)))
    try:
        pipe.send(pack([("EVAL", f"return redis.error_reply('{reply}')", "0")]))
        (answer,) = await asyncio.wait_for(pipe.replies(1), 5)
    finally:
        pipe.close()
    assert type(answer) is error
    if issubclass(error, AskError):
        assert (answer.slot_id, answer.host, answer.port) == (866, "127.0.0.1", int(reply[-4:]))


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()
