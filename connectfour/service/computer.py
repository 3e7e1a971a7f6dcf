"""The computer as a player: how each level picks its move.

Level 1 takes a win it sees and otherwise plays at random (a child beats
it). Level 2 also blocks, never hands the opponent a win on top of its
move, and likes the centre. Level 3 plays the solver's best move two times
in three, level 2's otherwise. Level 4 is perfect: the move with the best
exact score, which is the fastest win, else a draw, else the longest
defence (Pons' scores rank them exactly so).

``pick`` is pure, given the scores; ``Computer.move`` asks the bounded
async ``Solver`` for them, and when it is busy or out of time falls back to
level 2 at once rather than keep the game waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from .. import metrics
from ..domain import Role, other
from ..domain.state import GameState
from ..protocol import ProtocolError
from ..solver.service import SearchTimeout, Solver, SolverBusy
from .game import Game, Scheduler

log = logging.getLogger("connectfour.computer")

LEVELS = {1: "beginner", 2: "casual", 3: "strong", 4: "perfect"}
MIN_LEVEL, MAX_LEVEL = min(LEVELS), max(LEVELS)
#: Seconds the computer waits before it answers: an instant reply feels wrong.
DELAY = 0.7
#: How often level 3 plays the perfect move.
STRONG_ACCURACY = 2 / 3
#: Seconds a computer move may search before it falls back to a quick move (untimed games).
BUDGET = 1.0
#: On a clock: the share of its time left a search may take, and the most it may take.
CLOCK_SHARE = 0.25
CLOCK_BUDGET = 15.0


def budget_for(state: GameState, now: float) -> float | None:
    """Seconds the computer's search may take at ``now`` in a timed game: a share of what its
    clock has left, so that it plays in time and still searches fully while it has time;
    None for an untimed game (``BUDGET``)."""
    clock, color = state.clock, state.computer
    if clock is None or color is None:
        return None
    left = clock.remaining(color, now)
    if not clock.running:  # its first move: not timed, but due within the abort window
        left = (clock.deadline or now) - now
    return max(0.05, min(CLOCK_BUDGET, left * CLOCK_SHARE + clock.control.increment / 2))


_COLUMNS, _ROWS, _STRIDE = 7, 6, 7
_CENTRE_WEIGHTS = (1, 2, 3, 4, 3, 2, 1)


def _four(mask: int) -> bool:
    for shift in (1, _STRIDE, _STRIDE - 1, _STRIDE + 1):
        pairs = mask & (mask >> shift)
        if pairs & (pairs >> 2 * shift):
            return True
    return False


class _Position:
    """Bitboards of a move list, enough to see wins one move ahead."""

    def __init__(self, moves: Sequence[int]) -> None:
        self.masks = [0, 0]
        self.heights = [0] * _COLUMNS
        for ply, column in enumerate(moves):
            self.masks[ply & 1] |= 1 << (column * _STRIDE + self.heights[column])
            self.heights[column] += 1
        self.side = len(moves) & 1

    def legal(self) -> list[int]:
        return [c for c in range(_COLUMNS) if self.heights[c] < _ROWS]

    def wins(self, side: int, column: int, above: int = 0) -> bool:
        """Whether ``side`` connects four with a stone ``above`` cells over the column's top."""
        row = self.heights[column] + above
        return row < _ROWS and _four(self.masks[side] | 1 << (column * _STRIDE + row))


def quick_move(moves: Sequence[int], rng: random.Random, *, careful: bool = True) -> int:
    """A move without search: a win if there is one; then, if ``careful``, a block,
    and a move that does not give the opponent a win on top of it, near the centre."""
    position = _Position(moves)
    legal = position.legal()
    if not legal:
        raise ValueError("no legal move: the board is full")
    me, them = position.side, 1 - position.side
    for column in legal:
        if position.wins(me, column):
            return column
    if not careful:
        return rng.choice(legal)
    blocks = [c for c in legal if position.wins(them, c)]
    if blocks:
        return blocks[0]
    safe = [c for c in legal if not position.wins(them, c, above=1)] or legal
    return rng.choices(safe, weights=[_CENTRE_WEIGHTS[c] for c in safe])[0]


def best_moves(scores: Sequence[int | None]) -> list[int]:
    """The columns with the best exact score (fastest win, else draw, else longest defence)."""
    best = max(s for s in scores if s is not None)
    return [c for c, s in enumerate(scores) if s == best]


def needs_scores(level: int) -> bool:
    return level >= 3


def pick(level: int, moves: Sequence[int], scores: Sequence[int | None] | None, rng: random.Random) -> int:
    """The move of ``level`` in the position after ``moves``; ``scores`` (the solver's
    score of each column) for levels 3 and 4, or None to fall back to level 2."""
    if level <= 1:
        return quick_move(moves, rng, careful=False)
    if level == 2 or scores is None:
        return quick_move(moves, rng)
    if level == 3 and rng.random() >= STRONG_ACCURACY:
        return quick_move(moves, rng)
    return rng.choice(best_moves(scores))


def position_text(moves: Sequence[int]) -> str:
    """0-based columns as the solver's position: 1-based digits."""
    return "".join(str(c + 1) for c in moves)


class Computer:
    """Picks moves for games against the computer, off the event loop."""

    def __init__(self, solver: Solver | None, *, rng: random.Random | None = None, budget: float = BUDGET) -> None:
        self.solver = solver
        self.rng = rng or random.Random()
        self.budget = budget

    async def move(self, moves: Sequence[int], level: int, budget: float | None = None) -> int:
        """The move of ``level`` after ``moves``, searched for ``budget`` seconds at most
        (this computer's own ``budget`` if None)."""
        scores: list[int | None] | None = None
        if needs_scores(level) and self.solver is not None:
            try:
                # Ahead of every analysis waiting: a player waits for this move.
                scores = await self.solver.analyse(
                    position_text(moves), budget=budget if budget is not None else self.budget, urgent=True
                )
            except (SolverBusy, SearchTimeout) as exc:
                metrics.count("connectfour_computer_quick_moves_total")
                log.warning("computer move at ply %d falls back to a quick move: %s", len(moves), exc)
        return pick(level, moves, scores, self.rng)


class ComputerSeat:
    """The computer's seat in the games this process follows: when it is to move and its
    opponent is connected here, it answers after the natural delay, as a player would."""

    def __init__(
        self,
        computer: Computer,
        *,
        delay: float,
        schedule: Scheduler,
        spawn: Callable[[Coroutine[Any, Any, object]], object],
        play: Callable[[Game, Role, int, int], Awaitable[None]],
        following: Callable[[Game], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self.computer = computer
        self.delay = delay
        self._schedule = schedule
        self._spawn = spawn
        self._play = play
        self._following = following

    def turn(self, game: Game) -> None:
        """If the computer is to move and its opponent is connected here, answer after the delay."""
        color = game.state.computer
        if color is None or game.over or game.state.board.turn != color or game.thinking:
            return
        if game.holder_of(other(color)) is None:
            return  # the player is elsewhere (or away): that process answers, or this one once they are back
        ply = game.state.board.ply

        def answer() -> None:
            self._spawn(self._move(game, ply))

        game.think(self._schedule(self.delay, answer))

    async def _move(self, game: Game, ply: int) -> None:
        """Search off the event loop, then play like a player. A game that left
        memory meanwhile is dropped: it is searched again once someone is back."""
        state = game.state
        color, moves = state.computer, list(state.board.moves)
        if state.board.turn != color:  # taken back before the search began: the player's turn again
            game.thought()
            return
        try:
            column = await self.computer.move(moves, state.level, budget_for(state, self._clock()))
        except Exception:
            log.exception("game %s: the computer's search failed; a quick move instead", game.id)
            column = quick_move(moves, self.computer.rng)
        game.thought()
        if not self._following(game) or game.over or color is None:
            return
        if list(game.state.board.moves) != moves:  # taken back meanwhile: the answer is to another game
            self.turn(game)
            return
        try:
            await self._play(game, color, column, len(moves))
        except ProtocolError as exc:
            log.warning("game %s: the computer's move at ply %d was refused: %s", game.id, ply, exc)
            if exc.code == "unavailable":
                self.turn(game)  # the store failed: try again after the delay
