"""Every store behaves as the rulebook alone does.

Random sequences of commands (joins, moves, resignations, claims, expiries,
flags, draw offers, takebacks and their answers, rematch offers), in untimed
and timed games, seat changes, time passing, and races of two deciders on the
same version, are played against the pure core alone (a log in a list, the
presence a value) and against each store: memory, SQLite, Redis and a Redis
Cluster of three masters. Each step is decided by the rulebook on the state
read back from the store and appended at the next version (with the
presence's ``seq`` where the decision read it); the outcomes of the steps
(stored, refused with a code, lost to the other decider, or refused because
the presence changed), the logs (each event with its time, a claim with its
grace) and the records must be equal everywhere.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records import created

from connectfour.domain import PLAYERS, rulebook
from connectfour.domain.clock import TimeControl
from connectfour.domain.events import Created, Event
from connectfour.domain.offers import DeclineDraw, DeclineTakeback, OfferDraw, TakeBack
from connectfour.domain.refusal import Refused
from connectfour.domain.rulebook import (
    Claim,
    Expire,
    Flag,
    Join,
    Move,
    OfferRematch,
    Resign,
    Seats,
)
from connectfour.domain.seats import Holder, Presence, first_look
from connectfour.domain.state import GameState
from connectfour.store import ConditionFailed, GameRecord, MemoryStore, SQLiteStore, VersionConflict
from connectfour.store.base import ends
from connectfour.store.redis import RedisStore

GRACE = 60.0
TTL = 15.0
EXAMPLES = int(os.environ.get("EQUIVALENCE_EXAMPLES", "40"))
_games = itertools.count()

roles = st.sampled_from(["red", "yellow", "both", "spectator"])
colors = st.sampled_from(PLAYERS)
commands = st.one_of(
    st.builds(Join, st.sampled_from([None, "Ada"]), st.sampled_from([None, "r1", "r2"])),
    st.builds(Move, roles, st.integers(-1, 7), st.one_of(st.none(), st.integers(0, 8))),
    st.builds(Resign, roles),
    st.builds(Claim, roles),
    st.builds(Expire),
    st.builds(OfferRematch, colors),
    st.builds(Flag),
    st.builds(OfferDraw, roles),
    st.builds(DeclineDraw, roles),
    st.builds(TakeBack, roles),
    st.builds(DeclineTakeback, roles),
)
#: The game's time control: untimed, or clocks that the waits below can run out.
controls = st.sampled_from([None, "1+0", "0.5+2"])
#: Seat changes: a player's connection on process A or B takes its seat, or leaves it; a spectator comes.
seat_changes = st.one_of(
    st.tuples(st.just("take"), colors, st.sampled_from(["A", "B"])),
    st.tuples(st.just("leave"), colors),
    st.tuples(st.just("watch"), st.sampled_from(["A", "B"]), st.integers(0, 2)),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("command"), commands),
        st.tuples(st.just("race"), commands, commands),  # two deciders on one version
        st.tuples(st.just("seats"), seat_changes),
        st.tuples(st.just("wait"), st.sampled_from([1.0, 20.0, 61.0])),
        st.tuples(st.just("die"), st.sampled_from(["A", "B"])),  # a process stops renewing
    ),
    max_size=40,
)


@dataclass
class Reference:
    """The pure core alone: the log a list, the presence a value, the registry a dict."""

    log: list[Event] = field(default_factory=list)
    presence: Presence | None = None
    expiries: dict[str, float] = field(default_factory=dict)

    async def append(self, version: int, event: Event, presence_seq: int | None) -> None:
        if version != len(self.log) + 1:
            raise VersionConflict("g", version, len(self.log))
        if presence_seq is not None and (self.presence is None or self.presence.seq != presence_seq):
            raise ConditionFailed("the presence changed")
        self.log.append(event)
        if ends(event):
            self._drop_if_done()

    def _drop_if_done(self) -> None:
        """An ended game's presence goes once nobody is in it (a look makes a first one again)."""
        presence = self.presence
        over = any(ends(event) for event in self.log)
        if over and presence is not None and presence.red is None and presence.yellow is None and not presence.watching:
            self.presence = None

    async def read(self) -> list[Event]:
        return list(self.log)

    async def look(self, now: float) -> Presence:
        if self.presence is None:
            self.presence = msgspec.structs.replace(first_look(now), seq=1)
        return self.presence

    async def change(self, change: tuple[Any, ...], now: float) -> None:
        presence = await self.look(now)
        if change[0] == "take":
            self.presence = presence.take((change[1],), Holder(change[2], PLAYERS.index(change[1])))
        elif change[0] == "leave":
            holder = presence.holder(change[1])
            if holder is not None:
                self.presence = presence.leave(holder, now)
        else:
            if presence.watching.get(change[1], 0) != change[2]:
                self.presence = presence.watched(change[1], change[2])
        if self.presence is not presence:
            self._drop_if_done()

    async def renew(self, process: str, now: float) -> None:
        self.expiries[process] = now + TTL

    async def alive(self, processes: set[str]) -> dict[str, float]:
        return {process: self.expiries[process] for process in processes if process in self.expiries}

    def record(self, game_id: str) -> GameRecord:
        first, *rest = self.log
        assert isinstance(first, Created)
        record = GameRecord.created(game_id, first)
        for event in rest:
            record.advance(event)
        return record


class Stored:
    """A store, driven the same way."""

    def __init__(self, store: Any, game_id: str) -> None:
        self.store = store
        self.game_id = game_id

    async def append(self, version: int, event: Event, presence_seq: int | None) -> None:
        await self.store.append(self.game_id, version, event, presence_seq=presence_seq)

    async def read(self) -> list[Event]:
        return [event for _, event in await self.store.read(self.game_id)]

    async def look(self, now: float) -> Presence:
        presence: Presence = await self.store.seats.presence(self.game_id, now)
        return presence

    async def change(self, change: tuple[Any, ...], now: float) -> None:
        seats = self.store.seats
        presence = await self.look(now)
        if change[0] == "take":
            await seats.take(self.game_id, (change[1],), Holder(change[2], PLAYERS.index(change[1])), now)
        elif change[0] == "leave":
            holder = presence.holder(change[1])
            if holder is not None:
                await seats.leave(self.game_id, holder, now)
        else:
            await seats.watch(self.game_id, change[1], change[2], now)

    async def renew(self, process: str, now: float) -> None:
        await self.store.seats.renew(process, now)

    async def alive(self, processes: set[str]) -> dict[str, float]:
        expiries: dict[str, float] = await self.store.seats.expiries(processes)
        return expiries


def _seen(presence: Presence) -> tuple[Any, ...]:
    """A presence as the rules read it (its seq is each store's own numbering)."""
    return (presence.red, presence.yellow, presence.red_left, presence.yellow_left, sorted(presence.watching.items()))


async def decide_and_append(driver: Any, command: rulebook.Command, now: float) -> tuple[str, str]:
    state = GameState.replay("g", await driver.read())
    seats = None
    if rulebook.needs_seats(command):
        presence = await driver.look(now)
        seats = Seats(presence, await driver.alive(presence.processes()), GRACE)
    try:
        event = rulebook.decide(state, command, now, seats)
    except Refused as exc:
        return ("refused", exc.code)
    return await append(driver, state.version + 1, event, seats)


async def append(driver: Any, version: int, event: Event, seats: Seats | None) -> tuple[str, str]:
    try:
        await driver.append(version, event, seats.presence.seq if seats is not None else None)
    except VersionConflict:
        return ("lost", "")
    except ConditionFailed:
        return ("presence changed", "")
    return ("stored", type(event).__name__)


async def play(
    driver: Any, game_id: str, script: list[tuple[Any, ...]], control: str | None = None
) -> tuple[list[Any], list[Event]]:
    now = 1000.0
    outcomes: list[Any] = []
    clock = TimeControl.parse(control) if control is not None else None
    await driver.append(1, created(game_id, at=now, clock=clock), None)
    for process in ("A", "B"):
        await driver.renew(process, now)
    dead: set[str] = set()
    for step in script:
        kind = step[0]
        if kind == "command":
            outcomes.append(await decide_and_append(driver, step[1], now))
        elif kind == "race":
            state = GameState.replay("g", await driver.read())
            decided = []
            for command in step[1:]:
                seats = None
                if rulebook.needs_seats(command):
                    presence = await driver.look(now)
                    seats = Seats(presence, await driver.alive(presence.processes()), GRACE)
                try:
                    decided.append((rulebook.decide(state, command, now, seats), seats))
                except Refused as exc:
                    outcomes.append(("refused", exc.code))
            for event, seats in decided:  # both decided on one version: the second loses
                outcomes.append(await append(driver, state.version + 1, event, seats))
        elif kind == "seats":
            await driver.change(step[1], now)
            outcomes.append(("seen", _seen(await driver.look(now))))
        elif kind == "wait":
            now += step[1]
            for process in ("A", "B"):
                if process not in dead:
                    await driver.renew(process, now)
        elif kind == "die":
            dead.add(step[1])
    return outcomes, await driver.read()


STORES = ["memory", "sqlite", "redis", "cluster"]


@pytest.fixture(params=STORES)
def kind(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    if request.param == "redis":
        yield "redis", request.getfixturevalue("redis_url")
    elif request.param == "cluster":
        yield "cluster", request.getfixturevalue("cluster_url")
    else:
        yield request.param, None


@pytest.fixture(scope="module")
def cluster_url() -> Iterator[str]:
    from redis_server import RedisCluster

    cluster = RedisCluster()
    try:
        yield cluster.url
    finally:
        cluster.close()


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    made = asyncio.new_event_loop()
    yield made
    made.close()


def test_every_store_makes_the_same_decisions_and_logs_as_the_pure_core(kind, loop, tmp_path):
    name, url = kind

    async def open_store() -> Any:
        if name == "memory":
            return MemoryStore()
        if name == "sqlite":
            return SQLiteStore(tmp_path / f"games-{next(_games)}.db")
        return RedisStore(url or "")

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(script=steps, control=controls)
    def check(script: list[tuple[Any, ...]], control: str | None) -> None:
        game_id = f"eq{os.getpid()}x{next(_games)}"

        async def both() -> None:
            reference = Reference()
            expected, expected_log = await play(reference, game_id, script, control)
            store = await open_store()
            try:
                stored = Stored(store, game_id)
                outcomes, log = await play(stored, game_id, script, control)
                assert outcomes == expected
                assert log == expected_log
                if name == "sqlite":  # and as its table gives the game back, folded
                    store._folder.fold_everything(restart=True)
                    assert await stored.read() == expected_log
                record = await store.get(game_id)
                assert record == reference.record(game_id)
            finally:
                await store.close()

        loop.run_until_complete(both())

    check()
