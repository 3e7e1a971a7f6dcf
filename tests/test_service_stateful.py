"""A stateful property test of the game service: many connections on two services
sharing one store and one bus send random, often invalid, requests, and the
clock moves past grace periods and expiries; after every step the games, what
each connection was told, and the lobby must still make sense.

The connections talk to the service as the web layer does (``Session.handle``
with decoded requests, ``Session.close`` when they go), but the requests are
built as structs, so that out-of-range columns and plies reach the service
too: it must refuse them with a documented code, never fail otherwise.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import logging
import os
import random
from collections.abc import Coroutine, Iterator
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from members import Member, Timers

from connectfour.bus import LocalBus
from connectfour.domain import PLAYERS, other
from connectfour.domain.events import RematchOffered, RematchStarted
from connectfour.domain.state import GameState
from connectfour.protocol import ERROR_CODES, ProtocolError, encode
from connectfour.protocol.client_messages import (
    Cancel,
    Claim,
    ClientEvent,
    Init,
    Lobby,
    Match,
    Play,
    Rematch,
    Resign,
    Resume,
)
from connectfour.protocol.legacy import TUTORIAL_FIELDS
from connectfour.protocol.server_messages import ServerEvent
from connectfour.rules import Board
from connectfour.service import GameService, Session
from connectfour.service.computer import Computer
from connectfour.service.game import colors_of
from connectfour.store import MemoryStore
from connectfour.store.base import ends as ends_game

GRACE, EXPIRE, FORGET = 60.0, 300.0, 900.0
#: The services' heartbeat: every third of the registration's 15 s, as ``run`` does it.
BEAT = 5.0
NAMES = [None, "Ada", "Grace", "Bo b", "Ünï"]
SERVER_EVENT = msgspec.json.Decoder(ServerEvent)


class Peer(Member):
    """A connection that keeps every frame as sent, to check it against the protocol."""

    def __init__(self, speaks_v1: bool) -> None:
        super().__init__()
        self.speaks_v1 = speaks_v1
        self.frames: list[bytes] = []

    def send(self, payload: bytes) -> None:
        self.frames.append(payload)
        super().send(payload)


class Segment:
    """What a connection saw of one game: from its ``state`` on."""

    def __init__(self, game: str, moves: list[int], ended: bool) -> None:
        self.game = game
        self.moves = moves
        self.ended = ended
        self.ends = 0


class Conn:
    """One connection: its member, its session on one service, and what the test made of its events."""

    def __init__(self, number: int, service: int, session: Session, peer: Peer) -> None:
        self.number = number
        self.service = service
        self.session = session
        self.peer = peer
        self.left = False
        #: Frames already checked, events already followed, and the games seen, in order.
        self.checked = 0
        self.digested = 0
        self.segments: list[Segment] = []
        self.init_game: str | None = None
        #: How many events it had been sent when it left: it must be sent no more.
        self.gone_at: int | None = None

    @property
    def live(self) -> bool:
        return not self.left and self.peer.closed is None

    def __repr__(self) -> str:
        return f"conn{self.number}@{'AB'[self.service]}"


class Errors(logging.Handler):
    """Errors the service logs: a background task that failed, a log it could not follow."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# -- what a request may be ------------------------------------------------------------

names = st.sampled_from(NAMES)
picks = st.integers(0, 40)
plies = st.one_of(st.none(), st.sampled_from(["current", "stale", "future"]), st.integers(0, 42))
requests = st.one_of(
    st.tuples(st.just("create"), st.booleans(), st.booleans(), names),
    st.tuples(st.just("computer"), st.integers(1, 4), st.sampled_from(PLAYERS), names, st.booleans()),
    st.tuples(st.just("join"), picks, names),
    st.tuples(st.just("watch"), picks),
    st.tuples(st.just("resume"), picks, st.sampled_from(["red", "yellow", "other", "bogus"])),
    st.tuples(st.just("play"), st.integers(0, 8), plies),
    st.tuples(st.just("play"), st.integers(0, 8), plies),
    st.tuples(st.just("play"), st.integers(0, 6), st.just("current")),
    st.tuples(st.just("play"), st.integers(0, 6), st.just("current")),
    st.tuples(st.just("resign")),
    st.tuples(st.just("claim")),
    st.tuples(st.just("rematch")),
    st.tuples(st.just("lobby")),
    st.tuples(st.just("match"), names),
    st.tuples(st.just("cancel")),
)


def lag(target: object, delays: Iterator[int]) -> None:
    """A store across the network: each answer comes some turns of the loop after the
    store acted, so what the bus announced meanwhile (at once) may be heard first."""
    for name in dir(type(target)):
        method = getattr(target, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(method):
            continue

        async def lagged(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            result = await _method(*args, **kwargs)
            for _ in range(next(delays)):
                await asyncio.sleep(0)
            return result

        setattr(target, name, lagged)


class ServiceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.loop_errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda loop, context: self.loop_errors.append(context))
        self.errors = Errors()
        logging.getLogger("connectfour").addHandler(self.errors)
        self.timers = Timers()
        self.bus = LocalBus()
        self.store = MemoryStore(self.bus)
        self.services = [
            GameService(
                self.store,
                grace=GRACE,
                expire_after=EXPIRE,
                forget_unplayed_after=FORGET,
                clock=self.timers.clock,
                schedule=self.timers.schedule,
                computer=Computer(None, rng=random.Random(0)),
                computer_delay=0.0,
                draw=random.Random(index).choice,
            )
            for index in range(2)
        ]
        self.conns: list[Conn] = []
        #: Every game heard of, and keys and tokens seen anywhere (to use rightly and wrongly).
        self.games: list[str] = []
        self.join_keys: list[str] = []
        self.watch_keys: list[str] = []
        self.tokens: dict[str, dict[str, str]] = {}  # game -> colour ("both" too) -> token
        #: The names each game's record had when first seen: never altered.
        self.names: dict[str, tuple[str | None, str | None]] = {}
        #: Games seen with a move: kept for their replay, never deleted.
        self.played: set[str] = set()
        self.log: list[str] = []

    # -- running the loop ---------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    async def settle(self) -> None:
        for _ in range(30):
            await asyncio.sleep(0)
        for conn in self.conns:
            if conn.peer.closed is not None and not conn.left:  # as the web layer does once it is gone
                conn.left = True
                conn.gone_at = len(conn.peer.events)
                conn.session.close()

    def teardown(self) -> None:
        logging.getLogger("connectfour").removeHandler(self.errors)
        try:
            for conn in self.conns:
                if not conn.left:
                    conn.left = True
                    self.run(self._close(conn))
            self.run(self.settle())
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.run(asyncio.gather(*pending, return_exceptions=True))
        finally:
            self.loop.close()

    async def _close(self, conn: Conn) -> None:
        conn.session.close()

    # -- the model's helpers ------------------------------------------------------------

    def note(self, text: str) -> None:
        self.log.append(text)

    def conn(self, pick: int) -> Conn | None:
        live = [c for c in self.conns if c.live]
        return live[pick % len(live)] if live else None

    def _pool(self, pool: list[str], pick: int, bogus: str) -> str:
        choices = pool + [bogus]
        return choices[pick % len(choices)]

    def _learn(self, conn: Conn) -> None:
        """Keys, games and tokens from what ``conn`` was sent."""
        for event in conn.peer.events:
            kind = event["type"]
            if kind == "init" and "game" in event:
                self._remember(self.games, event["game"])
                self._remember(self.watch_keys, event["watch"])
                if event.get("join"):
                    self._remember(self.join_keys, event["join"])
            elif kind == "state":
                self._remember(self.games, event["game"])
                if event.get("token"):
                    self.tokens.setdefault(event["game"], {})[event["you"]] = event["token"]
            elif kind == "lobby":
                for entry in event["waiting"]:
                    self._remember(self.join_keys, entry["join"])
                for entry in event["playing"]:
                    self._remember(self.watch_keys, entry["watch"])
            elif kind == "error" and event.get("watch"):
                self._remember(self.watch_keys, event["watch"])

    @staticmethod
    def _remember(pool: list[str], item: str) -> None:
        if item not in pool:
            pool.append(item)

    def _request(self, conn: Conn, spec: tuple[Any, ...]) -> ClientEvent:
        """The request ``spec`` describes, with its keys, tokens and ply made concrete now."""
        kind = spec[0]
        if kind == "create":
            _, local, public, name = spec
            return Init(local=local, public=public, name=name)
        if kind == "computer":
            _, level, color, name, local = spec
            return Init(computer=level, color=color, name=name, local=local and level == 2)
        if kind == "join":
            return Init(join=self._pool(self.join_keys + self.watch_keys[:1], spec[1], "no-such-key"), name=spec[2])
        if kind == "watch":
            return Init(watch=self._pool(self.watch_keys + self.join_keys[:1], spec[1], "no-such-key"))
        if kind == "resume":
            _, pick, which = spec
            game_id = self._pool(self.games, pick, "no-such-game")
            tokens = self.tokens.get(game_id, {})
            if which in ("red", "yellow"):
                token = tokens.get(which) or tokens.get("both") or "no-such-token"
            elif which == "other":
                others = [t for g, ts in self.tokens.items() if g != game_id for t in ts.values()]
                token = others[pick % len(others)] if others else "x" * 22
            else:
                token = "A" * 22
            return Resume(game=game_id, token=token)
        if kind == "play":
            _, column, ply = spec
            game, _ = conn.session.service.where(conn.peer)
            current = game.state.board.ply if game is not None else 0
            if ply == "current":
                ply = current
            elif ply == "stale":
                ply = max(0, current - 1) if current else None
            elif ply == "future":
                ply = current + 1
            return Play(column=column, ply=ply)
        if kind == "match":
            return Match(name=spec[1])
        return {"resign": Resign, "claim": Claim, "rematch": Rematch, "lobby": Lobby, "cancel": Cancel}[kind]()

    def _expected_move(self, conn: Conn, event: Play) -> str | None:
        """The refusal code a move must get, from the connection's game as it stands; None: played."""
        game, role = conn.session.service.where(conn.peer)
        if game is None or role is None:
            board = Board()  # the tutorial's first move: a new game on this device
            role = "both"
        else:
            board = Board.from_moves(game.state.board.moves)
            if role == "spectator":
                return "spectator"
            if game.state.result is not None:
                return "game_over"
        if event.ply is not None and event.ply != board.ply:
            return "stale_ply" if event.ply < board.ply else "future_ply"
        if board.is_over:
            return "game_over"
        if not 0 <= event.column < 7:
            return "invalid_column"
        if role != "both" and role != board.turn:
            return "not_your_turn"
        if board.height(event.column) == 6:
            return "column_full"
        return None

    async def _handle(self, conn: Conn, event: ClientEvent) -> str | None:
        """The request as the web layer makes it: None when done, else the refusal's code."""
        if conn.peer.closed is not None:
            return "closed"  # closed meanwhile (replaced): the web layer reads nothing more from it
        try:
            await conn.session.handle(event)
        except ProtocolError as exc:
            assert exc.code in ERROR_CODES, exc.code
            return exc.code
        return None

    # -- rules ---------------------------------------------------------------------------

    @initialize(lags=st.lists(st.integers(0, 3), min_size=1, max_size=8))
    def listen(self, lags: list[int]) -> None:
        delays = itertools.cycle(lags)
        for part in (self.store, self.store.seats, self.store.match):
            lag(part, delays)

        async def listen() -> None:
            for service in self.services:
                await self.bus.listen("lobby", service.lobby.hear)

        self.run(listen())

    @rule(service=st.integers(0, 1), speaks_v1=st.sampled_from([True, True, True, True, False]))
    def connect(self, service: int, speaks_v1: bool) -> None:
        peer = Peer(speaks_v1)
        conn = Conn(len(self.conns), service, Session(self.services[service], peer), peer)
        self.conns.append(conn)
        self.note(f"{conn} connects{'' if speaks_v1 else ' (tutorial)'}")

    @precondition(lambda self: any(c.live for c in self.conns))
    @rule(pick=picks, spec=requests)
    def request(self, pick: int, spec: tuple[Any, ...]) -> None:
        conn = self.conn(pick)
        assert conn is not None
        event = self._request(conn, spec)
        expected = self._expected_move(conn, event) if isinstance(event, Play) else "?"
        before = self._position(conn)
        self.note(f"{conn} sends {event!r}")
        code = self.run(self._handle(conn, event))
        self.note(f"  -> {code or 'ok'}")
        self.run(self.settle())
        if isinstance(event, Play):
            assert code == expected, f"{event!r} by {conn}: expected {expected}, got {code}"
        if code is not None and before is not None:
            # A refusal changes nothing: the game's log is as it was.
            game_id, version = before
            assert self.run(self.store.versions([game_id]))[game_id] == version, (
                f"{event!r} was refused ({code}) yet game {game_id} changed"
            )
        if code is not None and before is None:
            assert conn.session.service.where(conn.peer) == (None, None), (
                f"{event!r} was refused ({code}) yet {conn} is in a game now"
            )
        if isinstance(event, Claim) and code is None:
            game, role = conn.session.service.where(conn.peer)
            assert game is not None and role is not None
            opponent = other(role) if role in PLAYERS else None
            assert opponent is not None
            holders = [c for c in self.conns if c.live and self._holds(c, game.id, opponent)]
            assert not holders, f"{conn} won by claim against {holders}, who hold {opponent}"
        self._learn(conn)

    @precondition(lambda self: sum(c.live for c in self.conns) >= 2)
    @rule(first=picks, second=picks, one=requests, two=requests)
    def race(self, first: int, second: int, one: tuple[Any, ...], two: tuple[Any, ...]) -> None:
        """Two requests at once, from two connections (maybe on two services)."""
        a, b = self.conn(first), self.conn(second)
        assert a is not None and b is not None
        if a is b:
            return
        events = self._request(a, one), self._request(b, two)
        self.note(f"race: {a} sends {events[0]!r}, {b} sends {events[1]!r}")

        async def both() -> list[str | None]:
            return list(await asyncio.gather(self._handle(a, events[0]), self._handle(b, events[1])))

        codes = self.run(both())
        self.note(f"  -> {codes}")
        self.run(self.settle())
        self._learn(a)
        self._learn(b)

    @precondition(lambda self: any(c.live for c in self.conns))
    @rule(pick=picks)
    def leave(self, pick: int) -> None:
        conn = self.conn(pick)
        assert conn is not None
        self.note(f"{conn} leaves")
        conn.left = True
        conn.gone_at = len(conn.peer.events)
        self.run(self._close(conn))
        self.run(self.settle())

    @rule(seconds=st.sampled_from([0.0, 0.25, 1.0, BEAT, 30.0, GRACE, GRACE + BEAT, EXPIRE + BEAT, FORGET + BEAT]))
    def wait(self, seconds: float) -> None:
        """Time passes as it does for running services: a heartbeat every BEAT, timers as they fall due."""
        self.note(f"{seconds}s pass")

        async def wait() -> None:
            left = seconds
            while True:
                step = min(left, BEAT)
                self.timers.advance(step)
                await self.settle()
                left -= step
                if step == BEAT:
                    for service in self.services:
                        await service.heartbeat()
                    await self.settle()
                if left <= 0:
                    break

        self.run(wait())

    @rule(service=st.integers(0, 1))
    def sweep(self, service: int) -> None:
        """The periodic sweep: unplayed games go, idle ones expire."""
        self.note(f"sweep on {'AB'[service]}")

        async def sweep() -> int:
            count = await self.services[service].expire_idle()
            await self.settle()
            return count

        self.note(f"  -> {self.run(sweep())} expired")

    @rule()
    def lobby_tick(self) -> None:
        async def tick() -> None:
            for service in self.services:
                service.lobby.tick()
            await self.settle()
            for service in self.services:
                service.lobby.tick()

        self.run(tick())
        for conn in self.conns:
            self._learn(conn)

    # -- what must always hold -----------------------------------------------------------

    def _position(self, conn: Conn) -> tuple[str, int] | None:
        game, _ = conn.session.service.where(conn.peer)
        if game is None:
            return None
        return game.id, self.run(self.store.versions([game.id]))[game.id]

    def _holds(self, conn: Conn, game_id: str, color: str) -> bool:
        game, role = conn.session.service.where(conn.peer)
        return game is not None and role is not None and game.id == game_id and color in colors_of(role)

    @invariant()
    def nothing_failed_behind_the_scenes(self) -> None:
        assert not self.loop_errors, self.loop_errors
        assert not self.errors.records, [r.getMessage() for r in self.errors.records]

    @invariant()
    def every_frame_is_one_the_protocol_documents(self) -> None:
        for conn in self.conns:
            frames = conn.peer.frames[conn.checked :]
            conn.checked = len(conn.peer.frames)
            for frame in frames:
                if conn.peer.speaks_v1:
                    event = SERVER_EVENT.decode(frame)  # raises on a type or field not documented
                    assert encode(event) == frame, f"{frame!r} carries fields its type does not define"
                    code = getattr(event, "code", None)
                    assert code is None or code in ERROR_CODES, code
                else:
                    data = json.loads(frame)
                    assert data["type"] in TUTORIAL_FIELDS, data
                    assert set(data) == {"type", *TUTORIAL_FIELDS[data["type"]]}, data

    def _digest(self) -> None:
        """Follow each connection's new events: the games it saw, their moves and ends."""
        for conn in self.conns:
            events = conn.peer.events[conn.digested :]
            conn.digested = len(conn.peer.events)
            if not conn.peer.speaks_v1:
                continue
            for event in events:
                kind = event["type"]
                segment = conn.segments[-1] if conn.segments else None
                if kind == "init":
                    conn.init_game = event["game"]
                elif kind == "state":
                    if conn.init_game is not None:
                        assert event["game"] == conn.init_game, (conn, event)
                        conn.init_game = None
                    assert event["ply"] == len(event["moves"]), event
                    assert event["spectators"] >= 0, event
                    ended = event["status"] in ("won", "draw", "abandoned")
                    assert ended == (event["turn"] is None), event
                    conn.segments.append(Segment(event["game"], list(event["moves"]), ended))
                elif kind == "play":
                    assert segment is not None, f"{conn} was sent a move before any state"
                    assert not segment.ended, f"{conn} was sent a move after the end of {segment.game}"
                    assert event["ply"] == len(segment.moves), (conn, event, segment.moves)
                    segment.moves.append(event["column"])
                elif kind in ("win", "draw"):
                    assert segment is not None, f"{conn} was sent an end before any state"
                    segment.ends += 1
                    assert not segment.ended and segment.ends == 1, f"{conn} was told twice that {segment.game} ended"
                    segment.ended = True
                elif kind == "presence":
                    assert event["spectators"] >= 0, event
                    assert segment is not None, f"{conn} was sent presence before any state"
            if conn.gone_at is not None:
                assert len(conn.peer.events) == conn.gone_at, f"{conn} was sent events after it left"

    @invariant()
    def what_each_connection_saw_is_the_stored_game_in_order(self) -> None:
        self._digest()
        for conn in self.conns:
            for segment in conn.segments:
                record = self.run(self.store.get(segment.game))
                if record is None:
                    assert not segment.moves, f"{segment.game} was deleted with moves"
                    continue
                assert record.moves[: len(segment.moves)] == segment.moves, (conn, segment.moves, record.moves)

    @invariant()
    def a_connection_in_a_game_knows_all_of_it(self) -> None:
        """Once everything has arrived, each connection in a game saw every stored move and the end."""
        self._digest()
        for conn in self.conns:
            if not conn.live or not conn.peer.speaks_v1:
                continue
            game, role = conn.session.service.where(conn.peer)
            if game is None:
                continue
            assert conn.segments and conn.segments[-1].game == game.id, (conn, game.id)
            record = self.run(self.store.get(game.id))
            assert record is not None, f"{game.id} is deleted while {conn} is in it"
            segment = conn.segments[-1]
            assert segment.moves == record.moves, (conn, segment.moves, record.moves)
            assert segment.ended == (record.result is not None), (conn, segment.ended, record.result)

    @invariant()
    def every_stored_game_is_a_legal_game(self) -> None:
        for game_id in self.games:
            record = self.run(self.store.get(game_id))
            events = self.run(self.store.read(game_id))
            if record is None:
                assert game_id not in self.played, f"{game_id} had moves, and was deleted"
                assert not events
                continue
            if record.moves:
                self.played.add(game_id)
            state = GameState.replay(game_id, (event for _, event in events))  # raises on an illegal log
            assert state.version == record.version == len(events)
            board = Board.from_moves(record.moves)  # raises on an illegal move
            assert state.board.moves == record.moves
            assert (state.result, state.reason) == (record.result, record.reason), game_id
            if board.winner is not None:
                assert (record.result, record.reason) == (board.winner, "four"), (game_id, record.result)
            elif board.is_draw:
                assert (record.result, record.reason) == ("draw", "full"), (game_id, record.result)
            else:
                assert record.reason in (None, "resign", "claim", "expired"), (game_id, record.reason)
            ends = [n for n, (_, e) in enumerate(events) if ends_game(e)]
            assert len(ends) == (1 if state.over else 0), (game_id, ends)
            if ends:
                after = [e for _, e in events[ends[0] + 1 :]]
                assert all(isinstance(e, (RematchOffered, RematchStarted)) for e in after), after
            names = (record.red_name, record.yellow_name)
            known = self.names.setdefault(game_id, names)
            assert all(k is None or k == n for k, n in zip(known, names)), (game_id, known, names)
            self.names[game_id] = tuple(k if k is not None else n for k, n in zip(known, names))

    @invariant()
    def services_agree_with_the_store(self) -> None:
        for service in self.services:
            for game_id, game in service.games.items():
                assert game.members, f"{game_id} is followed on a service with nobody in it"
                assert not game.arriving, f"{game_id} is still held with no request under way"
                stored = self.run(self.store.versions([game_id]))[game_id]
                assert game.state.version == stored, (game_id, game.state.version, stored)
        for conn in self.conns:
            placed, _ = conn.session.service.where(conn.peer)
            if placed is not None:  # one its service follows, not a copy it let go (and hears nothing of)
                assert conn.session.service.games.get(placed.id) is placed, f"{conn} is in {placed.id}, unfollowed"

    @invariant()
    def one_live_connection_per_seat(self) -> None:
        seats: dict[tuple[str, str], Conn] = {}
        for conn in self.conns:
            game, role = conn.session.service.where(conn.peer)
            if not conn.live:
                assert game is None, f"{conn} is closed yet still in {game and game.id}"
                continue
            if game is None or role is None:
                continue
            assert conn.peer not in conn.session.service.lobby.watchers, f"{conn} is in a game and follows the lobby"
            for color in colors_of(role):
                held = seats.setdefault((game.id, color), conn)
                assert held is conn, f"{held} and {conn} both hold {color} of {game.id}"

    @invariant()
    def names_shown_are_the_stored_names(self) -> None:
        for conn in self.conns:
            if not conn.peer.speaks_v1:
                continue
            game_id = None
            for event in conn.peer.events:
                if event["type"] == "state":
                    game_id = event["game"]
                if event["type"] in ("state", "presence") and game_id is not None:
                    known = self.names.get(game_id, (None, None))
                    for color, name in zip(PLAYERS, known):
                        shown = event.get(f"{color}_name")
                        assert shown is None or shown == name, (conn, game_id, color, shown, name)

    @invariant()
    def the_lobby_lists_only_public_games(self) -> None:
        for conn in self.conns:
            for event in conn.peer.of("lobby"):
                for field in ("online", "seeking", "waiting_total", "playing_total"):
                    assert event[field] >= 0, event
                assert event["waiting_total"] >= len(event["waiting"]), event
                assert event["playing_total"] >= len(event["playing"]), event
                for entry in event["waiting"]:
                    record = self.run(self.store.get(entry["game"]))
                    if record is not None:
                        assert record.public and not record.match, entry
                        assert entry["join"] == record.join_key and entry["color"] == record.host, entry
                for entry in event["playing"]:
                    assert entry["spectators"] >= 0, entry
                    record = self.run(self.store.get(entry["game"]))
                    if record is not None:
                        assert record.public and entry["watch"] == record.watch_key, entry


ServiceMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "300")),
    stateful_step_count=50,
    deadline=None,
    derandomize=not os.environ.get("STATEFUL_EXAMPLES"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestServiceMachine = ServiceMachine.TestCase
