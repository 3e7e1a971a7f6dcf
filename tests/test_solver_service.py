"""The solver's asyncio API: off the event loop, bounded, each search within its budget."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from connectfour.solver.position import BadPosition
from connectfour.solver.service import OwnerBusy, SearchTimeout, Solver, SolverBusy

# From the empty board without the book, a search takes minutes: it runs until its budget.
ENDLESS = ""


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)


async def test_the_event_loop_keeps_turning_while_a_search_runs() -> None:
    solver = Solver(max_searches=1)
    search = asyncio.create_task(solver.solve(ENDLESS, budget=1.0, book=False))
    await _until(lambda: solver.running == 1)
    for _ in range(1000):
        await asyncio.sleep(0)
    assert not search.done(), "a search holding the GIL would have stopped the loop until it ended"
    with pytest.raises(SearchTimeout):
        await search
    solver.close()


async def test_a_search_stops_at_its_budget() -> None:
    solver = Solver(max_searches=1)
    with pytest.raises(SearchTimeout):
        await solver.solve(ENDLESS, budget=0.1, book=False)
    solver.close()


async def test_no_more_than_max_searches_run_at_once() -> None:
    solver = Solver(max_searches=2, max_waiting=10)
    results = await asyncio.gather(
        *(solver.solve(ENDLESS, budget=0.05, book=False) for _ in range(6)), return_exceptions=True
    )
    assert all(isinstance(result, SearchTimeout) for result in results)
    assert solver.peak_running == 2
    assert solver.running == 0
    solver.close()


async def test_a_request_past_the_waiting_line_is_refused_at_once() -> None:
    solver = Solver(max_searches=1, max_waiting=1)
    running = asyncio.create_task(solver.solve(ENDLESS, budget=0.3, book=False))
    await _until(lambda: solver.running == 1)
    waiting = asyncio.create_task(solver.solve("4453"))
    await _until(lambda: solver.waiting == 1)
    with pytest.raises(SolverBusy):
        await solver.solve("4453")
    with pytest.raises(SearchTimeout):
        await running
    assert await waiting == -2
    solver.close()


async def test_a_cancelled_request_holds_its_slot_until_its_search_ends() -> None:
    solver = Solver(max_searches=1)
    search = asyncio.create_task(solver.solve(ENDLESS, budget=0.5, book=False))
    await _until(lambda: solver.running == 1)
    search.cancel()
    with pytest.raises(asyncio.CancelledError):
        await search
    assert solver.running == 1, "the thread is still searching"
    assert await solver.solve("4453") == -2  # served once the slot is free
    solver.close()


async def test_a_bad_position_is_refused_before_it_takes_a_slot() -> None:
    solver = Solver(max_searches=1)
    with pytest.raises(BadPosition):
        await solver.solve("1212121")
    assert solver.peak_running == 0
    solver.close()


async def test_analyse_gives_the_score_of_each_move() -> None:
    solver = Solver()
    await solver.start()
    assert await solver.analyse("") == [-2, -1, 0, 1, 0, -1, -2]
    solver.close()


async def test_one_owner_past_its_share_is_refused_at_once_and_another_owner_is_served() -> None:
    solver = Solver(max_searches=1, max_waiting=10, per_owner=2)
    flood = [asyncio.create_task(solver.analyse(ENDLESS, budget=0.3, book=False, owner="attacker")) for _ in range(2)]
    await _until(lambda: solver.running == 1 and solver.waiting == 1)
    with pytest.raises(OwnerBusy):
        await solver.analyse("4453", owner="attacker")
    assert len(await solver.analyse("4453", owner="someone else")) == 7  # served while the flood waits
    for search in flood:
        with pytest.raises(SearchTimeout):
            await search
    assert await solver.analyse("4453", owner="attacker") is not None  # its share is back once answered
    solver.close()


async def test_an_urgent_search_goes_ahead_of_every_analysis_waiting() -> None:
    solver = Solver(max_searches=1, max_waiting=10, per_owner=0)
    order: list[str] = []

    async def ask(name: str, urgent: bool) -> None:
        await solver.analyse("4453", owner=name, urgent=urgent)
        order.append(name)

    running = asyncio.create_task(solver.solve(ENDLESS, budget=0.3, book=False))
    await _until(lambda: solver.running == 1)
    waiting = [asyncio.create_task(ask(f"analysis {n}", urgent=False)) for n in range(3)]
    await _until(lambda: solver.waiting == 3)
    computer = asyncio.create_task(ask("computer", urgent=True))
    await _until(lambda: solver.waiting == 4)
    with pytest.raises(SearchTimeout):
        await running
    await asyncio.gather(computer, *waiting)
    assert order == ["computer", "analysis 0", "analysis 1", "analysis 2"]
    solver.close()


async def test_a_request_given_up_while_waiting_passes_its_turn_to_the_next() -> None:
    solver = Solver(max_searches=1, max_waiting=10)
    running = asyncio.create_task(solver.solve(ENDLESS, budget=0.3, book=False))
    await _until(lambda: solver.running == 1)
    gone = asyncio.create_task(solver.analyse("4453"))
    await _until(lambda: solver.waiting == 1)
    gone.cancel()
    kept = asyncio.create_task(solver.analyse("4453"))
    with pytest.raises(SearchTimeout):
        await running
    assert len(await kept) == 7
    assert solver.running == 0 and solver.waiting == 0
    solver.close()
