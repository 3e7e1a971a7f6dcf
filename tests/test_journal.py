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
from records import create, created, moves, play
from servers import ROOT

from connectfour.domain.events import Claimed, Joined, Moved, RematchOffered
from connectfour.domain.state import GameState
from connectfour.store import StoreError
from connectfour.store.sqlite import SCHEMA, DatabaseInUse, SQLiteStore, entries, folding, journal, prune_database, rows

MOVES = [3, 3, 4, 4, 5, 2]


def stored_moves(path) -> dict[str, str]:
    """What SQLite itself holds, read from another connection."""
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, moves FROM games"))


def stored_logs(path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, log FROM games"))


def segments(path) -> list:
    return sorted(path.parent.glob(f"{path.name}-journal.*"))


def killed_after_storing(path, games: int = 1) -> None:
    """A process that stores MOVES in ``games`` local games (created at 1.0, moves
    from 2.0 on), then dies by SIGKILL."""
    killed_after(
        path,
        f"""
        for n in range({games}):
            await create(store, f"g{{n}}", at=1.0, local=True, join_key=None)
            await play(store, f"g{{n}}", {MOVES!r}, at=2.0)
        """,
    )


def killed_after(path, body: str) -> None:
    """A process that opens the store at ``path``, runs ``body`` (with ``store``
    and the helpers of ``records`` at hand), then dies by SIGKILL, leaving its
    journal unfolded."""
    script = textwrap.dedent(
        """
        import asyncio, os, signal, sys
        sys.path.insert(0, "tests")
        from connectfour.domain.events import *
        from connectfour.store import SQLiteStore
        from records import create, created, moves, play, record

        async def main():
            store = SQLiteStore(sys.argv[1])
        {body}
            print("stored", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), " " * 4))
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == -signal.SIGKILL and "stored" in done.stdout, done.stderr


async def test_moves_acknowledged_before_a_kill_9_are_there_after_it(tmp_path):
    path = tmp_path / "games.db"
    killed_after_storing(path, games=3)
    assert segments(path), "the killed process left its journal"
    store = SQLiteStore(path)
    try:
        for n in range(3):
            assert (await store.get(f"g{n}")).moves == MOVES
            events = [event for _, event in await store.read(f"g{n}")]
            assert GameState.replay(f"g{n}", events).board.moves == MOVES and len(events) == 1 + len(MOVES)
    finally:
        await store.close()


async def test_on_start_the_journal_is_replayed_into_the_database(tmp_path):
    path = tmp_path / "games.db"
    killed_after_storing(path)
    store = SQLiteStore(path)
    try:
        assert stored_moves(path) == {"g0": "334452"} and stored_logs(path) == {"g0": "334452"}
        assert [p.name for p in segments(path)] == ["games.db-journal.00000002"]
    finally:
        await store.close()


async def test_every_kind_of_event_survives_a_kill_9(tmp_path):
    path = tmp_path / "games.db"
    killed_after(
        path,
        """
        await create(store)
        await store.append("g1", 2, Joined(at=150.0))
        await play(store, "g1", [3, 3, 4, 4, 5, 5, 6], at=200.0)
        await store.append("g1", 10, RematchOffered(at=300.0, player="yellow"))
        await store.append("g1", 11, RematchOffered(at=301.0, player="red"))
        await store.append("g1", 12, RematchStarted(at=301.0, game="g2"))
        await create(store, "g2", at=301.0, join_key=None, rematch_of="g1")
        await store.append("g2", 2, Resigned(at=400.0, player="red"))
        """,
    )
    store = SQLiteStore(path)
    try:
        first = GameState.replay("g1", [event for _, event in await store.read("g1")])
        assert (first.version, first.result, first.reason, first.finished_at) == (12, "red", "four", 206.0)
        assert (first.invite_spent, first.rematch, first.rematch_offers) == (True, "g2", {"red", "yellow"})
        second = GameState.replay("g2", [event for _, event in await store.read("g2")])
        assert (second.version, second.result, second.reason, second.rematch_of) == (2, "yellow", "resign", "g1")
    finally:
        await store.close()
    assert stored_logs(path) == {"g1": "J3344556poS", "g2": "r"}


async def test_each_events_time_and_a_claims_grace_survive_a_kill_9(tmp_path):
    path = tmp_path / "games.db"
    clock = 1718000000.1234567  # a time as a clock gives it: its repr 18 characters long
    game = [
        created(at=clock),
        Joined(at=clock + 1.1, name="Ada"),
        *[Moved(at=clock + 2.2 + n / 3, player=move.player, column=move.column) for n, move in enumerate(moves(MOVES))],
        Claimed(at=clock + 9.9, player="yellow", grace=61.25),
        RematchOffered(at=clock - 0.5, player="red"),  # a clock that went back
    ]
    killed_after(path, f"for version, event in enumerate({game!r}, 1): await store.append('g1', version, event)")
    store = SQLiteStore(path)  # the journal replayed into SQLite, and read from there
    try:
        assert [event for _, event in await store.read("g1")] == game
    finally:
        await store.close()


@pytest.mark.parametrize("at", [1718000000.1234567, 0.1 + 0.2, -2.5, 0.0, 5e-324, 1.7976931348623157e308, float("inf")])
def test_a_time_in_the_journal_is_its_bits_in_hexadecimal_and_reads_back_exactly(at):
    text = entries.time_text(at)
    assert text[0] == "x" and len(text) == 17 and " " not in text
    assert entries.read_time(text) == at


def test_a_time_a_journal_wrote_before_in_decimal_still_reads():
    assert entries.read_time("1718000000.1234567") == 1718000000.1234567
    assert entries.read_time("-0.5") == -0.5


@pytest.mark.parametrize("text", ["x12", "x" + "g" * 16, "x" + "0" * 18, "soon"])
def test_a_time_that_is_neither_form_is_refused(text):
    with pytest.raises(ValueError):
        entries.read_time(text)


async def test_a_record_whose_time_cannot_be_read_is_skipped_and_the_rest_replayed(tmp_path, caplog):
    path = tmp_path / "games.db"
    killed_after_storing(path)
    [segment] = segments(path)
    with segment.open("ab") as log_file:
        log_file.write(journal.encode(["E g0 8 1 x12"]))
    with caplog.at_level(logging.ERROR, logger="connectfour.store"):
        store = SQLiteStore(path)
    try:
        assert (await store.get("g0")).moves == MOVES
        assert "unreadable record 'E g0 8 1 x12' skipped" in caplog.text
    finally:
        await store.close()


async def test_replaying_a_journal_again_changes_nothing(tmp_path):
    """A crash after the replay reached SQLite but before the journal was deleted."""
    path = tmp_path / "games.db"
    killed_after(
        path,
        """
        await create(store)
        await store.append("g1", 2, Joined(at=150.0))
        await play(store, "g1", [3, 3, 4], at=200.0)
        await store.append("g1", 6, Resigned(at=300.0, player="yellow"))
        """,
    )
    saved = {segment: segment.read_bytes() for segment in segments(path)}
    store = SQLiteStore(path)
    before = await store.read("g1")
    await store.close()
    for segment, data in saved.items():
        segment.write_bytes(data)
    again = SQLiteStore(path)
    try:
        assert await again.read("g1") == before and len(before) == 6
        assert (await again.get("g1")).moves == [3, 3, 4]
    finally:
        await again.close()
    assert stored_logs(path) == {"g1": "J334y"}


async def test_a_write_cut_short_by_a_crash_is_dropped_and_the_rest_kept(tmp_path, caplog):
    path = tmp_path / "games.db"
    killed_after_storing(path)
    [segment] = segments(path)
    torn = journal.encode(["E g0 8 1 9.0"])
    with segment.open("ab") as log_file:
        log_file.write(torn[:-3])  # the crash hit in the middle of this batch
    with caplog.at_level(logging.WARNING, logger="connectfour.store"):
        store = SQLiteStore(path)
    try:
        assert (await store.get("g0")).moves == MOVES
        assert "dropped" in caplog.text
        await play(store, "g0", [1], at=9.0)  # the store goes on from the last whole batch
        assert (await store.get("g0")).moves == MOVES + [1]
    finally:
        await store.close()


async def test_a_batch_whose_checksum_fails_ends_the_log(tmp_path):
    good = journal.encode(["E g 2 3 1.0", "E g 3 4 2.0"])
    bad = bytearray(journal.encode(["E g 4 5 3.0"]))
    bad[-2] ^= 0x01
    records, end = journal.decode(good + bytes(bad) + journal.encode(["E g 5 6 4.0"]))
    assert records == ["E g 2 3 1.0", "E g 3 4 2.0"] and end == len(good)


async def test_a_clean_close_leaves_no_journal_and_every_change_in_sqlite(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    await create(store, local=True, join_key=None)
    await play(store, "g1", MOVES, at=1.0)
    await store.close()
    assert segments(path) == []
    assert stored_moves(path) == {"g1": "334452"}


async def test_an_event_is_in_the_journal_on_disk_before_it_is_announced(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    announced: list = []

    def publish(game_id: str, version: int, event: object) -> None:
        logged = [entry for segment in segments(path) for entry in journal.read(segment)]
        if version == 1:
            announced.append((version, logged[0].startswith('C {"id":"g1"')))
        else:
            announced.append((version, any(entry.startswith(f"E g1 {version} ") for entry in logged)))

    store.bus.publish = publish
    try:
        await create(store, local=True, join_key=None)
        assert announced == [(1, True)]
        outcome: list = []
        for version, move in enumerate(moves([3, 3]), 2):
            store.append_nowait("g1", version, move, outcome.append)
        assert announced == [(1, True)] and outcome == []  # nothing announced, nobody told, before the write
        await store.read("g1")
        assert announced == [(1, True), (2, True), (3, True)] and outcome == [None, None]
    finally:
        await store.close()


async def test_the_journal_is_folded_into_sqlite_while_the_server_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(folding, "FOLD_INTERVAL", 0.0)  # a new segment at every write
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    try:
        await create(store, local=True, join_key=None)
        await play(store, "g1", MOVES, at=1.0)
        async with asyncio.timeout(10):
            while not stored_moves(path)["g1"]:  # the first segment, at least, reaches SQLite
                await asyncio.sleep(0.01)
        assert "334452".startswith(stored_moves(path)["g1"])
        assert (await store.get("g1")).moves == MOVES  # the rest is read from memory
        assert len(await store.read("g1")) == 1 + len(MOVES)
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


class DiskFull:
    """The file-size limit just above what ``segment`` holds: the next write fails part-way through."""

    def __init__(self, segment) -> None:
        self.size = segment.stat().st_size

    def __enter__(self) -> None:
        self.handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        self.limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.size + 5, self.limits[1]))

    def __exit__(self, *exc) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, self.limits)
        signal.signal(signal.SIGXFSZ, self.handler)


async def test_a_move_the_disk_cannot_take_is_refused_and_loses_nothing(tmp_path):
    """A full disk, as the file-size limit makes it: the write fails part-way through."""
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    await create(store, local=True, join_key=None)
    await play(store, "g1", [3], at=1.0)
    [segment] = segments(path)
    size = segment.stat().st_size
    announced: list = []
    await store.bus.subscribe("g1", lambda game_id, version, event: announced.append(version))
    with DiskFull(segment):
        with pytest.raises(StoreError, match="cannot write the journal"):
            await store.append("g1", 3, moves([3, 4])[1])
    assert segment.stat().st_size == size  # the part that went through was cut off again
    got = await store.get("g1")
    assert (got.moves, got.version) == ([3], 2)
    await asyncio.sleep(0)
    assert announced == []
    await store.append("g1", 3, moves([3, 4])[1])  # the same version, once there is room
    await store.close()
    assert stored_moves(path) == {"g1": "34"}


async def test_a_batch_the_disk_cannot_take_is_undone_whole(tmp_path):
    """The end of a game, an invite spent and what came after them in the batch are taken back."""
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    await create(store, local=True, join_key=None)
    await play(store, "g1", [3, 3, 4, 4, 5, 5], at=1.0)
    await create(store, "g2")
    before = (await store.get("g1"), await store.get("g2"))
    [segment] = segments(path)
    outcomes: list = []
    with DiskFull(segment):
        store.append_nowait("g1", 8, moves([3, 3, 4, 4, 5, 5, 6])[-1], outcomes.append)
        store.append_nowait("g1", 9, RematchOffered(at=9.0, player="red"), outcomes.append)
        store.append_nowait("g2", 2, Joined(at=9.0), outcomes.append)
        store.append_nowait("g3", 1, created("g3"), outcomes.append)
        assert (await store.get("g1")).result is None  # (the write happens here)
    assert [type(outcome) for outcome in outcomes] == [StoreError] * 4
    assert (await store.get("g1"), await store.get("g2")) == before
    assert await store.get("g3") is None and await store.find_key("watch-g3") is None
    await store.append("g1", 8, moves([3, 3, 4, 4, 5, 5, 6])[-1])
    got = await store.get("g1")
    assert (got.result, got.reason, got.version) == ("red", "four", 8)
    await store.close()
    assert stored_logs(path) == {"g1": "3344556", "g2": ""}


async def test_prune_works_while_a_server_holds_the_database(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    await create(first, "old")
    await create(first, "new", at=900.0)
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
        assert await play(store, "g1", [1], at=5.0) == 6  # created, joined, three moves, and this one
        assert (await store.get("g1")).moves == [2, 6, 0, 1]
    finally:
        await store.close()
    assert stored_logs(path) == {"g1": "J2601"}


async def test_when_sqlite_is_full_the_journal_keeps_every_change_until_there_is_room(tmp_path, caplog):
    """SQLite's own "database or disk is full", provoked by capping the file's pages."""
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")
    for n in range(30):
        await create(store, f"g{n}", watch_key="w" * 2000 + str(n), join_key=None)
        await play(store, f"g{n}", [n % 7], at=101.0)
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
    await create(store, local=True, join_key=None)
    await play(store, "g1", [3], at=1.0)
    store._folder.rotate()  # the segment holding g1 is folded from the next event-loop turn on
    fd = store._journal._fd
    saved, read_only = os.dup(fd), os.open(os.devnull, os.O_RDONLY)
    os.dup2(read_only, fd)  # every write to the new segment fails from now on
    try:
        with pytest.raises(StoreError, match="cannot write the journal"):
            await store.append("g1", 3, moves([3, 4])[1])
        async with asyncio.timeout(10):
            while store._folder.folding_seq:
                await asyncio.sleep(0.01)
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(read_only)
    assert stored_moves(path) == {"g1": "3"} and stored_logs(path) == {"g1": "3"}
    assert (await store.get("g1")).moves == [3]
    await store.close()


async def test_a_deleted_game_stays_deleted_when_the_journal_is_replayed(tmp_path):
    """The journal holds the game's creation and then its deletion; replaying must not bring it back."""
    path = tmp_path / "games.db"
    killed_after(
        path,
        """
        await create(store, "unplayed")
        await create(store, "played")
        await play(store, "played", [3], at=110.0)
        assert await store.delete_unplayed(before=500.0) == 1
        """,
    )
    assert segments(path), "the killed process left its journal"
    store = SQLiteStore(path)
    try:
        assert await store.get("unplayed") is None and await store.read("unplayed") == []
        assert await store.find_key("join-unplayed") is None and await store.find_key("watch-unplayed") is None
        assert (await store.get("played")).moves == [3]
    finally:
        await store.close()
    assert stored_moves(path) == {"played": "3"}


async def folded(store) -> None:
    """Start a new segment and wait until the full one is folded into SQLite."""
    store._folder.rotate()
    async with asyncio.timeout(10):
        while store._folder.folding_seq:
            await asyncio.sleep(0)


async def test_a_game_played_on_after_its_fold_is_not_read_back_from_sqlite(tmp_path, monkeypatch):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    try:
        await create(store, local=True, join_key=None)
        await play(store, "g1", MOVES[:2], at=1.0)
        await folded(store)
        assert stored_moves(path) == {"g1": "33"}

        def unread(db, game_id):
            raise AssertionError(f"{game_id} read back from SQLite")

        monkeypatch.setattr(rows, "select", unread)
        await store.append("g1", 4, moves(MOVES)[2])
        await folded(store)
        assert stored_moves(path) == {"g1": "334"}
    finally:
        await store.close()


async def test_a_game_folded_then_deleted_is_not_played_on_from_memory(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    try:
        await create(store)
        await folded(store)
        assert await store.delete_unplayed(before=500.0) == 1
        with pytest.raises(StoreError, match="not next"):
            await store.append("g1", 2, Joined(at=600.0))
        await store.close()
        store = SQLiteStore(path)
        assert stored_moves(path) == {} and await store.get("g1") is None
    finally:
        await store.close()


async def test_a_game_deleted_while_its_segment_is_folded_is_not_written_back(tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    try:
        for n in range(3 * folding.FOLD_CHUNK):  # several chunks, folded one per event-loop turn
            await create(store, f"g{n}")
        store._folder.rotate()
        assert store._folder.chunks, "the fold has not started yet"
        assert await store.delete_unplayed(before=500.0) == 3 * folding.FOLD_CHUNK
        async with asyncio.timeout(10):
            while store._folder.folding_seq:
                await asyncio.sleep(0)
        assert stored_moves(path) == {}
        assert await store.get("g0") is None and await store.find_key("watch-g0") is None
    finally:
        await store.close()
    assert stored_moves(path) == {}


# -- journals and databases written before events, before times ----------------------------


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
        assert (got.moves, got.computer, got.level, got.version) == ([3], None, 0, 2)
    finally:
        await store.close()


async def test_a_journal_replays_the_computer_seat_of_a_game(tmp_path):
    path = tmp_path / "games.db"
    created_record = (
        'C {"id":"g1","watch_key":"w","join_key":null,"red_token":"r","yellow_token":"y",'
        '"created_at":1.0,"invite_spent":true,"computer":"yellow","level":4}'
    )
    _write_segment(path, [created_record, "M g1 0 3 2.0"])
    store = SQLiteStore(path)
    try:
        got = await store.get("g1")
        assert (got.moves, got.computer, got.level) == ([3], "yellow", 4)
    finally:
        await store.close()


async def test_a_journal_written_before_events_replays_as_the_events_it_was(tmp_path):
    """Its records: a game created (C), an invite spent (S), a move by its ply (M), a game finished (F)."""
    path = tmp_path / "games.db"
    old_create = (
        'C {"id":"%s","watch_key":"w%s","join_key":"j%s","red_token":"r","yellow_token":"y",'
        '"created_at":1.0,"local":false,"invite_spent":false,"moves":[],"updated_at":1.0,'
        '"result":null,"reason":null,"finished_at":null,"rematch_of":null,"computer":null,"level":0}'
    )
    _write_segment(
        path,
        [
            *(old_create % (game, game, game) for game in ("won", "resigned", "expired")),
            "S won", "M won 0 3 2.0", "M won 1 2 3.0", "M won 2 3 4.0", "M won 3 2 5.0", "M won 4 3 6.0",
            "M won 5 2 7.0", "M won 6 3 8.0", "F won red four 8.0",
            "S resigned", "M resigned 0 3 2.0", "M resigned 0 4 2.5", "F resigned red resign 9.0",
            "F expired abandoned expired 9.0", "F expired red resign 10.0",
        ],
    )  # fmt: skip
    store = SQLiteStore(path)
    try:
        expected = {
            "won": (9, "red", "four", [3, 2, 3, 2, 3, 2, 3]),
            "resigned": (4, "red", "resign", [3]),
            "expired": (2, "abandoned", "expired", []),
        }
        for game, (version, result, reason, columns) in expected.items():
            state = GameState.replay(game, [event for _, event in await store.read(game)])
            assert (state.version, state.result, state.reason, state.board.moves) == (version, result, reason, columns)
            assert state.finished_at == (await store.get(game)).finished_at
    finally:
        await store.close()
    assert stored_logs(path) == {"won": "J3232323", "resigned": "J3y", "expired": "E"}


async def test_a_journal_written_before_times_were_kept_replays_them_into_a_database_of_then(tmp_path):
    """The previous version's crash: its table without times, its journal's claim without a grace."""
    path = tmp_path / "games.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.execute("ALTER TABLE games DROP COLUMN times")
        db.execute("ALTER TABLE games DROP COLUMN grace")
        db.execute(
            "INSERT INTO games (id, watch_key, join_key, red_token, yellow_token, local, invite_spent,"
            " created_at, updated_at, moves, log) VALUES ('old', 'w', 'j', 'r', 'y', 0, 1, 1.0, 2.0, '3', 'J3')"
        )
    created_record = (
        'C {"id":"new","watch_key":"w2","join_key":"j2","red_token":"r","yellow_token":"y","created_at":1.0,'
        '"local":false,"invite_spent":false,"moves":[],"updated_at":1.0,"result":null,"reason":null,'
        '"finished_at":null,"rematch_of":null,"computer":null,"level":0,"version":1,"host":"red","public":false,'
        '"match":false,"red_name":null,"yellow_name":null,"log":"","rematch":null,"joined_by":null}'
    )
    _write_segment(
        path,
        ["E old 4 3 3.25", "E old 5 R 4.125", created_record, "E new 2 J 1.5", "E new 3 3 2.0999999999999996"],
    )
    store = SQLiteStore(path)
    try:
        assert [event.at for _, event in await store.read("old")] == [1.0, 4.125, 4.125, 3.25, 4.125]
        assert (await store.read("old", after=4))[0][1] == Claimed(at=4.125, player="red", grace=0.0)
        assert [event.at for _, event in await store.read("new")] == [1.0, 1.5, 2.0999999999999996]
    finally:
        await store.close()
