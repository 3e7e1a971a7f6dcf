"""The bounds per client address, as pure bookkeeping on a clock the tests move."""

from __future__ import annotations

import logging

from connectfour.web.limits import AddressLimits, ClientTable, forwarded_address


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def table(**limits: int) -> tuple[ClientTable, Clock]:
    clock = Clock()
    return ClientTable(AddressLimits(**limits), clock), clock


def test_an_address_holds_up_to_its_bound_of_connections():
    clients, _ = table(connections=3)
    assert [clients.connect("a") for _ in range(4)] == [True, True, True, False]
    assert clients.connect("b")  # another address is not held back


def test_a_connection_that_ends_makes_room():
    clients, _ = table(connections=1)
    assert clients.connect("a")
    clients.disconnect("a")
    assert clients.connect("a")


def test_connections_waiting_for_a_head_have_their_own_bound():
    clients, _ = table(waiting=2)
    assert [clients.start_waiting("a") for _ in range(3)] == [True, True, False]
    clients.stop_waiting("a")
    assert clients.start_waiting("a")


def test_games_come_in_a_burst_then_at_the_rate_per_minute():
    clients, clock = table(games_per_minute=6)
    assert [clients.new_game("a") for _ in range(7)] == [True] * 6 + [False]
    clock.now += 9.9  # 6 a minute: one every 10 s
    assert not clients.new_game("a")
    clock.now += 0.2
    assert clients.new_game("a")
    assert not clients.new_game("a")


def test_leaving_and_coming_back_does_not_refill_the_allowance():
    clients, clock = table(games_per_minute=2)
    clients.connect("a")
    assert clients.new_game("a") and clients.new_game("a")
    clients.disconnect("a")
    clients.connect("a")
    assert not clients.new_game("a")


def test_zero_turns_a_bound_off():
    clients, _ = table(connections=0, waiting=0, games_per_minute=0)
    assert all(clients.connect("a") and clients.start_waiting("a") and clients.new_game("a") for _ in range(1000))


def test_an_address_that_holds_nothing_leaves_the_table():
    clients, clock = table(games_per_minute=2)
    clients.connect("a")
    clients.start_waiting("a")
    clients.new_game("a")
    clients.stop_waiting("a")
    clients.disconnect("a")
    assert len(clients) == 1  # its allowance is still spent
    clock.now += 60
    assert clients.forget_idle() == 1 and len(clients) == 0


def test_refusals_of_one_address_are_logged_at_most_once_a_second(caplog):
    clients, clock = table(connections=1)
    clients.connect("a")
    with caplog.at_level(logging.WARNING, "connectfour.web"):
        for _ in range(100):
            clients.connect("a")
        clock.now += 1.0
        clients.connect("a")
    assert [r.getMessage() for r in caplog.records] == ["refused a: more than 1 connections"] * 2


def test_the_client_address_is_the_last_a_trusted_proxy_appended():
    assert forwarded_address("203.0.113.9") == "203.0.113.9"
    assert forwarded_address("10.0.0.1, 198.51.100.7") == "198.51.100.7"  # the first one is the client's to forge
    assert forwarded_address(" , ") is None


def test_the_table_counts_every_address_waiting_for_a_head():
    clients, _ = table()
    clients.start_waiting("a")
    clients.start_waiting("a")
    clients.start_waiting("b")
    assert clients.waiting_total() == 3 and len(clients) == 2


def test_the_addresses_of_one_ipv6_64_share_one_allowance_of_games():
    clients, _ = table(games_per_minute=3)
    subscriber = [f"2001:db8:0:1::{n:x}" for n in range(1, 11)]  # ten addresses of one /64
    assert [clients.new_game(address) for address in subscriber] == [True] * 3 + [False] * 7
    assert clients.new_game("2001:db8:0:2::1")  # the next /64 is someone else


def test_the_addresses_of_one_ipv6_64_share_one_bound_of_connections():
    clients, _ = table(connections=2)
    assert [clients.connect(f"2001:db8::{n}") for n in range(1, 4)] == [True, True, False]
    clients.disconnect("2001:db8::1")
    assert clients.connect("2001:db8::99")
    assert len(clients) == 1


def test_the_ipv6_prefix_is_configurable_down_to_single_addresses():
    clients, _ = table(games_per_minute=1, ipv6_prefix=128)
    assert clients.new_game("2001:db8::1") and clients.new_game("2001:db8::2")
    assert not clients.new_game("2001:db8::1")
    wide, _ = table(games_per_minute=1, ipv6_prefix=48)
    assert wide.new_game("2001:db8:0:1::1") and not wide.new_game("2001:db8:0:2::1")


def test_an_ipv4_address_counts_alone_and_its_ipv6_mapped_form_is_the_same_client():
    clients, _ = table(games_per_minute=1)
    assert clients.new_game("192.0.2.1") and clients.new_game("192.0.2.2")
    assert not clients.new_game("::ffff:192.0.2.1")
