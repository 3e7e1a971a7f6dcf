"""Behaviours the stateful test of the service (tests/test_service_stateful.py) found broken,
each kept as a plain test: two services sharing one store and one bus, as processes share Redis."""

from __future__ import annotations

import asyncio

import pytest
from members import Member, Timers

from connectfour.bus import LocalBus
from connectfour.protocol import ProtocolError
from connectfour.protocol.client_messages import Init, Lobby, Play
from connectfour.service import GameService, Session
from connectfour.store import MemoryStore

DAY = 86400.0
BEAT = 5.0  # a service's heartbeat: every third of its registration's 15 s


class World:
    def __init__(self) -> None:
        self.bus = LocalBus()
        self.store = MemoryStore(self.bus)
        self.timers = Timers()
        self.services = [
            GameService(self.store, clock=self.timers.clock, schedule=self.timers.schedule) for _ in range(2)
        ]

    async def run_for(self, seconds: float) -> None:
        """Time passes as it does for running services: each beats every BEAT seconds."""
        for _ in range(int(seconds / BEAT)):
            self.timers.advance(BEAT)
            for service in self.services:
                await service.heartbeat()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_first_move_without_init_stops_the_lobby_updates():
    world = World()
    a = world.services[0]
    member = Member()
    session = Session(a, member)
    await session.handle(Lobby())
    await session.handle(Play(column=3))  # the tutorial's part 1: a game on this device
    assert a.where(member)[0] is not None
    assert member not in a.lobby.watchers
    told = len(member.of("lobby"))
    await a.create(Member(), local=False, public=True)
    a.lobby.tick()
    assert len(member.of("lobby")) == told


async def test_an_unplayed_game_whose_host_waits_on_another_service_is_not_deleted_by_its_sweep():
    world = World()
    a, b = world.services
    host = Member()
    game, _ = await a.create(host, local=False)
    await world.run_for(DAY + BEAT)
    await b.expire_idle()
    assert await world.store.get(game.id) is not None
    guest = Member()
    await b.join(guest, game.state.join_key)
    assert guest.of("state")[-1]["status"] == "playing"


async def test_a_service_whose_last_connection_was_replaced_stops_following_the_game():
    world = World()
    a, b = world.services
    host = Member()
    game, _ = await a.create(host, local=False)
    await b.resume(Member(), game.id, game.state.red_token)
    await settle()
    assert host.closed is not None and host.closed[0] == 4001
    assert game.id not in a.games
    assert world.bus.subscribers(game.id) == 1  # B's only


async def test_an_invite_to_a_game_resigned_before_anyone_joined_seats_nobody():
    world = World()
    a, b = world.services
    host = Member()
    game, role = await a.create(host, local=False)
    await a.resign(game, role)
    with pytest.raises(ProtocolError) as refused:
        await b.join(Member(), game.state.join_key)
    assert refused.value.code == "game_over"
    record = await world.store.get(game.id)
    assert record is not None and not record.invite_spent and record.version == 2


async def test_a_connection_that_drops_while_its_join_waits_on_the_store_is_not_left_seated():
    world = World()
    a = world.services[0]
    find = world.store.find_key

    async def slow_find(key: str):
        await asyncio.sleep(0)  # a store across the network: the join waits here
        return await find(key)

    world.store.find_key = slow_find
    host, guest = Member(), Member()
    game, _ = await a.create(host, local=False)
    session = Session(a, guest)
    join = asyncio.ensure_future(session.handle(Init(join=game.state.join_key)))
    await asyncio.sleep(0)
    session.close()  # the connection drops meanwhile, as the web layer says at once
    await join
    assert a.where(guest) == (None, None)
    assert host.of("presence")[-1]["yellow"] == "disconnected"


async def test_a_presence_heard_before_the_seat_is_taken_does_not_make_the_service_let_the_game_go():
    world = World()
    a, b = world.services
    take = world.store.seats.take

    async def slow_take(*args, **kwargs):
        presence = await take(*args, **kwargs)
        await settle()  # a store across the network: its announcement can come before its answer
        return presence

    world.store.seats.take = slow_take
    host = Member()
    game, _ = await a.create(host, local=False)
    assert a.games.get(game.id) is game and world.bus.subscribers(game.id) == 1
    await b.join(Member(), game.state.join_key)
    await settle()
    assert host.of("presence")[-1]["yellow"] == "connected"


async def test_a_presence_heard_while_a_game_loads_does_not_make_the_service_let_it_go():
    """The tutorial's start across processes: the joiner's service hears a presence newer
    than the one it read before its load is over; it must still follow the game it seats the
    joiner in, and deliver the host's first move to the joiner."""
    world = World()
    a, b = world.services
    host = Member()
    game, role = await a.create(host, local=False)
    seats = world.store.seats
    look = seats.presence
    told = []

    async def look_then_hear_a_newer_one(game_id: str, now: float):
        presence = await look(game_id, now)
        if game_id == game.id and not told:  # a spectator arrives elsewhere before the load is over
            told.append(await seats.watch(game_id, "elsewhere", 1, now))
            await settle()
        return presence

    seats.presence = look_then_hear_a_newer_one
    guest = Member()
    await b.join(guest, game.state.join_key)
    assert told and b.games.get(game.id) is b.where(guest)[0]
    await a.play(game, role, 3)
    await settle()
    assert [e["column"] for e in guest.of("play")] == [3]


async def test_a_version_read_that_crosses_a_move_is_not_taken_for_a_rewind():
    """The heartbeat's read of the stored versions can be answered after a move it did not
    see was stored and applied here: that is not the store losing the move."""
    world = World()
    a = world.services[0]
    host = Member()
    game, role = await a.create(host, local=True)
    await a.play(game, role, 0)
    versions = world.store.versions

    async def read_then_a_move(game_ids: list[str]) -> dict[str, int]:
        answer = await versions(game_ids)  # read now...
        await a.play(game, role, 1)  # ...and a move is stored, and applied here, before the answer comes
        return answer

    world.store.versions = read_then_a_move
    await a.heartbeat()
    assert host.closed is None and not [event for event in host.of("error") if event["code"] == "rewound"]
    assert a.games.get(game.id) is game


async def test_a_resume_of_a_game_whose_end_the_store_lost_carries_on_from_what_it_kept(redis_url):
    """A process still held a game's end that a failover lost (the store went back to an
    earlier version): a player resuming there was told ``game_over`` and stopped, though the
    game goes on. The process reads the game back first, finds the loss, and resumes it."""
    import redis.asyncio as redis_client

    from connectfour.store.redis import RedisStore, game_keys

    store = RedisStore(redis_url)
    raw = redis_client.Redis.from_url(redis_url)
    try:
        service = GameService(store)
        host, guest, watcher = Member(), Member(), Member()
        game, _ = await service.create(host, local=False)
        await service.join(guest, game.state.join_key)
        await service.watch(watcher, game.state.watch_key)  # (the game stays followed here)
        token = game.state.red_token
        for column in [3, 4, 3, 4, 3, 4, 3]:  # red wins
            await service.play(game, game.state.board.turn or "red", column)
        assert game.over
        service.leave(host)
        log, rec, calls, presence = game_keys(game.id)
        await raw.ltrim(log, 0, 5)  # what a lagging replica held: the creation, the join, four moves
        await raw.hdel(rec, "ended")
        await raw.persist(log)
        await raw.persist(rec)
        member = Member()
        resumed, role = await service.resume(member, game.id, token)
        assert role == "red" and not resumed.over
        assert resumed.state.board.moves == [3, 4, 3, 4]
        assert member.of("state")[-1]["status"] == "playing"
    finally:
        await raw.aclose()
        await store.close()
