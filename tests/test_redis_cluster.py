"""The Redis store and bus against a real Valkey Cluster of three masters
(tests/redis_server.py's ``RedisCluster``), through a ``redis+cluster://`` URL.

- The store contract (tests/test_store.py's tests that take a ``store``) and
  the scenarios of several services (tests/test_many_services.py, each
  service on its own store and bus as in tests/test_many_services_redis.py)
  run here too, on the Cluster.
- What a Cluster adds: two clients racing for each version store it exactly
  once, 1,000 times; games whose ids hash to each of the three masters are
  created, played, read and announced, their keys on the master the server
  says owns their slot (``CLUSTER KEYSLOT``), each function call on it; the
  registry and the key index are plain keys in their own slots; the function
  library is on every master, and comes back on one that lost it; a bus
  keeps one subscriptions' connection per master it needs.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import test_many_services as many
import test_store
from client import Client
from records import create, play
from redis.crc import key_slot
from redis_server import RedisCluster
from servers import ServerProcess
from test_many_services_redis import RedisWorld

from connectfour.bus.redis import RedisBus, channel
from connectfour.domain import rulebook
from connectfour.domain.events import Joined
from connectfour.domain.refusal import Refused
from connectfour.domain.rulebook import Claim, Expire, Seats
from connectfour.domain.seats import Holder
from connectfour.domain.state import GameState
from connectfour.redis.client import cluster_seeds, cluster_url
from connectfour.store import ConditionFailed, StoreError
from connectfour.store.redis import RedisStore, game_keys
from connectfour.store.redis_seats import REGISTRY

RED_WINS = [3, 3, 4, 4, 5, 5, 6]
#: Seconds any single wait in these tests may take before it counts as a hang.
PATIENCE = 10.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    """Three masters, slots spread by valkey-cli, for the tests of this module."""
    made = RedisCluster()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def redis_url(url: str) -> str:
    """For the tests taken from tests/test_redis.py: the Cluster, in place of one server."""
    return url


# The race of two clients for each version, 1,000 times, on the Cluster too.
from test_redis import test_two_clients_racing_for_each_version_store_it_exactly_once_1000_times  # noqa: E402, F401


@pytest.fixture
def url(cluster: RedisCluster) -> str:
    """The Cluster, emptied (FLUSHALL on every master) for this test; its ``redis+cluster://`` URL."""
    for node_url in cluster.urls:
        with redis.Redis.from_url(node_url, socket_timeout=5) as node:
            node.flushall()
    return cluster.url


def masters(cluster: RedisCluster) -> dict[int, list[tuple[int, int]]]:
    """Each master's port and its slot ranges, as CLUSTER NODES says."""
    found: dict[int, list[tuple[int, int]]] = {}
    for line in cluster.command(cluster.ports[0], "CLUSTER", "NODES").splitlines():
        fields = line.split()
        if "master" not in fields[2].split(","):
            continue
        port = int(fields[1].split("@")[0].rpartition(":")[2])
        ranges = []
        for part in fields[8:]:
            first, _, last = part.partition("-")
            ranges.append((int(first), int(last or first)))
        found[port] = ranges
    return found


def owner(cluster: RedisCluster, key: bytes) -> int:
    """The port of the master owning ``key``'s slot, by the server's own CLUSTER KEYSLOT."""
    slot = int(cluster.command(cluster.ports[0], "CLUSTER", "KEYSLOT", key.decode()))
    assert slot == key_slot(key), key  # the client and the server agree
    for port, ranges in masters(cluster).items():
        if any(first <= slot <= last for first, last in ranges):
            return port
    raise AssertionError(f"no master owns slot {slot}")


def one_game_per_master(cluster: RedisCluster) -> dict[int, str]:
    """A game id for each master: the master owning the game's slot -> the id."""
    ids: dict[int, str] = {}
    n = 0
    while len(ids) < len(cluster.nodes):
        game_id = f"game-{n}"
        ids.setdefault(owner(cluster, game_keys(game_id)[0]), game_id)
        n += 1
    return ids


def libraries(node: redis.Redis) -> list[bytes]:
    """The names of the function libraries a server holds (FUNCTION LIST, in RESP2: flat pairs)."""
    return [dict(zip(entry[::2], entry[1::2]))[b"library_name"] for entry in node.function_list()]


@pytest.fixture
async def store(url: str) -> AsyncIterator[RedisStore]:
    """tests/test_store.py's ``store``, for its contract: on the Cluster."""
    made = RedisStore(url)
    yield made
    await made.close()


# The store contract, on the Cluster: every test of tests/test_store.py that takes a ``store``.
for _name, _test in vars(test_store).items():
    if _name.startswith("test_") and "store" in inspect.signature(_test).parameters:
        globals()[_name] = _test


# -- several services, each with its own store and bus (test_many_services_redis.py), on the Cluster ------


@pytest.fixture(autouse=True)
async def worlds(url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[RedisWorld]]:
    """While a test of this module runs, test_many_services's ``World`` and ``settle`` are
    the Redis ones, on the Cluster (autouse: its scenarios make worlds of their own too)."""
    made: list[RedisWorld] = []

    def make(count: int) -> RedisWorld:
        world = RedisWorld(url, count)
        made.append(world)
        return world

    async def settle() -> None:
        for world in made:
            await world.settle()

    monkeypatch.setattr(many, "World", make)
    monkeypatch.setattr(many, "settle", settle)
    try:
        yield made
    finally:
        for world in made:
            await world.close()


@pytest.fixture
def world(worlds: list[RedisWorld]) -> RedisWorld:
    return many.World(3)


# The scenarios of several services, on the Cluster (the same function objects: not marked here,
# which would mark them in test_many_services.py too).
for _name, _test in vars(many).items():
    if _name.startswith("test_") and inspect.iscoroutinefunction(_test):
        globals()[_name] = _test


async def test_a_full_game_with_its_players_on_two_services_is_played_to_the_end(worlds, url):
    world = many.World(2)
    a, b = world.services
    host, guest, watcher_a, watcher_b = many.Member(), many.Member(), many.Member(), many.Member()
    game_a, _ = await a.create(host, local=False)
    game_b, _ = await b.join(guest, game_a.state.join_key)
    await a.watch(watcher_a, game_a.state.watch_key)
    await b.watch(watcher_b, game_a.state.watch_key)
    await many.settle()
    for ply, column in enumerate(RED_WINS):
        if ply % 2 == 0:
            await a.play(game_a, "red", column)
        else:
            await b.play(game_b, "yellow", column)
        await many.settle()
    for member in (host, guest, watcher_a, watcher_b):
        assert [e["column"] for e in member.of("play")] == RED_WINS
        assert [(e["player"], e["reason"]) for e in member.of("win")] == [("red", "four")]
    for store in world.stores:  # the record, from either process
        record = await store.get(game_a.id)
        assert record is not None and (record.moves, record.result, record.reason) == (RED_WINS, "red", "four")


# -- what a Cluster adds -------------------------------------------------------------------------


def test_a_cluster_is_asked_for_by_its_url():
    assert cluster_url("redis+cluster://h:7000") == "redis://h:7000"
    assert cluster_url("rediss+cluster://u:p@h:7000/0") == "rediss://u:p@h:7000/0"
    assert cluster_url("redis://h:6379/0") is None and cluster_url("h:6379") is None
    assert RedisStore("redis+cluster://:secret@h:7000").location == "redis+cluster://:***@h:7000"


def test_a_clusters_url_may_name_several_nodes_to_start_from():
    url = "rediss+cluster://u:p@h1:7000,h2:7001,[::1]:7002,h4/0?ssl_cert_reqs=none"
    assert cluster_url(url) == "rediss://u:p@h1:7000/0?ssl_cert_reqs=none"
    assert cluster_seeds(url) == [("h2", 7001), ("::1", 7002), ("h4", 6379)]
    assert cluster_seeds("redis+cluster://h:7000") == [] and cluster_seeds("redis://h:7000") == []
    assert RedisStore("redis+cluster://:secret@h1:7000,h2:7001").location == "redis+cluster://:***@h1:7000,h2:7001"


@pytest.mark.parametrize("node", ["", "h:", "h:x", ":7000", "h:70000", "[::1", "h:7000:1"])
def test_a_clusters_url_with_a_node_that_is_not_host_and_port_is_refused(node):
    with pytest.raises(ValueError, match="host:port"):
        cluster_seeds(f"redis+cluster://h1:7000,{node}")


async def test_a_client_that_does_not_match_the_url_is_refused(url):
    plain = redis.asyncio.Redis()
    try:
        with pytest.raises(ValueError):
            RedisStore(url, client=plain)
        with pytest.raises(ValueError):
            RedisBus(url, client=plain)
    finally:
        await plain.aclose()


async def test_games_on_every_master_are_played_read_and_announced_each_on_its_master(cluster, url):
    ids = one_game_per_master(cluster)
    assert len(ids) == 3  # one game per master
    for port, game_id in ids.items():  # every key of a game, and its channel: one slot, on that master
        assert {owner(cluster, key) for key in (*game_keys(game_id), channel(game_id))} == {port}
    red, yellow = RedisStore(url), RedisStore(url)  # two processes
    listener = RedisBus(url)  # a third one's bus
    heard: dict[str, list[int]] = {game_id: [] for game_id in ids.values()}
    try:
        for game_id in ids.values():
            await listener.subscribe(game_id, lambda game, version, message: heard[game].append(version))
        for game_id in ids.values():
            await create(red, game_id)
            await yellow.append(game_id, 2, Joined(at=150.0))
        for n, column in enumerate(RED_WINS):  # the games side by side: each batch spans the masters
            mover = red if n % 2 == 0 else yellow
            await asyncio.gather(*(play(mover, game_id, [column], at=200.0 + n) for game_id in ids.values()))
        await listener.flush()
        versions = await red.versions(list(ids.values()))  # one call across the masters
        assert versions == {game_id: 9 for game_id in ids.values()}
        for port, game_id in ids.items():
            record = await yellow.get(game_id)
            assert record is not None and (record.moves, record.result, record.reason) == (RED_WINS, "red", "four")
            assert [version for version, _ in await red.read(game_id, 7)] == [8, 9]
            assert heard[game_id] == list(range(1, 10))
            for other_port in cluster.ports:  # stored on its master, and only there
                with redis.Redis(port=other_port, socket_timeout=5) as node:
                    if other_port == port:
                        assert node.llen(game_keys(game_id)[0]) == 9
                    else:
                        with pytest.raises(redis.exceptions.MovedError):  # MOVED <slot> <its master>
                            node.llen(game_keys(game_id)[0])
        # The registry and the key index: plain keys, each on the master of its own slot.
        await red.seats.renew("A", 1.0)
        for key in (REGISTRY, b"cf:key:watch-" + ids[cluster.ports[0]].encode()):
            with redis.Redis(port=owner(cluster, key), socket_timeout=5) as node:
                assert node.exists(key) == 1, key
        # One subscriptions' connection per master the bus needs: here, all three.
        for port in cluster.ports:
            with redis.Redis(port=port, socket_timeout=5) as node:
                assert [c["name"] for c in node.client_list() if c["name"] == listener.name] == [listener.name], port
        assert listener.connected
    finally:
        await listener.close()
        await red.close()
        await yellow.close()


async def test_the_function_library_is_on_every_master_and_comes_back_on_one_that_lost_it(cluster, url):
    ids = one_game_per_master(cluster)
    store = RedisStore(url)
    try:
        await store.ping()  # loads the library
        for port in cluster.ports:
            with redis.Redis(port=port, socket_timeout=5) as node:
                assert b"connectfour" in libraries(node), port
        for game_id in ids.values():
            await create(store, game_id)
        port, game_id = next(iter(ids.items()))
        with redis.Redis(port=port, socket_timeout=5) as node:
            node.function_flush()
        await play(store, game_id, [3, 3])  # a batch refused for the missing function, called again
        await store.seats.take(game_id, ("red",), Holder("A", 1), 1.0)
        assert [version for version, _ in await store.read(game_id)] == [1, 2, 3]
        with redis.Redis(port=port, socket_timeout=5) as node:
            assert libraries(node) == [b"connectfour"]  # (the quick match's library comes back when next used)
    finally:
        await store.close()


async def test_a_claim_and_an_expiry_on_every_master_are_decided_on_the_registry_and_stored_on_the_seq(cluster, url):
    """The registry is in a slot of its own; a game's presence and log in the game's: a claim
    and an expiry are decided on both, and stored only while the presence is at the seq read."""
    ids = one_game_per_master(cluster)
    store = RedisStore(url, ttl=15.0)
    try:
        await store.seats.renew("alive", 1000.0)  # registered until 1015
        await store.seats.renew("dead", 0.0)  # ran out at 15
        for game_id in ids.values():
            await create(store, game_id)
            await store.append(game_id, 2, Joined(at=100.0))
            await store.seats.take(game_id, ("red",), Holder("alive", 1), 100.0)
            stale = (await store.seats.presence(game_id, 100.0)).seq
            await store.seats.take(game_id, ("yellow",), Holder("dead", 1), 100.0)
            presence = await store.seats.presence(game_id, 1000.0)
            seats = Seats(presence, await store.seats.expiries(presence.processes()), 60.0)
            state = GameState.replay(game_id, [event for _, event in await store.read(game_id)])
            with pytest.raises(Refused):  # red is held by a live process
                rulebook.decide(state, Claim("yellow"), 1000.0, seats)
            with pytest.raises(Refused):  # and so the game does not expire
                rulebook.decide(state, Expire(), 1000.0, seats)
            claim = rulebook.decide(state, Claim("red"), 1000.0, seats)  # yellow's holder is dead
            with pytest.raises(ConditionFailed):  # decided on a presence older than the stored one
                await store.append(game_id, 3, claim, presence_seq=stale)
            await store.append(game_id, 3, claim, presence_seq=presence.seq)
            record = await store.get(game_id)
            assert record is not None and (record.result, record.reason) == ("red", "claim")
    finally:
        await store.close()


async def test_a_master_that_cannot_be_reached_is_a_store_error_for_its_games_only(cluster):
    """A master stopped (SIGSTOP: alive, connected, silent): the games on it fail within the
    timeout; the games on the others go on. (Its own Cluster: this one is left broken.)"""
    broken = RedisCluster()
    ids = one_game_per_master(broken)
    store = RedisStore(broken.url, timeout=0.5)
    try:
        for game_id in ids.values():
            await create(store, game_id)
        stalled_port, stalled_game = next(iter(ids.items()))
        stalled = next(node for node in broken.nodes if node.port == stalled_port)
        assert stalled.pid is not None
        os.kill(stalled.pid, signal.SIGSTOP)
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            results = await asyncio.gather(
                *(store.append(game_id, 2, Joined(at=1.0)) for game_id in ids.values()), return_exceptions=True
            )
            assert loop.time() - started < PATIENCE / 2
            for game_id, result in zip(ids.values(), results):
                if game_id == stalled_game:
                    assert isinstance(result, StoreError), result
                else:
                    assert result is None, result
        finally:
            os.kill(stalled.pid, signal.SIGCONT)
    finally:
        await store.close()
        broken.close()


async def test_what_is_told_to_all_and_published_on_a_game_is_heard_by_every_process(cluster, url):
    ids = list(one_game_per_master(cluster).values())
    buses = [RedisBus(url), RedisBus(url)]
    try:
        told: list[bytes] = []
        heard: list[tuple[str, int]] = []
        for bus in buses:
            await bus.listen("announcement", told.append)
            for game_id in ids:
                await bus.subscribe(game_id, lambda game, version, message: heard.append((game, version)))
        buses[0].tell_all("announcement", b"hello")
        for game_id in ids:
            buses[1].publish(game_id, 5, Joined(at=1.0))
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while len(told) < 2 or len(heard) < 2 * len(ids):  # polling two callbacks' lists
            assert asyncio.get_running_loop().time() < deadline, (told, heard)
            await asyncio.sleep(0.005)
        assert told == [b"hello", b"hello"]
        assert sorted(heard) == sorted([(game_id, 5) for game_id in ids] * 2)
    finally:
        for bus in buses:
            await bus.close()


async def test_two_server_processes_on_the_cluster_play_a_game_to_the_end(cluster, url):
    """`connectfour serve --redis redis+cluster://...`: the host on one process, the guest on the other."""
    a, b = ServerProcess("--redis", url), ServerProcess("--redis", url)
    try:
        host = await Client.open(a.ws_url)
        await host.send({"type": "init"})
        init = await host.expect("init")
        await host.until("state")
        guest = await Client.open(b.ws_url)
        await guest.send({"type": "init", "join": init["join"]})
        await guest.until("state")
        players = {"red": host, "yellow": guest}
        for ply, column in enumerate(RED_WINS):
            await players["red" if ply % 2 == 0 else "yellow"].send({"type": "play", "column": column, "ply": ply})
            for each in players.values():
                assert (await each.until("play"))["ply"] == ply
        for each in players.values():
            assert (await each.until("win"))["player"] == "red"
        for server in (a, b):
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as answer:
                assert json.load(answer)["store"] == url
            with urllib.request.urlopen(f"{server.url}/api/games/{init['game']}", timeout=5) as answer:
                assert json.load(answer)["moves"] == RED_WINS
    finally:
        a.kill()
        b.kill()
