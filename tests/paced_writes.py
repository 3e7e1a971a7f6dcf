"""Helpers of the tests of a store's paced writes (the journal's, Redis's batches)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from process_metrics import counted

from connectfour.domain.events import Joined
from connectfour.store.pacing import CROWD

#: Games enough for a crowd and three more.
GAMES = [f"g{n}" for n in range(1, CROWD + 4)]


async def one_write(store, game_ids: list[str], counter: str) -> None:
    """One write (as ``counter`` counts them) of a change to each of ``game_ids`` (joined),
    all asked in one turn of the loop."""
    before = counted(counter)
    await asyncio.gather(*(store.append(game_id, 2, Joined(at=1.0)) for game_id in game_ids))
    assert counted(counter) - before == 1


def hearing(answered: list[tuple[object, float]], between: list[int]) -> Callable[[object], None]:
    """An answer's callback that notes it and its time, and how many were answered by the
    time the loop turned after the first."""
    loop = asyncio.get_running_loop()

    def heard(error: object) -> None:
        answered.append((error, loop.time()))
        if len(answered) == 1:
            loop.call_soon(lambda: between.append(len(answered)))

    return heard
