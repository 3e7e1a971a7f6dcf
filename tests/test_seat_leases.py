"""Seats held from any process: taken over by a resume anywhere, freed when their
process dies, and claimable once away for the grace period, by the clock alone."""

from __future__ import annotations

from connectfour.domain.seats import Holder, Registry, SeatTable

TTL, GRACE = 10.0, 60.0
A1, A2, B1 = Holder("A", 1), Holder("A", 2), Holder("B", 1)


def world(now: float = 0.0) -> tuple[SeatTable, Registry]:
    registry = Registry(TTL)
    registry.renew("A", now)
    registry.renew("B", now)
    return SeatTable(), registry


def test_a_taken_seat_is_connected():
    seats, registry = world()
    assert seats.take("red", A1, registry, 0.0) is None
    assert seats.state("red", registry, 1.0, GRACE) == "connected"


def test_an_unspent_invite_shows_an_empty_seat():
    seats, registry = world()
    assert seats.state("yellow", registry, 1.0, GRACE, invited=True) == "empty"


def test_a_resume_on_another_process_takes_the_seat_and_names_the_holder_to_close():
    seats, registry = world()
    seats.take("red", A1, registry, 0.0)
    assert seats.take("red", B1, registry, 1.0) == A1
    assert seats.holder("red", registry, 1.0) == B1


def test_taking_a_seat_one_already_holds_replaces_nobody():
    seats, registry = world()
    seats.take("red", A1, registry, 0.0)
    assert seats.take("red", A1, registry, 1.0) is None


def test_a_player_who_leaves_is_disconnected_then_gone_after_the_grace_period():
    seats, registry = world()
    seats.take("yellow", A2, registry, 0.0)
    assert seats.leave(A2, 5.0) == ["yellow"]
    registry.renew("A", 60.0)
    assert seats.state("yellow", registry, 64.9, GRACE) == "disconnected"
    assert not seats.claimable("yellow", registry, 64.9, GRACE)
    assert seats.state("yellow", registry, 65.0, GRACE) == "gone"
    assert seats.claimable("yellow", registry, 65.0, GRACE)


def test_coming_back_within_the_grace_period_ends_the_absence():
    seats, registry = world()
    seats.take("yellow", A2, registry, 0.0)
    seats.leave(A2, 5.0)
    seats.take("yellow", B1, registry, 30.0)
    registry.renew("B", 90.0)
    assert seats.state("yellow", registry, 95.0, GRACE) == "connected"
    assert not seats.claimable("yellow", registry, 95.0, GRACE)


def test_the_seats_of_a_process_that_stops_renewing_are_free_once_its_registration_runs_out():
    seats, registry = world()
    seats.take("red", A1, registry, 0.0)
    seats.take("yellow", B1, registry, 0.0)
    registry.renew("A", 3.0)  # A's last renewal: it dies after this
    registry.renew("B", 12.0)
    assert seats.state("red", registry, 12.9, GRACE) == "connected"
    assert seats.state("red", registry, 13.0, GRACE) == "disconnected"  # within TTL of the death
    # The grace period runs from when the registration ran out, whoever looks.
    assert not seats.claimable("red", registry, 13.0 + GRACE - 0.1, GRACE)
    assert seats.claimable("red", registry, 13.0 + GRACE, GRACE)


def test_a_seat_of_a_dead_process_is_taken_without_a_replaced_notice():
    seats, registry = world()
    seats.take("red", A1, registry, 0.0)
    assert seats.take("red", B1, registry, 20.0) is None  # A stopped renewing at 0: nobody to tell


def test_a_clean_stop_frees_the_seats_at_once():
    seats, registry = world()
    seats.take("red", A1, registry, 0.0)
    registry.stop("A", 2.0)
    assert seats.state("red", registry, 2.0, GRACE) == "disconnected"
    assert seats.claimable("red", registry, 2.0 + GRACE, GRACE)


def test_a_seat_never_held_cannot_be_claimed():
    seats, registry = world()
    assert seats.state("red", registry, 1000.0, GRACE) == "disconnected"
    assert not seats.claimable("red", registry, 1000.0, GRACE)


def test_one_connection_holding_both_seats_leaves_both():
    seats, registry = world()
    seats.take("red", A1, registry, 0.0)
    seats.take("yellow", A1, registry, 0.0)
    assert seats.leave(A1, 4.0) == ["red", "yellow"]
