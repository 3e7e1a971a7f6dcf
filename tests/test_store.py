"""The store contract, run against every implementation."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3

import msgspec
import pytest
from records import create, created, moves, play, record

from connectfour.bus import LocalBus
from connectfour.domain.events import (
    Claimed,
    Created,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    RematchStarted,
    Resigned,
)
from connectfour.domain.seats import Holder
from connectfour.domain.state import GameState
from connectfour.store import ConditionFailed, MemoryStore, SQLiteStore, StoreError, VersionConflict
from connectfour.store.sqlite import SCHEMA, rows
from connectfour.store.sqlite import store as sqlite_store
from connectfour.store.sqlite.schema import UNPLAYED

RED_WINS = [3, 3, 4, 4, 5, 5, 6]
A1, A2, B1 = Holder("A", 1), Holder("A", 2), Holder("B", 1)


@pytest.fixture(params=["memory", "sqlite", "sqlite-fsync", "redis"])
async def store(request, tmp_path):
    if request.param == "memory":
        store = MemoryStore()
    elif request.param == "redis":
        from connectfour.store.redis import RedisStore

        store = RedisStore(request.getfixturevalue("redis_url"))
    else:
        store = SQLiteStore(tmp_path / "games.db", fsync=request.param == "sqlite-fsync")
    yield store
    await store.close()


async def announced(store) -> None:
    """Let every announcement made so far arrive: the next loop turn for the in-process
    bus; for Redis, until the bus's connection has read all the server sent before now."""
    flush = getattr(store.bus, "flush", None)
    if flush is not None:
        await flush()
    await asyncio.sleep(0)


async def events_of(store, game_id: str = "g1", after: int = 0) -> list:
    return [event for _, event in await store.read(game_id, after)]


# -- creating -------------------------------------------------------------------------


async def test_a_created_game_reads_back_whole(store):
    await create(store)
    assert await store.get("g1") == record()
    assert await store.read("g1") == [(1, created())]


async def test_an_unknown_game_has_no_record_and_no_events(store):
    assert await store.get("nope") is None
    assert await store.read("nope") == []


async def test_keys_find_their_game_and_kind(store):
    await create(store)
    assert await store.find_key("join-g1") == ("g1", "join")
    assert await store.find_key("watch-g1") == ("g1", "watch")
    assert await store.find_key("nope") is None


async def test_a_key_cannot_belong_to_two_games(store):
    await create(store)
    with pytest.raises(StoreError):
        await create(store, "g2", watch_key="watch-g1")
    with pytest.raises(StoreError):
        await create(store, "g3", join_key="watch-g1")
    assert await store.get("g2") is None and await store.get("g3") is None


async def test_a_game_is_created_once(store):
    await create(store)
    with pytest.raises(StoreError):
        await create(store, "g1", watch_key="other-watch", join_key=None)
    assert await store.read("g1") == [(1, created())]


async def test_a_game_starts_at_version_1(store):
    with pytest.raises(VersionConflict) as conflict:
        await store.append("g1", 2, created())
    assert conflict.value.last == 0 and await store.get("g1") is None


async def test_an_event_for_an_unknown_game_conflicts_at_version_0(store):
    with pytest.raises(VersionConflict) as conflict:
        await store.append("nope", 2, Joined(at=1.0))
    assert conflict.value.last == 0


# -- versions -------------------------------------------------------------------------


async def test_events_append_in_order(store):
    await create(store)
    await store.append("g1", 2, Joined(at=150.0))
    assert await play(store, "g1", [3, 3, 4], at=200.0) == 5
    got = await store.get("g1")
    assert (got.version, got.moves, got.invite_spent, got.updated_at) == (5, [3, 3, 4], True, 202.0)


async def test_a_version_is_appended_exactly_once(store):
    await create(store)
    await store.append("g1", 2, Moved(at=200.0, player="red", column=3))
    with pytest.raises(VersionConflict) as conflict:
        await store.append("g1", 2, Moved(at=200.0, player="red", column=4))
    assert conflict.value.last == 2
    assert (await store.get("g1")).moves == [3]
    assert await events_of(store, after=1) == [Moved(at=200.0, player="red", column=3)]


async def test_a_gap_in_the_log_is_refused(store):
    await create(store)
    with pytest.raises(VersionConflict) as conflict:
        await store.append("g1", 3, Moved(at=1.0, player="red", column=4))
    assert conflict.value.last == 1
    assert (await store.get("g1")).moves == [] and len(await store.read("g1")) == 1


async def test_racing_appends_for_one_version_store_exactly_one(store):
    await create(store)
    results = await asyncio.gather(
        *(store.append("g1", 2, Moved(at=1.0, player="red", column=c)) for c in range(7)), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, VersionConflict) and r.last == 2 for r in results if r is not None)
    assert len((await store.get("g1")).moves) == 1 and len(await store.read("g1")) == 2


async def test_a_read_after_version_n_returns_exactly_the_rest(store):
    await create(store)
    await store.append("g1", 2, Joined(at=150.0))
    await play(store, "g1", [3, 3, 4])
    everything = await store.read("g1")
    assert [version for version, _ in everything] == [1, 2, 3, 4, 5]
    for after in range(7):
        assert await store.read("g1", after) == everything[after:]


async def test_versions_are_each_games_newest(store):
    await create(store, "g1")
    await create(store, "g2")
    await play(store, "g2", [3, 3])
    assert await store.versions(["g2", "nope", "g1"]) == {"g2": 3, "nope": 0, "g1": 1}
    assert await store.versions([]) == {}


# -- the end of a game -----------------------------------------------------------------


async def test_a_winning_move_ends_the_game_in_the_same_append(store):
    await create(store, local=True, join_key=None)
    assert await play(store, "g1", RED_WINS, at=200.0) == 8
    got = await store.get("g1")
    assert (got.result, got.reason, got.finished_at) == ("red", "four", 206.0)
    assert (await events_of(store))[-1] == Moved(at=206.0, player="red", column=6, end="four")


async def test_a_resignation_racing_the_winning_move_conflicts(store):
    await create(store, local=True, join_key=None)
    await play(store, "g1", RED_WINS[:-1])
    await store.append("g1", 8, moves(RED_WINS)[-1])
    with pytest.raises(VersionConflict) as conflict:
        await store.append("g1", 8, Resigned(at=300.0, player="red"))
    assert conflict.value.last == 8
    got = await store.get("g1")
    assert (got.result, got.reason, got.version) == ("red", "four", 8)


async def test_a_full_board_ends_in_a_draw(store):
    from connectfour.bench.games import DRAW

    await create(store, local=True, join_key=None)
    await play(store, "g1", DRAW, at=200.0)
    got = await store.get("g1")
    assert (got.result, got.reason, got.finished_at) == ("draw", "full", 200.0 + len(DRAW) - 1)


async def test_a_resignation_ends_the_game_for_the_other_player(store):
    await create(store)
    await store.append("g1", 2, Joined(at=150.0))
    await store.append("g1", 3, Resigned(at=160.0, player="red"))
    got = await store.get("g1")
    assert (got.result, got.reason, got.finished_at, got.updated_at) == ("yellow", "resign", 160.0, 160.0)


# -- conditions -------------------------------------------------------------------------


async def seated(store) -> None:
    """g1, joined, red held by A1 and yellow by A2 since 0.0; A alive until 15.0."""
    await create(store)
    await store.append("g1", 2, Joined(at=0.0))
    await store.seats.renew("A", 0.0)
    await store.seats.take("g1", ("red",), A1, 0.0)
    await store.seats.take("g1", ("yellow",), A2, 0.0)


async def test_an_append_on_a_presence_still_at_its_seq_is_stored(store):
    await seated(store)
    presence = await store.seats.presence("g1", 10.0)
    await store.append("g1", 3, Claimed(at=10.0, player="red", grace=0.0), presence_seq=presence.seq)
    got = await store.get("g1")
    assert (got.result, got.reason, got.version) == ("red", "claim", 3)


@pytest.mark.parametrize(
    "change",
    [
        lambda store: store.seats.leave("g1", A2, 10.0),
        lambda store: store.seats.take("g1", ("yellow",), B1, 10.0),
        lambda store: store.seats.watch("g1", "B", 1, 10.0),
    ],
    ids=["a seat left", "a seat taken", "a spectator came"],
)
async def test_an_append_on_a_presence_that_changed_since_is_refused_and_nothing_is_stored(store, change):
    await seated(store)
    presence = await store.seats.presence("g1", 10.0)
    await change(store)
    with pytest.raises(ConditionFailed):
        await store.append("g1", 3, Claimed(at=10.0, player="red", grace=0.0), presence_seq=presence.seq)
    assert (await store.get("g1")).version == 2
    assert [type(event) for event in await events_of(store)] == [Created, Joined]


async def test_an_append_without_a_presence_seq_compares_only_the_version(store):
    await seated(store)
    await store.append("g1", 3, Expired(at=10.0))
    assert (await store.get("g1")).reason == "expired"


async def test_the_seats_of_an_ended_game_are_forgotten_once_empty(store):
    await create(store, local=True, join_key=None)
    assert (await store.seats.presence("g1", 10.0)).red_left == 10.0
    await play(store, "g1", RED_WINS)
    assert (await store.seats.presence("g1", 50.0)).red_left == 50.0  # a first look again


# -- announcements ----------------------------------------------------------------------


class RecordingBus(LocalBus):
    """A bus that notes each publish where it happens."""

    def __init__(self, order: list) -> None:
        super().__init__()
        self.order = order

    def publish(self, game_id: str, version: int, event) -> None:
        if version:  # (version 0: the seats' presence)
            self.order.append(("published", game_id, version, event))
        super().publish(game_id, version, event)


@pytest.fixture(params=["memory", "sqlite"])
async def recorded(request, tmp_path):
    order: list = []
    bus = RecordingBus(order)
    store = MemoryStore(bus=bus) if request.param == "memory" else SQLiteStore(tmp_path / "games.db", bus=bus)
    yield store, order
    await store.close()


async def test_a_stored_event_is_announced_with_its_version_before_its_sender_hears(recorded):
    store, order = recorded

    def deliver(game_id: str, version: int, event) -> None:
        order.append(("delivered", game_id, version, event))

    done = asyncio.get_running_loop().create_future()

    def committed(error) -> None:
        order.append(("committed", error))
        done.set_result(None)

    await create(store)
    await store.bus.subscribe("g1", deliver)
    order.clear()
    move = Moved(at=1.0, player="red", column=3)
    store.append_nowait("g1", 2, move, committed)
    await done
    await asyncio.sleep(0)
    assert order == [("published", "g1", 2, move), ("committed", None), ("delivered", "g1", 2, move)]


async def test_a_refused_event_is_not_announced(recorded):
    store, order = recorded
    await create(store)
    order.clear()
    with pytest.raises(VersionConflict):
        await store.append("g1", 3, Joined(at=1.0))
    presence = await store.seats.presence("g1", 0.0)
    await store.seats.renew("A", 0.0)
    await store.seats.take("g1", ("red",), A1, 0.0)
    with pytest.raises(ConditionFailed):
        await store.append("g1", 2, Expired(at=1.0), presence_seq=presence.seq)
    assert [entry for entry in order if entry[0] == "published"] == []


async def test_every_event_is_announced_once_in_version_order(store):
    heard: list = []
    await store.bus.subscribe("g1", lambda game_id, version, event: heard.append((version, event)) if version else None)
    await create(store, local=True, join_key=None)
    await play(store, "g1", RED_WINS)
    await announced(store)
    assert heard == list(enumerate([created(local=True, join_key=None), *moves(RED_WINS)], 1))


# -- reading back -----------------------------------------------------------------------


def full_game() -> list:
    """Every kind of event, in an order a game allows (after ``created()``)."""
    return [
        Joined(at=150.0),
        *moves([3, 3, 4], at=200.0),
        Resigned(at=300.0, player="yellow"),
        RematchOffered(at=310.0, player="red"),
        RematchOffered(at=320.0, player="yellow"),
        RematchStarted(at=320.0, game="g2"),
    ]


async def test_the_events_read_back_replay_to_the_game_that_was_played(store):
    events = [created(), *full_game()]
    live = GameState("g1")
    for version, event in enumerate(events, 1):
        live.apply(event)
        await store.append("g1", version, event)
    read = await events_of(store)
    assert [type(event) for event in read] == [type(event) for event in events]
    replayed = GameState.replay("g1", read)  # raises if the log is not a game
    for name in ("version", "status", "result", "reason", "finished_at", "invite_spent", "rematch",
                 "rematch_offers", "created_at", "red_token", "watch_key", "join_key"):  # fmt: skip
        assert getattr(replayed, name) == getattr(live, name), name
    assert replayed.board.moves == live.board.moves == [3, 3, 4]


async def test_moves_read_back_with_their_players_and_ends(store):
    await create(store, local=True, join_key=None)
    await play(store, "g1", RED_WINS)
    read = await events_of(store, after=1)
    assert [(e.player, e.column, e.end) for e in read] == [(e.player, e.column, e.end) for e in moves(RED_WINS)]
    assert GameState.replay("g1", await events_of(store)).result == "red"


async def test_a_game_against_the_computer_reads_back_with_its_seat_and_level(store):
    await create(store, computer="yellow", level=3, join_key=None)
    got = await store.get("g1")
    assert (got.computer, got.level) == ("yellow", 3)
    assert (await events_of(store))[0] == created(computer="yellow", level=3, join_key=None)


# -- sweeps -----------------------------------------------------------------------------


async def test_idle_games_are_the_unfinished_ones_without_recent_activity(store):
    await create(store, "old")
    await create(store, "recent", at=500.0)
    await create(store, "done")
    await store.append("done", 2, Expired(at=150.0))
    await store.touch("old", at=120.0)
    assert await store.idle_games(before=300.0) == ["old"]


async def test_touching_an_unknown_game_fails(store):
    with pytest.raises(StoreError):
        await store.touch("nope", at=1.0)


async def test_prune_deletes_games_without_recent_activity(store):
    await create(store, "old")
    await play(store, "old", [1], at=110.0)
    await create(store, "new", at=900.0)
    assert await store.prune(before=500.0) == 1
    assert await store.get("old") is None and await store.find_key("watch-old") is None
    assert await store.read("old") == []
    assert await store.get("new") is not None


async def test_a_recent_move_keeps_a_game_from_idling_and_from_pruning(store):
    await create(store, "busy")
    await play(store, "busy", [3], at=400.0)
    assert await store.idle_games(before=300.0) == []
    assert await store.prune(before=300.0) == 0
    assert await store.idle_games(before=500.0) == ["busy"]


async def test_delete_unplayed_deletes_an_idle_game_without_a_move_and_its_keys(store):
    await create(store, "idle")
    assert await store.delete_unplayed(before=500.0) == 1
    assert await store.get("idle") is None and await store.read("idle") == []
    assert await store.find_key("join-idle") is None and await store.find_key("watch-idle") is None


async def test_a_deleted_game_can_take_no_more_events(store):
    await create(store, "idle")
    assert await store.delete_unplayed(before=500.0) == 1
    with pytest.raises(VersionConflict) as conflict:
        await store.append("idle", 2, Joined(at=600.0))
    assert conflict.value.last == 0


async def test_deleting_a_game_forgets_its_seats(store):
    await create(store, "idle")
    await store.seats.presence("idle", 10.0)
    assert await store.delete_unplayed(before=500.0) == 1
    assert (await store.seats.presence("idle", 600.0)).red_left == 600.0


async def test_delete_unplayed_keeps_a_game_with_a_move(store):
    await create(store, "played")
    await play(store, "played", [3], at=110.0)
    assert await store.delete_unplayed(before=500.0) == 0
    assert (await store.get("played")).moves == [3]


async def test_delete_unplayed_keeps_a_game_with_recent_activity(store):
    await create(store, "recent", at=600.0)
    assert await store.delete_unplayed(before=500.0) == 0
    assert await store.get("recent") is not None


async def test_delete_unplayed_deletes_a_game_that_ended_without_a_move(store):
    await create(store, "abandoned")
    await store.append("abandoned", 2, Expired(at=150.0))
    assert await store.delete_unplayed(before=500.0) == 1
    assert await store.get("abandoned") is None


async def test_delete_unplayed_spares_the_games_to_keep(store):
    await create(store, "kept")
    await create(store, "gone")
    assert await store.delete_unplayed(before=500.0, keep={"kept"}) == 1
    assert await store.get("kept") is not None and await store.get("gone") is None


# -- SQLite -----------------------------------------------------------------------------


def stored_row(path, game_id: str = "g1") -> tuple:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT moves, log, rematch, result, reason FROM games WHERE id = ?", (game_id,)).fetchone()


async def test_sqlite_keeps_every_event_across_reopening(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    for version, event in enumerate([created(), *full_game()], 1):
        await first.append("g1", version, event)
    before = await first.read("g1")
    await first.close()
    second = SQLiteStore(path)
    try:
        assert await second.read("g1") == before
        got = await second.get("g1")
        assert (got.version, got.moves, got.invite_spent, got.red_token) == (9, [3, 3, 4], True, "red-g1")
        await second.append("g1", 10, RematchOffered(at=400.0, player="red"))  # the log goes on
        assert (await second.get("g1")).version == 10
    finally:
        await second.close()


async def test_sqlite_keeps_the_ids_and_keys_of_the_games_it_holds_taken_across_reopening(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await create(first)
    await first.close()
    second = SQLiteStore(path)
    try:
        with pytest.raises(VersionConflict):
            await create(second, "g1", watch_key="other-watch", join_key=None)
        with pytest.raises(StoreError, match="g1 already exists"):
            await second.append("g1", 2, created("g1", watch_key="other-watch", join_key=None))
        with pytest.raises(StoreError, match="keys already exist"):
            await create(second, "g2", watch_key="watch-g1")
        with pytest.raises(StoreError, match="keys already exist"):
            await create(second, "g3", join_key="join-g1")
        with pytest.raises(VersionConflict):
            await second.append("g4", 2, created("g4"))
        await create(second, "g5")  # an id and keys of its own
        assert await second.read("g1") == [(1, created())]
        assert [await second.get(game_id) for game_id in ("g2", "g3", "g4")] == [None, None, None]
    finally:
        await second.close()


async def test_sqlite_keeps_the_log_one_character_per_event(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    for version, event in enumerate([created(), *full_game()], 1):
        await store.append("g1", version, event)
    await create(store, "g2", local=True, join_key=None)
    await play(store, "g2", RED_WINS)
    await store.append("g2", 9, RematchOffered(at=400.0, player="yellow"))
    await create(store, "g3")
    await store.append("g3", 2, Claimed(at=400.0, player="yellow", grace=0.0))
    await store.close()
    assert stored_row(path, "g1") == ("334", "J334yopS", "g2", "red", "resign")
    assert stored_row(path, "g2") == ("3344556", "3344556p", None, "red", "four")
    assert stored_row(path, "g3") == ("", "Y", None, "yellow", "claim")


#: Times as a clock gives them (their ``repr`` 17 or 18 digits long), one before the game's creation.
CLOCK = 1718000000.1234567


def timed_game() -> list:
    """A game with every kind of event, each at a time of its own: a claim ends it."""
    at = [CLOCK + n * 2.718281828 for n in range(12)]
    return [
        created(at=CLOCK),
        Joined(at=at[1], name="Ada"),
        *[msgspec.structs.replace(move, at=at[2 + n]) for n, move in enumerate(moves([3, 3, 4, 4]))],
        Moved(at=CLOCK - 0.1, player="red", column=0),  # a clock that went back
        Claimed(at=at[7], player="red", grace=61.25),
        RematchOffered(at=at[8], player="yellow"),
        RematchOffered(at=at[9], player="red"),
        RematchStarted(at=at[9], game="g2"),
    ]


async def test_sqlite_keeps_each_events_time_in_memory_after_a_fold_and_across_reopening(tmp_path):
    path = tmp_path / "games.db"
    game = timed_game()
    store = SQLiteStore(path)
    try:
        for version, event in enumerate(game, 1):
            await store.append("g1", version, event)
        await store.touch("g1", CLOCK + 100.0)  # activity changes no event's time
        assert await events_of(store) == game  # in memory
        store._folder.fold_everything(restart=True)
        assert not store._dirty and await events_of(store) == game  # from SQLite
        await store.append("g1", len(game) + 1, RematchOffered(at=CLOCK + 200.0, player="red"))
        game.append(RematchOffered(at=CLOCK + 200.0, player="red"))
    finally:
        await store.close()
    again = SQLiteStore(path)
    try:
        assert await events_of(again) == game
    finally:
        await again.close()


async def test_sqlite_keeps_each_time_whatever_float_it_is(tmp_path):
    """Times far from the creation's, of another sign or exponent, all come back exactly."""
    path = tmp_path / "games.db"
    ats = [100.0, 1e-300, 0.0, 5e-324, 1.7976931348623157e308, 0.1, 99.99999999999999, 1e15 + 0.5]
    game = [created(at=100.0), *[RematchOffered(at=at, player="red") for at in ats]]
    store = SQLiteStore(path)
    for version, event in enumerate(game, 1):
        await store.append("g1", version, event)
    await store.close()
    again = SQLiteStore(path)
    try:
        assert [event.at for event in await events_of(again)] == [100.0, *ats]
    finally:
        await again.close()


async def test_sqlite_reads_only_what_the_journal_holds(tmp_path):
    store = SQLiteStore(tmp_path / "games.db")
    try:
        await create(store)
        outcome: list = []
        store.append_nowait("g1", 2, Joined(at=150.0), outcome.append)
        assert outcome == []  # waiting for its journal write
        read = await store.read("g1")
        assert outcome == [None] and read == [(1, created()), (2, Joined(at=150.0))]
        store.append_nowait("g1", 3, Moved(at=200.0, player="red", column=3), outcome.append)
        assert await store.versions(["g1"]) == {"g1": 3} and outcome == [None, None]
    finally:
        await store.close()


async def test_sqlite_finds_versions_in_memory_and_in_the_database(tmp_path, monkeypatch):
    monkeypatch.setattr(rows, "QUERY_CHUNK", 2)
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    for n in range(5):
        await create(first, f"g{n}")
        await play(first, f"g{n}", [3] * n)
    await first.close()
    second = SQLiteStore(path)
    try:
        await play(second, "g1", [4])  # in memory, newer than its row
        wanted = ["g4", "g1", "nope", "g0", "g3", "g2"]
        assert await second.versions(wanted) == {"g4": 5, "g1": 3, "nope": 0, "g0": 1, "g3": 4, "g2": 3}
    finally:
        await second.close()


async def test_sqlite_uses_wal(tmp_path):
    store = SQLiteStore(tmp_path / "games.db")
    await store.close()
    with sqlite3.connect(tmp_path / "games.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_sqlite_store_refuses_a_path_it_cannot_open(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError):
        SQLiteStore(blocker / "games.db")


async def test_sqlite_folds_an_older_record_over_a_newer_row_without_change(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    try:
        await create(store)
        await store.append("g1", 2, Joined(at=150.0))
        older = store._dirty["g1"]
        snapshot = dataclasses.replace(older, moves=[], log="J", times=[150.0])
        await play(store, "g1", [3, 3])
        store._folder.fold_everything(restart=True)
        rows.upsert(store._db, [snapshot])
        assert stored_row(path) == ("33", "J33", None, None, None)
        assert (await store.get("g1")).version == 4
        assert [event.at for event in await events_of(store)] == [100.0, 150.0, 200.0, 201.0]
    finally:
        await store.close()


async def test_sqlite_deletes_an_unplayed_game_stored_by_an_earlier_run(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await create(first, "idle")
    await first.close()
    second = SQLiteStore(path)
    try:
        assert await second.delete_unplayed(before=500.0) == 1
        assert await second.get("idle") is None and await second.find_key("watch-idle") is None
    finally:
        await second.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM games").fetchone()[0] == 0


async def test_sqlite_keeps_a_game_played_while_a_long_deletion_lets_moves_through(tmp_path, monkeypatch):
    """A deletion of many games yields between chunks; a game played meanwhile is no longer unplayed."""
    monkeypatch.setattr(sqlite_store, "DELETE_CHUNK", 10)
    store = SQLiteStore(tmp_path / "games.db")
    try:
        for n in range(30):
            await create(store, f"g{n}")
        deleting = asyncio.create_task(store.delete_unplayed(before=500.0))
        await asyncio.sleep(0)  # the first chunk is gone, the task waits for its next turn
        assert await store.get("g0") is None and await store.get("g29") is not None
        await play(store, "g29", [3], at=200.0)
        assert await deleting == 29
        assert (await store.get("g29")).moves == [3]
    finally:
        await store.close()


async def test_sqlite_remembers_the_computer_seat_across_a_restart(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await create(first, computer="red", level=4, join_key=None)
    await play(first, "g1", [3], at=110.0)
    await first.close()
    second = SQLiteStore(path)
    try:
        got = await second.get("g1")
        assert (got.computer, got.level, got.moves, got.version) == ("red", 4, [3], 2)
    finally:
        await second.close()


# -- SQLite: databases of earlier versions ---------------------------------------------------

#: The games table before the event log (the schema of the previous commit).
BEFORE_EVENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id           TEXT PRIMARY KEY,
    watch_key    TEXT NOT NULL UNIQUE,
    join_key     TEXT UNIQUE,
    red_token    TEXT NOT NULL,
    yellow_token TEXT NOT NULL,
    local        INTEGER NOT NULL,
    invite_spent INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    result       TEXT,
    reason       TEXT,
    finished_at  REAL,
    rematch_of   TEXT,
    moves        TEXT NOT NULL DEFAULT '',
    computer     TEXT,
    level        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS games_open ON games (updated_at) WHERE result IS NULL;
CREATE INDEX IF NOT EXISTS games_updated ON games (updated_at);
CREATE INDEX IF NOT EXISTS games_unplayed ON games (updated_at) WHERE moves = '';
"""

#: (id, join_key, local, invite_spent, result, reason, moves): every way a game could stand.
BEFORE_EVENTS_GAMES = [
    ("waiting", "j1", 0, 0, None, None, ""),
    ("joined", "j2", 0, 1, None, None, "33"),
    ("local", None, 1, 1, "red", "four", "3344556"),
    ("resigned", "j3", 0, 1, "red", "resign", "3"),
    ("claimed", "j4", 0, 1, "yellow", "claim", "34"),
    ("expired", "j5", 0, 0, "abandoned", "expired", ""),
    ("rematch", None, 0, 1, "yellow", "resign", ""),
    ("computer", None, 0, 1, None, None, "0"),
]

#: The log each of those games gets.
BEFORE_EVENTS_LOGS = {
    "waiting": "",
    "joined": "J33",
    "local": "3344556",
    "resigned": "J3y",
    "claimed": "J34Y",
    "expired": "E",
    "rematch": "r",
    "computer": "0",
}


def database_before_events(path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(BEFORE_EVENTS_SCHEMA)
        for game_id, join, local, spent, result, reason, columns in BEFORE_EVENTS_GAMES:
            db.execute(
                "INSERT INTO games (id, watch_key, join_key, red_token, yellow_token, local, invite_spent,"
                " created_at, updated_at, result, reason, finished_at, moves)"
                " VALUES (?, ?, ?, 'r', 'y', ?, ?, 1.0, 9.0, ?, ?, ?, ?)",
                (game_id, f"w-{game_id}", join, local, spent, result, reason, 9.0 if result else None, columns),
            )


async def test_sqlite_gives_a_database_made_before_events_the_log_of_each_game(tmp_path):
    path = tmp_path / "old.db"
    database_before_events(path)
    store = SQLiteStore(path)
    try:
        for game_id, _, _, _, result, reason, columns in BEFORE_EVENTS_GAMES:
            events = await events_of(store, game_id)
            state = GameState.replay(game_id, events)  # raises if the log is not a game
            got = await store.get(game_id)
            assert len(events) == got.version == 1 + len(BEFORE_EVENTS_LOGS[game_id]), game_id
            assert (state.result, state.reason, state.board.moves) == (result, reason, [int(c) for c in columns])
            assert state.invite_spent == got.invite_spent and state.finished_at == got.finished_at
        await store.append("joined", 5, moves([3, 3, 4])[-1])  # the logs go on from there
        assert (await store.get("joined")).moves == [3, 3, 4]
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert dict(db.execute("SELECT id, log FROM games")) == {**BEFORE_EVENTS_LOGS, "joined": "J334"}


async def test_sqlite_opens_a_database_of_the_first_schema(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE moves (game_id TEXT NOT NULL, ply INTEGER NOT NULL, col INTEGER NOT NULL,"
            " PRIMARY KEY (game_id, ply)) WITHOUT ROWID;"
        )
    store = SQLiteStore(path)
    await create(store)
    await play(store, "g1", [2], at=7.0)
    assert (await store.get("g1")).moves == [2]
    await store.close()


async def test_an_existing_database_gains_the_index_that_finds_unplayed_games(tmp_path):
    """A database made before the index existed: finding nothing to delete must not read every game."""
    path = tmp_path / "games.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)  # the tables and indexes of the previous version
        db.execute(
            "INSERT INTO games (id, watch_key, red_token, yellow_token, local, created_at, updated_at, moves)"
            " VALUES ('g1', 'w', 'r', 'y', 0, 1.0, 1.0, '')"
        )
    store = SQLiteStore(path)
    try:
        [(_, _, _, plan)] = store._db.execute("EXPLAIN QUERY PLAN " + UNPLAYED, (500.0,)).fetchall()
        assert "USING INDEX games_unplayed" in plan
        assert await store.delete_unplayed(before=500.0) == 1
    finally:
        await store.close()


async def test_sqlite_opens_a_database_made_before_games_against_the_computer(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(PREVIOUS_SCHEMA)
        db.execute(
            "INSERT INTO games (id, watch_key, red_token, yellow_token, local, created_at, updated_at, moves)"
            " VALUES ('g1', 'w', 'r', 'y', 0, 1.0, 1.0, '34')"
        )
    store = SQLiteStore(path)
    try:
        got = await store.get("g1")
        assert (got.computer, got.level, got.moves, got.version) == (None, 0, [3, 4], 3)
        await create(store, "g2", computer="yellow", level=1)
        assert (await store.get("g2")).computer == "yellow"
    finally:
        await store.close()


#: The games table before games against the computer (no computer, no level).
PREVIOUS_SCHEMA = """
CREATE TABLE games (
    id           TEXT PRIMARY KEY,
    watch_key    TEXT NOT NULL UNIQUE,
    join_key     TEXT UNIQUE,
    red_token    TEXT NOT NULL,
    yellow_token TEXT NOT NULL,
    local        INTEGER NOT NULL,
    invite_spent INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    result       TEXT,
    reason       TEXT,
    finished_at  REAL,
    rematch_of   TEXT,
    moves        TEXT NOT NULL DEFAULT ''
);
"""


#: The games table before each event's time was kept (no times, no grace).
BEFORE_TIMES_SCHEMA = """
CREATE TABLE games (
    id TEXT PRIMARY KEY, watch_key TEXT NOT NULL UNIQUE, join_key TEXT UNIQUE, red_token TEXT NOT NULL,
    yellow_token TEXT NOT NULL, local INTEGER NOT NULL, invite_spent INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, result TEXT, reason TEXT, finished_at REAL,
    rematch_of TEXT, moves TEXT NOT NULL DEFAULT '', computer TEXT, level INTEGER NOT NULL DEFAULT 0,
    log TEXT NOT NULL DEFAULT '', rematch TEXT, host TEXT NOT NULL DEFAULT 'red', public INTEGER NOT NULL DEFAULT 0,
    match INTEGER NOT NULL DEFAULT 0, red_name TEXT, yellow_name TEXT, joined_by TEXT
);
CREATE INDEX games_open ON games (updated_at) WHERE result IS NULL;
CREATE INDEX games_updated ON games (updated_at);
CREATE INDEX games_unplayed ON games (updated_at) WHERE moves = '';
"""


async def test_sqlite_reads_a_database_made_before_times_as_before_and_keeps_the_times_from_then_on(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(BEFORE_TIMES_SCHEMA)
        db.executemany(
            "INSERT INTO games (id, watch_key, join_key, red_token, yellow_token, local, invite_spent, created_at,"
            " updated_at, result, reason, finished_at, moves, log) VALUES (?, ?, ?, 'r', 'y', 0, 1, 100.0, ?, ?, ?, ?, ?, ?)",
            [
                ("playing", "w1", "j1", 150.0, None, None, None, "33", "J33"),
                ("claimed", "w2", "j2", 190.0, "red", "claim", 180.0, "334", "J334Ro"),
            ],
        )
    store = SQLiteStore(path)
    try:
        # As before: the end at finished_at, every other event at updated_at, a claim's grace 0.0.
        assert [event.at for event in await events_of(store, "playing")] == [100.0, 150.0, 150.0, 150.0]
        claimed = await events_of(store, "claimed")
        assert [event.at for event in claimed] == [100.0, 190.0, 190.0, 190.0, 190.0, 180.0, 190.0]
        assert claimed[5] == Claimed(at=180.0, player="red", grace=0.0)
        # The game goes on, and what it stores from now on keeps its time (and a claim its grace).
        await store.append("playing", 5, Moved(at=CLOCK, player="red", column=4))
        await store.append("playing", 6, Claimed(at=CLOCK + 1.5, player="red", grace=61.25))
        playing = await events_of(store, "playing")
        assert [event.at for event in playing] == [100.0, *[CLOCK + 1.5] * 3, CLOCK, CLOCK + 1.5]
        assert playing[-1] == Claimed(at=CLOCK + 1.5, player="red", grace=61.25)
        state = GameState.replay("playing", playing)
        assert (state.board.moves, state.result, state.reason) == ([3, 3, 4], "red", "claim")
    finally:
        await store.close()
    again = SQLiteStore(path)  # now from the table, as folded
    try:
        assert await events_of(again, "playing") == playing and await events_of(again, "claimed") == claimed
    finally:
        await again.close()
    with sqlite3.connect(path) as db:
        kept = dict(db.execute("SELECT id, times IS NOT NULL AND grace IS NOT NULL FROM games"))
    assert kept == {"playing": 1, "claimed": 0}


# -- the lobby's fields: host, public, quick match, names --------------------------------


async def test_a_public_game_keeps_its_host_and_names_with_its_guest(store):
    await create(store, host="yellow", public=True, match=True, yellow_name="Zoë Ødegård")
    await store.append("g1", 2, Joined(at=101.0, name="O'Brien Jr."))
    got = await store.get("g1")
    assert (got.host, got.public, got.match) == ("yellow", True, True)
    assert (got.red_name, got.yellow_name) == ("O'Brien Jr.", "Zoë Ødegård")
    assert await events_of(store) == [
        created(host="yellow", public=True, match=True, yellow_name="Zoë Ødegård"),
        Joined(at=101.0, name="O'Brien Jr."),
    ]
    state = GameState.replay("g1", await events_of(store))
    assert state.names == {"red": "O'Brien Jr.", "yellow": "Zoë Ødegård"} and state.guest == "red"


async def test_a_guest_without_a_name_has_none(store):
    await create(store, red_name="Ada")
    await store.append("g1", 2, Joined(at=101.0))
    got = await store.get("g1")
    assert (got.red_name, got.yellow_name) == ("Ada", None)
    assert (await events_of(store))[1] == Joined(at=101.0)


async def test_sqlite_keeps_names_across_reopening_from_its_journal_and_its_tables(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await first.append("g1", 1, created(public=True, red_name="Ada Lovelace"))
    await first.append("g1", 2, Joined(at=101.0, name="Grace Hopper"))
    await first.append("g2", 1, created("g2"))
    await first.append("g2", 2, Joined(at=101.0, name="Al-Khwārizmī"))
    before = [await first.read("g1"), await first.read("g2")]
    await first.close()
    for _ in range(2):  # the journal replayed, then the tables it was folded into
        again = SQLiteStore(path)
        try:
            assert [await again.read("g1"), await again.read("g2")] == before
            got = await again.get("g1")
            assert (got.public, got.red_name, got.yellow_name) == (True, "Ada Lovelace", "Grace Hopper")
        finally:
            await again.close()


# -- the quick-match queue ----------------------------------------------------------------


async def test_nobody_waiting_means_no_ticket(store):
    assert await store.match.take(100.0) is None


async def test_the_oldest_ticket_is_taken_first(store):
    from connectfour.store.matching import Ticket

    first, second = Ticket("g1", "j1"), Ticket("g2", "j2")
    assert await store.match.offer(first, 100.0) is None
    assert await store.match.take(100.5) == first
    assert await store.match.offer(first, 101.0) is None
    # An offer when someone waits takes that ticket instead of queueing its own.
    assert await store.match.offer(second, 101.5) == first
    assert await store.match.take(101.5) is None


async def test_a_cancelled_ticket_is_never_taken(store):
    from connectfour.store.matching import Ticket

    await store.match.offer(Ticket("g1", "j1"), 100.0)
    assert await store.match.cancel("g1") is True
    assert await store.match.cancel("g1") is False
    assert await store.match.take(100.0) is None


async def test_a_taken_ticket_cannot_be_cancelled(store):
    from connectfour.store.matching import Ticket

    await store.match.offer(Ticket("g1", "j1"), 100.0)
    await store.match.take(100.0)
    assert await store.match.cancel("g1") is False


async def test_a_ticket_not_renewed_runs_out(store):
    from connectfour.store.matching import Ticket

    ttl = store.match.ttl
    await store.match.offer(Ticket("g1", "j1"), 100.0)
    assert await store.match.offer(Ticket("g2", "j2"), 100.0 + ttl + 1) is None  # g1 ran out: g2 waits
    await store.match.renew(["g2"], 100.0 + 2 * ttl)  # still waiting: lasts another ttl
    assert await store.match.take(100.0 + 2.5 * ttl) == Ticket("g2", "j2")


async def test_a_ticket_that_ran_out_is_not_renewed(store):
    from connectfour.store.matching import Ticket

    ttl = store.match.ttl
    await store.match.offer(Ticket("g1", "j1"), 100.0)
    await store.match.renew(["g1"], 100.0 + ttl + 1)
    assert await store.match.take(100.0 + ttl + 1) is None


async def test_concurrent_offers_pair_up_and_never_both_wait(store):
    from connectfour.store.matching import Ticket

    for round_ in range(20):
        a, b = Ticket(f"a{round_}", "ja"), Ticket(f"b{round_}", "jb")
        results = await asyncio.gather(store.match.offer(a, 100.0), store.match.offer(b, 100.0))
        assert results in ([None, a], [b, None]), results  # one waited, the other took its ticket
        assert await store.match.take(100.0) is None  # the one that waited was taken
