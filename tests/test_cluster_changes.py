"""A Redis Cluster that changes while the services run: a game's slot resharded to
another master, a master failed over to its replica (by hand, or after it died), the
quick match's slot moved.

A real Valkey Cluster (tests/redis_server.py): three masters, and a replica of one of
them. The steps of a resharding are the test's own (as ``valkey-cli --cluster reshard``
makes them: SETSLOT IMPORTING and MIGRATING, MIGRATE of the slot's keys, SETSLOT NODE on
every master), with moves played between them: on the source while the slot is
migrating, through ASK once the keys are on the target, through MOVED after. Every
move reaches both services' members, in order, once; the stored log is whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis
from members import Member
from redis.crc import key_slot
from redis_server import RedisCluster, RedisServer
from test_many_services_redis import RedisWorld

from connectfour.bus.redis import channel
from connectfour.protocol import ProtocolError
from connectfour.store.matching import Ticket
from connectfour.store.redis import RedisStore, game_keys
from connectfour.store.redis_match import QUEUE

RED_WINS = [3, 3, 4, 4, 5, 5, 6]
#: Seconds any single wait in these tests may take before it counts as a hang.
PATIENCE = 10.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[RedisCluster, RedisServer]]:
    """Three masters, and a replica of the first."""
    made = RedisCluster()
    try:
        replica = made.add_replica(made.ports[0])
        yield made, replica
    finally:
        made.close()


@pytest.fixture
async def world(cluster: tuple[RedisCluster, RedisServer]) -> AsyncIterator[RedisWorld]:
    """Two services, each on its own store and bus, on the emptied Cluster."""
    nodes, _ = cluster
    for port in nodes.ports:
        with redis.Redis(port=port, socket_timeout=5) as node:
            if node.info("replication")["role"] == "master":
                node.flushall()
    made = RedisWorld(nodes.url, 2)
    try:
        yield made
    finally:
        await made.close()


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (polling, each tick a chance for the services to run) until ``condition``."""
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {PATIENCE}s: {what}")
        await asyncio.sleep(0.005)


def columns(member: Member) -> list[int]:
    return [event["column"] for event in member.of("play")]


async def a_game(world: RedisWorld) -> tuple[object, object, list[Member]]:
    """A game between a host on the first service and a guest on the second, each
    service with a watcher too; seated, announced, settled."""
    a, b = world.services
    host, guest, watcher_a, watcher_b = Member(), Member(), Member(), Member()
    game_a, _ = await a.create(host, local=False)
    game_b, _ = await b.join(guest, game_a.state.join_key)
    await a.watch(watcher_a, game_a.state.watch_key)
    await b.watch(watcher_b, game_a.state.watch_key)
    await world.settle()
    return game_a, game_b, [host, guest, watcher_a, watcher_b]


async def play(world: RedisWorld, game_a: object, game_b: object, ply: int) -> None:
    a, b = world.services
    if ply % 2 == 0:
        await a.play(game_a, "red", RED_WINS[ply])
    else:
        await b.play(game_b, "yellow", RED_WINS[ply])


async def seen_by_all(world: RedisWorld, members: list[Member], plies: int) -> None:
    await world.settle()
    await until(lambda: all(len(columns(m)) >= plies for m in members), f"{plies} moves reach every member")
    for member in members:
        assert columns(member) == RED_WINS[:plies]  # in order, no gap, no duplicate


async def finished(world: RedisWorld, game_id: str, members: list[Member]) -> None:
    for member in members:
        assert columns(member) == RED_WINS
        assert [(e["player"], e["reason"]) for e in member.of("win")] == [("red", "four")]
    for store in [*world.stores, world.store]:  # the record and the log, whole, from every process
        record = await store.get(game_id)
        assert record is not None and (record.moves, record.result) == (RED_WINS, "red")
        log = await store.read(game_id)
        assert [version for version, _ in log] == list(range(1, len(log) + 1))
        assert [getattr(event, "column", None) for _, event in log if type(event).__name__ == "Moved"] == RED_WINS


def without_library(port: int, name: str) -> None:
    """As a master that never had it: the function library ``name`` is deleted there."""
    with redis.Redis(port=port, socket_timeout=5) as node:
        try:
            node.function_delete(name)
        except redis.ResponseError:
            pass


async def test_a_game_in_play_follows_its_slot_resharded_to_another_master(cluster, world):
    nodes, _ = cluster
    game_a, game_b, members = await a_game(world)
    game_id = game_a.id
    slot = key_slot(game_keys(game_id)[0])
    assert key_slot(channel(game_id)) == slot
    source = nodes.master_of(slot)
    target = next(port for port in nodes.ports if port != source and nodes._is_master(port))
    without_library(target, "connectfour")  # a master that never had it gets it on the way
    await play(world, game_a, game_b, 0)
    await seen_by_all(world, members, 1)

    # The slot is migrating; the keys are still on the source: served there.
    source_id, target_id = nodes.node_id(source), nodes.node_id(target)
    nodes.command(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
    nodes.command(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
    await play(world, game_a, game_b, 1)
    await seen_by_all(world, members, 2)

    # The keys moved to the target (one MIGRATE): the source answers ASK, the target serves.
    keys = nodes.command(source, "CLUSTER", "GETKEYSINSLOT", str(slot), "100").split()
    assert sorted(keys) == sorted(k.decode() for k in game_keys(game_id))
    assert "OK" in nodes.command(source, "MIGRATE", "127.0.0.1", str(target), "", "0", "5000", "KEYS", *keys)
    await play(world, game_a, game_b, 2)
    await world.settle()  # stored on the target; announced there, where nobody listens yet

    # The slot is the target's: the source drops the subscriptions, the buses make them
    # again on the target and the services read back what they missed.
    for port in nodes.ports:
        if nodes._is_master(port):
            nodes.command(port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)
    await seen_by_all(world, members, 3)
    assert nodes.master_of(slot) == target

    # The rest of the game, through MOVED for the appends' map that still names the source.
    for ply in range(3, len(RED_WINS)):
        await play(world, game_a, game_b, ply)
        await seen_by_all(world, members, ply + 1)
    await finished(world, game_id, members)


async def test_a_game_in_play_goes_on_after_its_master_fails_over_to_its_replica(cluster, world):
    nodes, replica = cluster
    # A game whose slot is on the master with the replica.
    primary = int(nodes.command(replica.port, "INFO", "replication").split("master_port:")[1].split()[0])
    for _ in range(200):
        game_a, game_b, members = await a_game(world)
        if nodes.master_of(key_slot(game_keys(game_a.id)[0])) == primary:
            break
    else:
        raise AssertionError("no game on the master with a replica in 200")
    game_id = game_a.id
    for ply in range(3):
        await play(world, game_a, game_b, ply)
        await seen_by_all(world, members, ply + 1)

    nodes.failover(replica.port)  # the replica is the master; the old master its replica
    assert nodes.master_of(key_slot(game_keys(game_id)[0])) == replica.port

    for ply in range(3, len(RED_WINS)):
        await play(world, game_a, game_b, ply)
        await seen_by_all(world, members, ply + 1)
    await finished(world, game_id, members)
    # Back as it was, for the other tests: the old master takes over again.
    nodes.failover(primary)


@pytest.fixture
def fragile_cluster() -> Iterator[tuple[RedisCluster, RedisServer]]:
    """Three masters and a replica of the first, which takes over about two seconds after
    its master stops answering (a node timeout of one second)."""
    made = RedisCluster(node_timeout_ms=1000)
    try:
        replica = made.add_replica(made.ports[0])
        yield made, replica
    finally:
        made.close()


async def test_a_game_in_play_goes_on_after_its_master_dies_and_its_replica_takes_over(fragile_cluster):
    nodes, replica = fragile_cluster
    primary = nodes.nodes[0]
    world = RedisWorld(nodes.seeds_url, 2)
    try:
        for _ in range(200):
            game_a, game_b, members = await a_game(world)
            if nodes.master_of(key_slot(game_keys(game_a.id)[0])) == primary.port:
                break
        else:
            raise AssertionError("no game on the master with a replica in 200")
        game_id = game_a.id
        for ply in range(3):
            await play(world, game_a, game_b, ply)
            await seen_by_all(world, members, ply + 1)
        # Replication is asynchronous: a move not on the replica when its master dies is lost
        # (the README says so). This test is about what follows, so the moves are there first.
        assert nodes.command(primary.port, "WAIT", "1", "5000").strip() == "1"

        primary.stop(kill=True)  # no failover asked for: the Cluster holds it failed, and elects the replica
        refused: list[str] = []
        deadline = time.monotonic() + 4 * PATIENCE
        while True:
            try:
                await play(world, game_a, game_b, 3)
                break
            except ProtocolError as error:  # until the replica is the master: refused, nothing stored
                refused.append(error.code)
                if time.monotonic() > deadline:
                    raise AssertionError(f"no move stored within {4 * PATIENCE}s of the master's death") from error
                await asyncio.sleep(0.05)
        assert set(refused) <= {"unavailable"}
        assert nodes.master_of(key_slot(game_keys(game_id)[0]), replica.port) == replica.port
        await seen_by_all(world, members, 4)
        for ply in range(4, len(RED_WINS)):
            await play(world, game_a, game_b, ply)
            await seen_by_all(world, members, ply + 1)
        await finished(world, game_id, members)
        # A process started now, told of the dead node first, starts from the next one.
        late = RedisStore(f"redis+cluster://127.0.0.1:{primary.port},127.0.0.1:{replica.port}")
        try:
            record = await late.get(game_id)
            assert record is not None and record.moves == RED_WINS
        finally:
            await late.close()
    finally:
        await world.close()


async def test_the_quick_match_queue_works_on_after_its_slot_moved(cluster, world):
    nodes, _ = cluster
    first, second = world.stores
    slot = key_slot(QUEUE)
    now = 1_000_000.0
    assert await first.match.offer(Ticket("g1", "j1"), now) is None
    source = nodes.master_of(slot)
    target = next(port for port in nodes.ports if port != source and nodes._is_master(port))
    without_library(target, "connectfour_match")  # a master that never had it gets it
    nodes.move_slot(slot, target)
    # Both stores' maps still name the source: MOVED, followed.
    assert await second.match.take(now + 1) == Ticket("g1", "j1")
    assert await first.match.offer(Ticket("g2", "j2"), now + 2) is None
    assert await second.match.offer(Ticket("g3", "j3"), now + 3) == Ticket("g2", "j2")
    assert await first.match.take(now + 4) is None
