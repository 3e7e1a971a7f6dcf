"""Games against the computer in the service, on real SQLite with the real solver; the clock is the test's."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

import pytest

from connectfour.protocol import ProtocolError
from connectfour.service import GameService
from connectfour.service.computer import Computer, quick_move
from connectfour.solver.service import Solver
from connectfour.store import SQLiteStore

DELAY = 0.7
WAIT = 10.0


class Timer:
    def __init__(self, delay: float, callback: Callable[[], None]) -> None:
        self.delay, self.callback, self.cancelled = delay, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class Clockwork:
    """The service's scheduler, run by the test: a timer fires when the test says."""

    def __init__(self) -> None:
        self.timers: list[Timer] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(delay, callback)
        self.timers.append(timer)
        return timer

    def pending(self, delay: float) -> list[Timer]:
        return [t for t in self.timers if t.delay == delay and not t.cancelled]

    def fire(self, delay: float) -> int:
        """Run the live timers of ``delay``; how many."""
        due = self.pending(delay)
        for timer in due:
            self.timers.remove(timer)
            timer.callback()
        return len(due)


class Person:
    """A member that keeps what it is sent, and lets the test wait for moves."""

    speaks_v1 = True

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.changed = asyncio.Event()

    def send(self, payload: bytes) -> None:
        self.events.append(json.loads(payload))
        self.changed.set()

    def close(self, code: int, reason: str) -> None:
        pass

    def of(self, type_: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type_]

    async def plays(self, count: int) -> list[dict]:
        """Wait until ``count`` moves were announced."""
        while len(self.of("play")) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), WAIT)
        return self.of("play")


@pytest.fixture
async def solver():
    solver = Solver(max_searches=1)
    await solver.start()
    yield solver
    solver.close()


@pytest.fixture
async def store(tmp_path):
    store = SQLiteStore(tmp_path / "games.db")
    yield store
    await store.close()


def make_service(store, solver, clockwork: Clockwork, **options) -> GameService:
    computer = Computer(solver, rng=random.Random(7), budget=60.0)  # never a fallback: outcomes must not depend on load
    return GameService(store, schedule=clockwork, computer=computer, computer_delay=DELAY, **options)


async def test_the_computer_answers_only_after_its_delay(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me = Person()
    game, role = await service.create_computer(me, level=4, color="red")
    await service.play(game, role, 3)
    assert len(me.of("play")) == 1 and len(clockwork.pending(DELAY)) == 1
    clockwork.fire(DELAY)
    answer = (await me.plays(2))[1]
    assert answer["player"] == "yellow" and answer["turn"] == "red"


async def test_the_computer_playing_red_moves_first(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me = Person()
    await service.create_computer(me, level=4, color="yellow")
    clockwork.fire(DELAY)
    [first] = await me.plays(1)
    assert first["player"] == "red" and first["column"] == 3  # the only winning first move


async def test_the_state_names_the_computer_seat_and_level_and_shows_it_connected(store, solver):
    service = make_service(store, solver, Clockwork())
    me = Person()
    await service.create_computer(me, level=2, color="red")
    [state] = me.of("state")
    assert (state["computer"], state["level"], state["yellow"], state["status"]) == (
        "yellow",
        2,
        "connected",
        "playing",
    )
    assert "join" not in me.of("init")[0]


async def test_a_player_resumes_a_game_against_the_computer_with_its_token(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me = Person()
    game, role = await service.create_computer(me, level=3, color="red")
    await service.play(game, role, 3)
    clockwork.fire(DELAY)
    await me.plays(2)
    service.leave(me)
    back = Person()
    await service.resume(back, game.id, me.of("state")[0]["token"])
    [state] = back.of("state")
    assert state["moves"] == game.board.moves and len(state["moves"]) == 2 and state["computer"] == "yellow"


async def test_the_computer_seat_cannot_be_resumed(store, solver):
    service = make_service(store, solver, Clockwork())
    game, _ = await service.create_computer(Person(), level=1, color="red")
    with pytest.raises(ProtocolError) as refused:
        await service.resume(Person(), game.id, game.state.yellow_token)
    assert refused.value.code == "invalid_token"


async def test_a_game_left_to_the_computer_leaves_memory(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me = Person()
    game, role = await service.create_computer(me, level=4, color="red")
    await service.play(game, role, 3)
    service.leave(me)
    assert service.games == {} and clockwork.pending(DELAY) == []


async def test_a_game_left_to_the_computer_expires_like_any_other(store, solver):
    now = [1000.0]
    service = make_service(store, solver, Clockwork(), expire_after=60, clock=lambda: now[0])
    me = Person()
    game, role = await service.create_computer(me, level=2, color="red")
    await service.play(game, role, 3)
    service.leave(me)
    now[0] += 120
    assert await service.expire_idle() == 1
    assert (await store.get(game.id)).result == "abandoned"


async def test_the_computer_answers_a_move_it_missed_once_the_player_is_back(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me = Person()
    game, role = await service.create_computer(me, level=4, color="red")
    await service.play(game, role, 3)
    service.leave(me)  # before the computer answered
    back = Person()
    resumed, _ = await service.resume(back, game.id, me.of("state")[0]["token"])
    assert clockwork.fire(DELAY) == 1
    [answer] = await back.plays(1)
    assert answer["ply"] == 1 and resumed.board.ply == 2


async def test_a_game_against_the_computer_survives_a_restart(tmp_path, solver):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    clockwork = Clockwork()
    service = make_service(first, solver, clockwork)
    me = Person()
    game, role = await service.create_computer(me, level=4, color="yellow")
    clockwork.fire(DELAY)
    await me.plays(1)
    await service.play(game, role, 3)
    token = me.of("state")[0]["token"]
    await first.close()  # the server stops before the computer's answer

    second = SQLiteStore(path)
    try:
        clockwork = Clockwork()
        restarted = make_service(second, solver, clockwork)
        back = Person()
        await restarted.resume(back, game.id, token)
        [state] = back.of("state")
        assert (state["you"], state["computer"], state["level"], state["moves"]) == ("yellow", "red", 4, [3, 3])
        clockwork.fire(DELAY)
        [answer] = await back.plays(1)
        assert answer["player"] == "red" and answer["ply"] == 2
    finally:
        await second.close()


async def test_a_game_against_the_computer_played_to_the_end_is_stored_for_the_replay(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me = Person()
    game, role = await service.create_computer(me, level=4, color="red")
    rng = random.Random(3)
    while not game.over:
        await service.play(game, role, quick_move(game.board.moves, rng, careful=False))
        if clockwork.fire(DELAY):
            await me.plays(game.board.ply + 1)
    record = await store.get(game.id)
    assert (record.result, record.reason, record.moves) == ("yellow", "four", game.board.moves)
    assert me.of("win")[0]["player"] == "yellow"


async def test_a_rematch_against_the_computer_starts_at_once_with_colours_swapped(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me = Person()
    game, role = await service.create_computer(me, level=3, color="red")
    await service.resign(game, role)
    new_game = await service.rematch(game, role)
    assert new_game is not None and service.where(me) == (new_game, "yellow")
    state = me.of("state")[-1]
    assert (state["game"], state["computer"], state["level"], state["rematch_of"]) == (new_game.id, "red", 3, game.id)
    clockwork.fire(DELAY)
    assert (await me.plays(1))[0]["player"] == "red"


async def test_a_spectator_sees_the_computer_move(store, solver):
    clockwork = Clockwork()
    service = make_service(store, solver, clockwork)
    me, watcher = Person(), Person()
    game, role = await service.create_computer(me, level=1, color="red")
    await service.watch(watcher, game.state.watch_key)
    await service.play(game, role, 3)
    clockwork.fire(DELAY)
    assert [p["player"] for p in await watcher.plays(2)] == ["red", "yellow"]
