"""What a change waits for in Redis before it is acknowledged (``--redis-replicas``,
``--redis-aof``): real Valkey servers, one with a replica and one without."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis
from records import create, moves
from redis_server import RedisServer

from connectfour.store import StoreError
from connectfour.store.redis import RedisStore
from connectfour.store.replication import Replication


@pytest.fixture
def lone():
    server = RedisServer()
    yield server
    server.close()


@pytest.fixture
def replicated():
    primary = RedisServer()
    replica = RedisServer(extra=[f"replicaof 127.0.0.1 {primary.port}"])
    deadline = time.monotonic() + 15
    with redis.Redis(port=replica.port) as client:
        while client.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.05)  # polling the replica's state
    yield primary, replica
    replica.close()
    primary.close()


async def test_with_a_replica_awaited_a_move_is_acknowledged_once_the_replica_has_it(replicated):
    primary, replica = replicated
    store = RedisStore(primary.url, replication=Replication(replicas=1))
    try:
        await create(store, local=True, join_key=None)
        await store.append("g1", 2, moves([3])[0])
        await store.confirm("g1")
        with redis.Redis(port=replica.port) as client:
            assert client.llen("cf:{g1}:log") == 2  # there already: the acknowledgement waited for it
    finally:
        await store.close()


async def test_without_the_replica_it_waits_for_a_move_is_stored_but_its_outcome_unknown(lone):
    store = RedisStore(lone.url, timeout=0.5, replication=Replication(replicas=1))
    try:
        with pytest.raises(StoreError, match="on 0 of 1 replicas in time: outcome unknown"):
            await create(store, local=True, join_key=None)
        with pytest.raises(StoreError, match="outcome unknown"):
            await store.append("g1", 2, moves([3])[0])
        # Stored all the same: what "outcome unknown" warns of, and why a client sends it again.
        assert [version for version, _ in await store.read("g1")] == [1, 2]
        with pytest.raises(StoreError, match="outcome unknown"):
            await store.confirm("g1")  # and the answer to that waits again
    finally:
        await store.close()


async def test_with_the_append_only_file_awaited_a_move_is_acknowledged_once_on_disk(lone):
    store = RedisStore(lone.url, replication=Replication(aof=True))
    try:
        await create(store, local=True, join_key=None)
        await store.append("g1", 2, moves([3])[0])
        await store.confirm("g1")
    finally:
        await store.close()


async def test_by_default_nothing_is_awaited(lone):
    store = RedisStore(lone.url, timeout=0.5)
    try:
        await create(store, local=True, join_key=None)
        await store.append("g1", 2, moves([3])[0])
        await store.confirm("g1")
    finally:
        await store.close()


def test_a_wait_command_is_bounded_and_never_zero():
    assert Replication(replicas=2).command(2.0) == ("WAIT", 2, 1500)
    assert Replication(replicas=2).command(0.5) == ("WAIT", 2, 350)
    assert Replication(replicas=1, aof=True).command(0.01) == ("WAITAOF", 1, 1, 1)
    with pytest.raises(ValueError):
        Replication(replicas=-1)


@pytest.mark.parametrize("option", [["--redis-replicas", "1"], ["--redis-aof"]])
def test_waiting_for_replicas_without_redis_is_refused(option):
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "serve", "--memory", *option],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "need --redis" in result.stderr
