"""Seats held from any process: taken over by a resume anywhere, freed when their
process dies, and claimable once away for the grace period, by the clock alone.

A ``Presence`` is a value: each change returns the next one, and every reading
takes the registrations' expiries and the time."""

from __future__ import annotations

from connectfour.domain.seats import Holder, Presence, Registry, decode_presence, encode_presence, first_look

TTL, GRACE = 10.0, 60.0
A1, A2, B1 = Holder("A", 1), Holder("A", 2), Holder("B", 1)


def registry(now: float = 0.0) -> Registry:
    """Processes A and B, both registered at ``now``."""
    processes = Registry(TTL)
    processes.renew("A", now)
    processes.renew("B", now)
    return processes


def test_a_taken_seat_is_connected():
    processes = registry()
    presence = Presence().take(("red",), A1)
    assert presence.state("red", processes.expiries, 1.0, GRACE) == "connected"


def test_an_unspent_invite_shows_an_empty_seat():
    processes = registry()
    assert Presence().state("yellow", processes.expiries, 1.0, GRACE, invited=True) == "empty"


def test_a_resume_on_another_process_takes_the_seat_from_the_holder_the_previous_presence_names():
    processes = registry()
    before = Presence().take(("red",), A1)
    after = before.take(("red",), B1)
    assert before.live_holder("red", processes.expiries, 1.0) == A1  # the connection to close: replaced
    assert after.live_holder("red", processes.expiries, 1.0) == B1


def test_taking_a_seat_one_already_holds_replaces_nobody():
    processes = registry()
    before = Presence().take(("red",), A1)
    after = before.take(("red",), A1)
    assert before.live_holder("red", processes.expiries, 1.0) == after.live_holder("red", processes.expiries, 1.0) == A1


def test_one_connection_takes_both_seats_at_once():
    processes = registry()
    presence = Presence().take(("red", "yellow"), A1)
    assert [presence.live_holder(color, processes.expiries, 1.0) for color in ("red", "yellow")] == [A1, A1]


def test_a_player_who_leaves_is_disconnected_then_gone_after_the_grace_period():
    processes = registry()
    presence = Presence().take(("yellow",), A2).leave(A2, 5.0)
    processes.renew("A", 60.0)
    assert presence.state("yellow", processes.expiries, 64.9, GRACE) == "disconnected"
    assert not presence.claimable("yellow", processes.expiries, 64.9, GRACE)
    assert presence.state("yellow", processes.expiries, 65.0, GRACE) == "gone"
    assert presence.claimable("yellow", processes.expiries, 65.0, GRACE)


def test_coming_back_within_the_grace_period_ends_the_absence():
    processes = registry()
    presence = Presence().take(("yellow",), A2).leave(A2, 5.0).take(("yellow",), B1)
    processes.renew("B", 90.0)
    assert presence.state("yellow", processes.expiries, 95.0, GRACE) == "connected"
    assert not presence.claimable("yellow", processes.expiries, 95.0, GRACE)


def test_the_seats_of_a_process_that_stops_renewing_are_free_once_its_registration_runs_out():
    processes = registry()
    presence = Presence().take(("red",), A1).take(("yellow",), B1)
    processes.renew("A", 3.0)  # A's last renewal: it dies after this
    processes.renew("B", 12.0)
    assert presence.state("red", processes.expiries, 12.9, GRACE) == "connected"
    assert presence.state("red", processes.expiries, 13.0, GRACE) == "disconnected"  # within TTL of the death
    # The grace period runs from when the registration ran out, whoever looks.
    assert not presence.claimable("red", processes.expiries, 13.0 + GRACE - 0.1, GRACE)
    assert presence.claimable("red", processes.expiries, 13.0 + GRACE, GRACE)


def test_a_seat_of_a_dead_process_is_taken_without_a_replaced_notice():
    processes = registry()
    before = Presence().take(("red",), A1)
    # A stopped renewing at 0: the previous presence names nobody alive to tell.
    assert before.live_holder("red", processes.expiries, 20.0) is None
    assert before.take(("red",), B1).holder("red") == B1


def test_a_clean_stop_frees_the_seats_at_once():
    processes = registry()
    presence = Presence().take(("red",), A1)
    processes.stop("A", 2.0)
    assert presence.state("red", processes.expiries, 2.0, GRACE) == "disconnected"
    assert presence.claimable("red", processes.expiries, 2.0 + GRACE, GRACE)


def test_a_seat_never_held_nor_looked_at_cannot_be_claimed():
    processes = registry()
    assert Presence().state("red", processes.expiries, 1000.0, GRACE) == "disconnected"
    assert not Presence().claimable("red", processes.expiries, 1000.0, GRACE)


def test_a_game_first_looked_at_is_claimable_a_full_grace_period_later():
    processes = registry()
    presence = first_look(100.0)
    assert not presence.claimable("yellow", processes.expiries, 100.0 + GRACE - 0.1, GRACE)
    assert presence.claimable("yellow", processes.expiries, 100.0 + GRACE, GRACE)


def test_one_connection_holding_both_seats_leaves_both():
    presence = Presence().take(("red", "yellow"), A1).leave(A1, 4.0)
    assert (presence.red, presence.yellow, presence.red_left, presence.yellow_left) == (None, None, 4.0, 4.0)


def test_a_leave_by_a_connection_that_no_longer_holds_the_seat_changes_nothing():
    presence = Presence().take(("red",), A1).take(("red",), B1)
    assert presence.leave(A1, 5.0) is presence


def test_the_sequence_number_grows_with_each_change():
    first = Presence()
    taken = first.take(("red",), A1)
    watched = taken.watched("B", 2)
    left = watched.leave(A1, 3.0)
    assert [p.seq for p in (first, taken, watched, left)] == [0, 1, 2, 3]


def test_spectators_are_counted_on_live_processes_only():
    processes = registry()
    presence = Presence().watched("A", 2).watched("B", 3)
    processes.renew("B", 20.0)  # A stopped renewing at 0
    assert presence.spectators(processes.expiries, 1.0) == 5
    assert presence.spectators(processes.expiries, 15.0) == 3


def test_a_process_with_no_spectators_left_is_no_longer_watching():
    presence = Presence().watched("A", 2).watched("A", 0)
    assert presence.watching == {} and presence.processes() == set()


def test_a_presence_names_the_processes_of_its_holders_and_spectators():
    presence = Presence().take(("red",), A1).watched("B", 1).watched("C", 4)
    assert presence.processes() == {"A", "B", "C"}


def test_a_presence_survives_its_encoding():
    presence = Presence().take(("red",), A1).take(("yellow",), B1).leave(B1, 7.5).watched("C", 4)
    decoded = decode_presence(encode_presence(presence))
    assert decoded == presence
    assert isinstance(decoded.red, Holder)
