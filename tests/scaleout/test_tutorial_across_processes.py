"""The tutorial's protocol across two processes sharing Redis, many games at once: the host
on one process, the guest on the other, a spectator on either; the host's first move is sent
as the tutorial's page sends it, without waiting for the guest's join to be stored. Every
connection must receive every move and the win, exactly once and in order: a single
undelivered event fails the test, naming the game and the connection."""

from __future__ import annotations

import asyncio
import json

from client import Client
from servers import ServerProcess

#: Red wins on its fourth move: seven moves, then the win.
RED_WINS = [3, 3, 4, 4, 5, 5, 6]
GAMES = 480
AT_ONCE = 120
#: Seconds a connection may wait for the next event of its game before it counts as lost.
PATIENCE = 10.0


def expected_frames() -> list[dict]:
    heights = [0] * 7
    frames: list[dict] = []
    for ply, column in enumerate(RED_WINS):
        frames.append(
            {"type": "play", "player": "red" if ply % 2 == 0 else "yellow", "column": column, "row": heights[column]}
        )
        heights[column] += 1
    return [*frames, {"type": "win", "player": "red"}]


EXPECTED = expected_frames()


async def seen_by(client: Client, name: str, game: int, mover: int | None, moves: list[Client]) -> None:
    """Read the game's frames as ``name`` sees them; the guest answers each of red's moves."""
    for index, want in enumerate(EXPECTED):
        try:
            frame = json.loads(await asyncio.wait_for(client.ws.recv(), PATIENCE))
        except TimeoutError:
            raise AssertionError(
                f"game {game}: the {name} never received {want} (event {index + 1} of {len(EXPECTED)})"
            ) from None
        assert frame == want, f"game {game}: the {name} received {frame} where {want} was due"
        if mover is not None and want["type"] == "play" and index + 1 < len(RED_WINS) and (index + 1) % 2 == mover:
            await moves[mover].send({"type": "play", "column": RED_WINS[index + 1]})


async def one_game(number: int, a: ServerProcess, b: ServerProcess) -> None:
    red = await Client.open(a.ws_url, v1=False)
    yellow = await Client.open(b.ws_url, v1=False)
    spectator = await Client.open((a if number % 2 else b).ws_url, v1=False)
    try:
        await red.send({"type": "init"})
        init = await red.expect("init")
        await yellow.send({"type": "init", "join": init["join"]})
        await spectator.send({"type": "init", "watch": init["watch"]})
        await red.send({"type": "play", "column": RED_WINS[0]})  # at once, as the tutorial's page does
        players = [red, yellow]
        await asyncio.gather(
            seen_by(red, "host", number, 0, players),
            seen_by(yellow, "guest", number, 1, players),
            seen_by(spectator, "spectator", number, None, players),
        )
    finally:
        for client in (red, yellow, spectator):
            await client.close()


async def test_every_event_of_many_tutorial_games_across_two_processes_reaches_every_connection(redis_url):
    a, b = (
        ServerProcess(
            "--redis",
            redis_url,
            "--games-per-minute",
            "0",
            "--waiting-per-address",
            "0",
            "--connections-per-address",
            "0",
        )
        for _ in range(2)
    )
    try:
        for start in range(0, GAMES, AT_ONCE):
            await asyncio.gather(*(one_game(number, a, b) for number in range(start, start + AT_ONCE)))
    finally:
        a.kill()
        b.kill()
