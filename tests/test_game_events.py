"""A game is its events: replaying them rebuilds it, and only an event its state allows is taken."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectfour.domain.events import (
    Claimed,
    Created,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    RematchStarted,
    Resigned,
    decode_event,
    encode_event,
)
from connectfour.domain.state import GameState, Refused
from connectfour.rules import Board

ONLINE = Created(at=1.0, local=False, watch_key="w", join_key="j", red_token="r", yellow_token="y")
LOCAL = Created(at=1.0, local=True, watch_key="w", join_key=None, red_token="t", yellow_token="t")
#: Against the computer, which holds yellow: no invite to wait for.
COMPUTER = Created(
    at=1.0, local=False, watch_key="w", join_key=None, red_token="r", yellow_token="y", computer="yellow", level=2
)
RED_WINS = [3, 4, 3, 4, 3, 4, 3]  # red's vertical four in column 3
# fmt: off
DRAW = [0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5, 4, 5, 6, 0, 6, 0, 6, 0, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 5, 6, 5, 6, 5, 6]
#: The 42nd move, yellow's in column 5, fills the board and makes four: a win, not a draw.
FOUR_ON_THE_LAST_CELL = [4, 4, 4, 6, 4, 2, 3, 4, 0, 6, 1, 5, 1, 4, 5, 1, 0, 5, 2, 0, 0, 0, 0, 5, 1, 3, 2, 3, 1, 3, 3, 5, 1, 3, 2, 2, 6, 2, 6, 6, 6, 5]
# fmt: on


def moves(columns: list[int], end: str | None = None) -> list[Moved]:
    """Moves alternating from red; the last one states ``end``, the way it ends the game."""
    players = ["red", "yellow"]
    return [
        Moved(at=2.0 + i, player=players[i % 2], column=c, end=end if i == len(columns) - 1 else None)
        for i, c in enumerate(columns)
    ]


def game(*events) -> GameState:
    return GameState.replay("g", events)


def test_a_new_online_game_waits_for_its_guest_then_plays():
    state = game(ONLINE)
    assert (state.version, state.status, state.turn) == (1, "waiting", "red")
    state.apply(Joined(at=2.0))
    assert (state.version, state.status, state.invite_spent) == (2, "playing", True)


def test_a_same_device_game_plays_at_once_and_has_no_invite_to_spend():
    state = game(LOCAL)
    assert state.status == "playing"
    with pytest.raises(Refused) as refused:
        state.apply(Joined(at=2.0))
    assert refused.value.code == "seat_taken"


def test_an_invite_seats_one_guest_only():
    state = game(ONLINE, Joined(at=2.0))
    with pytest.raises(Refused) as refused:
        state.check(Joined(at=3.0))
    assert refused.value.code == "seat_taken"


def test_the_move_that_makes_four_ends_the_game_in_the_same_event():
    state = game(LOCAL, *moves(RED_WINS, "four"))
    assert (state.result, state.reason, state.status, state.turn) == ("red", "four", "won", None)
    assert state.version == 1 + len(RED_WINS)


def test_a_full_board_without_four_is_a_draw():
    assert Board.from_moves(DRAW).is_draw
    state = game(LOCAL, *moves(DRAW, "full"))
    assert (state.result, state.reason, state.status) == ("draw", "full", "draw")


def test_a_move_that_fills_the_board_with_four_is_a_win_not_a_draw():
    state = game(LOCAL, *moves(FOUR_ON_THE_LAST_CELL, "four"))
    assert (state.result, state.reason, state.status) == ("yellow", "four", "won")


@pytest.mark.parametrize(
    "before, column, wrong",
    [
        (RED_WINS[:-1], RED_WINS[-1], None),  # a win stated as nothing
        (RED_WINS[:-1], RED_WINS[-1], "full"),  # a win stated as a draw
        (DRAW[:-1], DRAW[-1], None),  # a draw stated as nothing
        (DRAW[:-1], DRAW[-1], "four"),  # a draw stated as a win
        (FOUR_ON_THE_LAST_CELL[:-1], FOUR_ON_THE_LAST_CELL[-1], "full"),  # four on the last cell stated as a draw
        ([], 3, "four"),  # an opening move stated as a win
    ],
)
def test_a_move_stating_an_end_it_does_not_make_is_refused_and_changes_nothing(before, column, wrong):
    state = game(LOCAL, *moves(before))
    version = state.version
    with pytest.raises(Refused) as refused:
        state.apply(Moved(at=99.0, player=state.board.turn, column=column, end=wrong))
    assert refused.value.code == "invalid_event"
    assert (state.version, state.result) == (version, None)


@pytest.mark.parametrize(
    "before, column, end, status",
    [
        ([], 3, None, "playing"),
        (RED_WINS[:-1], RED_WINS[-1], "four", "won"),
        (DRAW[:-1], DRAW[-1], "full", "draw"),
    ],
)
def test_a_move_stating_the_end_it_makes_is_accepted(before, column, end, status):
    state = game(LOCAL, *moves(before))
    state.apply(Moved(at=99.0, player=state.board.turn, column=column, end=end))
    assert (state.version, state.reason, state.status) == (2 + len(before), end, status)


@pytest.mark.parametrize(
    "ending, result, reason",
    [
        (Resigned(at=9.0, player="red"), "yellow", "resign"),
        (Claimed(at=9.0, player="red", grace=60.0), "red", "claim"),
        (Expired(at=9.0), "abandoned", "expired"),
    ],
)
def test_a_game_ends_by_resignation_claim_or_expiry(ending, result, reason):
    state = game(ONLINE, Joined(at=2.0), ending)
    assert (state.result, state.reason, state.finished_at) == (result, reason, 9.0)


@pytest.mark.parametrize(
    "late", [Resigned(at=9.0, player="yellow"), Claimed(at=9.0, player="yellow", grace=60.0), Expired(at=9.0)]
)
def test_nothing_that_ends_a_game_is_taken_after_a_winning_move(late):
    """A resignation or claim racing the winning move loses, whichever process made it."""
    state = game(ONLINE, Joined(at=2.0), *moves(RED_WINS, "four"))
    with pytest.raises(Refused) as refused:
        state.apply(late)
    assert refused.value.code == "game_over"
    assert (state.result, state.reason) == ("red", "four")


def test_a_move_after_a_claim_is_refused():
    state = game(ONLINE, Joined(at=2.0), Claimed(at=3.0, player="yellow", grace=60.0))
    with pytest.raises(Refused) as refused:
        state.apply(Moved(at=4.0, player="red", column=0))
    assert refused.value.code == "game_over"


@pytest.mark.parametrize(
    "move, code",
    [
        (Moved(at=3.0, player="yellow", column=0), "not_your_turn"),
        (Moved(at=3.0, player="red", column=7), "invalid_column"),
    ],
)
def test_an_illegal_move_is_refused_with_the_rules_code(move, code):
    state = game(LOCAL)
    with pytest.raises(Refused) as refused:
        state.apply(move)
    assert refused.value.code == code


def test_a_refused_event_changes_nothing():
    state = game(LOCAL, *moves([3, 3, 3, 3, 3, 3]))
    before = (state.version, list(state.board.moves), state.updated_at)
    with pytest.raises(Refused) as refused:
        state.apply(Moved(at=99.0, player="red", column=3))
    assert refused.value.code == "column_full"
    assert (state.version, list(state.board.moves), state.updated_at) == before


def test_events_of_a_game_never_created_are_refused():
    with pytest.raises(Refused) as refused:
        GameState("nowhere").apply(Moved(at=1.0, player="red", column=0))
    assert refused.value.code == "game_not_found"


def test_a_game_is_created_once():
    with pytest.raises(Refused) as refused:
        game(ONLINE).apply(ONLINE)
    assert refused.value.code == "already_started"


def test_a_rematch_starts_once_both_players_offered_it():
    state = game(LOCAL, *moves(RED_WINS, "four"))
    state.apply(RematchOffered(at=20.0, player="red"))
    with pytest.raises(Refused):
        state.check(RematchStarted(at=21.0, game="next"))
    state.apply(RematchOffered(at=21.0, player="yellow"))
    state.apply(RematchStarted(at=22.0, game="next"))
    assert state.rematch == "next"
    with pytest.raises(Refused):
        state.check(RematchOffered(at=23.0, player="red"))


def test_against_the_computer_a_rematch_starts_on_the_players_offer_alone():
    state = game(COMPUTER, *moves(RED_WINS, "four"))
    state.apply(RematchOffered(at=20.0, player="red"))
    state.apply(RematchStarted(at=21.0, game="next"))
    assert state.rematch == "next"


def test_against_the_computer_a_rematch_still_needs_an_offer():
    state = game(COMPUTER, *moves(RED_WINS, "four"))
    with pytest.raises(Refused) as refused:
        state.check(RematchStarted(at=21.0, game="next"))
    assert refused.value.code == "game_not_over"


def test_a_game_against_the_computer_keeps_its_seat_and_level_and_needs_no_guest():
    state = game(COMPUTER)
    assert (state.computer, state.level, state.status) == ("yellow", 2, "playing")


def test_a_rematch_is_offered_only_once_the_game_ended():
    with pytest.raises(Refused) as refused:
        game(LOCAL).apply(RematchOffered(at=2.0, player="red"))
    assert refused.value.code == "game_not_over"


@pytest.mark.parametrize(
    "event",
    [
        ONLINE,
        LOCAL,
        Created(at=1.5, local=False, watch_key="w", join_key=None, red_token="a", yellow_token="b", rematch_of="old"),
        COMPUTER,
        Joined(at=2.0),
        Moved(at=3.0, player="yellow", column=6),
        Moved(at=3.5, player="red", column=0, end="four"),
        Moved(at=3.6, player="yellow", column=1, end="full"),
        Resigned(at=4.0, player="red"),
        Claimed(at=5.0, player="yellow", grace=60.0),
        Expired(at=6.0),
        RematchOffered(at=7.0, player="red"),
        RematchStarted(at=8.0, game="abc"),
    ],
)
def test_every_event_survives_its_encoding(event):
    assert decode_event(encode_event(event)) == event


@given(st.lists(st.integers(0, 6), max_size=42))
def test_replaying_random_columns_agrees_with_the_rules(columns):
    """Events of legal moves rebuild the rules' own position; an illegal one is refused and changes nothing."""
    board, state, at = Board(), game(LOCAL), 2.0
    for column in columns:
        player = board.turn or "red"
        at += 1
        try:
            board.play(player, column)
        except Exception:
            version = state.version
            with pytest.raises(Refused):
                state.apply(Moved(at=at, player=player, column=column))
            assert state.version == version
            continue
        end = "four" if board.winner else "full" if board.is_draw else None  # as the rules saw it
        state.apply(Moved(at=at, player=player, column=column, end=end))
    assert state.board.moves == board.moves
    assert state.version == 1 + len(board.moves)
    assert state.over == board.is_over
