"""Flags: a timed game followed here ends when its side to move runs out of time.

Nothing ticks: the deadline is a pure function of the game's events
(``domain/clock.py``), so each process that follows a timed game keeps one
timer for it, set again after every event the game takes and when the game
is loaded. When it fires, the process asks the rulebook (``Flag``) and
appends the end at the next version; a move racing it, or another process's
flag, takes that version first, and the loser of the race catches up and
finds the game over or the clock running again: exactly one end, with no
process owning the game. A move that arrives after the deadline is refused
by the rulebook whether or not a timer fired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..domain import rulebook
from ..protocol import ProtocolError
from .game import Game, Scheduler
from .moves import Moves

log = logging.getLogger("connectfour.service")

#: The key of a game's flag timer among its timers.
FLAG_TIMER = "flag"
#: Seconds before a flag that could not be stored (the store unavailable) is tried again.
RETRY = 1.0


class Flags:
    def __init__(self, moves: Moves, *, clock: Callable[[], float], schedule: Scheduler) -> None:
        self._moves = moves
        self._clock = clock
        self._schedule = schedule

    def watch(self, game: Game) -> None:
        """Set the game's flag timer for its side to move's deadline (none for an untimed game,
        one over, or one whose guest has not come yet)."""
        game.cancel_timer(FLAG_TIMER)
        clock = game.state.clock
        if clock is None or game.over:
            return
        deadline = clock.deadline
        if deadline is not None:
            self._set(game, deadline - self._clock())

    def _set(self, game: Game, delay: float) -> None:
        game.add_timer(FLAG_TIMER, self._schedule(max(0.0, delay), lambda: self._fall(game)))

    def _fall(self, game: Game) -> None:
        game.forget_timer(FLAG_TIMER)
        if game.over:
            return

        def done(error: ProtocolError | None) -> None:
            if error is None or error.code == "game_over":
                return  # ended, here or by whoever was first
            if error.code in ("internal_error", "unavailable"):
                # A flag too early (the clock ran on after a catch-up: the timer is set again
                # with the event), or the store out of reach: look again in a while.
                if not game.has_timer(FLAG_TIMER) and not game.over:
                    log.info("game %s: flag not stored (%s); looking again", game.id, error.message)
                    self._set(game, RETRY)
                return
            log.warning("game %s: flag refused: %s", game.id, error.message)

        try:
            self._moves.commit_nowait(game, rulebook.Flag(), done)
        except ProtocolError as exc:  # refused at once: early (the timer fired a hair before) or over
            if exc.code != "game_over":
                self.watch(game)
