"""The rulebook alone: what a claim, an expiry, a join, a move and a rematch may do,
decided from a game's state, its seats and the time, with no store."""

from __future__ import annotations

import pytest
from records import created, moves

from connectfour.domain import rulebook
from connectfour.domain.events import Claimed, Expired, Joined, Moved, RematchOffered, RematchStarted, Resigned
from connectfour.domain.refusal import Refused
from connectfour.domain.rulebook import Claim, Expire, Join, Move, OfferRematch, Resign, Seats, StartRematch
from connectfour.domain.seats import Holder, Presence, first_look
from connectfour.domain.state import GameState

A1, A2, B1 = Holder("A", 1), Holder("A", 2), Holder("B", 1)
GRACE = 60.0


def game(*events, **overrides) -> GameState:
    return GameState.replay("g1", [created(**overrides), *events])


def joined() -> GameState:
    return game(Joined(at=0.0))


def refusal(state: GameState, command: rulebook.Command, now: float, seats: Seats | None = None) -> str:
    with pytest.raises(Refused) as refused:
        rulebook.decide(state, command, now, seats)
    return refused.value.code


def seated(alive_until: float = 15.0) -> Seats:
    """Red held by A1, yellow by A2 since 0.0; process A alive until ``alive_until``."""
    presence = first_look(0.0).take(("red",), A1).take(("yellow",), A2)
    return Seats(presence, {"A": alive_until}, GRACE)


# -- claims ----------------------------------------------------------------------------


def test_a_claim_is_refused_while_the_opponent_holds_the_seat():
    assert refusal(joined(), Claim("red"), 10.0, seated()) == "not_claimable"


def test_a_claim_is_refused_until_the_opponent_is_away_the_grace_period():
    seats = seated(alive_until=75.0)
    away = Seats(seats.presence.leave(A2, 10.0), seats.expiries, GRACE)
    assert refusal(joined(), Claim("red"), 69.9, away) == "not_claimable"
    assert rulebook.decide(joined(), Claim("red"), 70.0, away) == Claimed(at=70.0, player="red", grace=GRACE)


def test_a_claim_is_refused_once_the_opponent_is_back():
    seats = seated(alive_until=75.0)
    back = seats.presence.leave(A2, 10.0).take(("yellow",), B1)  # back, on another process
    assert refusal(joined(), Claim("red"), 100.0, Seats(back, {"A": 75.0, "B": 115.0}, GRACE)) == "not_claimable"


def test_a_seat_held_by_a_dead_process_can_be_claimed_after_the_grace_period():
    presence = first_look(0.0).take(("yellow",), B1)
    seats = Seats(presence, {"B": 15.0}, GRACE)  # B died: its registration ran out at 15.0
    state = game(Joined(at=0.0))
    assert refusal(state, Claim("red"), 74.0, seats) == "not_claimable"
    assert rulebook.decide(state, Claim("red"), 75.0, seats).player == "red"


def test_a_seat_held_here_is_never_away_whatever_the_shared_presence_says():
    seats = Seats(first_look(0.0), {}, GRACE, here=frozenset({"yellow"}))
    assert refusal(joined(), Claim("red"), 1000.0, seats) == "not_claimable"


def test_a_claim_on_one_device_or_by_a_spectator_or_after_the_end_is_refused():
    gone = Seats(first_look(0.0), {}, GRACE)
    assert refusal(game(local=True, join_key=None), Claim("both"), 1000.0, gone) == "not_claimable"
    assert refusal(joined(), Claim("spectator"), 1000.0, gone) == "not_a_player"
    over = game(Joined(at=0.0), Resigned(at=1.0, player="yellow"))
    assert refusal(over, Claim("red"), 1000.0, gone) == "game_over"


def test_the_guest_s_seat_is_not_away_while_its_invite_is_unspent():
    assert refusal(game(), Claim("red"), 1000.0, Seats(first_look(0.0), {}, GRACE)) == "not_claimable"


# -- expiry ----------------------------------------------------------------------------


def test_an_expiry_is_refused_while_a_seat_is_held_by_a_live_process():
    seats = seated(alive_until=15.0)
    left = Seats(seats.presence.leave(A2, 5.0), seats.expiries, GRACE)
    assert refusal(joined(), Expire(), 10.0, left) == "not_claimable"  # red is still held, and A alive
    assert rulebook.decide(joined(), Expire(), 15.0, left) == Expired(at=15.0)  # A's registration ran out


def test_a_game_nobody_looked_at_expires():
    assert rulebook.decide(game(), Expire(), 500.0, Seats(Presence(), {}, GRACE)) == Expired(at=500.0)


def test_a_finished_game_does_not_expire():
    over = game(Joined(at=0.0), Resigned(at=1.0, player="yellow"))
    assert refusal(over, Expire(), 500.0, Seats(Presence(), {}, GRACE)) == "game_over"


# -- joining, moving, resigning --------------------------------------------------------


def test_a_spent_invite_offers_the_watch_key_instead():
    with pytest.raises(Refused) as refused:
        rulebook.decide(joined(), Join("Grace"), 1.0)
    assert (refused.value.code, refused.value.watch) == ("seat_taken", "watch-g1")


def test_an_invite_to_a_game_that_ended_before_anyone_joined_seats_nobody():
    assert refusal(game(Resigned(at=1.0, player="red")), Join(), 2.0) == "game_over"


def test_nothing_may_happen_to_a_game_that_does_not_exist():
    assert refusal(GameState("nothing"), Join(), 1.0) == "game_not_found"


def test_a_move_names_its_player_and_the_end_it_makes():
    state = game(Joined(at=0.0), *moves([3, 3, 4, 4, 5, 5]))
    assert rulebook.decide(state, Move("red", 6), 9.0) == Moved(at=9.0, player="red", column=6, end="four")


@pytest.mark.parametrize(
    "role, column, ply, code",
    [
        ("spectator", 3, None, "spectator"),
        ("yellow", 3, None, "not_your_turn"),
        ("red", 7, None, "invalid_column"),
        ("red", 3, 1, "future_ply"),
    ],
)
def test_a_move_the_game_does_not_allow_is_refused_with_its_code(role, column, ply, code):
    assert refusal(joined(), Move(role, column, ply), 1.0) == code


def test_a_move_for_a_ply_already_played_is_stale():
    state = game(Joined(at=0.0), *moves([3]))
    assert refusal(state, Move("yellow", 3, 0), 1.0) == "stale_ply"


def test_on_one_device_a_move_and_a_resignation_are_for_whoever_is_to_move():
    state = game(*moves([3]), local=True, join_key=None)
    assert rulebook.decide(state, Move("both", 4), 1.0).player == "yellow"
    assert rulebook.decide(state, Resign("both"), 1.0) == Resigned(at=1.0, player="yellow")


# -- rematch ---------------------------------------------------------------------------


def test_a_rematch_starts_once_both_players_offered():
    over = game(Joined(at=0.0), Resigned(at=1.0, player="yellow"))
    assert refusal(over, StartRematch("g2"), 2.0) == "game_not_over"
    offered = game(Joined(at=0.0), Resigned(at=1.0, player="yellow"), RematchOffered(at=2.0, player="red"))
    assert refusal(offered, StartRematch("g2"), 3.0) == "game_not_over"
    both = game(
        Joined(at=0.0), Resigned(at=1.0, player="yellow"),
        RematchOffered(at=2.0, player="red"), RematchOffered(at=3.0, player="yellow"),
    )  # fmt: skip
    assert rulebook.decide(both, StartRematch("g2"), 4.0) == RematchStarted(at=4.0, game="g2")


def test_against_the_computer_one_offer_starts_the_rematch_and_the_computer_never_offers():
    over = game(*moves([3, 3, 4, 4, 5, 5, 6]), computer="yellow", level=1, join_key=None)
    assert refusal(over, OfferRematch("yellow"), 2.0) == "not_a_player"
    offered = GameState.replay(
        "g1",
        [
            created(computer="yellow", level=1, join_key=None),
            *moves([3, 3, 4, 4, 5, 5, 6]),
            RematchOffered(at=2.0, player="red"),
        ],
    )
    assert rulebook.decide(offered, StartRematch("g2"), 3.0) == RematchStarted(at=3.0, game="g2")


def test_a_rematch_is_offered_only_once_the_game_is_over():
    assert refusal(joined(), OfferRematch("red"), 1.0) == "game_not_over"
