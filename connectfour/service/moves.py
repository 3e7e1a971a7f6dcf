"""Commands that append to a game, all one way (``commit_nowait``): decided by the
rulebook, appended at the next version without a task (``append_nowait``), taken
once stored and told to everyone here; decided again after a lost race (the game
caught up, or its presence read again when a decision that read it raced a
change: a claim racing a return). A move is the hot path of the same way: once
stored it is played on the state as it was decided (``play_checked``: no second
check). ``commit`` awaits it, for the requests that wait anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec

from .. import metrics
from ..completion import completion
from ..domain import Role, rulebook
from ..domain.events import Event, Moved
from ..domain.refusal import Refused
from ..domain.rulebook import Command
from ..domain.state import GameState
from ..protocol import ProtocolError
from ..store import ConditionFailed, Store, StoreError, VersionConflict
from .following import REWOUND, Following
from .game import Game

log = logging.getLogger("connectfour.service")

#: Attempts at a request that keeps losing races to other services before it gives up.
ATTEMPTS = 16


class Moves:
    def __init__(
        self,
        store: Store,
        following: Following,
        *,
        clock: Callable[[], float],
        spawn: Callable[[Coroutine[Any, Any, object]], asyncio.Task[object]],
        after: Callable[[Game, Event, int], None],
    ) -> None:
        self.store = store
        self.following = following
        self._clock = clock
        self._spawn = spawn
        #: What the service does once an event is taken: tell everyone, and what follows.
        self._after = after

    def commit_nowait(
        self, game: Game, command: Command, done: Callable[[ProtocolError | None], None], attempts: int = ATTEMPTS
    ) -> None:
        """Decide what ``command`` makes, append it at the next version, take it: the one way
        every change to a game goes, without a task. ``done`` hears the outcome.

        A refusal found at once raises ProtocolError and changes nothing. After a lost
        race (another event took the version; or, for a decision that read the seats,
        the presence changed meanwhile), the game is caught up (or its presence read
        again) and the command decided again, ``attempts`` times at most; what is
        refused then reaches ``done``. A move is decided for the ply it was first
        decided for (after another move it is stale, as it would be here), and, once
        stored, played on the state as it was decided (``play_checked``: no second
        check): the hot path.
        """
        state = game.state
        row = -1
        seats = None
        event: Event
        try:
            if type(command) is rulebook.Move:
                if command.ply is None:  # its retries are for this ply
                    command = rulebook.Move(command.role, command.column, state.board.ply)
                move, row = rulebook.decide_move(state, command.role, command.column, command.ply, self._clock())
                event = move
            else:
                seats = game.seats() if rulebook.needs_seats(command) else None
                event = rulebook.decide(state, command, self._clock(), seats)
        except Refused as exc:
            raise ProtocolError.of(exc) from None
        version = state.version + 1
        append = _Append(self, game, state, command, done, attempts, event, row, version, time.perf_counter())
        self.store.append_nowait(
            game.id, version, event, append.stored, seats.presence.seq if seats is not None else None
        )

    async def _again(
        self,
        game: Game,
        command: Command,
        done: Callable[[ProtocolError | None], None],
        attempts: int,
        presence: bool,
    ) -> None:
        """After a lost race: catch up (or read the presence again), then decide again."""
        try:
            if presence:
                await self.following.look_again(game)
            else:
                await self.following.catch_up(game)
            self.commit_nowait(game, command, done, attempts)
        except ProtocolError as exc:
            done(exc)
        except StoreError as exc:
            log.error("game %s: could not read it again: %s", game.id, exc)
            done(ProtocolError("unavailable", "That could not be saved; try again."))

    async def confirm(self, game: Game) -> None:
        """Return once what this process applied of the game (which a request sent again was
        found in) is as safe as a new change's acknowledgement: the store still holds it (read
        back from the last event applied here, ``Following.catch_up``: a failover may have
        lost it) and has it where it is asked to (``Store.confirm``: on the replicas awaited).
        ProtocolError ``rewound`` if it lost it, ``unavailable`` if that cannot be known now."""
        try:
            await self.following.catch_up(game)
            if game.lost:  # everyone here is told
                raise ProtocolError("rewound", REWOUND)
            await self.store.confirm(game.id)
        except StoreError as exc:
            log.error("game %s: could not confirm what a request sent again found: %s", game.id, exc)
            raise ProtocolError("unavailable", "The request could not be confirmed; try again.") from None

    async def commit(self, game: Game, command: Command) -> None:
        """``commit_nowait``, awaited: raises ProtocolError, and then nothing changed
        (``unavailable``: maybe not)."""
        await completion(lambda done: self.commit_nowait(game, command, done))

    def play_nowait(
        self, game: Game, role: Role, column: int, ply: int | None, done: Callable[[ProtocolError | None], None]
    ) -> None:
        """A move: ``commit_nowait`` of ``rulebook.Move`` (for the ply the game is at unless it
        says), its decision made here, the commonest, without the dispatch on the command."""
        state = game.state
        if ply is None:  # its retries are for this ply
            ply = len(state.board.moves)
        try:
            event, row = rulebook.decide_move(state, role, column, ply, self._clock())
        except Refused as exc:
            raise ProtocolError.of(exc) from None
        version = state.version + 1
        command = rulebook.Move(role, column, ply)
        append = _Append(self, game, state, command, done, ATTEMPTS, event, row, version, time.perf_counter())
        self.store.append_nowait(game.id, version, event, append.stored)

    async def play(self, game: Game, role: Role, column: int, ply: int | None = None) -> None:
        await self.commit(game, rulebook.Move(role, column, ply))

    async def resign(self, game: Game, role: Role) -> None:
        await self.commit(game, rulebook.Resign(role))
        metrics.count("connectfour_games_ended_total", "resign")

    async def claim(self, game: Game, role: Role) -> None:
        await self.commit(game, rulebook.Claim(role))
        metrics.count("connectfour_games_ended_total", "claim")


class _Append(msgspec.Struct):
    """A decided event on its way to the store, and what its answer needs (in one
    object: a closure over as many variables costs twice as much to make).

    ``stored`` hears the store: the event taken and told, or the race lost and the
    command decided again, or the failure told to ``done``.
    """

    moves: Moves
    game: Game
    #: The game's state the event was decided on; a move is played on it as checked.
    state: GameState
    command: Command
    done: Callable[[ProtocolError | None], None]
    attempts: int
    event: Event
    #: The row a move lands on, as its check found it.
    row: int
    version: int
    #: When the append was sent (``time.perf_counter()``).
    sent: float

    def stored(self, error: StoreError | None) -> None:
        metrics.store_appended(self.sent)
        moves = self.moves
        game = self.game
        event = self.event
        version = self.version
        if error is None:
            if type(event) is Moved:
                metrics.MOVES.value += 1
                if event.end is not None:
                    metrics.count("connectfour_games_ended_total", event.end)
                if game.inbox.take_next(version):
                    # Version N+1 is ours, so the state is the one the move was checked
                    # against: played as checked, not checked again.
                    self.state.play_checked(event, self.row)
                    moves._after(game, event, self.row)
                    self.done(None)
                    return
            moves.following.offer(game, version, event)
            self.done(None)
        elif isinstance(error, VersionConflict) and error.last < version - 1:
            moves.following.rewound(game, error.last)  # the store lost events we applied
            self.done(ProtocolError("rewound", REWOUND))
        elif isinstance(error, (VersionConflict, ConditionFailed)) and self.attempts > 1:
            again = moves._again(game, self.command, self.done, self.attempts - 1, isinstance(error, ConditionFailed))
            moves._spawn(again)
        elif isinstance(error, (VersionConflict, ConditionFailed)):
            self.done(ProtocolError("unavailable", "The game is too busy right now; try again."))
        else:
            log.error("game %s: could not store %s: %s", game.id, type(event).__name__, error)
            self.done(ProtocolError("unavailable", "That could not be saved; try again."))
