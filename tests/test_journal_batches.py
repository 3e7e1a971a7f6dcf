"""The SQLite store's writes to its journal, paced under load by the batch interval
(``--batch-interval``): after a write of a crowd of changes (``pacing.CROWD`` or more), the next
comes no sooner than the interval after it, so that each carries more; a change after a quiet
moment or a smaller write, a read and a stop do not wait."""

from __future__ import annotations

import asyncio

import paced_writes
import pytest
from paced_writes import GAMES, hearing
from process_metrics import counted, until
from records import create

from connectfour.domain.events import Joined
from connectfour.store import SQLiteStore
from connectfour.store.pacing import CROWD

#: Seconds any single wait in these tests may take before it counts as a hang.
PATIENCE = 10.0
#: The batch interval of these tests: long against a write to a local file.
INTERVAL = 0.5
WRITES = "connectfour_journal_writes_total"


async def one_write(store: SQLiteStore, game_ids: list[str]) -> None:
    await paced_writes.one_write(store, game_ids, WRITES)


async def test_changes_asked_within_the_interval_of_a_crowded_write_go_together_once_it_has_passed(tmp_path):
    store = SQLiteStore(tmp_path / "games.db", batch_interval=INTERVAL)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.gather(*(create(store, game_id) for game_id in GAMES))
        await asyncio.sleep(INTERVAL)  # a quiet moment: the next write goes at once
        asked = loop.time()
        await one_write(store, GAMES[:CROWD])
        before = counted(WRITES)
        answered: list[tuple[object, float]] = []
        between: list[int] = []
        heard = hearing(answered, between)
        for game_id in GAMES[CROWD:]:
            store.append_nowait(game_id, 2, Joined(at=1.0), heard)
            await asyncio.sleep(0)  # a turn of the loop: each would have been written by itself
        await asyncio.wait_for(until(lambda: len(answered) == 3), PATIENCE)
        assert [error for error, _ in answered] == [None, None, None]
        assert between == [3], "the three were answered together"
        assert counted(WRITES) - before == 1, "with one write"
        assert min(at for _, at in answered) >= asked + INTERVAL, "no sooner than the interval after the crowd's"
    finally:
        await store.close()
    reopened = SQLiteStore(tmp_path / "games.db")
    try:
        assert [len(await reopened.read(game_id)) for game_id in GAMES] == [2] * len(GAMES)
    finally:
        await reopened.close()


async def test_after_a_write_of_fewer_than_a_crowd_the_next_change_is_written_at_once(tmp_path):
    store = SQLiteStore(tmp_path / "games.db", batch_interval=INTERVAL)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.gather(*(create(store, game_id) for game_id in GAMES))
        await asyncio.sleep(INTERVAL)
        await one_write(store, GAMES[: CROWD - 1])  # one short of a crowd: no pacing after it
        before = counted(WRITES)
        asked = loop.time()
        for game_id in GAMES[CROWD - 1 :]:
            await store.append(game_id, 2, Joined(at=1.0))
        assert loop.time() - asked < INTERVAL, "none waited for the interval"
        assert counted(WRITES) - before == len(GAMES) - CROWD + 1, "a write each"
    finally:
        await store.close()


async def test_a_change_after_a_quiet_moment_is_written_at_once(tmp_path):
    store = SQLiteStore(tmp_path / "games.db", batch_interval=INTERVAL)
    loop = asyncio.get_running_loop()
    try:
        asked = loop.time()
        await asyncio.gather(*(create(store, game_id) for game_id in GAMES))  # the first write: none before it
        assert loop.time() - asked < INTERVAL
        await one_write(store, GAMES[:CROWD])  # a crowd: the next write would wait
        await asyncio.sleep(INTERVAL)  # the quiet moment itself
        asked = loop.time()
        await store.append(GAMES[CROWD], 2, Joined(at=1.0))
        assert loop.time() - asked < INTERVAL
    finally:
        await store.close()


async def test_a_read_writes_what_waits_at_once_and_returns_it(tmp_path):
    store = SQLiteStore(tmp_path / "games.db", batch_interval=INTERVAL)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.gather(*(create(store, game_id) for game_id in GAMES))
        await one_write(store, GAMES[:CROWD])
        answered: list[object] = []
        asked = loop.time()
        game_id = GAMES[CROWD]
        store.append_nowait(game_id, 2, Joined(at=1.0), answered.append)  # after a crowd: it waits
        assert answered == []
        assert [version for version, _ in await store.read(game_id)] == [1, 2]
        assert answered == [None], "written, so answered"
        assert loop.time() - asked < INTERVAL
    finally:
        await store.close()


async def test_a_stop_writes_what_waits_and_answers_it(tmp_path):
    store = SQLiteStore(tmp_path / "games.db", batch_interval=INTERVAL)
    answered: list[object] = []
    game_id = GAMES[CROWD]
    try:
        await asyncio.gather(*(create(store, game_id) for game_id in GAMES))
        await one_write(store, GAMES[:CROWD])
        store.append_nowait(game_id, 2, Joined(at=1.0), answered.append)  # after a crowd: it waits
        assert answered == []
    finally:
        await store.close()
    assert answered == [None]
    reopened = SQLiteStore(tmp_path / "games.db")
    try:
        assert [version for version, _ in await reopened.read(game_id)] == [1, 2]
    finally:
        await reopened.close()


async def test_without_an_interval_each_turn_of_the_loop_has_its_write(tmp_path):
    store = SQLiteStore(tmp_path / "games.db")
    try:
        await asyncio.gather(create(store, "g1"), create(store, "g2"))
        before = counted(WRITES)
        await store.append("g1", 2, Joined(at=1.0))
        await store.append("g2", 2, Joined(at=1.0))
        assert counted(WRITES) - before == 2
    finally:
        await store.close()


@pytest.mark.parametrize("interval", [-0.001, 1.5])
def test_a_batch_interval_outside_zero_to_one_second_is_refused(tmp_path, interval):
    with pytest.raises(ValueError, match="batch interval"):
        SQLiteStore(tmp_path / "games.db", batch_interval=interval)
    assert not (tmp_path / "games.db").exists(), "refused before anything is opened"
