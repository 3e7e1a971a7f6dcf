"""Connect Four rules on bitboards: no I/O, no asyncio.

Each player's checkers are one integer. Bit ``column * 7 + row`` stands for
the cell at ``column`` (0-6, left to right) and ``row`` (0-5, from the
bottom); the seventh bit of each column stays empty so that shifting a line
of checkers never wraps from the top of one column into the next. Four in a
row is then four ANDed shifts, in each of the four directions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal, NamedTuple

from ..domain import PLAYERS, RED, YELLOW, Player

COLUMNS = 7
ROWS = 6
CELLS = COLUMNS * ROWS
_STRIDE = ROWS + 1


# Bit shifts of the four directions: vertical, horizontal, and the two diagonals.
_SHIFTS = (1, _STRIDE, _STRIDE - 1, _STRIDE + 1)
# The same directions as (column, row) steps, for listing the winning cells.
_STEPS = ((0, 1), (1, 0), (1, -1), (1, 1))


#: The protocol's code of each move the rules refuse.
MoveRefusal = Literal["invalid_column", "column_full", "not_your_turn", "game_over"]


class IllegalMove(Exception):
    """A move the rules refuse. ``code`` is stable; the text is for people."""

    code: ClassVar[MoveRefusal] = "invalid_column"


class ColumnOutOfRange(IllegalMove):
    code: ClassVar[MoveRefusal] = "invalid_column"


class ColumnFull(IllegalMove):
    code: ClassVar[MoveRefusal] = "column_full"


class NotYourTurn(IllegalMove):
    code: ClassVar[MoveRefusal] = "not_your_turn"


class GameOver(IllegalMove):
    code: ClassVar[MoveRefusal] = "game_over"


class Move(NamedTuple):
    player: Player
    column: int
    row: int
    ply: int


def _four(mask: int) -> bool:
    for shift in _SHIFTS:
        pairs = mask & (mask >> shift)
        if pairs & (pairs >> 2 * shift):
            return True
    return False


class Board:
    """One game's position. ``check`` validates, ``play`` validates and applies."""

    __slots__ = ("_masks", "_heights", "moves", "winner", "cells")

    def __init__(self) -> None:
        self._masks = [0, 0]
        self._heights = [0] * COLUMNS
        self.moves: list[int] = []
        self.winner: Player | None = None
        self.cells: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_moves(cls, columns: Iterable[int]) -> Board:
        """Rebuild a position from its move log; raises IllegalMove on a bad log."""
        board = cls()
        for column in columns:
            board.play(board.turn or RED, column)
        return board

    @property
    def ply(self) -> int:
        """How many moves were played; also the index the next move takes."""
        return len(self.moves)

    @property
    def is_draw(self) -> bool:
        return self.winner is None and len(self.moves) == CELLS

    @property
    def is_over(self) -> bool:
        return self.winner is not None or len(self.moves) == CELLS

    @property
    def turn(self) -> Player | None:
        """Who moves next, or None once the game is over."""
        if self.is_over:
            return None
        return PLAYERS[len(self.moves) & 1]

    def height(self, column: int) -> int:
        return self._heights[column]

    def legal_columns(self) -> list[int]:
        if self.is_over:
            return []
        return [c for c in range(COLUMNS) if self._heights[c] < ROWS]

    def owner(self, column: int, row: int) -> Player | None:
        bit = 1 << (column * _STRIDE + row)
        if self._masks[0] & bit:
            return RED
        if self._masks[1] & bit:
            return YELLOW
        return None

    def check(self, player: str, column: object) -> int:
        """Return the row ``column`` would land on for ``player``, or raise."""
        if self.winner is not None or len(self.moves) == CELLS:
            raise GameOver("The game is over.")
        if type(column) is not int or not 0 <= column < COLUMNS:
            raise ColumnOutOfRange("Column must be an integer from 0 to 6.")
        if player != PLAYERS[len(self.moves) & 1]:
            raise NotYourTurn("It isn't your turn.")
        row = self._heights[column]
        if row == ROWS:
            raise ColumnFull("This slot is full.")
        return row

    def outcome(self, column: int, row: int) -> Literal["four", "full"] | None:
        """How the legal move to (``column``, ``row``) would end the game, if it would."""
        index = len(self.moves) & 1
        if _four(self._masks[index] | (1 << (column * _STRIDE + row))):
            return "four"
        return "full" if len(self.moves) + 1 == CELLS else None

    def place(self, column: int, row: int, end: Literal["four", "full"] | None) -> None:
        """Apply a move already checked (``row`` from ``check``, ``end`` from ``outcome``):
        the state of an event log, which checks each move once, not twice."""
        index = len(self.moves) & 1
        mask = self._masks[index] | (1 << (column * _STRIDE + row))
        self._masks[index] = mask
        self._heights[column] = row + 1
        self.moves.append(column)
        if end == "four":
            self.winner = PLAYERS[index]
            self.cells = self._lines_through(column, row, mask)

    def play(self, player: str, column: int) -> Move:
        """Apply a legal move; an illegal one raises and changes nothing."""
        row = self.check(player, column)
        index = len(self.moves) & 1
        mask = self._masks[index] | (1 << (column * _STRIDE + row))
        self._masks[index] = mask
        self._heights[column] = row + 1
        self.moves.append(column)
        mover = PLAYERS[index]
        if _four(mask):
            self.winner = mover
            self.cells = self._lines_through(column, row, mask)
        return Move(mover, column, row, len(self.moves) - 1)

    def _lines_through(self, column: int, row: int, mask: int) -> tuple[tuple[int, int], ...]:
        """Every cell of each line of four or more through the last move."""
        found: set[tuple[int, int]] = set()
        for dc, dr in _STEPS:
            line = [(column, row)]
            for sign in (1, -1):
                c, r = column + sign * dc, row + sign * dr
                while 0 <= c < COLUMNS and 0 <= r < ROWS and mask >> (c * _STRIDE + r) & 1:
                    line.append((c, r))
                    c, r = c + sign * dc, r + sign * dr
            if len(line) >= 4:
                found.update(line)
        return tuple(sorted(found))
