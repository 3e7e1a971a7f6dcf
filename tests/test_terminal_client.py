"""`connectfour play`, the terminal client, against a real server."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from client import Client
from connectfour.cli.play import draw, key_and_server
from servers import ROOT, ServerProcess
from terminal import Terminal


@pytest.fixture(scope="module")
def server():
    process = ServerProcess("--memory")
    yield process
    process.kill()


def play(server, *args: str, moves: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "connectfour", "play", "--url", server.ws_url, *args],
        cwd=ROOT, input=moves, capture_output=True, text=True, timeout=30,
    )  # fmt: skip


@pytest.fixture
def terminals():
    started: list[Terminal] = []

    def start(*args: str) -> Terminal:
        started.append(Terminal(*args))
        return started[-1]

    yield start
    for terminal in started:
        terminal.kill()


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_same_device_game_is_played_to_the_end_from_typed_columns(server):
    result = play(server, "--local", moves="1\n2\n1\n2\n1\n2\n1\n")
    assert result.returncode == 0, result.stderr
    assert "Red wins (four)." in result.stdout
    assert result.stdout.rstrip().endswith("Type r for a rematch, or q to quit.")


def test_the_prompt_names_whose_move_it_is(server):
    result = play(server, "--local", moves="4\n")
    assert "Red's move (1-7):" in result.stdout
    assert "Yellow's move (1-7):" in result.stdout
    assert "Your move, (1-7):" not in result.stdout


def test_typed_text_that_is_no_column_is_explained(server):
    result = play(server, "--local", moves="eight\n")
    assert "Type a column number from 1 to 7." in result.stdout


def test_an_online_game_prints_the_invite_and_watch_links(server):
    result = play(server, moves="")
    assert f"Invite a friend: {server.url}/?join=" in result.stdout
    assert f"Anyone can watch: {server.url}/?watch=" in result.stdout


def test_an_unknown_invite_is_a_fatal_error_with_a_message(server):
    result = play(server, "--join", "no-such-key", moves="")
    assert result.returncode == 1
    assert "No game has this invite" in result.stderr or "not found" in result.stderr.lower()


def test_the_invite_and_watch_links_it_prints_are_accepted_whole(server, terminals):
    host = terminals("--url", server.ws_url)
    invite = host.wait_for("Invite a friend: ").split(": ", 1)[1]
    watch = host.wait_for("Anyone can watch: ").split(": ", 1)[1]
    # No --url: the server comes from the link.
    guest = terminals("--join", invite)
    guest.wait_for("You are yellow.")
    spectator = terminals("--watch", watch)
    spectator.wait_for("You are spectator.")
    host.wait_for("Your move (1-7):")
    host.type("4")
    spectator.wait_for("red played column 4")
    guest.wait_for("Your move (1-7):")


def test_a_spent_invite_exits_non_zero_with_a_message_instead_of_hanging(server, terminals):
    host = terminals("--url", server.ws_url)
    invite = host.wait_for("Invite a friend: ").split(": ", 1)[1]
    terminals("--join", invite).wait_for("You are yellow.")
    late = terminals("--join", invite)  # input left open: it must not wait for it
    assert late.proc.wait(15) == 1
    assert "seat is taken" in late.proc.stderr.read()


def test_a_link_that_is_no_invite_is_refused(server):
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "play", "--join", f"{server.url}/?watch=abc"],
        cwd=ROOT, input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "is not an invite link" in result.stderr


def test_links_are_read_for_their_key_and_their_server():
    assert key_and_server("http://h:8000/?join=k1", "join") == ("k1", "ws://h:8000/ws")
    assert key_and_server("https://c4.example.com/?watch=k2", "watch") == ("k2", "wss://c4.example.com/ws")
    assert key_and_server("k3", "join") == ("k3", None)


def test_an_unreachable_server_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "play", "--url", "ws://127.0.0.1:1/ws", "--local"],
        cwd=ROOT, input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1 and "cannot reach" in result.stderr


def test_the_seat_is_resumed_after_a_server_restart_and_a_move_typed_meanwhile_is_played(tmp_path, terminals):
    db = tmp_path / "games.db"
    first = ServerProcess(db=db)
    try:
        terminal = terminals("--url", first.ws_url, "--local")
        terminal.wait_for("Red's move (1-7):")
        terminal.type("1")
        terminal.wait_for("Yellow's move (1-7):")
    finally:
        first.kill()
    terminal.wait_for("Connection lost. Reconnecting")
    terminal.type("2")  # typed while the server is down: played once the seat is back
    second = ServerProcess(db=db, port=first.port)
    try:
        terminal.wait_for("yellow played column 2", timeout=30)
        for column in "12121":
            terminal.type(column)
        terminal.wait_for("Red wins (four).")
        code, stderr = terminal.finish()
        assert code == 0, stderr
    finally:
        second.kill()


def test_it_gives_up_reconnecting_with_a_message_and_a_non_zero_exit(tmp_path, terminals):
    server = ServerProcess(db=tmp_path / "games.db")
    try:
        terminal = terminals("--url", server.ws_url, "--local", "--retries", "2")
        terminal.wait_for("Red's move (1-7):")
    finally:
        server.kill()
    assert terminal.proc.wait(30) == 1
    assert "gave up reconnecting" in terminal.proc.stderr.read()


def test_a_rematch_is_offered_after_the_game_and_accepted_by_the_opponent(server, terminals):
    async def scenario() -> None:
        red = await Client.open(server.ws_url)
        await red.send({"type": "init"})
        init = await red.expect("init")
        await red.until("state")
        terminal = terminals("--join", f"{server.url}/?join={init['join']}")
        await asyncio.to_thread(terminal.wait_for, "You are yellow.")
        for ply, column in enumerate([0, 1, 0, 1, 0, 1, 0]):
            if ply % 2 == 0:
                await red.send({"type": "play", "column": column, "ply": ply})
            else:
                await asyncio.to_thread(terminal.wait_for, "Your move (1-7):")
                terminal.type(str(column + 1))
            await red.until("play")
        await red.until("win")
        await asyncio.to_thread(terminal.wait_for, "Type r for a rematch, or q to quit.")
        await red.send({"type": "rematch"})
        await asyncio.to_thread(terminal.wait_for, "Red offers a rematch: type r to accept.")
        terminal.type("r")
        # Colours swap: the terminal plays red in the new game and moves first.
        await asyncio.to_thread(terminal.wait_for, "You are red.")
        await asyncio.to_thread(terminal.wait_for, "Your move (1-7):")
        await red.close()

    run(scenario())


def test_the_board_is_drawn_with_row_zero_at_the_bottom_and_winners_marked():
    text = draw([0, 1, 0, 1, 0, 1, 0], [[0, 0], [0, 1], [0, 2], [0, 3]])
    lines = text.splitlines()
    assert lines[-2] == "|[X] O  .  .  .  .  . |"
    assert lines[1] == "| .  .  .  .  .  .  . |"
    assert lines[2] == "|[X] .  .  .  .  .  . |"


def test_the_last_move_is_marked():
    lines = draw([3, 3], last=True).splitlines()
    assert lines[-3] == "| .  .  . (O) .  .  . |"


def test_with_analysis_each_position_shows_what_every_column_is_worth(server, terminals):
    terminal = terminals("--url", server.ws_url, "--local", "--analysis")
    # The empty board: only the centre wins, with red's 21st stone.
    assert terminal.wait_for("Values for red:") == "Values for red: 1:L20 2:L21 3:D 4:W21 5:D 6:L21 7:L20. Best: 4."
    terminal.type("4")
    # After the centre, every answer loses: the best holds out longest.
    assert terminal.wait_for("Values for yellow:") == "Values for yellow: 1:L17 2:L19 3:L19 4:L20 5:L19 6:L19 7:L17. Best: 4."
    code, _ = terminal.finish()
    assert code == 0


def test_two_terminals_playing_someone_are_paired_see_each_others_names_and_play_to_a_win(server, terminals):
    first = terminals("--url", server.ws_url, "--match", "--name", "Ada  Lovelace")
    colours = {first.wait_for("You are ").removeprefix("You are ").rstrip("."): first}
    first.wait_for("Looking for an opponent... (q to stop)")
    second = terminals("--url", server.ws_url, "--match", "--name", "Grace")
    colours[second.wait_for("You are ").removeprefix("You are ").rstrip(".")] = second
    assert set(colours) == {"red", "yellow"}
    names = {"red": "Ada Lovelace" if colours["red"] is first else "Grace"}
    names["yellow"] = "Grace" if names["red"] == "Ada Lovelace" else "Ada Lovelace"
    for terminal in (first, second):
        terminal.wait_for(f"Red: {names['red']}. Yellow: {names['yellow']}.")
    for ply, column in enumerate([1, 2, 1, 2, 1, 2, 1]):
        mover = colours["red" if ply % 2 == 0 else "yellow"]
        mover.wait_for("Your move (1-7):")
        mover.type(str(column))
    for terminal in (first, second):
        terminal.wait_for("Red wins (four).")


def test_a_public_game_started_in_a_terminal_is_in_the_lobby(server, terminals):
    async def scenario() -> None:
        terminal = terminals("--url", server.ws_url, "--public", "--name", "Ada")
        await asyncio.to_thread(terminal.wait_for, "Invite a friend:")
        watcher = await Client.open(server.ws_url)
        await watcher.send({"type": "lobby"})
        while True:
            lobby = await watcher.until("lobby")
            if lobby["waiting"]:
                break
        assert [entry["name"] for entry in lobby["waiting"]] == ["Ada"]
        await watcher.close()

    run(scenario())


def test_a_name_the_server_refuses_is_a_fatal_error_with_its_reason(server):
    result = play(server, "--name", "<b>Ada</b>", moves="")
    assert result.returncode == 1
    assert "name" in result.stderr
