"""Announced events reach every follower of a game, in version order, each once,
and what the bus loses is read back from the store."""

from __future__ import annotations

import asyncio
import random

import pytest

from connectfour.bus import Inbox, LocalBus
from connectfour.bus.inbox import MAX_HELD
from connectfour.domain.events import Created, Event, Moved
from connectfour.domain.state import GameState
from connectfour.store import MemoryStore, VersionConflict

CREATED = Created(at=1.0, local=True, watch_key="w", join_key=None, red_token="t", yellow_token="t")


def created(n: int) -> Created:
    """A game's first event, with a watch key of its own: keys are unique across a store's games."""
    return Created(at=1.0, local=True, watch_key=f"w{n}", join_key=None, red_token="t", yellow_token="t")


async def last_version(store: MemoryStore, game_id: str) -> int:
    return len(await store.read(game_id))


# -- the inbox, sans I/O --------------------------------------------------------------------


def test_the_next_version_is_applied_at_once():
    inbox: Inbox[str] = Inbox(3)
    assert inbox.offer(4, "d") == [(4, "d")]
    assert inbox.version == 4 and not inbox.gap


def test_the_next_version_is_taken_in_one_step_and_any_other_is_left_to_offer():
    inbox: Inbox[str] = Inbox(3)
    assert not inbox.take_next(3) and not inbox.take_next(5) and inbox.version == 3
    assert inbox.take_next(4) and inbox.version == 4


def test_the_next_version_is_not_taken_in_one_step_while_events_wait_past_a_gap():
    inbox: Inbox[str] = Inbox(1)
    inbox.offer(3, "c")
    assert not inbox.take_next(2) and inbox.version == 1
    assert inbox.offer(2, "b") == [(2, "b"), (3, "c")]


def test_a_duplicate_or_an_old_version_is_dropped():
    inbox: Inbox[str] = Inbox(3)
    assert inbox.offer(3, "c") == [] and inbox.offer(1, "a") == []
    assert inbox.offer(4, "d") == [(4, "d")]
    assert inbox.offer(4, "d") == []


def test_an_event_past_a_gap_waits_for_the_gap_to_be_filled():
    inbox: Inbox[str] = Inbox(1)
    assert inbox.offer(3, "c") == [] and inbox.offer(4, "d") == []
    assert inbox.gap
    assert inbox.offer(2, "b") == [(2, "b"), (3, "c"), (4, "d")]
    assert inbox.version == 4 and not inbox.gap


def test_a_store_read_fills_a_gap_and_releases_what_waited():
    inbox: Inbox[str] = Inbox(1)
    inbox.offer(4, "d")
    assert inbox.fill([(2, "b"), (3, "c"), (4, "d")]) == [(2, "b"), (3, "c"), (4, "d")]
    assert inbox.version == 4 and not inbox.gap


@pytest.mark.parametrize("seed", range(200))
def test_any_order_with_repeats_comes_out_once_each_in_order(seed):
    rng = random.Random(seed)
    announced = [(v, f"e{v}") for v in range(1, 31)]
    arrivals = announced + rng.sample(announced, 10)
    rng.shuffle(arrivals)
    inbox: Inbox[str] = Inbox(0)
    applied = []
    for version, event in arrivals:
        applied += inbox.offer(version, event)
    assert applied == announced


# -- the store and the bus, in one process --------------------------------------------------


async def follow(store: MemoryStore, bus: LocalBus, game_id: str) -> tuple[GameState, list[int]]:
    """A follower as a process keeps one: subscribe, then read what came before, then apply in order."""
    state = GameState(game_id)
    inbox: Inbox[object] = Inbox(0)
    applied: list[int] = []

    def apply(ready: list) -> None:
        for version, event in ready:
            state.apply(event)
            applied.append(version)

    def deliver(gid: str, version: int, event: Event) -> None:
        apply(inbox.offer(version, event))
        if inbox.gap:
            asyncio.ensure_future(read())

    async def read() -> None:
        apply(inbox.fill(await store.read(game_id, inbox.version)))

    await bus.subscribe(game_id, deliver)
    await read()
    return state, applied


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_append_takes_only_the_next_version():
    store = MemoryStore(LocalBus())
    await store.append("g", 1, CREATED)
    with pytest.raises(VersionConflict):
        await store.append("g", 3, Moved(at=2.0, player="red", column=0))
    with pytest.raises(VersionConflict):
        await store.append("g", 1, Moved(at=2.0, player="red", column=0))
    assert await last_version(store, "g") == 1


async def test_the_same_event_from_a_second_caller_conflicts_and_is_announced_once():
    """Equal events from two callers are two requests, not one retried: the
    second gets VersionConflict (a client library's retry of one call is the
    store's own business, keyed by that call)."""
    bus = LocalBus()
    store = MemoryStore(bus)
    heard: list[int] = []
    await bus.subscribe("g", lambda gid, version, data: heard.append(version))
    await store.append("g", 1, CREATED)
    with pytest.raises(VersionConflict):
        await store.append("g", 1, CREATED)
    await settle()
    assert await last_version(store, "g") == 1 and heard == [1]


async def test_two_processes_racing_for_one_ply_store_exactly_one_move_every_time():
    store = MemoryStore(LocalBus())
    for n in range(1000):
        game_id = f"g{n}"
        await store.append(game_id, 1, created(n))
        outcomes = await asyncio.gather(
            store.append(game_id, 2, Moved(at=2.0, player="red", column=0)),
            store.append(game_id, 2, Moved(at=2.0, player="red", column=6)),
            return_exceptions=True,
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["NoneType", "VersionConflict"]
        assert await last_version(store, game_id) == 2


async def test_every_follower_applies_every_event_once_in_order():
    bus = LocalBus()
    store = MemoryStore(bus)
    await store.append("g", 1, CREATED)
    followers = [await follow(store, bus, "g") for _ in range(3)]
    for version, column in enumerate([3, 4, 3, 4], start=2):
        await store.append(
            "g", version, Moved(at=float(version), player="red" if version % 2 == 0 else "yellow", column=column)
        )
    await settle()
    for state, applied in followers:
        assert applied == [1, 2, 3, 4, 5] and state.board.moves == [3, 4, 3, 4]


async def test_an_announcement_the_bus_loses_is_read_back_from_the_store():
    bus = LocalBus()
    store = MemoryStore(bus)
    await store.append("g", 1, CREATED)
    state, applied = await follow(store, bus, "g")
    bus.drop = lambda game_id, version, deliver: version == 3  # lost on its way
    for version, column in enumerate([3, 4, 3], start=2):
        await store.append(
            "g", version, Moved(at=float(version), player="red" if version % 2 == 0 else "yellow", column=column)
        )
    await settle()
    assert applied == [1, 2, 3, 4] and state.board.moves == [3, 4, 3]


async def test_a_follower_that_subscribes_late_reads_what_came_before():
    bus = LocalBus()
    store = MemoryStore(bus)
    await store.append("g", 1, CREATED)
    await store.append("g", 2, Moved(at=2.0, player="red", column=5))
    state, applied = await follow(store, bus, "g")
    await store.append("g", 3, Moved(at=3.0, player="yellow", column=5))
    await settle()
    assert applied == [1, 2, 3] and state.board.moves == [5, 5]


async def test_an_unsubscribed_follower_hears_nothing_more():
    bus = LocalBus()
    heard: list[int] = []

    def deliver(gid: str, version: int, event: Event) -> None:
        heard.append(version)

    await bus.subscribe("g", deliver)
    bus.publish("g", 1, CREATED)
    bus.unsubscribe("g", deliver)  # before the delivery's turn came
    await settle()
    assert heard == [] and bus.subscribers("g") == 0


def test_events_held_ahead_of_a_gap_are_bounded_and_the_store_brings_the_rest():
    inbox: Inbox[str] = Inbox(1)
    for version in range(3, 3 + MAX_HELD + 100):  # version 2 lost: everything after waits
        assert inbox.offer(version, f"e{version}") == []
    assert len(inbox._held) == MAX_HELD  # what a lossy bus can make a process hold
    stored = [(version, f"e{version}") for version in range(2, 3 + MAX_HELD + 100)]
    assert [v for v, _ in inbox.fill(stored)] == list(range(2, 3 + MAX_HELD + 100))
