"""A process's batches of moves to Redis, paced under load by the batch interval
(``--batch-interval``): after a batch of a crowd of appends (``pacing.CROWD`` or more), the next
goes no sooner than the interval after it, so that each carries more; a move after a quiet
moment or a smaller batch goes at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import paced_writes
import pytest
from paced_writes import GAMES, hearing
from process_metrics import counted, until
from records import create

from connectfour.domain.events import Joined
from connectfour.store.pacing import CROWD
from connectfour.store.redis import RedisStore

#: Seconds any single wait in these tests may take before it counts as a hang.
PATIENCE = 10.0
#: The batch interval of these tests: long against a round trip to a local server.
INTERVAL = 1.0
BATCHES = "connectfour_redis_batches_total"


async def one_batch(store: RedisStore, game_ids: list[str]) -> None:
    await paced_writes.one_write(store, game_ids, BATCHES)


async def test_moves_asked_within_the_interval_of_a_crowded_batch_go_together_once_it_has_passed(redis_url):
    store = RedisStore(redis_url, batch_interval=INTERVAL, timeout=5.0)
    loop = asyncio.get_running_loop()
    try:
        for game_id in GAMES:
            await create(store, game_id)
        asked = loop.time()
        await one_batch(store, GAMES[:CROWD])
        answered: list[tuple[object, float]] = []
        between: list[int] = []
        heard = hearing(answered, between)
        for game_id in GAMES[CROWD:]:
            store.append_nowait(game_id, 2, Joined(at=1.0), heard)
            await store.client.ping()  # a round trip: each would have gone, and come back, by itself
        await asyncio.wait_for(until(lambda: len(answered) == 3), PATIENCE)
        assert [error for error, _ in answered] == [None, None, None]
        assert between == [3], "the three went in one batch"
        assert min(at for _, at in answered) >= asked + INTERVAL, "no sooner than the interval after the crowd's"
        assert [len(await store.read(game_id)) for game_id in GAMES] == [2] * len(GAMES)
    finally:
        await store.close()


async def test_a_move_after_a_quiet_moment_goes_at_once(redis_url):
    store = RedisStore(redis_url, batch_interval=INTERVAL, timeout=5.0)
    loop = asyncio.get_running_loop()
    try:
        for game_id in GAMES:
            await create(store, game_id)
        asked = loop.time()
        await one_batch(store, GAMES[:CROWD])  # the first batch of moves, a crowd: the next would wait
        assert loop.time() - asked < INTERVAL
        await asyncio.sleep(INTERVAL)  # the quiet moment itself
        asked = loop.time()
        await store.append(GAMES[CROWD], 2, Joined(at=2.0))
        assert loop.time() - asked < INTERVAL
    finally:
        await store.close()


async def test_after_a_batch_of_fewer_than_a_crowd_the_next_move_goes_at_once(redis_url):
    store = RedisStore(redis_url, batch_interval=INTERVAL, timeout=5.0)
    loop = asyncio.get_running_loop()
    try:
        for game_id in GAMES:
            await create(store, game_id)
        await one_batch(store, GAMES[: CROWD - 1])  # one short of a crowd: no pacing after it
        before = counted(BATCHES)
        asked = loop.time()
        for game_id in GAMES[CROWD - 1 :]:
            await store.append(game_id, 2, Joined(at=1.0))
        assert loop.time() - asked < INTERVAL, "none waited for the interval"
        assert counted(BATCHES) - before == len(GAMES) - CROWD + 1, "a batch each"
    finally:
        await store.close()


async def test_each_batch_sent_is_counted_for_the_metrics(redis_url):
    store = RedisStore(redis_url)
    try:
        for game_id in ("g1", "g2", "g3"):
            await create(store, game_id)
        before = counted(BATCHES)
        await store.append("g1", 2, Joined(at=1.0))
        await asyncio.gather(store.append("g2", 2, Joined(at=1.0)), store.append("g3", 2, Joined(at=1.0)))
        assert counted(BATCHES) - before == 2  # the two asked in one turn went together
    finally:
        await store.close()


@pytest.mark.parametrize("interval", [-0.001, 2.0, 3.0])
def test_a_batch_interval_outside_zero_to_the_timeout_is_refused(interval):
    with pytest.raises(ValueError, match="batch interval"):
        RedisStore("redis://127.0.0.1:1/0", batch_interval=interval, timeout=2.0)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--memory", "--batch-interval", "0.01"], "--memory writes nothing"),
        (["--redis", "redis://127.0.0.1:1/0", "--batch-interval", "1"], "at most 0.5 seconds"),
        (["--db", "games.db", "--batch-interval", "-1"], "zero or more seconds"),
        # its name while it paced Redis only
        (["--redis", "redis://127.0.0.1:1/0", "--redis-batch-interval", "0.6"], "at most 0.5 seconds"),
    ],
)
def test_the_command_line_refuses_a_batch_interval_it_cannot_keep(options, said):
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "serve", *options], capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert said in result.stderr
