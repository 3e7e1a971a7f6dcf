"""GET /api/analysis: the exact value of every move, and clear refusals of what is not a position."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from connectfour import metrics
from connectfour.web.analysis import SOLVER, Scores
from connectfour.web.app import SECURITY_HEADERS

#: A budget no search here comes near even on a loaded machine: these tests are about values, not time.
BUDGET = 60.0


@pytest.fixture
async def server(make_server):
    return await make_server(search_budget=BUDGET)


async def analysis(server, query: str) -> tuple[int, dict[str, Any], aiohttp.typedefs.LooseHeaders]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.http}/api/analysis{query}") as response:
            return response.status, await response.json(), response.headers


async def test_the_empty_board_has_one_winning_move_the_centre(server):
    status, body, _ = await analysis(server, "?moves=")
    assert status == 200 and body["best"] == [3] and body["turn"] == "red"
    assert body["columns"][3] == {"score": 1, "result": "win", "in": 21}
    assert body["columns"][2] == {"score": 0, "result": "draw"}
    assert body["columns"][0] == {"score": -2, "result": "loss", "in": 20}


async def test_a_win_on_offer_is_a_win_in_one(server):
    status, body, _ = await analysis(server, "?moves=001122")
    assert status == 200 and body["best"] == [3]
    assert body["columns"][3] == {"score": 18, "result": "win", "in": 1}


async def test_a_full_column_has_no_value(server):
    status, body, _ = await analysis(server, "?moves=333333")
    assert status == 200 and body["columns"][3] is None and len(body["columns"]) == 7


async def test_no_moves_at_all_means_the_empty_board(server):
    status, body, _ = await analysis(server, "")
    assert status == 200 and body["moves"] == "" and body["score"] == 1


async def test_a_column_that_is_not_a_digit_0_to_6_is_refused(server):
    status, body, _ = await analysis(server, "?moves=37")
    assert status == 400 and "digits of columns 0 to 6" in body["error"]


async def test_a_move_into_a_full_column_is_refused_naming_the_move(server):
    status, body, _ = await analysis(server, "?moves=3333333")
    assert status == 400 and "move 7 (column 3)" in body["error"] and "full" in body["error"]


async def test_a_finished_game_is_refused(server):
    status, body, _ = await analysis(server, "?moves=0101010")
    assert status == 400 and "over" in body["error"]


async def test_moves_past_a_win_are_refused(server):
    status, body, _ = await analysis(server, "?moves=01010102")
    assert status == 400 and "over after move 7" in body["error"]


async def test_more_moves_than_a_board_holds_are_refused(server):
    status, body, _ = await analysis(server, "?moves=" + "0123456" * 7)
    assert status == 400 and "at most 42" in body["error"]


async def test_the_answer_carries_the_security_headers(server):
    _, _, headers = await analysis(server, "?moves=3")
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value


async def test_a_position_asked_again_is_answered_without_a_search(server):
    def searches() -> int:
        return metrics._counts["connectfour_analyses_total", "search"]

    before = searches()
    first = await analysis(server, "?moves=3322")
    second = await analysis(server, "?moves=3322")
    assert first[:2] == second[:2] and searches() == before + 1


def test_the_kept_scores_drop_the_least_recently_asked_position():
    scores = Scores(size=2)
    scores.put("1", [0] * 7)
    scores.put("2", [1] * 7)
    scores.get("1")
    scores.put("3", [2] * 7)
    assert scores.get("2") is None and scores.get("1") == [0] * 7


def test_one_asker_cannot_push_everyone_elses_positions_out_of_the_kept_scores():
    scores = Scores(size=8, per_owner=2)
    scores.put("mine", [0] * 7, "user")
    for n in range(100):  # a flood of new positions from one address
        scores.put(f"flood {n}", [1] * 7, "attacker")
    assert scores.get("mine") == [0] * 7
    assert len(scores) == 3  # the user's, and the attacker's two newest
    assert scores.get("flood 99") is not None and scores.get("flood 97") is None


async def test_an_address_with_its_share_of_searches_under_way_gets_429_and_another_is_answered(make_server):
    server = await make_server(search_budget=BUDGET, solver_searches=1)
    solver = server.app[SOLVER]
    # 127.0.0.1's share, taken: one search running until its budget, one waiting behind it.
    held = [asyncio.ensure_future(solver.analyse("", budget=1.0, book=False, owner="127.0.0.1")) for _ in range(2)]
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.http}/api/analysis?moves=3322") as response:
                assert response.status == 429 and response.headers["Retry-After"] == "1"
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.get(f"{server.http}/api/analysis?moves=3322") as response:
                assert response.status == 200  # another address: answered once a worker is free
    finally:
        for search in held:
            search.cancel()
        await asyncio.gather(*held, return_exceptions=True)


async def test_metrics_show_the_solver_load(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.http}/metrics") as response:
            text = await response.text()
    assert "connectfour_solver_searches 0" in text and "connectfour_solver_waiting 0" in text
