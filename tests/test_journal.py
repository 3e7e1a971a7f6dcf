"""The SQLite store's journal: what a crash, a torn write, a full disk or a second server do to it."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from connectfour.store import StoreError, journal, sqlite
from connectfour.store.sqlite import DatabaseInUse, SQLiteStore, prune_database
from records import record
from servers import ROOT

MOVES = [3, 3, 4, 4, 5, 2]


def stored_moves(path) -> dict[str, str]:
    """What SQLite itself holds, read from another connection."""
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, moves FROM games"))


def segments(path) -> list:
    return sorted(path.parent.glob(f"{path.name}-journal.*"))


def killed_after_storing(path, games: int = 1) -> None:
    """A process that stores MOVES in ``games`` games, then dies by SIGKILL."""
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from connectfour.store import GameRecord, SQLiteStore

        async def main():
            store = SQLiteStore({str(path)!r})
            for n in range({games}):
                game = f"g{{n}}"
                await store.create(GameRecord(id=game, watch_key="w" + game, join_key=None,
                                              red_token="r" + game, yellow_token="y" + game, created_at=1.0))
                for ply, column in enumerate({MOVES!r}):
                    await store.append(game, ply, column, at=2.0 + ply)
            print("stored", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == -signal.SIGKILL and "stored" in done.stdout, done.stderr


async def test_moves_acknowledged_before_a_kill_9_are_there_after_it(tmp_path):
    path = tmp_path / "games.db"
    killed_after_storing(path, games=3)
    assert segments(path), "the killed process left its journal"
    store = SQLiteStore(path)
    try:
        for n in range(3):
            assert (await store.get(f"g{n}")).moves == MOVES
    finally:
        await store.close()


async def test_on_start_the_journal_is_replayed_into_the_database(tmp_path):
    path = tmp_path / "games.db"
    killed_after_storing(path)
    store = SQLiteStore(path)
    try:
        assert stored_moves(path) == {"g0": "334452"}
        assert [p.name for p in segments(path)] == ["games.db-journal.00000002"]
    finally:
        await store.close()


async def test_a_write_cut_short_by_a_crash_is_dropped_and_the_rest_kept(tmp_path, caplog):
    path = tmp_path / "games.db"
    killed_after_storing(path)
    [segment] = segments(path)
    torn = journal.encode(["M g0 6 1 9.0"])
    with segment.open("ab") as log_file:
        log_file.write(torn[:-3])  # the crash hit in the middle of this batch
    with caplog.at_level(logging.WARNING, logger="connectfour.store"):
        store = SQLiteStore(path)
    try:
        assert (await store.get("g0")).moves == MOVES
        assert "dropped" in caplog.text
        await store.append("g0", 6, 1, at=9.0)  # the store goes on from the last whole batch
        assert (await store.get("g0")).moves == MOVES + [1]
    finally:
        await store.close()


async def test_a_batch_whose_checksum_fails_ends_the_log(tmp_path):
    good = journal.encode(["M g 0 3 1.0", "M g 1 4 2.0"])
    bad = bytearray(journal.encode(["M g 2 5 3.0"]))
    bad[-2] ^= 0x01
    records, end = journal.decode(good + bytes(bad) + journal.encode(["M g 3 6 4.0"]))
    assert records == ["M g 0 3 1.0", "M g 1 4 2.0"] and end == len(good)


async def test_a_clean_close_leaves_no_journal_and_every_change_in_sqlite(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    await store.create(record())
    for ply, column in enumerate(MOVES):
        await store.append("g1", ply, column, at=1.0)
    await store.close()
    assert segments(path) == []
    assert stored_moves(path) == {"g1": "334452"}


async def test_the_journal_is_folded_into_sqlite_while_the_server_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite, "FOLD_INTERVAL", 0.0)  # a new segment at every write
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    try:
        await store.create(record())
        for ply, column in enumerate(MOVES):
            await store.append("g1", ply, column, at=1.0)
        async with asyncio.timeout(10):
            while not stored_moves(path)["g1"]:  # the first segment, at least, reaches SQLite
                await asyncio.sleep(0.01)
        assert "334452".startswith(stored_moves(path)["g1"])
        assert (await store.get("g1")).moves == MOVES  # the rest is read from memory
    finally:
        await store.close()


async def test_a_second_server_on_the_same_database_is_refused(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    try:
        with pytest.raises(DatabaseInUse, match=r"in use by another connectfour server \(pid \d+\)"):
            SQLiteStore(path)
    finally:
        await first.close()
    second = SQLiteStore(path)  # free again once the first has closed
    await second.close()


async def test_a_move_the_disk_cannot_take_is_refused_and_loses_nothing(tmp_path):
    """A full disk, as the file-size limit makes it: the write fails part-way through."""
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    await store.create(record())
    await store.append("g1", 0, 3, at=1.0)
    [segment] = segments(path)
    size = segment.stat().st_size
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 5, hard))
    try:
        with pytest.raises(StoreError, match="cannot write the journal"):
            await store.append("g1", 1, 4, at=2.0)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert segment.stat().st_size == size  # the part that went through was cut off again
    assert (await store.get("g1")).moves == [3]
    await store.append("g1", 1, 4, at=2.0)  # the same ply, once there is room
    await store.close()
    assert stored_moves(path) == {"g1": "34"}


async def test_prune_works_while_a_server_holds_the_database(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await first.create(record("old"))
    await first.create(record("new", created_at=900.0))
    await first.close()
    store = SQLiteStore(path)
    try:
        assert await asyncio.to_thread(prune_database, str(path), 500.0) == 1
        assert await store.get("old") is None and await store.get("new") is not None
    finally:
        await store.close()


async def test_prune_after_a_crash_counts_the_moves_the_journal_held(tmp_path):
    path = tmp_path / "games.db"
    killed_after_storing(path)  # g0: created at 1.0, moves at 2.0 to 7.0, only in the journal
    assert await asyncio.to_thread(prune_database, str(path), 5.0) == 0
    assert await asyncio.to_thread(prune_database, str(path), 8.0) == 1


async def test_a_database_of_the_previous_schema_keeps_its_moves(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE games (id TEXT PRIMARY KEY, watch_key TEXT NOT NULL UNIQUE, join_key TEXT UNIQUE,
                red_token TEXT NOT NULL, yellow_token TEXT NOT NULL, local INTEGER NOT NULL,
                invite_spent INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL,
                result TEXT, reason TEXT, finished_at REAL, rematch_of TEXT);
            CREATE TABLE moves (game_id TEXT NOT NULL, ply INTEGER NOT NULL, col INTEGER NOT NULL,
                at REAL NOT NULL DEFAULT 0, PRIMARY KEY (game_id, ply)) WITHOUT ROWID;
            INSERT INTO games VALUES ('g1', 'w', 'j', 'r', 'y', 0, 1, 1.0, 1.0, NULL, NULL, NULL, NULL);
            INSERT INTO moves VALUES ('g1', 1, 6, 3.0), ('g1', 0, 2, 2.0), ('g1', 2, 0, 4.0);
            """
        )
    store = SQLiteStore(path)
    try:
        assert (await store.get("g1")).moves == [2, 6, 0]
        await store.append("g1", 3, 1, at=5.0)
        assert (await store.get("g1")).moves == [2, 6, 0, 1]
    finally:
        await store.close()


async def test_when_sqlite_is_full_the_journal_keeps_every_change_until_there_is_room(tmp_path, caplog):
    """SQLite's own "database or disk is full", provoked by capping the file's pages."""
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")
    for n in range(30):
        await store.create(record(f"g{n}", watch_key="w" * 2000 + str(n), join_key=None))
        await store.append(f"g{n}", 0, n % 7, at=1.0)
    with caplog.at_level(logging.WARNING, logger="connectfour.store"):
        await store.close()
    assert "full" in caplog.text and segments(path), "the journal stays for the next start"
    reopened = SQLiteStore(path)  # room again: the cap held for that connection only
    try:
        for n in range(30):
            assert (await reopened.get(f"g{n}")).moves == [n % 7]
    finally:
        await reopened.close()
    assert segments(path) == []


async def test_a_change_the_journal_refused_never_reaches_sqlite_by_a_fold(tmp_path):
    """The fold that runs between a change and its journal write must not carry it."""
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    await store.create(record())
    await store.append("g1", 0, 3, at=1.0)
    store._rotate()  # the segment holding g1 is folded from the next event-loop turn on
    fd = store._journal._fd
    saved, read_only = os.dup(fd), os.open(os.devnull, os.O_RDONLY)
    os.dup2(read_only, fd)  # every write to the new segment fails from now on
    try:
        with pytest.raises(StoreError, match="cannot write the journal"):
            await store.append("g1", 1, 4, at=2.0)
        async with asyncio.timeout(10):
            while store._folding_seq:
                await asyncio.sleep(0.01)
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(read_only)
    assert stored_moves(path) == {"g1": "3"}
    assert (await store.get("g1")).moves == [3]
    await store.close()


def killed_after(path, body: str) -> None:
    """A process that opens the store at ``path``, runs ``body`` (with ``store`` and
    ``record`` at hand), then dies by SIGKILL, leaving its journal unfolded."""
    script = textwrap.dedent(
        """
        import asyncio, os, signal, sys
        sys.path.insert(0, "tests")
        from connectfour.store import SQLiteStore
        from records import record

        async def main():
            store = SQLiteStore(sys.argv[1])
        {body}
            print("stored", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), " " * 4))
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == -signal.SIGKILL and "stored" in done.stdout, done.stderr


async def test_a_deleted_game_stays_deleted_when_the_journal_is_replayed(tmp_path):
    """The journal holds the game's creation and then its deletion; replaying must not bring it back."""
    path = tmp_path / "games.db"
    killed_after(
        path,
        """
        await store.create(record("unplayed"))
        await store.create(record("played"))
        await store.append("played", 0, 3, at=110.0)
        assert await store.delete_unplayed(before=500.0) == 1
        """,
    )
    assert segments(path), "the killed process left its journal"
    store = SQLiteStore(path)
    try:
        assert await store.get("unplayed") is None
        assert await store.find_key("join-unplayed") is None and await store.find_key("watch-unplayed") is None
        assert (await store.get("played")).moves == [3]
    finally:
        await store.close()
    assert stored_moves(path) == {"played": "3"}


async def test_a_game_deleted_while_its_segment_is_folded_is_not_written_back(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    try:
        for n in range(3 * sqlite.FOLD_CHUNK):  # several chunks, folded one per event-loop turn
            await store.create(record(f"g{n}"))
        store._rotate()
        assert store._fold_chunks, "the fold has not started yet"
        assert await store.delete_unplayed(before=500.0) == 3 * sqlite.FOLD_CHUNK
        async with asyncio.timeout(10):
            while store._folding_seq:
                await asyncio.sleep(0)
        assert stored_moves(path) == {}
        assert await store.get("g0") is None and await store.find_key("watch-g0") is None
    finally:
        await store.close()
    assert stored_moves(path) == {}


def _write_segment(path, records: list[str]) -> None:
    """A journal segment as a crashed run leaves it."""
    (path.parent / f"{path.name}-journal.00000001").write_bytes(journal.encode(records))


async def test_a_journal_written_before_games_against_the_computer_replays(tmp_path):
    path = tmp_path / "games.db"
    old_create = (
        'C {"id":"g1","watch_key":"w","join_key":"j","red_token":"r","yellow_token":"y",'
        '"created_at":1.0,"local":false,"invite_spent":false,"moves":[],"updated_at":1.0,'
        '"result":null,"reason":null,"finished_at":null,"rematch_of":null}'
    )
    _write_segment(path, [old_create, "M g1 0 3 2.0"])
    store = SQLiteStore(path)
    try:
        got = await store.get("g1")
        assert (got.moves, got.computer, got.level) == ([3], None, 0)
    finally:
        await store.close()


async def test_a_journal_replays_the_computer_seat_of_a_game(tmp_path):
    path = tmp_path / "games.db"
    created = 'C {"id":"g1","watch_key":"w","join_key":null,"red_token":"r","yellow_token":"y",' \
        '"created_at":1.0,"invite_spent":true,"computer":"yellow","level":4}'
    _write_segment(path, [created, "M g1 0 3 2.0"])
    store = SQLiteStore(path)
    try:
        got = await store.get("g1")
        assert (got.moves, got.computer, got.level) == ([3], "yellow", 4)
    finally:
        await store.close()
