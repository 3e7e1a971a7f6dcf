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
RED_WINS = [3, 4, 3, 4, 3, 4, 3]  # red's vertical four in column 3


def moves(columns: list[int], first: str = "red") -> list[Moved]:
    players = ["red", "yellow"] if first == "red" else ["yellow", "red"]
    return [Moved(at=2.0 + i, player=players[i % 2], column=c) for i, c in enumerate(columns)]  # type: ignore[arg-type]


def game(*events) -> GameState:  # type: ignore[no-untyped-def]
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
    state = game(LOCAL, *moves(RED_WINS))
    assert (state.result, state.reason, state.status, state.turn) == ("red", "four", "won", None)
    assert state.version == 1 + len(RED_WINS)


def test_a_full_board_without_four_is_a_draw():
    draw = [0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5, 4, 5, 6, 0, 6, 0, 6, 0, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 5, 6, 5, 6, 5, 6]
    assert Board.from_moves(draw).is_draw
    state = game(LOCAL, *moves(draw))
    assert (state.result, state.reason, state.status) == ("draw", "full", "draw")


@pytest.mark.parametrize(
    "ending, result, reason",
    [
        (Resigned(at=9.0, player="red"), "yellow", "resign"),
        (Claimed(at=9.0, player="red"), "red", "claim"),
        (Expired(at=9.0), "abandoned", "expired"),
    ],
)
def test_a_game_ends_by_resignation_claim_or_expiry(ending, result, reason):
    state = game(ONLINE, Joined(at=2.0), ending)
    assert (state.result, state.reason, state.finished_at) == (result, reason, 9.0)


@pytest.mark.parametrize("late", [Resigned(at=9.0, player="yellow"), Claimed(at=9.0, player="yellow"), Expired(at=9.0)])
def test_nothing_that_ends_a_game_is_taken_after_a_winning_move(late):
    """A resignation or claim racing the winning move loses, whichever process made it."""
    state = game(ONLINE, Joined(at=2.0), *moves(RED_WINS))
    with pytest.raises(Refused) as refused:
        state.apply(late)
    assert refused.value.code == "game_over"
    assert (state.result, state.reason) == ("red", "four")


def test_a_move_after_a_claim_is_refused():
    state = game(ONLINE, Joined(at=2.0), Claimed(at=3.0, player="yellow"))
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
    state = game(LOCAL, *moves(RED_WINS))
    state.apply(RematchOffered(at=20.0, player="red"))
    with pytest.raises(Refused):
        state.check(RematchStarted(at=21.0, game="next"))
    state.apply(RematchOffered(at=21.0, player="yellow"))
    state.apply(RematchStarted(at=22.0, game="next"))
    assert state.rematch == "next"
    with pytest.raises(Refused):
        state.check(RematchOffered(at=23.0, player="red"))


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
        Joined(at=2.0),
        Moved(at=3.0, player="yellow", column=6),
        Resigned(at=4.0, player="red"),
        Claimed(at=5.0, player="yellow"),
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
        event = Moved(at=at, player=board.turn or "red", column=column)
        at += 1
        try:
            board.play(event.player, column)
        except Exception:
            version = state.version
            with pytest.raises(Refused):
                state.apply(event)
            assert state.version == version
            continue
        state.apply(event)
    assert state.board.moves == board.moves
    assert state.version == 1 + len(board.moves)
    assert state.over == board.is_over
