"""What survives a crash: real server processes on one SQLite file, killed with SIGKILL."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from client import Client
from servers import ROOT, ServerProcess

RED_WINS = [3, 3, 4, 4, 5, 5, 6]


@pytest.fixture
def db(tmp_path):
    return tmp_path / "games.db"


async def test_a_game_survives_kill_9_and_both_players_finish_it(db):
    server = ServerProcess(db=db)
    try:
        host = await Client.open(server.ws_url)
        await host.send({"type": "init"})
        init = await host.expect("init")
        red = (await host.until("state"))["token"]
        guest = await Client.open(server.ws_url)
        await guest.send({"type": "init", "join": init["join"]})
        yellow = (await guest.until("state"))["token"]
        for ply, column in enumerate(RED_WINS[:4]):
            await (host if ply % 2 == 0 else guest).send({"type": "play", "column": column, "ply": ply})
            await host.until("play")
            await guest.until("play")  # acknowledged to both: it must survive
    finally:
        server.kill()
    await host.closed()
    await guest.closed()

    restarted = ServerProcess(port=server.port, db=db)
    try:
        host = await Client.open(restarted.ws_url)
        await host.send({"type": "resume", "game": init["game"], "token": red})
        state = await host.expect("state", you="red", turn="red")
        assert state["moves"] == RED_WINS[:4]
        guest = await Client.open(restarted.ws_url)
        await guest.send({"type": "resume", "game": init["game"], "token": yellow})
        await guest.expect("state", you="yellow")
        watcher = await Client.open(restarted.ws_url)
        await watcher.send({"type": "init", "watch": init["watch"]})
        assert (await watcher.expect("state"))["moves"] == RED_WINS[:4]
        for ply, column in list(enumerate(RED_WINS))[4:]:
            await (host if ply % 2 == 0 else guest).send({"type": "play", "column": column, "ply": ply})
            assert (await watcher.until("play"))["ply"] == ply
        assert (await watcher.until("win"))["player"] == "red"
        # A spent invite stays spent across the restart.
        late = await Client.open(restarted.ws_url)
        await late.send({"type": "init", "join": init["join"]})
        await late.expect("error", code="seat_taken")
    finally:
        restarted.kill()


async def test_every_acknowledged_move_survives_kill_9_under_load(db):
    """Twenty games move as fast as they can; the server is killed mid-stream."""
    import asyncio

    from connectfour.bench.games import DRAW

    server = ServerProcess(db=db)
    games: dict[str, dict] = {}
    enough = asyncio.Event()

    async def play() -> None:
        client = await Client.open(server.ws_url)
        await client.send({"type": "init", "local": True})
        game = (await client.expect("init"))["game"]
        acked: list[int] = []
        games[game] = {"token": (await client.until("state"))["token"], "acked": acked}
        try:
            for ply, column in enumerate(DRAW):
                await client.send({"type": "play", "column": column, "ply": ply})
                assert (await client.until("play"))["ply"] == ply
                acked.append(column)
                if sum(len(g["acked"]) for g in games.values()) >= 300:
                    enough.set()
        except Exception:
            return  # the server died under this game

    players = [asyncio.create_task(play()) for _ in range(20)]
    await asyncio.wait_for(enough.wait(), 30)
    server.kill()
    await asyncio.gather(*players)
    assert len(games) == 20

    restarted = ServerProcess(port=server.port, db=db)
    try:
        assert "games replayed" in restarted.wait_for_log("journal:")
        for game, seen in games.items():
            client = await Client.open(restarted.ws_url)
            await client.send({"type": "resume", "game": game, "token": seen["token"]})
            moves = (await client.expect("state"))["moves"]
            await client.close()
            # Every move acknowledged is there; at most one more was stored but never announced.
            assert moves[: len(seen["acked"])] == seen["acked"] and len(moves) <= len(seen["acked"]) + 1
    finally:
        restarted.kill()


def test_the_replay_of_a_finished_game_is_served(db):
    import asyncio

    server = ServerProcess(db=db)
    try:

        async def play() -> str:
            client = await Client.open(server.ws_url)
            await client.send({"type": "init", "local": True})
            init = await client.expect("init")
            for column in RED_WINS:
                await client.send({"type": "play", "column": column})
            await client.until("win")
            await client.close()
            return init["game"]

        game = asyncio.run(play())
        with urllib.request.urlopen(f"{server.url}/api/games/{game}", timeout=5) as response:
            record = json.load(response)
        assert record["moves"] == RED_WINS and record["result"] == "red" and record["reason"] == "four"
        with urllib.request.urlopen(f"{server.url}/game/{game}", timeout=5) as response:
            assert "replay" in response.read().decode().lower()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{server.url}/api/games/nope", timeout=5)
        assert missing.value.code == 404
    finally:
        server.kill()


def test_prune_deletes_old_games_and_keeps_recent_ones(db):
    import asyncio
    import sqlite3

    server = ServerProcess(db=db)

    async def one_game() -> str:
        client = await Client.open(server.ws_url)
        await client.send({"type": "init", "local": True})
        init = await client.expect("init")
        await client.close()
        return init["game"]

    try:
        old, new = asyncio.run(one_game()), asyncio.run(one_game())
    finally:
        server.terminate()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE games SET updated_at = updated_at - 10 * 86400 WHERE id = ?", (old,))
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "prune", "--older-than", "7", "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "pruned 1 game " in result.stdout
    with sqlite3.connect(db) as conn:
        assert [row[0] for row in conn.execute("SELECT id FROM games")] == [new]


def test_prune_without_a_database_says_so(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "prune", "--older-than", "7", "--db", str(tmp_path / "none.db")],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1 and "no database" in result.stderr


def test_a_second_server_on_the_same_database_says_who_holds_it(db):
    server = ServerProcess(db=db)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "connectfour", "serve", "--port", "0", "--db", str(db)],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"in use by another connectfour server (pid {server.proc.pid})" in second.stderr
    finally:
        server.terminate()
