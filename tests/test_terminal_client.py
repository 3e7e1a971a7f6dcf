"""`connectfour play`, the terminal client, against a real server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from connectfour.cli.play import draw
from servers import ROOT, ServerProcess


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


def test_a_same_device_game_is_played_to_the_end_from_typed_columns(server):
    result = play(server, "--local", moves="1\n2\n1\n2\n1\n2\n1\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Red wins (four).")


def test_typed_text_that_is_no_column_is_explained(server):
    result = play(server, "--local", moves="eight\n")
    assert "Type a column number from 1 to 7." in result.stdout


def test_an_online_game_prints_the_invite_and_watch_links(server):
    result = play(server, moves="")
    assert f"Invite a friend: {server.url}/?join=" in result.stdout
    assert f"Anyone can watch: {server.url}/?watch=" in result.stdout


def test_an_unknown_invite_is_reported(server):
    result = play(server, "--join", "no-such-key", moves="")
    assert "! Game not found." in result.stdout


def test_an_unreachable_server_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "play", "--url", "ws://127.0.0.1:1/ws", "--local"],
        cwd=ROOT, input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1 and "cannot reach" in result.stderr


def test_the_board_is_drawn_with_row_zero_at_the_bottom_and_winners_marked():
    text = draw([0, 1, 0, 1, 0, 1, 0], [[0, 0], [0, 1], [0, 2], [0, 3]])
    lines = text.splitlines()
    assert lines[-2] == "|[X] O  .  .  .  .  . |"
    assert lines[1] == "| .  .  .  .  .  .  . |"
    assert lines[2] == "|[X] .  .  .  .  .  . |"
