"""The Redis store and bus against a real valkey-server: what the contract
(tests/test_store.py, run on Redis too) cannot show from one client.

Appends race from separate connections and still store each version once;
a retried call answers as the first; announcements match the log exactly; a
restart of the server loses no acknowledged event and the bus finds its way
back by itself; an unreachable or stalled server is a StoreError, quickly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from members import Member
from records import create, created, moves, play
from redis.asyncio import Redis
from redis.crc import key_slot
from redis_server import RedisServer
from servers import free_port

from connectfour.bus.redis import RedisBus, channel
from connectfour.domain import rulebook
from connectfour.domain.events import (
    Claimed,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    Resigned,
    decode_event,
    encode_event,
)
from connectfour.domain.rulebook import Claim, Seats
from connectfour.domain.seats import Holder, decode_presence
from connectfour.domain.state import GameState
from connectfour.protocol import ProtocolError
from connectfour.service import GameService
from connectfour.store import ConditionFailed, StoreError, VersionConflict
from connectfour.store.redis import RedisStore, game_keys
from connectfour.store.redis_functions import LIBRARY
from connectfour.store.redis_layout import AppendArgs, MoveArgs, entry
from connectfour.store.redis_seats import PresenceArgs

#: Seconds any single wait in these tests may take before it counts as a hang.
PATIENCE = 10.0


async def until(condition, what: str, timeout: float = PATIENCE) -> None:
    """Poll ``condition`` (each loop turn, then every few ms) until true, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_url)
    yield store
    await store.close()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server of this test's own, to restart or stop."""
    server = RedisServer(fsync="always")
    try:
        yield server
    finally:
        server.close()


# -- exactly once ------------------------------------------------------------------------


async def test_two_clients_racing_for_each_version_store_it_exactly_once_1000_times(redis_url):
    first, second = RedisStore(redis_url), RedisStore(redis_url)  # separate connections
    try:
        await create(first, local=True, join_key=None)
        for version in range(2, 1002):
            a = Moved(at=float(version), player="red", column=version % 7)
            b = Moved(at=float(version), player="yellow", column=(version + 3) % 7)
            results = await asyncio.gather(
                first.append("g1", version, a), second.append("g1", version, b), return_exceptions=True
            )
            won = [event for event, result in zip((a, b), results) if result is None]
            lost = [result for result in results if result is not None]
            assert len(won) == 1 and len(lost) == 1, results
            assert isinstance(lost[0], VersionConflict) and lost[0].last == version
            assert (await first.read("g1", version - 1)) == [(version, won[0])]
        record = await second.get("g1")
        assert record is not None and record.version == 1001 and len(record.moves) == 1000
        assert len(await first.read("g1")) == 1001
    finally:
        await first.close()
        await second.close()


async def test_a_retried_call_answers_as_the_first_without_appending_again(store, raw):
    await create(store)
    keys = game_keys("g1")
    join = Joined(at=150.0)
    call = AppendArgs(version=b"2", entry=entry(join, b"call-1"), ends=b"", retention=b"1000", seq=b"")
    assert await raw.fcall("cf_append", 4, *keys, *call) == 2
    assert await raw.fcall("cf_append", 4, *keys, *call) == 2  # the retry: stored once, answered alike
    await store.append("g1", 3, Moved(at=160.0, player="red", column=3))
    assert await raw.fcall("cf_append", 4, *keys, *call) == 2  # even once the log went on
    assert [version for version, _ in await store.read("g1")] == [1, 2, 3]
    other_call = call._replace(entry=entry(join, b"call-2"))
    with pytest.raises(Exception, match="CONFLICT 3"):  # the same event from another call: refused
        await raw.fcall("cf_append", 4, *keys, *other_call)
    record = await store.get("g1")
    assert record is not None and (record.version, record.moves, record.invite_spent) == (3, [3], True)


async def test_a_move_is_compared_appended_and_announced_and_nothing_else(store, raw):
    await create(store)
    keys = game_keys("g1")
    pubsub = raw.pubsub()
    await pubsub.ssubscribe(channel("g1"))
    assert (await pubsub.get_message(timeout=PATIENCE))["type"] == "ssubscribe"
    record_before = await raw.hgetall(keys[1])
    move = Moved(at=150.0, player="red", column=3)
    call = MoveArgs(version=b"2", entry=entry(move, b"call-m"))
    assert await raw.fcall("cf_move", 1, keys[0], *call) == 2
    assert await raw.fcall("cf_move", 1, keys[0], *call) == 2  # the retry: stored once, answered alike
    assert await raw.hgetall(keys[1]) == record_before  # the record is not written
    assert await store.read("g1", 1) == [(2, move)]
    heard = await pubsub.get_message(timeout=PATIENCE)
    assert heard["data"] == b"2 " + call.entry
    with pytest.raises(Exception, match="CONFLICT 2"):  # another call at a version taken
        await raw.fcall("cf_move", 1, keys[0], *call._replace(entry=entry(move, b"call-n")))
    with pytest.raises(Exception, match="CONFLICT 2"):  # a version beyond the next
        await raw.fcall("cf_move", 1, keys[0], b"4", entry(move, b"call-o"))
    with pytest.raises(Exception, match="NOGAME"):
        await raw.fcall("cf_move", 1, game_keys("g9")[0], b"1", entry(move, b"call-p"))
    assert await raw.exists(game_keys("g9")[0]) == 0
    record = await store.get("g1")  # the record, folded from the log
    assert record is not None and (record.version, record.moves, record.updated_at) == (2, [3], 150.0)
    await pubsub.aclose()


async def test_an_entry_keeps_its_call_id_as_a_field_the_decoder_ignores(store, raw):
    await create(store)
    keys = game_keys("g1")
    join = Joined(at=150.0)
    call = AppendArgs(version=b"2", entry=entry(join, b"call-7"), ends=b"", retention=b"1000", seq=b"")
    assert await raw.fcall("cf_append", 4, *keys, *call) == 2
    assert await raw.lindex(keys[0], 1) == encode_event(join)[:-1] + b',"call":"call-7"}'
    assert await store.read("g1", 1) == [(2, join)]
    assert await raw.hlen(keys[2]) == 1  # the creation's call only: appends keep theirs in the entry


async def test_a_game_stored_in_the_previous_layout_is_read_and_goes_on(store, raw):
    """Before the call id went into the entry, entries were the event's JSON alone and
    each append's call id was a field of ``cf:{id}:calls``: such a game reads and goes on."""
    await create(store)
    keys = game_keys("g1")
    first = moves([3, 3])
    pipe = raw.pipeline(transaction=False)
    for n, event in enumerate(first, 2):  # as the previous cf_append stored them
        pipe.rpush(keys[0], encode_event(event))
        pipe.hset(keys[2], f"old-{n}", n)
    pipe.hset(keys[1], mapping={"version": 3, "moves": "33", "updated_at": "201.0", "invite_spent": "1"})
    await pipe.execute()
    assert [event for _, event in await store.read("g1", 1)] == first
    assert await play(store, "g1", [4, 4, 5, 5, 6]) == 8
    record = await store.get("g1")
    assert record is not None and (record.version, record.moves, record.result) == (8, [3, 3, 4, 4, 5, 5, 6], "red")
    assert [event for _, event in await store.read("g1", 1)][:2] == first
    assert 0 < await raw.pttl(keys[2])  # the old calls end with the game too


async def test_a_retried_creation_answers_as_the_first(store, raw):
    await create(store)
    fields = [b"watch_key", b"w", b"red_token", b"r", b"yellow_token", b"y", b"created_at", b"1.0", b"updated_at", b"1.0",
              b"moves", b"", b"version", b"1"]  # fmt: skip
    keys = game_keys("g2")
    event = encode_event(created("g2"))
    assert await raw.fcall("cf_create", 4, *keys, b"call-9", event, *fields) == 1
    assert await raw.fcall("cf_create", 4, *keys, b"call-9", event, *fields) == 1
    with pytest.raises(Exception, match="CONFLICT 1"):
        await raw.fcall("cf_create", 4, *keys, b"call-10", event, *fields)
    assert len(await store.read("g2")) == 1


async def test_an_ending_event_retried_answers_with_the_keys_again(store, raw):
    await create(store)
    keys = game_keys("g1")
    resign = AppendArgs(
        version=b"2", entry=entry(Resigned(at=1.0, player="red"), b"call-r"), ends=b"1", retention=b"5000", seq=b""
    )
    first = await raw.fcall("cf_append", 4, *keys, *resign)
    assert first == [2, b"watch-g1", b"join-g1"]
    assert await raw.fcall("cf_append", 4, *keys, *resign) == first


# -- announcements ---------------------------------------------------------------------------


async def test_every_stored_event_is_announced_once_and_no_refused_one(store, raw):
    pubsub = raw.pubsub()
    await pubsub.ssubscribe(channel("g1"))
    assert (await pubsub.get_message(timeout=PATIENCE))["type"] == "ssubscribe"
    await create(store)
    await store.seats.renew("A", 0.0)
    await store.seats.take("g1", ("red",), Holder("A", 1), 0.0)  # announced as version 0
    await play(store, "g1", [3, 4, 3])
    looked = (await store.seats.presence("g1", 0.0)).seq
    await store.seats.watch("g1", "A", 1, 0.0)  # announced as version 0 too
    for refused in (
        store.append("g1", 4, Joined(at=1.0)),  # a version taken
        store.append("g1", 6, Joined(at=1.0)),  # a gap
        store.append("g1", 5, Claimed(at=10.0, player="yellow", grace=60.0), presence_seq=looked),  # decided on
        store.append("g1", 5, Expired(at=10.0), presence_seq=looked),  # a presence that changed since
    ):
        with pytest.raises((VersionConflict, ConditionFailed)):
            await refused
    await store.append("g1", 5, RematchOffered(at=20.0, player="red"))
    await pubsub.execute_command("PING", "end")
    heard: list[tuple[int, bytes]] = []
    while True:
        message = await pubsub.parse_response(block=False, timeout=PATIENCE)
        assert message is not None, "the PING's answer never came"
        if message == b"end" or message[0] == b"pong":  # (with shard channels only, a plain answer)
            break
        assert message[0] == b"smessage" and message[1] == channel("g1")
        version, _, body = message[2].partition(b" ")
        heard.append((int(version), body))
    await pubsub.aclose()
    stored = await store.read("g1")
    assert [(v, decode_event(body)) for v, body in heard if v] == stored
    assert [v for v, _ in heard] == [1, 0, 2, 3, 4, 0, 5]
    presence = decode_presence(heard[1][1])
    assert presence.red == Holder("A", 1) and presence.red_left is None


async def test_the_bus_delivers_decoded_events_and_presences_to_each_subscriber(store, redis_url):
    other = RedisBus(redis_url)  # another process's bus
    try:
        got: list[tuple[str, int, object]] = []
        also: list[int] = []
        await store.bus.subscribe("g1", lambda game_id, version, message: got.append((game_id, version, message)))
        await other.subscribe("g1", lambda game_id, version, message: also.append(version))
        await create(store)
        await store.seats.take("g1", ("red",), Holder("A", 1), 5.0)
        move = Moved(at=7.0, player="red", column=3)
        await store.append("g1", 2, move)
        await store.bus.flush()
        await other.flush()
        assert [(v, type(m).__name__) for _, v, m in got] == [(1, "Created"), (0, "Presence"), (2, "Moved")]
        assert got[2] == ("g1", 2, move) and also == [1, 0, 2]
    finally:
        await other.close()


async def test_an_announcement_every_subscriber_applied_already_is_dropped_undecoded(store, redis_url):
    other = RedisBus(redis_url)  # another process, which has not applied it
    try:
        mine: list[int] = []
        theirs: list[int] = []

        def deliver(game_id: str, version: int, message: object) -> None:
            mine.append(version)

        store.bus.knows(deliver, lambda game_id, version: version <= 2)  # this process stored 1 and 2
        await store.bus.subscribe("g1", deliver)
        await other.subscribe("g1", lambda game_id, version, message: theirs.append(version))
        await create(store)
        await store.seats.take("g1", ("red",), Holder("A", 1), 5.0)
        await store.append("g1", 2, Joined(at=1.0))
        await store.append("g1", 3, Moved(at=2.0, player="red", column=3))
        await store.bus.flush()
        await other.flush()
        assert mine == [0, 3]  # the presence always; of the events, only the one it lacked
        assert store.bus.known == 2
        assert theirs == [1, 0, 2, 3]  # a subscriber that said nothing gets everything
    finally:
        await other.close()


async def test_an_unsubscribed_game_is_no_longer_delivered(store):
    got: list[int] = []

    def deliver(game_id: str, version: int, message: object) -> None:
        got.append(version)

    await store.bus.subscribe("g1", deliver)
    await create(store)
    await store.bus.flush()
    store.bus.unsubscribe("g1", deliver)
    await store.append("g1", 2, Joined(at=1.0))
    await store.bus.subscribe("g1", deliver)  # and again: the server confirmed it once this returns
    await store.append("g1", 3, Moved(at=2.0, player="red", column=0))
    await store.bus.flush()
    assert got == [1, 3]


async def test_what_is_told_to_all_is_heard_by_every_process_listening_to_its_topic(store, redis_url):
    other = RedisBus(redis_url)
    try:
        heard: list[bytes] = []
        lobby: list[bytes] = []
        await other.listen("announcement", heard.append)
        await store.bus.listen("announcement", heard.append)
        await store.bus.listen("lobby", lobby.append)
        store.bus.tell_all("announcement", b"hello")
        await until(lambda: len(heard) == 2, "both listeners")
        store.bus.tell_all("lobby", b"part")
        await until(lambda: len(lobby) == 1, "the lobby's listener")
        assert heard == [b"hello", b"hello"] and lobby == [b"part"]  # each hears its own topic only
    finally:
        await other.close()


# -- a restart, a stall, no server ----------------------------------------------------------------


LAST = 3000


@pytest.mark.parametrize(
    "fsync, kill, outage",
    [("always", True, "long"), ("always", True, "short"), ("everysec", True, "short"), ("everysec", False, "long")],
)
async def test_a_restart_mid_stream_loses_no_acknowledged_event_and_the_bus_comes_back(fsync, kill, outage):
    server = RedisServer(fsync=fsync)
    store = RedisStore(server.url, timeout=1.0)
    try:
        await create(store, local=True, join_key=None)
        heard: list[int] = []
        resubscribed = asyncio.Event()
        await store.bus.subscribe("g1", lambda game_id, version, message: heard.append(version))
        store.bus.on_resubscribed(resubscribed.set)
        acknowledged: dict[int, RematchOffered] = {}
        failures = 0

        async def stream(last: int) -> None:
            """Append versions 2..last, each acknowledged once; after an error, find out
            whether it was stored (the reply may be what was lost) before trying again."""
            nonlocal failures
            version = len(acknowledged) + 2
            while version <= last:
                event = RematchOffered(at=float(version), player="red")
                try:
                    await store.append("g1", version, event)
                except VersionConflict:
                    stored = await store.read("g1", version - 1)
                    assert stored[0] == (version, event), "a version taken by an event nobody sent"
                except StoreError:
                    failures += 1
                    await asyncio.sleep(0.05)  # backoff while the server is down
                    continue
                acknowledged[version] = event
                version += 1

        appending = asyncio.ensure_future(stream(LAST))
        await until(lambda: len(acknowledged) >= 100, "100 acknowledged events")
        if outage == "long":
            await asyncio.to_thread(server.stop, kill=kill)  # while the appends go on...
            await until(lambda: failures > 0, "an append to fail")  # ...down long enough to show
            await asyncio.to_thread(server.start)
        else:  # back within redis-py's retries, which resend with the same call id
            await asyncio.to_thread(server.restart, kill=kill)
        assert not appending.done(), "the restart was not mid-stream"
        await asyncio.wait_for(appending, PATIENCE * 3)
        stored = dict(await store.read("g1"))
        assert all(stored.get(version) == event for version, event in acknowledged.items())
        assert len(stored) == LAST
        await asyncio.wait_for(resubscribed.wait(), PATIENCE)  # the bus came back by itself...
        heard.clear()
        await store.append("g1", LAST + 1, RematchOffered(at=0.0, player="red"))
        await store.bus.flush()
        assert heard == [LAST + 1]  # ...subscribed to the game again
    finally:
        await store.close()
        server.close()


async def test_an_unreachable_server_is_a_store_error_quickly():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError):
            await store.get("g1")
        with pytest.raises(StoreError):
            await create(store)
        with pytest.raises(StoreError):
            await store.append("g1", 2, Joined(at=1.0))
        with pytest.raises(StoreError):
            await store.seats.presence("g1", 1.0)
        with pytest.raises(StoreError):
            await store.bus.subscribe("g1", lambda *args: None)
        assert time.monotonic() - started < 5.0
    finally:
        await store.close()


async def test_a_stalled_server_is_a_store_error_not_a_hang(own_server):
    store = RedisStore(own_server.url, timeout=0.3)
    try:
        await create(store)
        pid = own_server.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # alive, connected, silent
        try:
            started = time.monotonic()
            with pytest.raises(StoreError):
                await store.append("g1", 2, Joined(at=1.0))
            with pytest.raises(StoreError):
                await store.read("g1")
            assert time.monotonic() - started < 5.0
        finally:
            os.kill(pid, signal.SIGCONT)
        # A timeout leaves the outcome unknown: the server may run the call once it
        # wakes (and then announce it, like any other). Either way the store goes on.
        stored = await store.read("g1")
        assert stored[1:] in ([], [(2, Joined(at=1.0))])
        await store.append("g1", len(stored) + 1, RematchOffered(at=2.0, player="red"))
        assert len(await store.read("g1")) == len(stored) + 1
    finally:
        await store.close()


async def test_a_move_asked_while_a_batch_waits_on_a_stalled_server_is_answered_within_its_own_timeout(own_server):
    """The bound holds for each append, not each batch: one queued behind a batch in flight
    is not made to wait that batch's timeout and then one of its own."""
    timeout = 1.0
    store = RedisStore(own_server.url, timeout=timeout)
    try:
        await create(store)
        await create(store, "g2")
        pid = own_server.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            first = asyncio.ensure_future(store.append("g1", 2, Joined(at=1.0)))
            await until(lambda: store.writing, "the first batch on its way")
            asked = time.monotonic()
            with pytest.raises(StoreError):
                await store.append("g2", 2, Joined(at=1.0))
            waited = time.monotonic() - asked
            with pytest.raises(StoreError):
                await first
        finally:
            os.kill(pid, signal.SIGCONT)
        assert waited < 1.5 * timeout, f"answered {waited:.2f}s after it was asked"
    finally:
        await store.close()


async def test_after_a_restart_each_request_gets_its_own_answers_once_the_data_is_loaded():
    """A restarted server refuses PING, and every read, while it loads its data back. The
    bus, connecting again meanwhile, ends its write of subscriptions with a PING so refused;
    the store's requests share no connection with that write, so once the data is loaded
    each gets its own answers (one of them took that PING's place, and timed out, before)."""
    # 1 ms per key loaded back, clients served every 1 kB read meanwhile
    server = RedisServer(fsync="always", extra=["key-load-delay 1000", "loading-process-events-interval-bytes 1024"])
    store = RedisStore(server.url)
    try:
        await store.bus.subscribe("g1", lambda *args: None)
        await create(store)
        version = await play(store, "g1", [3, 3, 4])
        async with Redis.from_url(server.url) as client:
            await client.mset({f"filler-{n}": b"x" * 100 for n in range(1500)})
            await client.bgrewriteaof()  # an RDB base: read back key by key, ``key-load-delay`` apart
            await until_async(lambda: rewritten(client), "the AOF rewritten")
        await asyncio.to_thread(server.stop, kill=True)
        server.start(answering=False)
        # While it loads: the bus connects again and subscribes (allowed), its PING refused.
        await asyncio.wait_for(store.bus.subscribe("g2", lambda *args: None), PATIENCE)
        assert (await ping(server.port)).startswith(b"-LOADING")  # (still loading: the case holds)
        await asyncio.to_thread(server.wait_until_it_answers)
        assert await store.versions(["g1", "g2"]) == {"g1": version, "g2": 0}
        assert [number for number, _ in await store.read("g1")] == list(range(1, version + 1))
        assert await play(store, "g1", [4]) == version + 1
    finally:
        await store.close()
        server.close()


async def ping(port: int) -> bytes:
    """What a PING of a connection of its own is answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"PING\r\n")
        return await asyncio.wait_for(reader.readline(), PATIENCE)
    finally:
        writer.close()


async def rewritten(client: Redis) -> bool:
    persistence = await client.info("persistence")
    return not persistence["aof_rewrite_in_progress"] and not persistence["aof_rewrite_scheduled"]


async def until_async(condition, what: str, timeout: float = PATIENCE) -> None:
    """``until`` for a condition that must be awaited."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_an_append_on_a_stalled_server_is_given_its_whole_timeout(own_server):
    """The bound is each append's own: one sent after an earlier batch was answered is not
    given up at that batch's deadline, which comes first."""
    timeout = 1.0
    store = RedisStore(own_server.url, timeout=timeout)
    try:
        await create(store)
        await create(store, "g2")
        await store.append("g2", 2, Joined(at=1.0))  # a batch answered: its deadline comes first
        await asyncio.sleep(timeout / 2)  # (the time between the two, not a wait for anything)
        pid = own_server.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            asked = time.monotonic()
            with pytest.raises(StoreError):
                await store.append("g1", 2, Joined(at=1.0))
            waited = time.monotonic() - asked
        finally:
            os.kill(pid, signal.SIGCONT)
        assert 0.9 * timeout <= waited < 1.5 * timeout, f"given up {waited:.2f}s after it was asked"
    finally:
        await store.close()


async def test_a_server_that_lost_the_functions_gets_them_again(store, raw):
    await create(store)
    await raw.function_flush()
    await store.append("g1", 2, Joined(at=1.0))
    await store.seats.presence("g1", 1.0)
    assert len(await store.read("g1")) == 2
    assert b"connectfour" in str(await raw.function_list()).encode()


# -- layout and lifetimes ----------------------------------------------------------------------------


def test_every_key_and_the_channel_of_a_game_share_one_hash_slot():
    for game_id in ("g1", "Zm9vYmFyYmF6", "a-b_c"):
        slots = {key_slot(key) for key in (*game_keys(game_id), channel(game_id))}
        assert len(slots) == 1, game_id
    assert key_slot(game_keys("g1")[0]) != key_slot(game_keys("g2")[0])


def test_the_library_names_its_functions():
    for name in ("cf_move", "cf_append", "cf_create", "cf_touch", "cf_delete", "cf_presence"):
        assert f"register_function('{name}'" in LIBRARY


@pytest.mark.parametrize(
    "function, record", [("move", MoveArgs), ("append", AppendArgs), ("presence_write", PresenceArgs)]
)
def test_a_function_names_its_arguments_once_in_the_order_of_the_record_that_sends_them(function, record):
    body = LIBRARY.split(f"local function {function}(keys, args)\n", 1)[1]
    first = body.splitlines()[0].strip()
    names, _, values = first.removeprefix("local ").partition(" = ")
    assert values == f"unpack(args, 1, {len(record._fields)})"
    assert [name.strip() for name in names.split(",")] == list(record._fields)
    assert "args[" not in body.split("\nend\n", 1)[0]  # nowhere else in the function


async def test_a_finished_game_expires_after_the_retention_with_its_keys(redis_url, raw):
    store = RedisStore(redis_url, retention=3600.0)
    try:
        await create(store, local=True, join_key=None)
        await create(store, "g2")
        await store.seats.watch("g1", "A", 2, 1.0)  # a spectator: the presence stays, and expires too
        await play(store, "g1", [3, 3, 4, 4, 5, 5, 6])
        await until(lambda: not store.writing, "the indexes tidied")
        for key in (*game_keys("g1"), b"cf:key:watch-g1"):
            assert 3590_000 < await raw.pttl(key) <= 3600_000, key
        assert await raw.pttl(game_keys("g2")[1]) == -1  # a game in play does not expire
        assert await raw.zscore("cf:done", "g1") == 206.0 and await raw.zscore("cf:open", "g1") is None
        await store.append("g1", 9, RematchOffered(at=300.0, player="red"))  # after the end: still expiring
        assert await raw.pttl(game_keys("g1")[0]) > 0
    finally:
        await store.close()


async def test_a_presence_never_goes_back_in_seq_even_made_again(store):
    await create(store, local=True, join_key=None)
    first = await store.seats.take("g1", ("red", "yellow"), Holder("A", 1), 1.0)
    await play(store, "g1", [3, 3, 4, 4, 5, 5, 6])
    left = await store.seats.leave("g1", Holder("A", 1), 2.0)  # empty, and the game over: deleted
    again = await store.seats.presence("g1", 3.0)
    assert first.seq < left.seq < again.seq and again.red_left == 3.0


async def test_a_presence_keeps_any_process_name_and_time_exactly(store):
    await create(store)
    name = 'odd "name" \\ é'
    at = 1718000000.123456
    presence = await store.seats.take("g1", ("red",), Holder(name, 7), at)
    await store.seats.watch("g1", name, 3, at)
    left = await store.seats.leave("g1", Holder(name, 7), at + 0.000001)
    assert presence.red == Holder(name, 7)
    assert left.red is None and left.red_left == at + 0.000001 and left.watching == {name: 3}


async def test_a_seat_held_by_a_process_pruned_from_the_registry_counts_as_free(store, raw):
    await create(store)
    await store.append("g1", 2, Joined(at=0.0))
    await store.seats.take("g1", ("yellow",), Holder("ghost", 1), 0.0)  # never registered
    assert await raw.zscore("cf:registry", "ghost") is None
    presence = await store.seats.presence("g1", 60.0)
    seats = Seats(presence, await store.seats.expiries(presence.processes()), 60.0)
    state = GameState.replay("g1", [event for _, event in await store.read("g1")])
    claim = rulebook.decide(state, Claim("red"), 60.0, seats)
    await store.append("g1", 3, claim, presence_seq=presence.seq)
    assert (await store.get("g1")).result == "red"


async def test_registry_entries_a_day_past_their_expiry_are_pruned(store, raw):
    await store.seats.renew("old", 0.0)
    await store.seats.renew("recent", 80_000.0)
    await store.seats.renew("B", 90_000.0)
    assert set(await store.seats.expiries({"old", "recent", "B"})) == {"recent", "B"}


async def test_reading_back_decodes_what_was_stored(store):
    await create(store, local=True, join_key=None)
    await play(store, "g1", [3, 3, 4])
    assert [event for _, event in await store.read("g1", 1)] == moves([3, 3, 4])
    assert [decode_event(encode_event(event)) for event in moves([3, 3, 4])] == moves([3, 3, 4])


async def test_the_location_hides_the_password_and_ping_answers(store, redis_url):
    assert store.location == redis_url
    await store.ping()
    hidden = RedisStore("redis://user:secret@127.0.0.1:1/0")
    try:
        assert hidden.location == "redis://user:***@127.0.0.1:1/0"
        no_user = RedisStore("redis://:secret@h/0")
        assert no_user.location == "redis://:***@h/0"
        await no_user.close()
        with pytest.raises(StoreError):
            await hidden.ping()
    finally:
        await hidden.close()


# -- the appends' own packing of commands ---------------------------------------------------


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["FCALL", "ZREM", "ZADD", "EXPIRE", "SET"]),  # a command's name: one word
            st.lists(
                st.one_of(
                    st.binary(max_size=64), st.text(max_size=32), st.integers(min_value=-(2**63), max_value=2**63)
                ),
                max_size=20,
            ),
        ).map(lambda named: [named[0], *named[1]]),
        min_size=1,
        max_size=8,
    )
)
def test_commands_are_packed_byte_for_byte_as_redis_py_packs_them(commands):
    from redis.asyncio.connection import Connection

    from connectfour.redis.client import pack

    assert pack(commands) == b"".join(Connection().pack_commands(commands))


async def test_a_burst_of_requests_waits_for_the_bounded_pool_instead_of_failing(store, raw):
    from connectfour.redis.client import POOL

    before = len(await raw.client_list())
    await create(store)
    found = await asyncio.gather(*(store.find_key("watch-g1") for _ in range(5 * POOL)))
    assert found == [("g1", "watch")] * (5 * POOL)
    opened = len(await raw.client_list()) - before
    assert opened <= POOL + 2  # the pool, the appends' writer, the bus


# -- the quick-match queue ---------------------------------------------------------------------


async def test_the_quick_match_queue_goes_after_an_idle_hour_with_the_tickets_of_dead_processes(store, raw):
    from connectfour.store.matching import Ticket
    from connectfour.store.redis_match import QUEUE, TICKETS

    await store.match.offer(Ticket("g1", "j1"), 100.0)  # its process dies: nobody renews nor takes it
    for key in (QUEUE, TICKETS):
        assert 3_500_000 < await raw.pttl(key) <= 3_600_000
    await store.match.renew(["g1"], 101.0)
    assert await raw.pttl(TICKETS) > 3_500_000


async def test_resuming_games_that_do_not_exist_leaves_no_key(store, raw):
    service = GameService(store)
    for number in range(50):
        with pytest.raises(ProtocolError) as refused:
            await service.resume(Member(), f"no-such-game-{number}", "no-such-token")
        assert refused.value.code == "game_not_found"
    assert [key async for key in raw.scan_iter(match="cf:{no-such-game-*")] == []
    assert not service.games


async def test_changes_to_one_presence_from_two_processes_at_once_are_all_kept(store, redis_url):
    other = RedisStore(redis_url)
    try:
        await create(store)
        changes = [
            store.seats.take("g1", ("red",), Holder("A", 1), 1.0),
            other.seats.take("g1", ("yellow",), Holder("B", 1), 1.0),
            *(process.seats.watch("g1", name, 3, 1.0) for process, name in ((store, "A"), (other, "B"))),
        ]
        await asyncio.gather(*changes)
        presence = await store.seats.presence("g1", 2.0)
        assert (presence.red, presence.yellow, presence.watching) == (Holder("A", 1), Holder("B", 1), {"A": 3, "B": 3})
    finally:
        await other.close()


async def test_a_presence_of_the_layout_before_json_is_read_and_rewritten_at_its_next_change(store, raw):
    await create(store)
    key = game_keys("g1")[3]
    await raw.hset(key, mapping={"seq": "7", "red": "A", "red_c": "2", "yellow_left": "5.5", "w:B": "4"})
    presence = await store.seats.presence("g1", 10.0)
    assert (presence.seq, presence.red, presence.yellow_left, presence.watching) == (7, Holder("A", 2), 5.5, {"B": 4})
    await store.seats.leave("g1", Holder("A", 2), 11.0)
    assert decode_presence(await raw.hget(key, "json")).red_left == 11.0


async def rewind(raw, game_id: str, version: int, moves: str) -> None:
    """What a failover onto a replica that lagged leaves: the game as it was at ``version``."""
    log_key, rec_key = game_keys(game_id)[:2]
    await raw.ltrim(log_key, 0, version - 1)
    await raw.hset(rec_key, mapping={"version": version, "moves": moves})


async def test_a_move_on_a_game_whose_store_lost_its_latest_moves_is_refused_and_said(store, raw):
    service = GameService(store)
    host = Member()
    game, role = await service.create(host, local=True)
    for column in (0, 1, 2):
        await service.play(game, role, column)
    await rewind(raw, game.id, 2, "0")  # the store kept the first move only
    with pytest.raises(ProtocolError) as refused:
        await service.play(game, role, 3)
    assert refused.value.code == "rewound"
    assert host.of("error")[-1]["code"] == "rewound" and host.closed is not None and host.closed[0] == 4002
    assert game.id not in service.games  # let go: whoever comes back reads what was kept
    back = Member()
    await service.resume(back, game.id, game.state.red_token)
    assert back.of("state")[-1]["moves"] == [0]


async def test_the_heartbeat_finds_a_game_whose_store_lost_its_latest_events(store, raw):
    service = GameService(store)
    host, spectator = Member(), Member()
    game, role = await service.create(host, local=True)
    await service.watch(spectator, game.state.watch_key)
    for column in (0, 1):
        await service.play(game, role, column)
    await rewind(raw, game.id, 2, "0")
    await service.heartbeat()
    for member in (host, spectator):
        assert member.of("error")[-1]["code"] == "rewound" and member.closed is not None and member.closed[0] == 4002
