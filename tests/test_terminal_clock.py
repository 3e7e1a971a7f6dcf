"""`connectfour play` on a clock, with draws and takebacks: against a real server
(the computer, and two terminals playing each other), and the client alone on an
injected clock for what a second's refresh shows."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from servers import ROOT, ServerProcess
from terminal import Terminal

from connectfour.cli.play.clocks import ClockLine, Clocks, clock_text
from connectfour.cli.play.screen import Screen
from connectfour.cli.play.terminal import LOST_MOVES
from connectfour.cli.play.terminal import Terminal as Game
from connectfour.protocol.server_messages import ClockView


@pytest.fixture(scope="module")
def server():
    process = ServerProcess("--memory", "--games-per-minute", "0", "--computer-delay", "0.2")
    yield process
    process.kill()


@pytest.fixture
def terminals():
    started: list[Terminal] = []

    def start(*args: str) -> Terminal:
        started.append(Terminal(*args))
        return started[-1]

    yield start
    for terminal in started:
        terminal.kill()


# ---- against a real server --------------------------------------------------------------


def test_a_timed_game_against_the_computer_shows_both_clocks_counting_down(server, terminals):
    terminal = terminals("--url", server.ws_url, "--computer", "1", "--clock", "3+2")
    terminal.wait_for("A game on a clock: 3 minutes each, and 2 s more after each move.")
    first = terminal.wait_for("Clock 3+2: ")
    assert first.startswith("Clock 3+2: Red (you) 03:00 | Yellow 03:00 | your first move within ")
    # The first move's countdown is refreshed while it runs...
    terminal.wait_for("your first move within 28 s")
    terminal.type("4")
    terminal.wait_for("Yellow's first move within")
    terminal.wait_for("yellow played column")
    # ...and then the running clock, every second, counted down from the server's figure.
    assert terminal.wait_for("(running)").startswith("Clock 3+2: Red (you) 0")
    terminal.wait_for("Clock 3+2: Red (you) 02:58 (running) | Yellow 03:00")
    terminal.type("resign")
    terminal.wait_for("Yellow wins (Red resigned). You lost.")
    clocks = [line for line in terminal.lines if line.startswith("Clock 3+2: ")]
    assert "(running)" not in clocks[-1]  # stopped with the game


def test_a_player_whose_clock_runs_out_is_told_it_lost_on_time(server, terminals):
    terminal = terminals("--url", server.ws_url, "--computer", "1", "--clock", "0.05+0")  # 3 s each
    terminal.wait_for("Your move (1-7):")
    terminal.type("4")
    terminal.wait_for("yellow played column")
    terminal.wait_for("Red (you) 00:02.")  # tenths under 10 s
    terminal.wait_for("You lost on time: your clock ran out.")
    assert terminal.lines[-2] == "Clock 0.05+0: Red (you) 00:00.0 | Yellow 00:03.0"


def test_a_takeback_against_the_computer_takes_back_the_move_and_its_reply(server, terminals):
    terminal = terminals("--url", server.ws_url, "--computer", "2")
    terminal.wait_for("Your move (1-7):")
    terminal.type("4")
    terminal.wait_for("yellow played column")
    terminal.wait_for("Your move (1-7):")
    terminal.type("takeback")
    terminal.wait_for("Taken back: 2 moves.")
    assert terminal.wait_for("|") == "| .  .  .  .  .  .  . |"
    terminal.wait_for("Your move (1-7):")
    terminal.type("1")
    terminal.wait_for("red played column 1")
    code, _ = terminal.finish()
    assert code == 0
    assert not any("lost the latest moves" in line for line in terminal.lines)


def test_a_draw_is_offered_declined_offered_again_and_accepted_between_two_terminals(server, terminals):
    host = terminals("--url", server.ws_url, "--clock", "5+3")
    invite = host.wait_for("Invite a friend: ").split(": ", 1)[1]
    guest = terminals("--join", invite)
    guest.wait_for("You are yellow.")
    host.wait_for("Your opponent is here.")
    host.wait_for("Clock 5+3: Red (you) 05:00 | Yellow 05:00 | your first move within")
    host.type("4")
    guest.wait_for("Your move (1-7):")
    host.type("draw")
    host.wait_for("You offer a draw: waiting for Yellow's answer.")
    guest.wait_for("Red offers a draw: type draw to accept, or decline.")
    guest.type("decline")
    guest.wait_for("You decline the draw.")
    host.wait_for("Yellow declines your offer of a draw.")
    guest.type("4")
    host.wait_for("Your move (1-7):")
    guest.type("draw")
    host.wait_for("Yellow offers a draw: type draw to accept, or decline.")
    host.type("draw")
    for terminal in (host, guest):
        terminal.wait_for("Draw by agreement.")
        terminal.wait_for("Type r for a rematch, or q to quit.")


def test_a_takeback_asked_of_the_opponent_is_declined_then_accepted(server, terminals):
    host = terminals("--url", server.ws_url)
    invite = host.wait_for("Invite a friend: ").split(": ", 1)[1]
    guest = terminals("--join", invite)
    host.wait_for("Your opponent is here.")
    host.type("4")
    guest.wait_for("Your move (1-7):")
    guest.type("3")
    host.wait_for("yellow played column 3")
    guest.type("takeback")
    guest.wait_for("You ask to take back your last move: waiting for Red's answer.")
    host.wait_for("Yellow asks to take back their last move: type takeback to accept, or decline.")
    host.type("decline")
    guest.wait_for("Red declines your takeback.")
    guest.type("takeback")
    host.wait_for("Yellow asks to take back their last move")
    host.type("takeback")
    guest.wait_for("Red accepts your takeback: 1 move taken back.")
    host.wait_for("Taken back: 1 move.")
    guest.wait_for("Your move (1-7):")
    guest.type("5")
    host.wait_for("yellow played column 5")
    for terminal in (host, guest):
        assert not any("lost the latest moves" in line for line in terminal.lines)


def test_decline_with_nothing_to_decline_says_so_and_help_lists_every_command(server, terminals):
    terminal = terminals("--url", server.ws_url, "--local")
    terminal.wait_for("Red's move (1-7):")
    terminal.type("decline")
    terminal.wait_for("There is no offer of a draw or request for a takeback to decline.")
    terminal.type("help")
    terminal.wait_for("Commands:")
    for command in ("1 to 7", "draw", "decline", "takeback", "claim", "resign", "r  ", "help", "q  "):
        terminal.wait_for(f"  {command}")


def test_a_takeback_on_one_device_takes_back_the_last_move(server, terminals):
    terminal = terminals("--url", server.ws_url, "--local")
    terminal.wait_for("Red's move (1-7):")
    terminal.type("4")
    terminal.wait_for("Yellow's move (1-7):")
    terminal.type("takeback")
    terminal.wait_for("Taken back: 1 move.")
    terminal.wait_for("Red's move (1-7):")


def _play(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connectfour", "play", "--url", "ws://127.0.0.1:1/ws", *args],
        cwd=ROOT, input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--clock", "3-2"], "a time control is minutes+seconds, such as 3+2, not '3-2'"),
        (["--clock", "200+0"], "'200+0': a clock starts with more than 0 and at most 180 minutes"),
        (["--clock", "3+2", "--join", "KEY"], "--clock starts a new game on a clock"),
        (["--clock", "3+2", "--local"], "a game on one device is not timed"),
        (["--color", "yellow"], "--color is the colour you play against the computer"),
        (["--computer", "5"], "'5': a level is 1 (beginner) to 4 (perfect play)"),
    ],
)
def test_options_that_cannot_be_are_refused_before_connecting_in_plain_words(args, said):
    result = _play(*args)
    assert result.returncode == 2
    assert said in result.stderr
    assert "cannot reach" not in result.stderr


# ---- the client alone, on an injected clock ---------------------------------------------


class Now:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def _state(**fields: object) -> str:
    event: dict[str, object] = {
        "type": "state", "game": "g1", "you": "red", "moves": [3, 3], "ply": 2, "status": "playing",
        "turn": "red", "red": "connected", "yellow": "connected", "spectators": 0, "token": "t1",
        "clock": {"control": "3+2", "red": 172.4, "yellow": 180.0, "at": 5.0, "runs": "red"},
    }  # fmt: skip
    event.update(fields)
    return json.dumps(event)


def _client(tty: bool = False) -> tuple[Game, io.StringIO, Now]:
    out, now = io.StringIO(), Now()
    return Game("http://h", {"type": "init"}, screen=Screen(out, tty=tty, echo=tty), now=now), out, now


def _lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_the_clocks_count_down_from_the_server_s_figure_by_the_time_since_it_came():
    game, out, now = _client()
    game.frame(_state())  # the server's `at` (another machine's clock) is not used
    assert "Clock 3+2: Red (you) 02:52 (running) | Yellow 03:00" in _lines(out)
    now.value += 2.5
    assert game.clock.refresh() == pytest.approx(0.9 + 0.001)  # until 02:49 shows
    assert _lines(out)[-1] == "Clock 3+2: Red (you) 02:49 (running) | Yellow 03:00"
    now.value += 0.9
    game.clock.refresh()
    assert _lines(out)[-1] == "Clock 3+2: Red (you) 02:49 (running) | Yellow 03:00"  # (the same: not printed again)
    now.value += 0.1
    game.clock.refresh()
    assert _lines(out)[-1] == "Clock 3+2: Red (you) 02:48 (running) | Yellow 03:00"
    # Under 10 s, tenths; the opponent's move brings the server's figures.
    now.value += 160.25
    game.clock.refresh()
    assert _lines(out)[-1] == "Clock 3+2: Red (you) 00:08.6 (running) | Yellow 03:00"
    game.frame(_state(moves=[3, 3, 4], ply=3, turn="yellow", clock={
        "control": "3+2", "red": 10.1, "yellow": 180.0, "at": 6.0, "runs": "yellow"}))  # fmt: skip
    assert _lines(out)[-1] == "Clock 3+2: Red (you) 00:10 | Yellow 03:00 (running)"
    now.value += 200  # the server's word on the end comes next: the clock stays at zero
    assert game.clock.refresh() is None
    assert _lines(out)[-1] == "Clock 3+2: Red (you) 00:10 | Yellow 00:00.0 (running)"


def test_on_a_terminal_the_clock_line_is_rewritten_in_place_below_the_lines_printed():
    game, out, now = _client(tty=True)
    game.frame(_state())
    start = len(out.getvalue())
    now.value += 1
    game.clock.refresh()
    # The cursor saved, one line up, the line written, the rest erased, the cursor back.
    assert out.getvalue()[start:] == "\x1b7\x1b[1A\rClock 3+2: Red (you) 02:51 (running) | Yellow 03:00\x1b[K\x1b8"
    start = len(out.getvalue())
    game.show("Announcement: hello")
    # Printed over the clock line, which comes again below it.
    assert out.getvalue()[start:] == (
        "\x1b[1A\r\x1b[2KAnnouncement: hello\nClock 3+2: Red (you) 02:51 (running) | Yellow 03:00\n"
    )
    # A line typed (echoed below the clock line): the next refresh is a new line, nothing overwritten.
    game.screen.typed()
    start = len(out.getvalue())
    now.value += 1
    game.clock.refresh()
    assert out.getvalue()[start:] == "Clock 3+2: Red (you) 02:50 (running) | Yellow 03:00\n"


def test_the_first_move_countdown_shows_before_both_sides_moved_and_starts_when_the_guest_sits():
    game, out, now = _client()
    waiting = {"control": "1+0", "red": 60.0, "yellow": 60.0, "at": 5.0}
    game.frame(_state(moves=[], ply=0, status="waiting", yellow="empty", clock=waiting))
    assert "A game on a clock: 1 minute each. A first move not made within 30 s aborts the game." in _lines(out)
    assert _lines(out)[-2] == "Clock 1+0: Red (you) 01:00 | Yellow 01:00"
    assert game.clock.refresh() is None  # nothing counts down before the guest comes
    game.frame(json.dumps({"type": "presence", "red": "connected", "yellow": "connected", "spectators": 0}))
    assert "Clock 1+0: Red (you) 01:00 | Yellow 01:00 | your first move within 30 s" in _lines(out)
    now.value += 3.5
    game.clock.refresh()
    assert _lines(out)[-1] == "Clock 1+0: Red (you) 01:00 | Yellow 01:00 | your first move within 27 s"
    aborted = _state(moves=[], ply=0, status="abandoned", reason="aborted", turn=None, clock=waiting)
    game.frame(aborted)
    assert "Aborted: the first move did not come in time." in _lines(out)


def test_the_end_on_time_is_told_to_each_side_in_its_own_words():
    won = json.dumps({"type": "win", "player": "yellow", "reason": "time"})
    loser, out, _ = _client()
    loser.frame(_state())
    loser.frame(won)
    assert _lines(out)[-3:] == [
        "Clock 3+2: Red (you) 00:00.0 | Yellow 03:00",
        "You lost on time: your clock ran out.",
        "Type r for a rematch, or q to quit.",
    ]
    winner, out, _ = _client()
    winner.frame(_state(you="yellow"))
    winner.frame(won)
    assert "You won on time: Red's clock ran out." in _lines(out)
    spectator, out, _ = _client()
    spectator.frame(_state(you="spectator", token=None))
    spectator.frame(won)
    assert "Yellow wins on time: Red's clock ran out." in _lines(out)


def test_a_shorter_game_is_a_takeback_only_while_one_stands():
    game, out, _ = _client()
    game.frame(_state(moves=[3, 3, 4], ply=3, turn="yellow", clock=None))
    game.frame(json.dumps({"type": "takeback_request", "player": "red"}))
    assert _lines(out)[-1] == "You ask to take back your last move: waiting for Yellow's answer."
    game.frame(_state(clock=None))
    assert "Yellow accepts your takeback: 1 move taken back." in _lines(out)
    assert f"! {LOST_MOVES}" not in _lines(out)
    # Nothing stands now: a shorter game again is moves the server lost.
    game.frame(_state(moves=[3], ply=1, turn="yellow", clock=None))
    assert f"! {LOST_MOVES}" in _lines(out)


def test_an_offer_lapses_when_its_receiver_moves_and_decline_then_has_nothing_to_decline():
    game, out, _ = _client()
    game.frame(_state(you="yellow", moves=[3], ply=1, turn="yellow", draw_offer="red", clock=None))
    assert game.offers.to_decline("yellow") == ["decline_draw"]
    game.frame(json.dumps({"type": "play", "player": "yellow", "column": 3, "row": 1, "ply": 1, "turn": "red"}))
    assert game.offers.to_decline("yellow") == []


def test_clock_figures_are_mm_ss_with_tenths_under_ten_seconds_and_never_more_than_left():
    assert [clock_text(s) for s in (180, 179.99, 600, 10.0, 9.99, 0.05, 0, -3)] == [
        "03:00", "02:59", "10:00", "00:10", "00:09.9", "00:00.0", "00:00.0", "00:00.0",
    ]  # fmt: skip
    assert clock_text(float("inf")) == "--:--"
    assert clock_text(1e300) == "999:59"


def test_a_clock_stopped_at_the_end_shows_the_loser_on_time_at_zero():
    view = ClockView(control="1+0", red=0.4, yellow=50.0, at=0.0, runs="red")
    stopped = Clocks(view, 10.0).stopped(10.1, "red")
    assert not stopped.counting
    assert stopped.line("yellow", 99.0) == "Clock 1+0: Red 00:00.0 | Yellow (you) 00:50"


def test_an_untimed_game_shows_no_clock():
    line = ClockLine(Screen(io.StringIO(), tty=False, echo=False), Now())
    line.set(None, "red", "red")
    assert line.refresh() is None


def test_two_terminals_playing_someone_on_the_same_clock_are_paired_and_see_it(server, terminals):
    first = terminals("--url", server.ws_url, "--match", "--clock", "1+0")
    first.wait_for("A game on a clock: 1 minute each.")
    first.wait_for("Looking for an opponent...")
    second = terminals("--url", server.ws_url, "--match", "--clock", "1+0")
    second.wait_for("A game on a clock: 1 minute each.")
    first.wait_for("Your opponent is here.")
    for terminal in (first, second):
        terminal.wait_for("first move within 29 s")


# ---- a hostile server's clocks ------------------------------------------------------------


def test_absurd_clocks_from_a_server_neither_crash_the_client_nor_reach_the_terminal_raw(terminals):
    from terminal import HostileServer

    hostile = {"control": "\x1b[2J3+2" + "9" * 10_000, "red": 1e308, "yellow": -5.0, "at": -1.0, "runs": "red"}
    script = [
        _state(clock=hostile),
        _state(clock={**hostile, "runs": None, "first_move_in": 1e300}),
        '{"type": "state", "game": "g1", "clock": {"control": 5}}',
        json.dumps({"type": "draw_offer", "player": "yellow"}),
        json.dumps({"type": "takeback_request", "player": "purple"}),
        json.dumps({"type": "win", "player": "yellow", "reason": "time"}),
        json.dumps({"type": "announcement", "message": "end of script"}),
    ]
    server = HostileServer(script)
    try:
        terminal = terminals("--url", server.ws_url)
        terminal.wait_for("Announcement: end of script")
        out = terminal.stdout.decode()
        assert "Clock [2J3+299999…: Red (you) 999:59 (running) | Yellow 00:00.0" in out
        assert "first move within 59999 s" in out and "Yellow offers a draw" in out
        assert "You lost on time" in out
        assert "\x1b" not in out and "Traceback" not in terminal.stderr()
        terminal.type("q")
        assert terminal.wait(10) == 0, terminal.stderr()
    finally:
        server.close()
