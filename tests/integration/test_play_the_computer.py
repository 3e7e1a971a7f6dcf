"""Playing the computer over a real socket, through the whole application."""

from __future__ import annotations

import random
from typing import Any

import aiohttp
from client import Client

from connectfour.rules import Board
from connectfour.store import SQLiteStore

#: Searches never time out here: a fallback move would make the games' outcomes depend on load.
BUDGET = 60.0


async def start(client: Client, level: int = 4, color: str = "red") -> dict[str, Any]:
    """Start a game against the computer; its ``state``."""
    await client.send({"type": "init", "computer": level, "color": color})
    await client.expect("init")
    return await client.expect("state", computer="yellow" if color == "red" else "red", level=level)


async def move(client: Client, column: int) -> list[dict[str, Any]]:
    """Play ``column`` and wait for the computer's answer, or the end; the moves announced."""
    await client.send({"type": "play", "column": column})
    plays: list[dict[str, Any]] = []
    while True:
        event = await client.recv()
        if event["type"] == "play":
            plays.append(event)
            if len(plays) == 2:
                return plays
        elif event["type"] in ("win", "draw"):
            return plays


async def test_a_game_against_the_computer_is_played_to_the_end_and_replayed(make_server):
    server = await make_server(computer_delay=0, search_budget=BUDGET)
    client = await server.connect()
    state = await start(client)
    board, rng = Board(), random.Random(5)
    while not board.is_over:
        for played in await move(client, rng.choice(board.legal_columns())):
            board.play(played["player"], played["column"])
    assert board.winner == "yellow"  # perfect play beats random moves
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.http}/api/games/{state['game']}") as response:
            replay = await response.json()
    assert (replay["result"], replay["moves"]) == ("yellow", board.moves)
    assert (replay["computer"], replay["level"]) == ("yellow", 4)  # the replay can name it


async def test_a_player_resumes_a_game_against_the_computer_after_a_dropped_connection(make_server):
    server = await make_server(computer_delay=0, search_budget=BUDGET)
    client = await server.connect()
    state = await start(client, level=2)
    await move(client, 3)
    await client.close()
    back = await server.connect()
    await back.send({"type": "resume", "game": state["game"], "token": state["token"]})
    resumed = await back.expect("state", you="red", computer="yellow", yellow="connected")
    assert len(resumed["moves"]) == 2 and resumed["turn"] == "red"


async def test_a_game_against_the_computer_goes_on_after_a_server_restart(make_server, tmp_path):
    path = tmp_path / "games.db"
    store = SQLiteStore(path)
    server = await make_server(store=store, computer_delay=0, search_budget=BUDGET)
    client = await server.connect()
    state = await start(client, level=4, color="yellow")
    first = await client.until("play")
    await move(client, 3)
    await client.close()
    await server.close()
    await store.close()

    store = SQLiteStore(path)
    try:
        server = await make_server(store=store, computer_delay=0, search_budget=BUDGET)
        back = await server.connect()
        await back.send({"type": "resume", "game": state["game"], "token": state["token"]})
        resumed = await back.expect("state", you="yellow", computer="red", level=4)
        assert resumed["moves"][:2] == [first["column"], 3] and len(resumed["moves"]) == 3
        answer = (await move(back, 3))[1]
        assert answer["player"] == "red" and answer["ply"] == 4
        await back.close()
        await server.close()
    finally:
        await store.close()


async def test_a_level_out_of_range_is_refused(server):
    client = await server.connect()
    await client.send({"type": "init", "computer": 5})
    error = await client.expect("error", code="invalid_message")
    assert "computer" in error["message"]


async def test_a_game_against_the_computer_cannot_also_be_a_same_device_game(server):
    client = await server.connect()
    await client.send({"type": "init", "computer": 2, "local": True})
    await client.expect("error", code="invalid_message")


async def test_a_game_against_the_computer_takes_no_invite_key(server):
    client = await server.connect()
    await client.send({"type": "init", "computer": 2, "join": "some-key"})
    await client.expect("error", code="invalid_message")


async def test_a_tutorial_client_can_play_the_computer_and_hears_only_tutorial_events(make_server):
    """Like the tutorial's same-device game it gets no ``init`` (there is no invite to share)."""
    server = await make_server(computer_delay=0, search_budget=BUDGET)
    client = await server.connect(v1=False)
    await client.send({"type": "init", "computer": 1})
    await client.send({"type": "play", "column": 3})
    mine, answer = await client.expect("play"), await client.expect("play")
    assert set(mine) == set(answer) == {"type", "player", "column", "row"}
    assert (mine["player"], answer["player"]) == ("red", "yellow")
