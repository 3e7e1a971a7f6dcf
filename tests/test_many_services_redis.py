"""tests/test_many_services.py again, with each service on its OWN RedisStore and
RedisBus (its own connections, one real valkey-server), as separate processes would be.

The scenarios are the same functions, imported from there; only the world
they run in changes (``World`` and ``settle`` are replaced while these run).

Time: the services keep the fake clock of test_many_services (``Timers``).
Redis follows it, because every condition the functions evaluate uses the
times the clients pass (the event's ``at``, the seats' times, the registry's
expiries), never the server's clock. The server's clock serves only to refuse
a registry read older than ``ttl / 3`` of real time, and to order presences
(``seq``), neither of which a test moves.

Settling: announcements now travel over a socket, so ``settle`` waits until
every bus has read all the server sent before (a PING on its connection,
answered after them) and every task the services started is done, and
repeats that until a round brings nothing new.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import test_many_services as many
from redis.asyncio import Redis

# The scenarios, collected here too, with this module's ``world`` fixture.
from test_many_services import (  # noqa: F401
    test_a_claim_racing_a_winning_move_ends_the_game_exactly_once,
    test_a_dropped_last_announcement_is_found_by_the_heartbeat,
    test_a_lobby_watcher_that_lags_gets_only_the_newest_lobby_once_it_reads,
    test_a_move_on_one_service_reaches_everyone_on_every_service_once,
    test_a_player_leaving_on_one_service_is_seen_away_and_claimable_everywhere,
    test_a_quick_match_cancelled_on_one_service_is_never_taken_on_another,
    test_a_quick_match_pairs_players_on_two_services,
    test_a_rematch_offered_on_two_services_moves_everyone_everywhere_to_the_new_game,
    test_a_service_that_stops_renewing_frees_its_seats_and_the_grace_period_starts_then,
    test_a_waiting_players_second_tab_waits_in_the_same_game_and_is_never_paired_with_itself,
    test_an_announcement_the_bus_drops_is_read_back_from_the_store,
    test_an_invite_raced_from_three_services_seats_exactly_one_guest,
    test_every_service_lobby_shows_the_public_games_of_every_service,
    test_expiry_waits_while_a_seat_is_held_on_any_service,
    test_resuming_on_another_service_takes_the_seat_and_closes_the_old_connection,
    test_spectators_on_every_service_are_counted_by_everyone,
    test_the_guest_on_another_service_is_seen_connected_by_everyone,
    test_the_lobby_forgets_a_service_that_stopped_saying_its_part,
    test_two_players_pressing_play_someone_at_once_on_two_services_are_paired,
    test_two_services_racing_for_one_ply_store_exactly_one_move_1000_times,
)

from connectfour.bus.base import Delivery
from connectfour.service import GameService
from connectfour.store.redis import RedisStore

#: Rounds of settling before giving up (each one waits on the server, not on a clock).
ROUNDS = 50
#: Seconds the tasks of one round may take.
TASKS_TIMEOUT = 10.0


class Buses:
    """``world.bus`` for the scenarios that lose announcements: the hook goes to every bus."""

    def __init__(self, stores: list[RedisStore]) -> None:
        self._stores = stores

    @property
    def drop(self) -> Callable[[str, int, Delivery], bool] | None:
        return self._stores[0].bus.drop

    @drop.setter
    def drop(self, hook: Callable[[str, int, Delivery], bool] | None) -> None:
        for store in self._stores:
            store.bus.drop = hook


class RedisWorld:
    """test_many_services's ``World``: ``count`` services, each on its own store and bus."""

    def __init__(self, url: str, count: int) -> None:
        self.timers = many.Timers()
        self.stores = [RedisStore(url, ttl=many.TTL) for _ in range(count)]
        #: The test's own view of the store, as a fourth process.
        self.store = RedisStore(url)
        self.bus = Buses(self.stores)
        self.services = [
            GameService(store, grace=many.GRACE, clock=self.timers.clock, schedule=self.timers.schedule)
            for store in self.stores
        ]

    def delivered(self) -> int:
        return sum(store.bus.delivered for store in self.stores)

    async def settle(self) -> None:
        for _ in range(ROUNDS):
            before = self.delivered()
            await asyncio.gather(*(store.bus.flush() for store in self.stores if store.bus.connected))
            waited = await _tasks_done(self.stores + [self.store])
            if not waited and self.delivered() == before:
                return
        raise AssertionError(f"still busy after {ROUNDS} rounds of settling")

    async def close(self) -> None:
        for store in [*self.stores, self.store]:
            await store.close()


async def _tasks_done(stores: list[RedisStore]) -> bool:
    """Wait for every task but this one, the buses' readers and the stores' writers (which
    live on, waiting), and for every store's appends; whether there were any."""
    current = asyncio.current_task()
    waited = False
    while True:
        tasks = [
            t
            for t in asyncio.all_tasks()
            if t is not current and not t.get_name().startswith(("cf-redis-bus", "cf-redis-appends"))
        ]
        if not tasks:
            if not any(store.writing for store in stores):
                return waited
            waited = True
            deadline = asyncio.get_running_loop().time() + TASKS_TIMEOUT
            while any(store.writing for store in stores):
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"appends still on their way after {TASKS_TIMEOUT}s")
                await asyncio.sleep(0.001)
            continue
        waited = True
        done, pending = await asyncio.wait(tasks, timeout=TASKS_TIMEOUT)
        if pending:
            raise AssertionError(f"tasks still running after {TASKS_TIMEOUT}s: {pending}")


@pytest.fixture(autouse=True)
async def redis_worlds(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[RedisWorld]]:
    """While a scenario runs, test_many_services's ``World`` and ``settle`` are the Redis ones."""
    worlds: list[RedisWorld] = []

    def make(count: int) -> RedisWorld:
        world = RedisWorld(redis_url, count)
        worlds.append(world)
        return world

    async def settle() -> None:
        for world in worlds:
            await world.settle()

    monkeypatch.setattr(many, "World", make)
    monkeypatch.setattr(many, "settle", settle)
    try:
        yield worlds
    finally:
        for world in worlds:
            await world.close()


@pytest.fixture
def world(redis_worlds: list[RedisWorld]) -> RedisWorld:
    return many.World(3)


# -- Redis only ------------------------------------------------------------------------------------


async def test_a_service_whose_bus_reconnected_reads_back_what_it_missed(world, redis_url):
    """An announcement lost while B's bus was away (the drop hook stands for the outage)
    is read back from the store once the bus subscribed again, without a later event."""
    a, b, _ = world.services
    host, guest, watchers = await many.online_game(world)
    game_a = a.where(host)[0]
    bus_b = world.stores[1].bus
    resubscribed = asyncio.Event()
    bus_b.on_resubscribed(resubscribed.set)
    lost = game_a.state.version + 1
    bus_b.drop = lambda game_id, version, deliver: version == lost
    await a.play(game_a, "red", 3)
    await many.settle()
    assert guest.of("play") == []
    bus_b.drop = None
    async with Redis.from_url(redis_url) as admin:  # the connection drops, as in a network hiccup
        [found] = [c for c in await admin.client_list() if c["name"] == bus_b.name]
        await admin.client_kill_filter(_id=found["id"])
    await asyncio.wait_for(resubscribed.wait(), 10.0)
    await many.settle()
    assert [(e["column"], e["ply"]) for e in guest.of("play")] == [(3, 0)]
    assert [(e["column"], e["ply"]) for e in watchers[1].of("play")] == [(3, 0)]
