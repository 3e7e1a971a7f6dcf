"""The store contract, run against every implementation."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from connectfour.store import MemoryStore, PlyConflict, SQLiteStore, StoreError
from connectfour.store import sqlite as sqlite_store
from connectfour.store.sqlite import _UNPLAYED, SCHEMA
from records import record


@pytest.fixture(params=["memory", "sqlite", "sqlite-fsync"])
async def store(request, tmp_path):
    if request.param == "memory":
        store = MemoryStore()
    else:
        store = SQLiteStore(tmp_path / "games.db", fsync=request.param == "sqlite-fsync")
    yield store
    await store.close()


async def test_a_created_game_reads_back_whole(store):
    await store.create(record(local=False))
    got = await store.get("g1")
    assert got == record(updated_at=100.0)


async def test_keys_find_their_game_and_kind(store):
    await store.create(record())
    assert await store.find_key("join-g1") == ("g1", "join")
    assert await store.find_key("watch-g1") == ("g1", "watch")
    assert await store.find_key("nope") is None


async def test_a_key_cannot_belong_to_two_games(store):
    await store.create(record())
    with pytest.raises(StoreError):
        await store.create(record("g2", watch_key="watch-g1"))


async def test_the_invite_is_spent_exactly_once(store):
    await store.create(record())
    assert [await store.spend_invite("g1") for _ in range(3)] == [True, False, False]


async def test_moves_append_in_order(store):
    await store.create(record())
    for ply, column in enumerate([3, 3, 4]):
        await store.append("g1", ply, column, at=200.0 + ply)
    got = await store.get("g1")
    assert got.moves == [3, 3, 4] and got.updated_at == 202.0


async def test_a_ply_is_appended_exactly_once(store):
    await store.create(record())
    await store.append("g1", 0, 3, at=1.0)
    with pytest.raises(PlyConflict):
        await store.append("g1", 0, 4, at=1.0)
    assert (await store.get("g1")).moves == [3]


async def test_a_gap_in_the_log_is_refused(store):
    await store.create(record())
    with pytest.raises(PlyConflict):
        await store.append("g1", 1, 4, at=1.0)
    assert (await store.get("g1")).moves == []


async def test_racing_appends_for_one_ply_store_exactly_one(store):
    await store.create(record())
    results = await asyncio.gather(*(store.append("g1", 0, c, at=1.0) for c in range(7)), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, PlyConflict) for r in results if r is not None)
    assert len((await store.get("g1")).moves) == 1


async def test_no_move_is_appended_after_the_end(store):
    await store.create(record())
    assert await store.finish("g1", "yellow", "resign", at=5.0)
    with pytest.raises(PlyConflict):
        await store.append("g1", 0, 3, at=6.0)


async def test_a_game_finishes_once(store):
    await store.create(record())
    assert await store.finish("g1", "red", "four", at=5.0)
    assert not await store.finish("g1", "yellow", "resign", at=6.0)
    got = await store.get("g1")
    assert (got.result, got.reason, got.finished_at) == ("red", "four", 5.0)


async def test_idle_games_are_the_unfinished_ones_without_recent_activity(store):
    await store.create(record("old"))
    await store.create(record("recent", created_at=500.0))
    await store.create(record("done"))
    await store.finish("done", "draw", "full", at=150.0)
    await store.touch("old", at=120.0)
    assert await store.idle_games(before=300.0) == ["old"]


async def test_prune_deletes_games_without_recent_activity(store):
    await store.create(record("old"))
    await store.append("old", 0, 1, at=110.0)
    await store.create(record("new", created_at=900.0))
    assert await store.prune(before=500.0) == 1
    assert await store.get("old") is None and await store.find_key("watch-old") is None
    assert await store.get("new") is not None


async def test_sqlite_keeps_everything_across_reopening(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await first.create(record())
    await first.spend_invite("g1")
    await first.append("g1", 0, 5, at=2.0)
    await first.close()
    second = SQLiteStore(path)
    got = await second.get("g1")
    await second.close()
    assert got.moves == [5] and got.invite_spent and got.red_token == "red-g1"


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


async def test_a_recent_move_keeps_a_game_from_idling_and_from_pruning(store):
    await store.create(record("busy"))
    await store.append("busy", 0, 3, at=400.0)
    assert await store.idle_games(before=300.0) == []
    assert await store.prune(before=300.0) == 0
    assert await store.idle_games(before=500.0) == ["busy"]


async def test_sqlite_opens_a_database_of_the_first_schema(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE moves (game_id TEXT NOT NULL, ply INTEGER NOT NULL, col INTEGER NOT NULL,"
            " PRIMARY KEY (game_id, ply)) WITHOUT ROWID;"
        )
    store = SQLiteStore(path)
    await store.create(record())
    await store.append("g1", 0, 2, at=7.0)
    assert (await store.get("g1")).moves == [2]
    await store.close()


async def test_delete_unplayed_deletes_an_idle_game_without_a_move_and_its_keys(store):
    await store.create(record("idle"))
    assert await store.delete_unplayed(before=500.0) == 1
    assert await store.get("idle") is None
    assert await store.find_key("join-idle") is None and await store.find_key("watch-idle") is None


async def test_delete_unplayed_keeps_a_game_with_a_move(store):
    await store.create(record("played"))
    await store.append("played", 0, 3, at=110.0)
    assert await store.delete_unplayed(before=500.0) == 0
    assert (await store.get("played")).moves == [3]


async def test_delete_unplayed_keeps_a_game_with_recent_activity(store):
    await store.create(record("recent", created_at=600.0))
    assert await store.delete_unplayed(before=500.0) == 0
    assert await store.get("recent") is not None


async def test_delete_unplayed_deletes_a_game_that_ended_without_a_move(store):
    await store.create(record("abandoned"))
    await store.finish("abandoned", "abandoned", "expired", at=150.0)
    assert await store.delete_unplayed(before=500.0) == 1
    assert await store.get("abandoned") is None


async def test_delete_unplayed_spares_the_games_to_keep(store):
    await store.create(record("kept"))
    await store.create(record("gone"))
    assert await store.delete_unplayed(before=500.0, keep={"kept"}) == 1
    assert await store.get("kept") is not None and await store.get("gone") is None


async def test_sqlite_deletes_an_unplayed_game_stored_by_an_earlier_run(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await first.create(record("idle"))
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
            await store.create(record(f"g{n}"))
        deleting = asyncio.create_task(store.delete_unplayed(before=500.0))
        await asyncio.sleep(0)  # the first chunk is gone, the task waits for its next turn
        assert await store.get("g0") is None and await store.get("g29") is not None
        await store.append("g29", 0, 3, at=200.0)
        assert await deleting == 29
        assert (await store.get("g29")).moves == [3]
    finally:
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
        [(_, _, _, plan)] = store._db.execute("EXPLAIN QUERY PLAN " + _UNPLAYED, (500.0,)).fetchall()
        assert "USING INDEX games_unplayed" in plan
        assert await store.delete_unplayed(before=500.0) == 1
    finally:
        await store.close()


async def test_a_game_against_the_computer_reads_back_with_its_seat_and_level(store):
    await store.create(record(computer="yellow", level=3))
    got = await store.get("g1")
    assert (got.computer, got.level) == ("yellow", 3)


async def test_sqlite_remembers_the_computer_seat_across_a_restart(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await first.create(record(computer="red", level=4))
    await first.append("g1", 0, 3, at=110.0)
    await first.close()
    second = SQLiteStore(path)
    try:
        got = await second.get("g1")
        assert (got.computer, got.level, got.moves) == ("red", 4, [3])
    finally:
        await second.close()


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
        assert (got.computer, got.level, got.moves) == (None, 0, [3, 4])
        await store.create(record("g2", computer="yellow", level=1))
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
