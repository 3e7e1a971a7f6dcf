"""The board as the terminal shows it: rows of X and O, row 5 on top, the
column numbers underneath."""

from __future__ import annotations

from ...rules import COLUMNS, ROWS, Board

SYMBOLS = {"red": "X", "yellow": "O", None: "."}


def draw(moves: list[int], cells: list[tuple[int, int]] | list[list[int]] | None = None, last: bool = False) -> str:
    """The board as text, row 5 on top; winning cells in brackets, the last move (if ``last``) in parentheses."""
    board = Board.from_moves(moves)
    winning = {tuple(cell) for cell in cells or []}
    latest = None
    if last and moves:
        latest = (moves[-1], Board.from_moves(moves[:-1]).height(moves[-1]))
    lines = []
    for row in reversed(range(ROWS)):
        marks = []
        for column in range(COLUMNS):
            mark = SYMBOLS[board.owner(column, row)]
            if (column, row) in winning:
                marks.append(f"[{mark}]")
            elif (column, row) == latest:
                marks.append(f"({mark})")
            else:
                marks.append(f" {mark} ")
        lines.append("|" + "".join(marks) + "|")
    lines.append(" " + "".join(f" {c + 1} " for c in range(COLUMNS)))
    return "\n".join(lines)
