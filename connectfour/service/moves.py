"""Commands that append to a game: decided by the rulebook, appended at the next version,
decided again after a lost race. Moves take the hot path.

A move is decided on the game's state here, appended without a task
(``append_nowait``) and, once stored, played on the state as it was decided
(``play_checked``: no second check) and told to everyone here. A move that
lost its version to another event (the guest joining) is decided again after
catching up, for the same ply; every other command goes through ``commit``,
which does the same awaiting the store, and decides again on the presence as
it is now when the one it read changed meanwhile (a claim racing a return).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .. import metrics
from ..completion import completion
from ..domain import Role, rulebook
from ..domain.events import Event
from ..domain.refusal import Refused
from ..domain.rulebook import Command
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

    async def commit(self, game: Game, command: Command) -> Event:
        """Append the event the rulebook decides ``command`` makes (ProtocolError if it refuses);
        after a lost race, catch up and decide again. A decision that read the seats
        (``needs_seats``) is appended only if the presence has not changed since: if it has,
        the presence is read again and the command decided again."""
        for _ in range(ATTEMPTS):
            seats = game.seats() if rulebook.needs_seats(command) else None
            try:
                event = rulebook.decide(game.state, command, self._clock(), seats)
            except Refused as exc:
                raise ProtocolError.of(exc) from None
            version = game.state.version + 1
            try:
                await self.store.append(
                    game.id, version, event, presence_seq=seats.presence.seq if seats is not None else None
                )
            except VersionConflict as exc:
                if exc.last < version - 1:  # the store lost events we had applied when we asked
                    self.following.rewound(game, exc.last)
                    raise ProtocolError("rewound", REWOUND) from None
                await self.following.catch_up(game)
                continue
            except ConditionFailed:  # the presence changed meanwhile: look at it again
                await self.following.look_again(game)
                continue
            except StoreError as exc:
                log.error("game %s: could not store %s: %s", game.id, type(event).__name__, exc)
                raise ProtocolError("unavailable", "That could not be saved; try again.") from None
            self.following.offer(game, version, event)
            return event
        raise ProtocolError("unavailable", "The game is too busy right now; try again.")

    def play_nowait(
        self,
        game: Game,
        role: Role,
        column: int,
        ply: int | None,
        done: Callable[[ProtocolError | None], None],
        attempts: int = ATTEMPTS,
    ) -> None:
        """Check a move, store it, then announce it; ``done`` hears the outcome.

        A refusal found before storing raises ProtocolError at once and
        changes nothing; one found after a lost race reaches ``done``
        (``attempts``: how many more lost races it may take).
        """
        state = game.state
        try:
            event, row = rulebook.decide_move(state, role, column, ply, self._clock())
        except Refused as exc:
            raise ProtocolError.of(exc) from None
        version = state.version + 1
        expected = state.board.ply

        def committed(error: StoreError | None) -> None:
            metrics.store_appended(sent)
            if error is None:
                metrics.count("connectfour_moves_total")
                if event.end is not None:
                    metrics.count("connectfour_games_ended_total", event.end)
                inbox = game.inbox
                if inbox.version == version - 1 and not inbox.gap:
                    # Version N+1 is ours, so the state is the one the move was checked
                    # against: played as checked, not checked again.
                    inbox.take(version)
                    state.play_checked(event, row)
                    self._after(game, event, row)
                else:
                    self.following.offer(game, version, event)
                done(None)
            elif isinstance(error, VersionConflict) and error.last < version - 1:
                self.following.rewound(game, error.last)  # the store lost events we applied
                done(ProtocolError("rewound", REWOUND))
            elif isinstance(error, VersionConflict) and attempts > 1:
                # Another event took this version: catch up, then check the move again,
                # for the same ply (after another move it is stale, as it would be here).
                self._spawn(self._play_again(game, role, column, expected, done, attempts - 1))
            else:
                log.error("game %s: could not store the move at ply %d: %s", game.id, expected, error)
                done(ProtocolError("unavailable", "The move could not be saved; try again."))

        sent = time.perf_counter()
        self.store.append_nowait(game.id, version, event, committed)

    async def _play_again(
        self,
        game: Game,
        role: Role,
        column: int,
        ply: int | None,
        done: Callable[[ProtocolError | None], None],
        attempts: int,
    ) -> None:
        try:
            await self.following.catch_up(game)
            self.play_nowait(game, role, column, ply, done, attempts)
        except ProtocolError as exc:
            done(exc)
        except StoreError as exc:
            log.error("game %s: could not read its events: %s", game.id, exc)
            done(ProtocolError("unavailable", "The move could not be saved; try again."))

    async def play(self, game: Game, role: Role, column: int, ply: int | None = None) -> None:
        """``play_nowait``, awaited: raises ProtocolError, and then nothing changed."""
        await completion(lambda done: self.play_nowait(game, role, column, ply, done))

    async def resign(self, game: Game, role: Role) -> None:
        await self.commit(game, rulebook.Resign(role))
        metrics.count("connectfour_games_ended_total", "resign")

    async def claim(self, game: Game, role: Role) -> None:
        await self.commit(game, rulebook.Claim(role))
        metrics.count("connectfour_games_ended_total", "claim")
