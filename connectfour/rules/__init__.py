"""The game's rules: pure, synchronous, exhaustively tested."""

from ..domain import PLAYERS, RED, YELLOW, Player, other
from .board import (
    CELLS,
    COLUMNS,
    ROWS,
    Board,
    ColumnFull,
    ColumnOutOfRange,
    GameOver,
    IllegalMove,
    Move,
    NotYourTurn,
)

__all__ = [
    "CELLS",
    "COLUMNS",
    "PLAYERS",
    "RED",
    "ROWS",
    "YELLOW",
    "Board",
    "ColumnFull",
    "ColumnOutOfRange",
    "GameOver",
    "IllegalMove",
    "Move",
    "NotYourTurn",
    "Player",
    "other",
]
