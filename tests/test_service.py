"""The game service on a real SQLite file, without any network."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3

import pytest
from members import Member as Inbox
from members import Timers

from connectfour.protocol import ProtocolError
from connectfour.service import GameService
from connectfour.store import SQLiteStore, journal


@pytest.fixture
async def store(tmp_path):
    store = SQLiteStore(tmp_path / "games.db")
    yield store
    await store.close()


async def test_racing_moves_for_one_ply_store_and_announce_exactly_one(store):
    service = GameService(store)
    player = Inbox()
    game, role = await service.create(player, local=True)
    results = await asyncio.gather(service.play(game, role, 1), service.play(game, role, 2), return_exceptions=True)
    refused = [r for r in results if isinstance(r, ProtocolError)]
    assert len(refused) == 1 and refused[0].code == "stale_ply"
    assert len(player.of("play")) == 1
    assert (await store.get(game.id)).moves == game.board.moves and len(game.board.moves) == 1


async def test_a_move_is_stored_before_anyone_hears_of_it(store):
    heard_after_store: list[bool] = []

    class Listener(Inbox):
        def send(self, payload: bytes) -> None:
            event = json.loads(payload)
            if event["type"] == "play":
                # The store's journal, as the file on disk reads, must already hold it.
                logged = [entry for _, path in store._journal.segments() for entry in journal.read(path)]
                heard_after_store.append(logged[-1].split(" ")[3] == str(event["column"]))
            super().send(payload)

    service = GameService(store)
    game, role = await service.create(Listener(), local=True)
    for column in (0, 1, 2):
        await service.play(game, role, column)
    assert heard_after_store == [True, True, True]


async def test_an_abandoned_game_expires_once_nobody_is_connected(store):
    now = [1000.0]
    service = GameService(store, expire_after=60, clock=lambda: now[0])
    host = Inbox()
    game, _ = await service.create(host, local=False)
    now[0] += 120
    assert await service.expire_idle() == 0, "the host is still connected"
    service.leave(host)
    await asyncio.sleep(0)  # let the leave's activity stamp reach the store
    now[0] += 30
    assert await service.expire_idle() == 0, "not idle long enough"
    now[0] += 60
    assert await service.expire_idle() == 1
    record = await store.get(game.id)
    assert (record.result, record.reason) == ("abandoned", "expired")


async def test_finished_and_empty_games_leave_memory(store):
    service = GameService(store)
    player = Inbox()
    game, role = await service.create(player, local=True)
    for column in [0, 1, 0, 1, 0, 1, 0]:
        await service.play(game, role, column)
    service.leave(player)
    assert service.games == {}
    assert (await store.get(game.id)).result == "red"


async def test_a_game_reloads_from_the_store_for_a_returning_player(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    service = GameService(first)
    player = Inbox()
    game, role = await service.create(player, local=False)
    await service.play(game, role, 4)
    token = player.of("state")[0]["token"]
    await first.close()

    second = SQLiteStore(path)
    restarted = GameService(second)
    back = Inbox()
    await restarted.resume(back, game.id, token)
    state = back.of("state")[0]
    assert state["moves"] == [4] and state["you"] == "red" and state["turn"] == "yellow"
    await second.close()


DAY = 86400.0


class Clock:
    """The service's clock, moved by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def left_alone(service: GameService, *, play: bool = False) -> tuple[str, dict]:
    """A game created by a host who (having played once if ``play``) left; its id and init event."""
    host = Inbox()
    game, role = await service.create(host, local=False)
    if play:
        await service.play(game, role, 3)
    service.leave(host)
    while service.seating.touching:  # until the leave's activity stamp is stored
        await asyncio.sleep(0)
    return game.id, host.of("init")[0]


async def test_an_unplayed_game_nobody_came_back_to_is_deleted_with_its_keys(store):
    clock = Clock()
    service = GameService(store, clock=clock)
    game_id, init = await left_alone(service)
    clock.now += DAY + 1
    await service.expire_idle()
    assert await store.get(game_id) is None
    assert await store.find_key(init["join"]) is None and await store.find_key(init["watch"]) is None


async def test_a_played_game_as_old_is_kept(store):
    clock = Clock()
    service = GameService(store, clock=clock)
    game_id, _ = await left_alone(service, play=True)
    clock.now += DAY + 1
    await service.expire_idle()
    assert (await store.get(game_id)).moves == [3]


async def test_an_unplayed_game_someone_is_connected_to_is_kept(store):
    clock = Clock()
    service = GameService(store, clock=clock)
    game, _ = await service.create(Inbox(), local=False)
    clock.now += 2 * DAY
    assert await service.forget_unplayed() == 0
    assert await store.get(game.id) is not None


async def test_a_recent_unplayed_game_is_kept(store):
    clock = Clock()
    service = GameService(store, clock=clock)
    game_id, _ = await left_alone(service)
    clock.now += DAY - 1
    assert await service.forget_unplayed() == 0
    assert await store.get(game_id) is not None


async def test_zero_never_deletes(store):
    clock = Clock()
    service = GameService(store, forget_unplayed_after=0, clock=clock)
    game_id, _ = await left_alone(service)
    clock.now += 365 * DAY
    await service.expire_idle()
    assert await store.get(game_id) is not None


async def test_an_unplayed_game_already_abandoned_is_deleted_too(store):
    clock = Clock()
    service = GameService(store, expire_after=3600, clock=clock)
    game_id, _ = await left_alone(service)
    clock.now += 3601
    assert await service.expire_idle() == 1
    assert (await store.get(game_id)).result == "abandoned"
    clock.now += DAY + 1  # measured from the game's last change: its expiry
    await service.expire_idle()
    assert await store.get(game_id) is None


async def test_an_unplayed_game_is_judged_by_when_its_player_left_even_before_that_is_stored(store):
    """The sweep can run between a leave and the store hearing of it."""
    clock = Clock()
    service = GameService(store, clock=clock)
    host = Inbox()
    game, _ = await service.create(host, local=False)
    clock.now += 2 * DAY  # the host sat there for two days, then left
    service.leave(host)
    assert await service.forget_unplayed() == 0
    assert await store.get(game.id) is not None


async def test_the_sweep_logs_how_many_unplayed_games_it_deleted(store, caplog):
    clock = Clock()
    service = GameService(store, clock=clock)
    for _ in range(3):
        await left_alone(service)
    clock.now += DAY + 1
    with caplog.at_level(logging.INFO, logger="connectfour.service"):
        await service.expire_idle()
        await service.expire_idle()  # nothing left: nothing said
    said = [r for r in caplog.records if "unplayed" in r.getMessage()]
    assert [(r.levelno, r.getMessage()) for r in said] == [
        (logging.INFO, "3 unplayed games deleted (no activity for 86400s)")
    ]


async def test_a_flood_of_unplayed_games_leaves_the_database_bounded(tmp_path):
    """Each round is one server run: many games created and left, an hour
    passes, the sweep runs, the server stops (which folds every game into
    SQLite, so the file holds them all). The rows and the file stop growing."""
    path = tmp_path / "games.db"
    clock = Clock()
    per_round, rows, sizes = 400, [], []
    for _ in range(12):
        store = SQLiteStore(path)
        service = GameService(store, expire_after=3600, forget_unplayed_after=2 * 3600, clock=clock)
        for _ in range(per_round):
            await left_alone(service)
        clock.now += 3600
        await service.expire_idle()
        await store.close()
        with sqlite3.connect(path) as db:
            rows.append(db.execute("SELECT count(*) FROM games").fetchone()[0])
        sizes.append(sum(f.stat().st_size for f in tmp_path.iterdir()))  # the database, its WAL, its journal
    # A game is marked abandoned two sweeps after it was left, which is its
    # last activity, and deleted three sweeps after that: four rounds' games stay.
    assert rows == [per_round, 2 * per_round, 3 * per_round] + [4 * per_round] * 9
    # The deleted games' pages are reused: the file may grow by a page now and
    # then (B-trees of random keys settling), never by a round's games.
    assert sizes[-1] - sizes[4] < (sizes[1] - sizes[0]) / 4


async def guest_gone(store, timers: Timers, host, guest, grace: float = 60.0):
    """A service on ``timers``' clock, and a game ``host`` created, ``guest`` joined, and ``guest`` left."""
    service = GameService(store, grace=grace, schedule=timers.schedule, clock=timers.clock)
    game, _ = await service.create(host, local=False)
    await service.join(guest, game.state.join_key)
    service.leave(guest)
    return service, game


async def test_while_a_player_is_away_everyone_is_told_when_the_win_can_be_claimed(store):
    timers = Timers()
    host, guest = Inbox(), Inbox()
    service, game = await guest_gone(store, timers, host, guest)
    assert host.of("presence")[-1]["yellow"] == "disconnected"
    assert host.of("presence")[-1]["yellow_claimable_in"] == 60.0
    assert "red_claimable_in" not in host.of("presence")[-1]
    timers.advance(45.0)
    watcher = Inbox()
    await service.watch(watcher, game.state.watch_key)
    assert watcher.of("state")[0]["yellow_claimable_in"] == 15.0  # a snapshot counts from the same start
    timers.advance(15.0)
    assert host.of("presence")[-1]["yellow"] == "gone"
    assert "yellow_claimable_in" not in host.of("presence")[-1]


class Tutorial(Inbox):
    """A connection that did not negotiate connectfour.v1: it hears the tutorial's messages only."""

    speaks_v1 = False


async def test_a_tutorial_spectator_arriving_is_sent_the_moves_so_far_and_no_presence(store):
    timers = Timers()
    service = GameService(store, grace=60.0, schedule=timers.schedule, clock=timers.clock)
    host, guest, watcher = Tutorial(), Tutorial(), Tutorial()
    game, red = await service.create(host, local=False)
    _, yellow = await service.join(guest, game.state.join_key)
    for role, column in [(red, 3), (yellow, 3), (red, 4)]:
        await service.play(game, role, column)
    await service.watch(watcher, game.state.watch_key)
    service.leave(guest)
    timers.advance(60.0)
    assert watcher.events == [
        {"type": "play", "player": "red", "column": 3, "row": 0},
        {"type": "play", "player": "yellow", "column": 3, "row": 1},
        {"type": "play", "player": "red", "column": 4, "row": 0},
    ]
    assert {event["type"] for event in host.events} == {"init", "play"}


async def test_who_hears_presence_arriving_among_tutorial_clients_is_told_when_a_grace_period_ends(store):
    timers = Timers()
    host, guest = Tutorial(), Tutorial()
    service, game = await guest_gone(store, timers, host, guest)
    timers.advance(59.875)  # the grace period all but over: sooner than the spectator count is next told
    watcher = Inbox()
    await service.watch(watcher, game.state.watch_key)
    assert watcher.of("state")[0]["yellow"] == "disconnected"
    assert 0 < watcher.of("state")[0]["yellow_claimable_in"] <= 0.2
    timers.advance(0.125)
    assert watcher.of("presence")[-1]["yellow"] == "gone"


class HurriedTimers(Timers):
    """A clock that moves on a little each time it is read, as a real one does, and timers that
    fire ``early``, as an event loop's may against the wall clock."""

    def __init__(self, early: float) -> None:
        super().__init__()
        self.early = early

    def clock(self) -> float:
        self.now += 0.000_1
        return self.now

    def schedule(self, delay: float, callback):
        return super().schedule(delay - self.early, callback)


@pytest.mark.parametrize("early", [0.000_1 * n for n in range(12)])
async def test_an_away_seat_turns_gone_even_when_the_clock_moves_while_presence_is_read(store, early):
    timers = HurriedTimers(early)
    host, guest = Inbox(), Inbox()
    service, game = await guest_gone(store, timers, host, guest, grace=1.0)
    timers.advance(0.99)
    for _ in range(400):  # over the grace period's end, a fortieth of a millisecond at a time
        timers.advance(0.000_025)
    presence = host.of("presence")[-1]
    assert presence["yellow"] == "gone" and "yellow_claimable_in" not in presence
    assert all(p.get("yellow_claimable_in", 1) > 0 for p in host.of("presence")), "never a countdown at 0"


async def test_a_player_who_comes_back_is_no_longer_counted_down(store):
    timers = Timers()
    host, guest = Inbox(), Inbox()
    service, game = await guest_gone(store, timers, host, guest)
    timers.advance(10.0)
    back = Inbox()
    await service.resume(back, game.id, game.state.yellow_token)
    presence = host.of("presence")[-1]
    assert presence["yellow"] == "connected" and "yellow_claimable_in" not in presence


async def test_resuming_games_that_do_not_exist_leaves_nothing_behind(store):
    service = GameService(store)
    for number in range(200):
        with pytest.raises(ProtocolError) as refused:
            await service.resume(Inbox(), f"no-such-game-{number}", "no-such-token")
        assert refused.value.code == "game_not_found"
    assert len(store.seats) == 0
    assert not service.games
    assert store.bus.subscribers("no-such-game-0") == 0
