"""`connectfour play`, the terminal client, against a real server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import unicodedata

import pytest
from client import Client
from servers import ROOT, ServerProcess
from terminal import HostileServer, Terminal

from connectfour.cli.play.board import draw
from connectfour.cli.play.links import key_and_server, page_base


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

    def start(*args: str, env: dict[str, str] | None = None) -> Terminal:
        started.append(Terminal(*args, env=env))
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
    assert "Type a column number from 1 to 7, or help for every command." in result.stdout


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
    spectator.wait_for("You are watching this game.")
    host.wait_for("Your move (1-7):")
    host.type("4")
    spectator.wait_for("red played column 4")
    guest.wait_for("Your move (1-7):")


def test_a_spent_invite_exits_non_zero_with_a_message_instead_of_hanging(server, terminals):
    host = terminals("--url", server.ws_url)
    invite = host.wait_for("Invite a friend: ").split(": ", 1)[1]
    terminals("--join", invite).wait_for("You are yellow.")
    late = terminals("--join", invite)  # input left open: it must not wait for it
    assert late.wait(15) == 1
    assert "seat is taken" in late.stderr()


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


def test_the_pages_are_on_the_websocket_s_server():
    assert page_base("ws://h:8000/ws") == "http://h:8000"
    assert page_base("wss://c4.example.com/ws") == "https://c4.example.com"


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
    assert terminal.wait(30) == 1
    assert "gave up reconnecting" in terminal.stderr()


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
    assert (
        terminal.wait_for("Values for yellow:")
        == "Values for yellow: 1:L17 2:L19 3:L19 4:L20 5:L19 6:L19 7:L17. Best: 4."
    )
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
    colours["red"].wait_for("Red wins (four). You win!")
    colours["yellow"].wait_for("Red wins (four). You lost.")


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


def test_a_name_the_server_would_refuse_is_refused_before_connecting_in_plain_words(server):
    result = play(server, "--name", "<b>Ada</b>", moves="")
    assert result.returncode == 2
    assert "a name holds only letters, digits, _ - . ' and single spaces between words" in result.stderr
    assert "regex" not in result.stderr and "[\\w" not in result.stderr


# ---- a hostile server: nothing it sends crashes the client or reaches the terminal raw ----


def _state(**fields: object) -> str:
    event: dict[str, object] = {
        "type": "state", "game": "g1", "you": "red", "moves": [], "ply": 0, "status": "playing",
        "turn": "red", "red": "connected", "yellow": "connected", "spectators": 0, "token": "t1",
    }  # fmt: skip
    event.update(fields)
    return json.dumps(event)


ESCAPES = "\x1b[2J\x1b]0;owned\x07\r\x9b31m\u202e"
END = json.dumps({"type": "announcement", "message": "end of script"})
#: Each stream a hostile server sends, then the line the client shows once it has read it all.
STREAMS: dict[str, tuple[list[str | bytes], str]] = {
    "not JSON": (["this is not JSON {", END], "Announcement: end of script"),
    "JSON that is not an object": (["[1, 2, 3]", "null", '"state"', "42", END], "Announcement: end of script"),
    "an unknown type": (['{"type": "boom"}', '{"kind": "state"}', END], "Announcement: end of script"),
    "missing fields": (
        ['{"type": "state"}', '{"type": "play", "column": 3}', '{"type": "win"}', END],
        "Announcement: end of script",
    ),
    "wrong types": (
        [_state(moves="3344"), _state(you=7), _state(moves=[None]), '{"type": "error", "message": 1, "code": []}', END],
        "Announcement: end of script",
    ),
    "moves out of range": ([_state(moves=[9], ply=1), _state(moves=[-1], ply=1), END], "Announcement: end of script"),
    "a column filled past the top": ([_state(moves=[0] * 7, ply=7), END], "Announcement: end of script"),
    "moves after a win": ([_state(moves=[0, 1, 0, 1, 0, 1, 0, 1], ply=8), END], "Announcement: end of script"),
    "100,000 moves": ([_state(moves=[3] * 100_000, ply=100_000), END], "Announcement: end of script"),
    "deep nesting": (
        ["[" * 100_000 + "]" * 100_000, '{"type": "state", "moves": ' + "[" * 50_000 + "]" * 50_000 + "}", END],
        "Announcement: end of script",
    ),
    "a binary frame": ([b"\x00\xff\x1b[2J", END], "Announcement: end of script"),
    "winning cells off the board": (
        [_state(), json.dumps({"type": "win", "player": "red", "reason": "four", "cells": [[99, -1]]}), END],
        "Announcement: end of script",
    ),
    "escapes in names": (
        [
            _state(red_name="\x1b[31mEvil\x1b[0m", yellow_name="Bob\x07\r"),
            json.dumps(
                {
                    "type": "presence",
                    "red": "connected",
                    "yellow": "disconnected",
                    "spectators": 0,
                    "red_name": "Bob",
                    "yellow_name": ESCAPES,
                }
            ),
            END,
        ],
        "Announcement: end of script",
    ),
    "escapes in an error": (
        [
            json.dumps({"type": "error", "code": "rate_limited", "message": ESCAPES + " slow down"}),
            _state(),
            json.dumps({"type": "error", "code": "not_your_turn", "message": ESCAPES}),
            END,
        ],
        "Announcement: end of script",
    ),
    "escapes in an announcement": (
        [_state(), json.dumps({"type": "announcement", "message": ESCAPES + "restart"}), END],
        "Announcement: end of script",
    ),
    "escapes in the keys of a link": (
        [json.dumps({"type": "init", "game": "g1", "watch": "w\x1b[2J", "join": "j\x07"}), _state(), END],
        "Announcement: end of script",
    ),
    "a move out of range": (
        [
            _state(),
            json.dumps({"type": "play", "player": "red", "column": 99, "row": 0, "ply": 0, "turn": "yellow"}),
            END,
        ],
        "Announcement: end of script",
    ),
    "a move that does not follow": (
        [_state(), json.dumps({"type": "play", "player": "red", "column": 3, "row": 0, "ply": 5, "turn": "yellow"})],
        "reconnecting for a fresh copy",
    ),
    "a move that claims the wrong turn": (
        [_state(), json.dumps({"type": "play", "player": "red", "column": 3, "row": 0, "ply": 0, "turn": "red"})],
        "reconnecting for a fresh copy",
    ),
    "a frame of 2 MiB": (
        [_state(), json.dumps({"type": "announcement", "message": "x" * (2 << 20)})],
        "Connection lost",
    ),
}


@pytest.fixture
def hostile():
    started: list[HostileServer] = []

    def start(script: list[str | bytes] | None = None, **options: bool) -> HostileServer:
        started.append(HostileServer(script, **options))
        return started[-1]

    yield start
    for server in started:
        server.close()


def _assert_clean(terminal: Terminal) -> None:
    """Nothing raw reached the terminal: no traceback, no control character but the newline."""
    out, err = terminal.stdout.decode("utf-8", "replace"), terminal.stderr()
    assert "Traceback" not in err and "Traceback" not in out, err
    for text in (out, err):
        bad = {char for char in text if char != "\n" and unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")}
        assert not bad, f"control characters {bad!r} in {text!r}"


@pytest.mark.parametrize("stream", list(STREAMS))
def test_a_hostile_stream_neither_crashes_the_client_nor_reaches_the_terminal_raw_and_q_quits(
    stream, hostile, terminals
):
    script, shown = STREAMS[stream]
    server = hostile(script)
    terminal = terminals("--url", server.ws_url)
    terminal.wait_for(shown)
    assert terminal.proc.poll() is None, terminal.stderr()
    terminal.type("q")
    assert terminal.wait(10) == 0, terminal.stderr()
    _assert_clean(terminal)


def test_a_refusal_with_escapes_in_its_message_ends_the_client_with_the_message_cleaned(hostile, terminals):
    refusal = json.dumps({"type": "error", "code": "game_not_found", "message": ESCAPES + "No such game"})
    server = hostile([refusal])
    terminal = terminals("--url", server.ws_url, "--join", "k")
    assert terminal.wait(10) == 1
    assert "No such game" in terminal.stderr()
    _assert_clean(terminal)


def test_q_quits_when_the_server_never_answers_the_first_frame(hostile, terminals):
    server = hostile([])
    terminal = terminals("--url", server.ws_url)
    assert server.spoken_to.wait(10)
    terminal.type("4")  # a move typed meanwhile does not hold the client either
    terminal.type("q")
    assert terminal.wait(10) == 0, terminal.stderr()
    _assert_clean(terminal)


def test_q_quits_when_a_move_is_never_answered(hostile, terminals):
    server = hostile([_state()])
    terminal = terminals("--url", server.ws_url)
    terminal.wait_for("Your move (1-7):")
    terminal.type("4")
    assert json.loads(server.next_frame())["type"] == "init"
    assert json.loads(server.next_frame()) == {"type": "play", "column": 3, "ply": 0}
    terminal.type("q")
    assert terminal.wait(10) == 0, terminal.stderr()
    _assert_clean(terminal)


def test_q_quits_when_the_server_never_completes_the_websocket_handshake(hostile, terminals):
    server = hostile(silent=True)
    terminal = terminals("--url", server.ws_url)
    assert server.requested.wait(10)
    terminal.type("q")
    assert terminal.wait(10) == 0, terminal.stderr()
    _assert_clean(terminal)


def test_ctrl_c_quits_without_a_traceback_when_the_server_never_answers(hostile, terminals):
    server = hostile([])
    terminal = terminals("--url", server.ws_url)
    assert server.spoken_to.wait(10)
    terminal.interrupt()
    assert terminal.wait(10) == 130
    _assert_clean(terminal)


# ---- commands, words and options (what a new player tried) ----------------------------


@pytest.fixture(scope="module")
def no_grace_server():
    """A server whose absent players may be claimed against at once."""
    process = ServerProcess("--memory", "--grace", "0")
    yield process
    process.kill()


async def _host_and_guest(server, terminals, *args: str) -> tuple[Client, Terminal]:
    """A client of the test's own hosts (red); a terminal takes the seat (yellow)."""
    red = await Client.open(server.ws_url)
    await red.send({"type": "init"})
    init = await red.expect("init")
    await red.until("state")
    terminal = terminals("--join", f"{server.url}/?join={init['join']}", *args)
    await asyncio.to_thread(terminal.wait_for, "You are yellow.")
    return red, terminal


def test_without_url_it_connects_to_the_port_in_PORT_as_serve_listens_on(server, terminals):
    terminal = terminals("--local", env={"PORT": str(server.port)})
    terminal.wait_for("Red's move (1-7):")


def test_help_lists_every_command(server, terminals):
    terminal = terminals("--url", server.ws_url, "--local")
    terminal.wait_for("Red's move (1-7):")
    terminal.type("help")
    terminal.wait_for("Commands:")
    for command in ("claim", "resign", "help", "q  "):
        terminal.wait_for(command)


def test_a_spectator_is_told_it_watches(server, terminals):
    host = terminals("--url", server.ws_url)
    watch = host.wait_for("Anyone can watch: ").split(": ", 1)[1]
    spectator = terminals("--watch", watch)
    spectator.wait_for("You are watching this game.")
    spectator.type("4")
    spectator.wait_for("You are watching: spectators cannot play.")


def test_resign_gives_the_game_to_the_opponent(server, terminals):
    async def scenario() -> None:
        red, terminal = await _host_and_guest(server, terminals)
        terminal.type("resign")
        win = await red.until("win")
        assert win["player"] == "red" and win["reason"] == "resign"
        await asyncio.to_thread(terminal.wait_for, "Red wins (Yellow resigned). You lost.")
        await red.close()

    run(scenario())


def test_after_the_opponent_left_a_claim_wins_even_with_a_move_typed_ahead(no_grace_server, terminals):
    async def scenario() -> None:
        red, terminal = await _host_and_guest(no_grace_server, terminals)
        await red.send({"type": "play", "column": 3, "ply": 0})
        await asyncio.to_thread(terminal.wait_for, "Your move (1-7):")
        terminal.type("1")
        await asyncio.to_thread(terminal.wait_for, "yellow played column 1")
        # Red's turn, and red leaves: a column typed now waits for a turn that never comes...
        await red.close()
        await asyncio.to_thread(terminal.wait_for, "type claim to win")
        terminal.type("5")
        await asyncio.to_thread(terminal.wait_for, "Not your turn yet: column 5 is played once it is.")
        # ...and every other command is still answered.
        terminal.type("help")
        await asyncio.to_thread(terminal.wait_for, "Commands:")
        terminal.type("claim")
        await asyncio.to_thread(terminal.wait_for, "Yellow wins (Red left, and the win was claimed). You win!")
        terminal.type("q")
        assert await asyncio.to_thread(terminal.wait, 10) == 0

    run(scenario())


def test_a_rematch_this_terminal_offered_is_accepted_in_words_that_say_so(server, terminals):
    async def scenario() -> None:
        red, terminal = await _host_and_guest(server, terminals)
        await red.send({"type": "resign"})
        await asyncio.to_thread(terminal.wait_for, "Type r for a rematch, or q to quit.")
        terminal.type("r")
        await asyncio.to_thread(terminal.wait_for, "Rematch offered: waiting for your opponent.")
        await red.until("rematch")
        await red.send({"type": "rematch"})
        line = await asyncio.to_thread(terminal.wait_for, "the rematch")
        assert line == "Red accepts the rematch: a new game begins."
        await asyncio.to_thread(terminal.wait_for, "You are red.")
        assert not any("offers a rematch" in seen for seen in terminal.lines)
        await red.close()

    run(scenario())


def test_help_of_the_command_shows_no_markup_quotes():
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "play", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert "``" not in result.stdout
    assert "claim" in result.stdout and "$PORT" in result.stdout


def test_a_state_that_does_not_continue_the_moves_shown_says_the_server_lost_them(hostile, terminals):
    # The moves 3, 3, 4 shown; then (a failover onto a replica that lagged) the game as 3, 3.
    server = hostile([_state(moves=[3, 3, 4], ply=3, turn="yellow"), _state(moves=[3, 3], ply=2), END])
    terminal = terminals("--url", server.ws_url)
    terminal.wait_for("Announcement: end of script")
    assert "The server lost the latest moves of this game" in terminal.stdout.decode()
    terminal.type("q")
    assert terminal.wait(10) == 0, terminal.stderr()


def test_a_state_that_continues_the_moves_shown_says_nothing_of_the_kind(hostile, terminals):
    server = hostile([_state(moves=[3, 3], ply=2), _state(moves=[3, 3, 4], ply=3, turn="yellow"), END])
    terminal = terminals("--url", server.ws_url)
    terminal.wait_for("Announcement: end of script")
    assert "lost the latest moves" not in terminal.stdout.decode()
    terminal.type("q")
    assert terminal.wait(10) == 0, terminal.stderr()
