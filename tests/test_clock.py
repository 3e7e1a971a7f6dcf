"""A game's clocks, pure: time controls, each side's time from the moves' times, the
deadline a flag falls at (or the first-move window closes at). Times are plain numbers:
nothing here reads a real clock."""

from __future__ import annotations

import pytest

from connectfour.domain.clock import ABORT_AFTER, Clock, TimeControl


@pytest.mark.parametrize(
    "text, initial, increment",
    [("1+0", 60, 0), ("3+2", 180, 2), ("5+3", 300, 3), ("10+5", 600, 5), ("0.5+0", 30, 0), (" 3+2 ", 180, 2)],
)
def test_a_time_control_is_read_as_minutes_plus_seconds(text, initial, increment):
    control = TimeControl.parse(text)
    assert (control.initial, control.increment) == (initial, increment)
    assert TimeControl.parse(str(control)) == control


@pytest.mark.parametrize("text", ["", "3", "3+", "+2", "3-2", "0+0", "181+0", "3+61", "a+b", "3+2+1", "1e3+0"])
def test_a_time_control_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        TimeControl.parse(text)


def started(control: str = "3+2", at: float = 1000.0) -> Clock:
    clock = Clock(TimeControl.parse(control))
    clock.start(at)
    return clock


def test_before_the_game_starts_there_is_no_deadline():
    clock = Clock(TimeControl.parse("3+2"))
    assert clock.deadline is None
    assert not clock.expired(10**9)
    assert clock.remaining("red", 10**9) == 180


def test_the_first_move_of_each_side_is_not_timed_but_must_come_within_the_window():
    clock = started()
    assert clock.deadline == 1000 + ABORT_AFTER
    assert clock.remaining("red", 1020) == 180  # the first move costs no clock time
    clock.moved("red", 1020)
    assert clock.deadline == 1020 + ABORT_AFTER  # yellow's first move: its own window
    clock.moved("yellow", 1045)
    assert clock.left == {"red": 180, "yellow": 180}
    assert clock.deadline == 1045 + 180  # red's clock runs from yellow's first move


def test_a_side_to_move_loses_time_as_it_thinks_and_gains_its_increment_after_each_move():
    clock = started()
    clock.moved("red", 1000)
    clock.moved("yellow", 1000)
    assert clock.remaining("red", 1010) == 170
    assert clock.remaining("yellow", 1010) == 180  # not its turn
    clock.moved("red", 1010)
    assert clock.left["red"] == 172  # 180 - 10 + 2
    clock.moved("yellow", 1040)
    assert clock.left["yellow"] == 152  # 180 - 30 + 2
    assert clock.remaining("red", 1040) == 172


def test_the_flag_falls_at_exactly_the_deadline():
    clock = started("1+0")
    clock.moved("red", 1000)
    clock.moved("yellow", 1000)
    assert clock.deadline == 1060
    assert not clock.expired(1059.999)
    assert clock.expired(1060)
    assert clock.remaining("red", 1061) == 0  # never below zero


def test_a_first_move_window_that_closes_is_an_abort_deadline():
    clock = started()
    assert not clock.running
    assert not clock.expired(1000 + ABORT_AFTER - 0.001)
    assert clock.expired(1000 + ABORT_AFTER)


def test_time_spent_is_what_a_move_at_a_time_took_its_player():
    clock = started()
    clock.moved("red", 1003)
    assert clock.spent("yellow", 1010) == 7
    assert clock.spent("red", 1010) == 0  # not its turn


def test_a_takeback_gives_the_turn_back_and_keeps_the_time_spent_spent():
    clock = started("5+0")
    clock.moved("red", 1000)
    clock.moved("yellow", 1000)
    clock.moved("red", 1010)  # red: 290
    clock.took_back(1, 1015)  # red's last move taken back while yellow thought 5 s
    assert clock.turn == "red" and clock.since == 1015
    assert clock.left == {"red": 290, "yellow": 295}
    assert clock.running
    clock.took_back(2, 1020)  # back before both first moves: the windows again, for red
    assert clock.turn == "red"
    assert not clock.running
    assert clock.deadline == 1020 + ABORT_AFTER


def test_the_same_moves_make_the_same_clock_whoever_replays_them():
    times = [1000, 1003, 1010, 1030, 1031, 1060]
    players = ["red", "yellow"] * 3

    def replay() -> Clock:
        clock = started("1+1")
        for player, at in zip(players, times):
            clock.moved(player, at)
        return clock

    first, second = replay(), replay()
    assert first.left == second.left and first.deadline == second.deadline
    # Red's clock runs from 1003: 7 s and 1 s spent, 2 increments; yellow's from 1010: 20 s and 29 s, 2.
    assert first.left == {"red": 60 - 7 + 1 - 1 + 1, "yellow": 60 - 20 + 1 - 29 + 1}
