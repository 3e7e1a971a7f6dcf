"""The exact score of a position, in Pascal Pons' convention, from the C core.

A score is 0 for a draw; positive when the side to move wins, namely 22
minus the number of stones that side has played when it wins; negative for
a loss, likewise. These calls run the search in the calling thread with
the GIL released; `connectfour.solver.service` runs them off the event loop.
"""

from __future__ import annotations

from . import _core
from .book import load_book
from .position import parse_position


class SearchTimeout(TimeoutError):
    """The search did not finish within its time budget."""


def solve(moves: str, budget: float | None = None, book: bool = True) -> int:
    """The exact score of the position after `moves`; SearchTimeout past `budget` seconds.

    `book=False` searches without the opening book (for measuring the search alone).
    """
    return solve_counted(moves, budget, book)[0]


def solve_counted(moves: str, budget: float | None = None, book: bool = True) -> tuple[int, int]:
    """The score and the number of nodes searched (the search's cost, for benchmarks)."""
    parse_position(moves)
    load_book()
    try:
        return _core.solve(moves, budget or 0.0, book)
    except TimeoutError as exc:
        raise SearchTimeout(str(exc)) from None


def analyse(moves: str, budget: float | None = None, book: bool = True) -> list[int | None]:
    """The score of each of the 7 moves for the side to move; None for a full column."""
    parse_position(moves)
    load_book()
    try:
        scores, _nodes = _core.analyse(moves, budget or 0.0, book)
    except TimeoutError as exc:
        raise SearchTimeout(str(exc)) from None
    return scores
