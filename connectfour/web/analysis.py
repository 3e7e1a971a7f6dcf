"""``GET /api/analysis?moves=3344``: the exact value of every move, for replays and spectators.

``moves`` is the game so far as digits of 0-based columns, as the protocol
numbers them (``3`` is the centre). The answer gives each column's value
from the side to move: a win or a loss and in how many of the winner's
moves, or a draw, with the solver's score; and the best moves. Searches
go through the server's bounded ``Solver``: when it is saturated the
answer is 503 with ``Retry-After`` rather than a queue that grows. Each
client address has a fair share: at most ``Solver.per_owner`` searches
running or waiting (429 past it, and nobody else waits for them), and at
most ``PER_ADDRESS`` of the cache's positions (its own oldest make room for
its newest, so a flood of positions cannot push out everyone else's).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aiohttp import web

from .. import metrics
from ..rules import Board, IllegalMove
from ..service.computer import best_moves, position_text
from ..solver.service import OwnerBusy, SearchTimeout, Solver, SolverBusy
from .endpoint import CLIENTS, SETTINGS, client_address
from .limits import address_key

SOLVER = web.AppKey("solver", Solver)
#: The longest ``moves`` there can be: a full board.
MAX_MOVES = 42
#: Positions whose scores are kept: everyone watching a game or its replay asks
#: for the same positions, and a search just past the book can cost half a second.
CACHE_SIZE = 4096


#: Positions of the cache one client address may hold.
PER_ADDRESS = CACHE_SIZE // 16


class Scores:
    """The most recently asked positions' scores, oldest dropped first; each asker
    holds at most ``per_owner`` of them (its own oldest go first past that)."""

    def __init__(self, size: int = CACHE_SIZE, per_owner: int = PER_ADDRESS) -> None:
        self.size = size
        self.per_owner = per_owner
        self._scores: OrderedDict[str, tuple[list[int | None], str | None]] = OrderedDict()
        #: Each owner's positions, oldest first.
        self._owned: dict[str, OrderedDict[str, None]] = {}

    def __len__(self) -> int:
        return len(self._scores)

    def get(self, position: str) -> list[int | None] | None:
        entry = self._scores.get(position)
        if entry is None:
            return None
        self._scores.move_to_end(position)
        return entry[0]

    def put(self, position: str, scores: list[int | None], owner: str | None = None) -> None:
        if position in self._scores:
            self._forget(position)
        if owner is not None:
            owned = self._owned.setdefault(owner, OrderedDict())
            if self.per_owner and len(owned) >= self.per_owner:
                self._forget(next(iter(owned)))
            self._owned.setdefault(owner, OrderedDict())[position] = None
        self._scores[position] = (scores, owner)
        if len(self._scores) > self.size:
            self._forget(next(iter(self._scores)))

    def _forget(self, position: str) -> None:
        _, owner = self._scores.pop(position)
        if owner is not None:
            owned = self._owned[owner]
            del owned[position]
            if not owned:
                del self._owned[owner]


SCORES = web.AppKey("analysis_scores", Scores)


class BadPosition(ValueError):
    """The ``moves`` of a request is not a game in progress."""


def parse_moves(text: str) -> list[int]:
    """0-based column digits checked to be a game still in progress, or BadPosition saying why."""
    if len(text) > MAX_MOVES:
        raise BadPosition(f"moves has {len(text)} characters; a game has at most {MAX_MOVES} moves")
    if not all(char in "0123456" for char in text):
        raise BadPosition("moves must be digits of columns 0 to 6, one per move (e.g. moves=3344)")
    board = Board()
    for index, char in enumerate(text):
        if board.is_over:
            raise BadPosition(f"the game is over after move {index}: nothing can follow it")
        column = int(char)
        try:
            board.play(board.turn or "red", column)
        except IllegalMove as exc:
            raise BadPosition(f"move {index + 1} (column {column}) is illegal: {exc}") from None
    if board.is_over:
        raise BadPosition("the game is over: a finished game has no move to analyse")
    return board.moves


def describe(score: int | None, ply: int) -> dict[str, Any] | None:
    """A column's value for people: the result and in how many of the winner's moves.

    A score (Pons) ``s > 0`` means the mover wins with its ``22 - s``-th
    stone; ``s < 0``, the opponent wins with its ``22 + s``-th.
    """
    if score is None:
        return None
    if score == 0:
        return {"score": 0, "result": "draw"}
    if score > 0:
        return {"score": score, "result": "win", "in": 22 - score - ply // 2}
    return {"score": score, "result": "loss", "in": 22 + score - (ply + 1) // 2}


async def analysis(request: web.Request) -> web.Response:
    try:
        moves = parse_moves(request.query.get("moves", ""))
    except BadPosition as exc:
        return web.json_response({"error": str(exc)}, status=400)
    position = position_text(moves)
    cache = request.app[SCORES]
    scores = cache.get(position)
    if scores is None:
        app = request.app
        owner = address_key(client_address(request, app[SETTINGS]), app[CLIENTS].limits.ipv6_prefix)
        try:
            scores = await app[SOLVER].analyse(position, owner=owner)
        except OwnerBusy:
            metrics.count("connectfour_address_refusals_total", "analyses")
            return web.json_response(
                {"error": "Your earlier analyses are still being searched; ask again once they are answered."},
                status=429,
                headers={"Retry-After": "1"},
            )
        except SolverBusy:
            return _unavailable("The solver is busy; try again in a moment.")
        except SearchTimeout:
            return _unavailable("This position took too long to solve; try again in a moment.")
        cache.put(position, scores, owner)
        metrics.count("connectfour_analyses_total", "search")
    else:
        metrics.count("connectfour_analyses_total", "cache")
    ply = len(moves)
    return web.json_response(
        {
            "moves": "".join(map(str, moves)),
            "turn": "red" if ply % 2 == 0 else "yellow",
            "columns": [describe(score, ply) for score in scores],
            "best": best_moves(scores),
            "score": max(s for s in scores if s is not None),
        }
    )


def _unavailable(message: str) -> web.Response:
    return web.json_response({"error": message}, status=503, headers={"Retry-After": "1"})
