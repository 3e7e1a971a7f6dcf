"""The opening book: exact scores of every 12-ply position, from bitbully-databases.

The book is Markus Thill's `bitbully-databases` package (MIT licence), 12-ply
positions with the distance to the end. Searches from ply 0 to 11 stop at
ply 12 and read the book, so the empty board is answered in well under a
tenth of a second instead of minutes. Loaded once, on first use (21 MB).
"""

from __future__ import annotations

import threading
from importlib.resources import files

from . import _core

BOOK_PLY: int = _core.BOOK_PLY
_lock = threading.Lock()
_entries = 0


def load_book() -> int:
    """Load the book into the C core if it is not there yet; the number of positions it holds."""
    global _entries
    with _lock:
        if not _entries:
            data = files("bitbully_databases").joinpath("assets/book_12ply_distances.dat").read_bytes()
            _entries = _core.load_book(data)
    return _entries


def book_score(moves: str) -> int | None:
    """The book's exact score of a 12-ply position; None if the book leaves it out
    (it leaves out the positions whose side to move wins at once)."""
    load_book()
    return _core.book_lookup(moves)
