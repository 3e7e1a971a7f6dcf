"""Games on a clock, decided by the rulebook alone: the clock is the events' times, a move
after the flag does not count, the flag falls for the side to move at exactly its deadline,
and a game whose first moves do not come in time is aborted."""

from __future__ import annotations

import pytest
from records import created

from connectfour.domain import rulebook
from connectfour.domain.clock import ABORT_AFTER, TimeControl
from connectfour.domain.events import Aborted, Joined, Moved, TimedOut, decode_event, encode_event
from connectfour.domain.refusal import Refused
from connectfour.domain.rulebook import Flag, Move
from connectfour.domain.state import GameState

ONE_MINUTE = TimeControl.parse("1+0")
THREE_TWO = TimeControl.parse("3+2")
START = 100.0  # the game's creation; the guest joins at JOIN
JOIN = 110.0


def timed(control: TimeControl = ONE_MINUTE) -> GameState:
    """A game on ``control``, its guest seated at JOIN: red's first move is due."""
    return GameState.replay("g1", [created(at=START, clock=control), Joined(at=JOIN)])


def play(state: GameState, column: int, at: float) -> Moved:
    event = rulebook.decide(state, Move(state.board.turn or "red", column), at)
    assert isinstance(event, Moved)
    state.apply(event)
    return event


def opened(control: TimeControl = ONE_MINUTE) -> GameState:
    """Both sides moved once (red at JOIN + 1, yellow at JOIN + 2): red's clock runs from there."""
    state = timed(control)
    play(state, 3, JOIN + 1)
    play(state, 3, JOIN + 2)
    return state


def refusal(state: GameState, command: rulebook.Command, now: float) -> str:
    with pytest.raises(Refused) as refused:
        rulebook.decide(state, command, now)
    return refused.value.code


def test_a_time_control_travels_in_the_creation_and_comes_back_exactly():
    event = created(clock=THREE_TWO)
    assert decode_event(encode_event(event)) == event
    assert decode_event(encode_event(created())).clock is None


def test_an_untimed_game_has_no_clock_and_no_flag():
    state = GameState.replay("g1", [created(), Joined(at=JOIN)])
    assert state.clock is None
    assert refusal(state, Flag(), JOIN + 10_000) == "clock_running"
    play(state, 3, JOIN + 10_000)  # no time limit on a move


def test_the_first_moves_are_not_timed_but_are_due_within_the_abort_window():
    state = timed()
    assert state.clock is not None and state.clock.deadline == JOIN + ABORT_AFTER
    play(state, 3, JOIN + ABORT_AFTER - 0.001)  # red's first move, just in time
    assert state.clock.remaining("red", JOIN + ABORT_AFTER) == ONE_MINUTE.initial  # not taken from its clock
    assert state.clock.deadline == JOIN + ABORT_AFTER - 0.001 + ABORT_AFTER  # yellow's own window


def test_a_game_whose_first_move_does_not_come_is_aborted_and_nobody_wins():
    state = timed()
    assert refusal(state, Flag(), JOIN + ABORT_AFTER - 0.001) == "clock_running"
    assert refusal(state, Move("red", 3), JOIN + ABORT_AFTER) == "out_of_time"
    event = rulebook.decide(state, Flag(), JOIN + ABORT_AFTER)
    assert event == Aborted(at=JOIN + ABORT_AFTER)
    state.apply(event)
    assert (state.result, state.reason, state.status) == ("abandoned", "aborted", "abandoned")


def test_the_abort_window_waits_for_the_guest():
    state = GameState.replay("g1", [created(at=START, clock=ONE_MINUTE)])
    assert state.clock is not None and state.clock.deadline is None  # nobody to play yet
    assert refusal(state, Flag(), START + 3600) == "clock_running"


def test_a_game_with_both_seats_from_the_start_starts_its_clock_at_once():
    state = GameState.replay("g1", [created(at=START, clock=ONE_MINUTE, join_key=None, computer="yellow", level=2)])
    assert state.clock is not None and state.clock.deadline == START + ABORT_AFTER


def test_the_side_to_move_loses_on_time_at_exactly_its_deadline():
    state = opened()
    deadline = JOIN + 2 + ONE_MINUTE.initial
    assert state.clock is not None and state.clock.deadline == deadline
    assert refusal(state, Flag(), deadline - 0.001) == "clock_running"
    event = rulebook.decide(state, Flag(), deadline)
    assert event == TimedOut(at=deadline, player="red")
    state.apply(event)
    assert (state.result, state.reason, state.status) == ("yellow", "time", "won")


def test_a_move_one_millisecond_before_the_deadline_counts_and_one_after_does_not():
    deadline = JOIN + 2 + ONE_MINUTE.initial
    late = opened()
    assert refusal(late, Move("red", 4), deadline + 0.001) == "out_of_time"
    assert refusal(late, Move("red", 4), deadline) == "out_of_time"
    in_time = opened()
    play(in_time, 4, deadline - 0.001)
    assert in_time.clock is not None
    assert in_time.clock.remaining("red", deadline) == pytest.approx(0.001)


def test_a_move_stored_after_the_deadline_is_not_a_state_the_game_can_reach():
    state = opened()
    late = Moved(at=JOIN + 2 + ONE_MINUTE.initial + 1, player="red", column=4)
    with pytest.raises(Refused) as refused:
        state.apply(late)
    assert refused.value.code == "out_of_time" and state.board.ply == 2


def test_each_timed_move_earns_the_increment_and_spends_its_thinking_time():
    state = opened(THREE_TWO)
    clock = state.clock
    assert clock is not None
    play(state, 4, JOIN + 12)  # red thought 10 s: 180 - 10 + 2
    assert clock.remaining("red", JOIN + 12) == 172.0
    play(state, 4, JOIN + 17)  # yellow thought 5 s: 180 - 5 + 2
    assert clock.remaining("yellow", JOIN + 17) == 177.0
    assert clock.remaining("red", JOIN + 27) == 162.0  # red's clock runs again
    assert clock.deadline == JOIN + 17 + 172.0


def test_the_flag_names_the_side_to_move_only():
    state = opened()
    wrong = TimedOut(at=JOIN + 1000, player="yellow")
    with pytest.raises(Refused):
        state.apply(wrong)
    with pytest.raises(Refused):
        state.apply(Aborted(at=JOIN + 1000))  # both sides moved: it is a loss on time, not an abort


def test_a_flag_in_a_finished_game_is_refused():
    state = opened()
    state.apply(rulebook.decide(state, Flag(), JOIN + 1000))
    assert refusal(state, Flag(), JOIN + 2000) == "game_over"


def test_the_clock_is_the_same_for_anyone_replaying_the_log():
    state = opened(THREE_TWO)
    play(state, 4, JOIN + 12)
    replayed = GameState.replay("g1", [created(at=START, clock=THREE_TWO), Joined(at=JOIN), *moves_of(state)])
    assert replayed.clock is not None and state.clock is not None
    assert replayed.clock.deadline == state.clock.deadline
    assert replayed.clock.remaining("red", JOIN + 50) == state.clock.remaining("red", JOIN + 50)


def moves_of(state: GameState) -> list[Moved]:
    """Moves with the times ``opened`` and this module's tests gave them (kept on the side)."""
    return [Moved(at=JOIN + 1, player="red", column=3), Moved(at=JOIN + 2, player="yellow", column=3),
            Moved(at=JOIN + 12, player="red", column=4)]  # fmt: skip
