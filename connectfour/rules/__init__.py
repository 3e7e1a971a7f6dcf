"""The game's rules: pure, synchronous, exhaustively tested."""

from .board import (
    CELLS,
    COLUMNS,
    PLAYERS,
    RED,
    ROWS,
    YELLOW,
    Board,
    ColumnFull,
    ColumnOutOfRange,
    GameOver,
    IllegalMove,
    Move,
    NotYourTurn,
    Player,
    other,
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
