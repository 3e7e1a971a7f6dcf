"""Positions in Pascal Pons' text format, checked with messages people can act on.

A position is the string of columns played so far, 1-based ("4453" is four
moves). The C core checks again; this layer says *what* is wrong and where.
"""

from __future__ import annotations

COLUMNS = 7
ROWS = 6
CELLS = COLUMNS * ROWS
_STRIDE = ROWS + 1


class BadPosition(ValueError):
    """A line that is not a position the solver can score."""


def _four(stones: int) -> bool:
    for shift in (1, _STRIDE, _STRIDE - 1, _STRIDE + 1):
        pairs = stones & (stones >> shift)
        if pairs & (pairs >> 2 * shift):
            return True
    return False


def parse_position(text: str) -> str:
    """The moves of one input line: the first word, checked to be a game in progress.

    Raises BadPosition for anything but 1-based column digits, a move into a
    full column, or a move that ends the game (a won position has no score).
    """
    words = text.split(" ", 1)[0].strip()
    if words and not (words.isdigit() and words.isascii()):
        shown = words if len(words) <= 50 else words[:50] + "..."
        raise BadPosition(f"not a position: {shown!r} (expected column digits 1 to 7)")
    heights = [0] * COLUMNS
    stones = [0, 0]
    for index, char in enumerate(words):
        column = int(char) - 1
        if not 0 <= column < COLUMNS:
            raise BadPosition(f"move {index + 1} is column {char}: columns are 1 to 7")
        if heights[column] == ROWS:
            raise BadPosition(f"move {index + 1} is into column {char}, which is full")
        side = index % 2
        stones[side] |= 1 << (column * _STRIDE + heights[column])
        heights[column] += 1
        if _four(stones[side]):
            raise BadPosition(f"move {index + 1} wins the game: a finished game has no score")
    return words
