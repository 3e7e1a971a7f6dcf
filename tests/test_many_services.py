"""Several services in one process sharing one store and one bus, as server
processes share Redis: no service owns a game, and a race, a lost
announcement or a dead service changes nothing anyone can tell.

(Every behaviour of the integration suite also runs spread over three
services: the ``spread`` servers of tests/integration/conftest.py.)"""

from __future__ import annotations

import asyncio
import random

import pytest
from members import Member, Timers

from connectfour.bus import LocalBus
from connectfour.protocol import ProtocolError
from connectfour.service import GameService
from connectfour.store import MemoryStore

GRACE, TTL = 60.0, 15.0


class World:
    def __init__(self, count: int) -> None:
        self.bus = LocalBus()
        self.store = MemoryStore(self.bus)
        self.timers = Timers()
        self.services = [
            GameService(self.store, grace=GRACE, clock=self.timers.clock, schedule=self.timers.schedule)
            for _ in range(count)
        ]


async def settle() -> None:
    """Let every announcement in flight arrive (LocalBus delivers on the next loop turns)."""
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture
def world() -> World:
    return World(3)


async def online_game(world: World):
    """Host on A, guest on B, one spectator on each of A, B and C."""
    a, b, c = world.services
    host, guest = Member(), Member()
    game_a, _ = await a.create(host, local=False)
    game_b, _ = await b.join(guest, game_a.state.join_key)
    watchers = [Member(), Member(), Member()]
    for service, watcher in zip((a, b, c), watchers):
        await settle()
        await service.watch(watcher, game_a.state.watch_key)
    world.timers.advance(1.0)  # past the coalescing delay of spectator counts
    await settle()
    return host, guest, watchers


async def test_a_move_on_one_service_reaches_everyone_on_every_service_once(world):
    a, b, _ = world.services
    host, guest, watchers = await online_game(world)
    game_a, game_b = a.where(host)[0], b.where(guest)[0]
    await a.play(game_a, "red", 3)
    await settle()
    await b.play(game_b, "yellow", 4)
    await settle()
    for member in (host, guest, *watchers):
        assert [(e["column"], e["ply"]) for e in member.of("play")] == [(3, 0), (4, 1)]


async def test_the_guest_on_another_service_is_seen_connected_by_everyone(world):
    host, guest, watchers = await online_game(world)
    for member in (host, guest, *watchers):
        assert member.of("presence")[-1]["yellow"] == "connected"
        assert member.of("presence")[-1]["red"] == "connected"


async def test_spectators_on_every_service_are_counted_by_everyone(world):
    host, guest, watchers = await online_game(world)
    world.timers.advance(1.0)  # past the coalescing delay of spectator counts
    await settle()
    for member in (host, guest, *watchers):
        assert member.of("presence")[-1]["spectators"] == 3


async def test_an_invite_raced_from_three_services_seats_exactly_one_guest(world):
    a = world.services[0]
    host = Member()
    game, _ = await a.create(host, local=False)
    guests = [Member() for _ in world.services]
    results = await asyncio.gather(
        *(service.join(guest, game.state.join_key) for service, guest in zip(world.services, guests)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, ProtocolError)]
    assert len(refused) == 2 and {r.code for r in refused} == {"seat_taken"}
    assert (await world.store.get(game.id)).invite_spent


async def test_two_services_racing_for_one_ply_store_exactly_one_move_1000_times():
    world = World(2)
    a, b = world.services
    rng = random.Random(7)
    races = 0
    while races < 1000:
        red, watcher = Member(), Member()
        game_a, _ = await a.create(red, local=True)
        await b.watch(watcher, game_a.state.watch_key)
        game_b = b.where(watcher)[0]
        while not game_a.over and races < 1000:
            ply = game_a.state.board.ply
            legal = game_a.state.board.legal_columns()
            first, second = rng.choice(legal), rng.choice(legal)
            results = await asyncio.gather(
                a.play(game_a, "both", first, ply), b.play(game_b, "both", second, ply), return_exceptions=True
            )
            refused = [r for r in results if isinstance(r, ProtocolError)]
            assert len(refused) == 1 and refused[0].code in ("stale_ply", "game_over"), results
            await settle()
            assert game_a.state.version == game_b.state.version == ply + 2  # Created, then one event per ply
            races += 1
        for member in (red, watcher):
            plies = [e["ply"] for e in member.of("play")]
            assert plies == list(range(len(plies)))
        a.leave(red)
        b.leave(watcher)


async def test_an_announcement_the_bus_drops_is_read_back_from_the_store(world):
    a, b, _ = world.services
    host, guest, watchers = await online_game(world)
    game_a, game_b = a.where(host)[0], b.where(guest)[0]
    lost = game_a.state.version + 1
    world.bus.drop = lambda game_id, version, deliver: version == lost and deliver == b.following.deliver
    await a.play(game_a, "red", 3)
    await settle()
    assert guest.of("play") == []  # B missed the move...
    world.bus.drop = None
    await a.play(game_a, "yellow", 4)  # ...until the next event shows the gap
    await settle()
    assert [e["ply"] for e in guest.of("play")] == [0, 1]
    assert [e["ply"] for e in watchers[1].of("play")] == [0, 1]
    assert game_b.state.version == game_a.state.version


async def test_a_dropped_last_announcement_is_found_by_the_heartbeat(world):
    a, b, _ = world.services
    host, guest, watchers = await online_game(world)
    game_a = a.where(host)[0]
    lost = game_a.state.version + 1
    world.bus.drop = lambda game_id, version, deliver: version == lost and deliver == b.following.deliver
    await a.play(game_a, "red", 3)
    await settle()
    assert guest.of("play") == []  # nothing came after it to show the gap
    await b.heartbeat()
    await settle()
    assert [(e["column"], e["ply"]) for e in guest.of("play")] == [(3, 0)]
    assert [(e["column"], e["ply"]) for e in watchers[1].of("play")] == [(3, 0)]


async def test_resuming_on_another_service_takes_the_seat_and_closes_the_old_connection(world):
    a, b, c = world.services
    host, guest, watchers = await online_game(world)
    game_a = a.where(host)[0]
    tab = Member()
    await c.resume(tab, game_a.id, game_a.state.red_token)
    await settle()
    assert host.of("error")[-1]["code"] == "replaced"
    assert host.closed is not None and host.closed[0] == 4001
    assert a.where(host) == (None, None)
    assert tab.of("state")[-1]["you"] == "red"
    await c.play(c.where(tab)[0], "red", 2)
    await settle()
    assert [e["column"] for e in guest.of("play")] == [2]


async def test_a_player_leaving_on_one_service_is_seen_away_and_claimable_everywhere(world):
    a, b, c = world.services
    host, guest, watchers = await online_game(world)
    a.leave(host)
    await settle()
    for member in (guest, *watchers):
        assert member.of("presence")[-1]["red"] == "disconnected"
        assert member.of("presence")[-1]["red_claimable_in"] == GRACE
    game_b = b.where(guest)[0]
    with pytest.raises(ProtocolError) as refused:
        await b.claim(game_b, "yellow")
    assert refused.value.code == "not_claimable"
    world.timers.advance(GRACE)
    await settle()
    assert watchers[2].of("presence")[-1]["red"] == "gone"
    await b.claim(game_b, "yellow")
    await settle()
    for member in (guest, *watchers):
        assert member.of("win")[-1] == {"type": "win", "player": "yellow", "reason": "claim"}


async def test_a_service_that_stops_renewing_frees_its_seats_and_the_grace_period_starts_then(world):
    a, b, c = world.services
    host, guest, watchers = await online_game(world)
    # A "dies": it stops renewing and never says its connections left; B and C
    # go on renewing, every third of the registration's life.
    for _ in range(3):
        world.timers.advance(TTL / 3)
        for service in (b, c):
            await service.heartbeat()
    await settle()
    for member in (guest, watchers[1], watchers[2]):
        presence = member.of("presence")[-1]
        # Away since A's registration ran out, a second ago (A last renewed as the game began).
        assert presence["red"] == "disconnected" and presence["red_claimable_in"] == GRACE - 1.0
        assert presence["spectators"] == 2  # A's spectator went with it
    game_b = b.where(guest)[0]
    world.timers.advance(GRACE)
    for service in (b, c):
        await service.heartbeat()
    await b.claim(game_b, "yellow")
    await settle()
    assert watchers[2].of("win")[-1]["reason"] == "claim"


async def test_a_claim_racing_a_winning_move_ends_the_game_exactly_once(world):
    a, b, _ = world.services
    rng = random.Random(3)
    for _ in range(50):
        host, guest, watchers = await online_game(world)
        game_a, game_b = a.where(host)[0], b.where(guest)[0]
        for column in (0, 1, 0, 1, 0, 1):  # red's next move in column 0 wins
            service, game = (a, game_a) if game_a.state.board.turn == "red" else (b, game_b)
            await service.play(game, game.state.board.turn, column)
            await settle()
        await settle()
        a.leave(host)  # red leaves, and stays away the whole grace period
        world.timers.advance(GRACE)
        await settle()
        racers = [a.play(game_a, "red", 0), b.claim(game_b, "yellow")]
        rng.shuffle(racers)
        results = await asyncio.gather(*racers, return_exceptions=True)
        assert sum(r is None for r in results) == 1, results
        await settle()
        ends = [(e["player"], e["reason"]) for e in watchers[2].of("win")]
        assert len(ends) == 1 and ends[0] in (("red", "four"), ("yellow", "claim"))
        assert game_a.state.result == game_b.state.result
        record = await world.store.get(game_a.id)
        assert (record.result, record.reason) == (game_a.state.result, game_a.state.reason)
        b.leave(guest)
        for service, watcher in zip(world.services, watchers):
            service.leave(watcher)


async def test_a_rematch_offered_on_two_services_moves_everyone_everywhere_to_the_new_game(world):
    a, b, c = world.services
    host, guest, watchers = await online_game(world)
    game_a, game_b = a.where(host)[0], b.where(guest)[0]
    await b.resign(game_b, "yellow")
    await settle()
    await a.rematch(game_a, "red")
    await b.rematch(game_b, "yellow")
    await settle()
    await settle()
    new_a, role_a = a.where(host)
    new_b, role_b = b.where(guest)
    assert new_a is not None and new_a.id != game_a.id and new_a.id == new_b.id
    assert (role_a, role_b) == ("yellow", "red")  # colours swap
    for service, watcher in zip(world.services, watchers):
        game, role = service.where(watcher)
        assert game is not None and game.id == new_a.id and role == "spectator"
        assert watcher.of("init")[-1]["game"] == new_a.id
    await b.play(new_b, "red", 5)
    await settle()
    assert watchers[2].of("play")[-1]["column"] == 5


async def test_expiry_waits_while_a_seat_is_held_on_any_service(world):
    a, b, c = world.services
    host, guest, watchers = await online_game(world)
    world.timers.advance(3600 * 2)
    for service in world.services:
        await service.heartbeat()
    assert await c.expire_idle() == 0  # C has nobody in the game, but A and B hold its seats
    a.leave(host)
    b.leave(guest)
    for service, watcher in zip(world.services, watchers):
        service.leave(watcher)
    await settle()
    world.timers.advance(3600 * 2)
    assert await c.expire_idle() == 1


# -- the lobby and quick match across services ---------------------------------------------


async def listening(world: World) -> None:
    """Each service hears the others' parts of the lobby, as the web application has it do."""
    for service in world.services:
        await service.store.bus.listen("lobby", service.lobby.hear)


async def tick(world: World) -> None:
    """One lobby tick on every service, and a second once every part has travelled."""
    for service in world.services:
        service.lobby.tick()
    await settle()
    for service in world.services:
        service.lobby.tick()


async def test_a_quick_match_pairs_players_on_two_services(world):
    a, b, _ = world.services
    first, second = Member(), Member()
    game, first_role = await a.match(first, "Ada")
    assert game.state.status == "waiting" and first.of("state")[-1]["match"] is True
    await settle()
    game_b, second_role = await b.match(second, "Grace")
    assert game_b.id == game.id and {first_role, second_role} == {"red", "yellow"}
    await settle()
    names = {first_role: "Ada", second_role: "Grace"}
    for member in (first, second):
        assert (member.events[-1]["type"], member.events[-1][second_role]) == ("presence", "connected")
        assert (member.events[-1]["red_name"], member.events[-1]["yellow_name"]) == (names["red"], names["yellow"])


async def test_a_waiting_players_second_tab_waits_in_the_same_game_and_is_never_paired_with_itself(world):
    a, b, _ = world.services
    first_tab, second_tab = Member(), Member()
    game, role = await a.match(first_tab, "Ada")
    token = first_tab.of("state")[-1]["token"]
    await settle()
    resumed, resumed_role = await b.resume(second_tab, game.id, token)
    await settle()
    assert (resumed.id, resumed_role) == (game.id, role)
    assert second_tab.of("state")[-1]["status"] == "waiting"
    assert first_tab.closed is not None and first_tab.closed[0] == 4001  # the seat went to the second tab
    stranger = Member()
    paired, stranger_role = await a.match(stranger, "Grace")  # the one waiting is still there to be found
    assert paired.id == game.id and stranger_role != role
    await settle()
    assert second_tab.of("presence")[-1][stranger_role] == "connected"


async def test_two_players_pressing_play_someone_at_once_on_two_services_are_paired(world):
    a, b, _ = world.services
    for _ in range(20):
        first, second = Member(), Member()
        (game_a, _), (game_b, _) = await asyncio.gather(a.match(first), b.match(second))
        assert game_a.id == game_b.id  # never two players waiting for each other
        await settle()
        assert game_a.state.status == game_b.state.status == "playing"
        a.leave(first)
        b.leave(second)


async def test_a_quick_match_cancelled_on_one_service_is_never_taken_on_another(world):
    a, b, _ = world.services
    first, second = Member(), Member()
    game, _ = await a.match(first)
    await a.cancel(first)
    assert first.events[-1] == {"type": "cancelled"}
    other, _ = await b.match(second)
    assert other.id != game.id and other.state.status == "waiting"


async def test_every_service_lobby_shows_the_public_games_of_every_service(world):
    a, b, c = world.services
    await listening(world)
    host, guest = Member(), Member()
    waiting, _ = await a.create(host, local=False, public=True, name="Ada")
    watcher = Member()
    c.lobby.watch(watcher)
    await tick(world)
    (entry,) = watcher.of("lobby")[-1]["waiting"]
    assert (entry["game"], entry["name"]) == (waiting.id, "Ada")
    await b.join(guest, waiting.state.join_key, "Grace")
    await settle()
    await tick(world)
    lobby = watcher.of("lobby")[-1]
    assert lobby["waiting"] == [] and lobby["waiting_total"] == 0 and lobby["playing_total"] == 1
    (entry,) = lobby["playing"]  # followed by A and B: listed once
    assert (entry["game"], entry["red"], entry["yellow"]) == (waiting.id, "Ada", "Grace")


async def test_one_address_keeping_many_public_games_open_cannot_hide_a_later_one(world):
    a, b, c = world.services
    await listening(world)
    pinner = [Member(client="198.51.100.7") for _ in range(25)]
    for host in pinner:  # each of its games waits for an opponent, and stays open
        await a.create(host, local=False, public=True, name="Pin")
        world.timers.advance(1.0)
    later, _ = await b.create(Member(client="203.0.113.9"), local=False, public=True, name="Ada")
    watcher = Member()
    c.lobby.watch(watcher)
    await tick(world)
    lobby = watcher.of("lobby")[-1]
    assert [entry["name"] for entry in lobby["waiting"]] == ["Pin", "Pin", "Ada"]  # two of its, then the later one
    assert lobby["waiting"][-1]["game"] == later.id
    assert lobby["waiting_total"] == 26  # every game is still counted


async def test_the_lobby_forgets_a_service_that_stopped_saying_its_part(world):
    a, _, c = world.services
    await listening(world)
    host = Member()
    await a.create(host, local=False, public=True)
    watcher = Member()
    c.lobby.watch(watcher)
    await tick(world)
    assert len(watcher.of("lobby")[-1]["waiting"]) == 1
    # A dies: it says nothing more; after STALE the others forget its part.
    world.timers.advance(c.lobby.stale + 1)
    c.lobby.tick()
    assert watcher.of("lobby")[-1]["waiting"] == []


async def test_a_lobby_watcher_that_lags_gets_only_the_newest_lobby_once_it_reads(world):
    a, _, _ = world.services
    await listening(world)
    watcher = Member()
    a.lobby.watch(watcher)
    told = len(watcher.of("lobby"))
    watcher.lagging = True  # its peer stopped reading
    for _ in range(5):
        await a.create(Member(), local=False, public=True)
        await tick(world)
    assert len(watcher.of("lobby")) == told  # nothing queued for it meanwhile
    watcher.lagging = False
    a.lobby.tick()
    a.lobby.tick()
    assert len(watcher.of("lobby")) == told + 1  # one update: the newest
    assert watcher.of("lobby")[-1]["waiting_total"] == 5
