"""What the Redis store and bus rely on in redis-py beyond its documented API, held to it
against the installed redis-py (and a real valkey-server, and a real Cluster of three
masters): an upgrade that changes one of these fails the test named for it.

The parts: a Cluster's ``nodes_manager`` (its ``initialize()`` reads the map of the
slots again at will, its ``move_slot`` learns a MOVED), a ``ClusterNode`` made by hand
from the client's connection settings, the ``connection_class`` and
``connection_kwargs`` of a node and of a pool (connections of one's own, and the
pool's class replaced), a connection's ``socket_timeout`` read at every read,
``read_response(disconnect_on_error=False)``, ``send_packed_command``'s
``check_health``, ``disconnect(nowait=True)``, ``get_node_from_key`` taking bytes, and
the errors a reply is parsed into (``MOVED``, ``ASK``, ``TRYAGAIN``, ``CLUSTERDOWN``,
with their slot and node). Every use is in ``connectfour/redis/`` (``slots.py``,
``client.py``), ``connectfour/store/redis_routing.py`` and ``connectfour/bus/redis_link.py``.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.cluster import RedisCluster as ClusterClient
from redis.asyncio.connection import Connection
from redis.cluster import PRIMARY
from redis.crc import key_slot
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MovedError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis_server import RedisCluster

from connectfour.redis.client import client_for, cluster_client, connection_like, subscriptions_pool
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


async def round_trip(connection: Connection, *command: bytes | str) -> object:
    """One command, sent and answered, as the appends' writer and the bus's links do it."""
    assert "check_health" in inspect.signature(connection.send_packed_command).parameters
    if not connection.is_connected:
        await connection.connect()
    await connection.send_packed_command(connection.pack_commands([command]), check_health=False)
    return await connection.read_response()


async def test_a_cluster_nodes_connection_class_and_kwargs_make_a_connection_of_ones_own(client):
    """The bus's links to a Cluster's masters, and the appends' connections to them."""
    node = client.get_primaries()[0]
    assert issubclass(node.connection_class, Connection)
    assert node.connection_kwargs["host"] == node.host and node.connection_kwargs["port"] == node.port
    connection = connection_like(node, socket_timeout=None, protocol=2, client_name="contract-node")
    assert isinstance(connection, node.connection_class)
    try:
        assert await round_trip(connection, "CLIENT", "GETNAME") == b"contract-node"
        assert connection.socket_timeout is None
    finally:
        await connection.disconnect()
    assert not connection.is_connected


async def test_a_pools_connection_class_and_kwargs_make_a_connection_of_ones_own(redis_url):
    """The appends' connection to a standalone server, made like the store's pool makes its own
    (whose class ``client_for`` replaced: the pool makes its connections with it, and sends
    every command through its ``send_packed_command(command, check_health)``)."""
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
        connection = connection_like(pool, socket_timeout=None)
        assert isinstance(connection, pool.connection_class)
        assert await round_trip(connection, "PING") == b"PONG"
        await connection.disconnect(nowait=True)
        assert "nowait" in inspect.signature(connection.disconnect).parameters
    finally:
        await client.aclose()


async def test_a_connections_socket_timeout_is_read_at_every_read(redis_url, raw_redis):
    """The bus's links read with no timeout (``socket_timeout = None`` while they serve) and
    restore it for the next handshake: redis-py reads the attribute at each read."""
    pool = ConnectionPool.from_url(redis_url, socket_timeout=0.2)
    connection = pool.make_connection()
    try:
        await connection.connect()
        connection.socket_timeout = None
        await raw_redis.delete("contract:list")

        async def push_later() -> None:
            await asyncio.sleep(0.5)
            await raw_redis.rpush("contract:list", "x")

        pusher = asyncio.ensure_future(push_later())
        started = time.monotonic()
        assert await round_trip(connection, "BLPOP", "contract:list", "0") == [b"contract:list", b"x"]
        assert time.monotonic() - started > 0.4  # past the 0.2 s it was made with
        await pusher
    finally:
        await connection.disconnect()
        await pool.disconnect()


# -- reading replies: read_response(disconnect_on_error=False), and the errors -------------------


async def test_read_response_takes_disconnect_on_error_and_leaves_the_connection_to_its_reader(redis_url):
    """The bus's reader: an error reply is raised and the connection stays in step; a read
    cancelled (the link stopping its reader) leaves the connection to be closed by the link."""
    parameter = inspect.signature(Connection.read_response).parameters["disconnect_on_error"]
    assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
    pool = subscriptions_pool(redis_url, timeout=2.0, name="contract-bus")
    connection = pool.make_connection()
    try:
        await connection.connect()
        await connection.send_packed_command(
            connection.pack_commands([("NO-SUCH-COMMAND",), ("SSUBSCRIBE", "cf:{g}:chan"), ("PING", "p")]),
            check_health=False,
        )
        with pytest.raises(ResponseError):
            await connection.read_response(disconnect_on_error=False)
        assert connection.is_connected
        # RESP2 (the pool's protocol=2): pub/sub messages are plain replies.
        assert await connection.read_response(disconnect_on_error=False) == [b"ssubscribe", b"cf:{g}:chan", 1]
        assert await connection.read_response(disconnect_on_error=False) == [b"pong", b"p"]
        connection.socket_timeout = None
        reading = asyncio.ensure_future(connection.read_response(disconnect_on_error=False))
        await asyncio.sleep(0.05)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert connection.is_connected  # the link disconnects it itself
    finally:
        await connection.disconnect(nowait=True)
        await pool.disconnect()


@pytest.mark.parametrize(
    "reply, error",
    [
        ("MOVED 866 127.0.0.1:7001", MovedError),
        ("ASK 866 127.0.0.1:7002", AskError),
        ("TRYAGAIN Multiple keys request during rehashing of slot", TryAgainError),
        ("CLUSTERDOWN The cluster is down", ClusterDownError),
    ],
)
async def test_a_clusters_error_replies_are_parsed_into_the_errors_the_appends_and_the_bus_follow(
    redis_url, reply, error
):
    """``Router._follow`` tells them apart by class (a MovedError is an AskError: the bus's
    reader takes both as a slot gone); MOVED and ASK carry the slot and the node."""
    assert issubclass(MovedError, AskError)
    pool = ConnectionPool.from_url(redis_url, socket_timeout=2.0)
    connection = pool.make_connection()
    try:
        with pytest.raises(error) as raised:
            await round_trip(connection, "EVAL", f"return redis.error_reply('{reply}')", "0")
        if issubclass(error, AskError):
            assert (raised.value.slot_id, raised.value.host, raised.value.port) == (866, "127.0.0.1", int(reply[-4:]))
    finally:
        await connection.disconnect()
        await pool.disconnect()


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()
