"""What the terminal client takes from a server: read with the protocol's own
types, checked, and made safe to print.

A server is not trusted. Every frame is decoded into one of the server
events of ``connectfour.protocol.server_messages`` (the server encodes with the same
structs); one that is not JSON, has the wrong shape or a missing field, or
holds a game no rules allow (a move out of range, a column past full, more
moves than a board holds) is refused here, as ``None``. Every text a server
sends (a name, an error, an announcement) reaches the terminal only through
``clean``: no control characters, no escape sequences, bounded in length.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from ..protocol.server_messages import InitEvent, PlayEvent, ServerEvent, StateEvent, WinEvent
from ..rules import COLUMNS, ROWS, Board, IllegalMove

# Typed explicitly: a mypy without PEP 747 TypeForm (which msgspec's stubs use) cannot infer it.
_decoder: msgspec.json.Decoder[ServerEvent] = msgspec.json.Decoder(ServerEvent)

#: The longest text from a server that is printed (a name is at most 24).
MAX_TEXT = 300
#: The characters of a key printed in a link: anything else is refused.
KEY = re.compile(r"[A-Za-z0-9_-]{1,128}\Z")
#: The most moves a board holds.
MAX_MOVES = COLUMNS * ROWS


def clean(text: str, limit: int = MAX_TEXT) -> str:
    """One line of text safe for a terminal: every control, format, private-use
    or unassigned character (ESC, CR, BEL, C1 controls, bidi overrides, line
    separators) dropped, and at most ``limit`` characters, "…" if cut."""
    kept = "".join(char for char in text if _printable(char))
    if len(kept) > limit:
        kept = kept[: limit - 1] + "…"
    return kept


def _printable(char: str) -> bool:
    if char == " ":
        return True
    category = unicodedata.category(char)
    return category[0] not in "CZ" or category == "Zs"


def read(frame: str | bytes) -> ServerEvent | None:
    """The server event a frame holds, or None if it is not a valid one."""
    try:
        event = _decoder.decode(frame)
    except Exception:  # noqa: BLE001 - not JSON, wrong shape, too deep: whatever it is, it is refused
        return None
    return event if _sound(event) else None


def _sound(event: ServerEvent) -> bool:
    """The checks the types cannot make: a game the rules allow, keys fit for a link."""
    if isinstance(event, StateEvent):
        return (
            legal(event.moves) is not None
            and event.ply == len(event.moves)
            and _cells(event.cells)
            and (event.token is None or len(event.token) <= 128)
        )
    if isinstance(event, PlayEvent):
        return 0 <= event.column < COLUMNS and 0 <= event.row < ROWS and 0 <= event.ply < MAX_MOVES
    if isinstance(event, WinEvent):
        return _cells(event.cells)
    if isinstance(event, InitEvent):
        keys = [event.game, event.watch] + ([event.join] if event.join is not None else [])
        return all(KEY.match(key) for key in keys)
    return True


def legal(moves: list[int]) -> Board | None:
    """The board these moves make, or None if no game could have them."""
    if len(moves) > MAX_MOVES:
        return None
    try:
        return Board.from_moves(moves)
    except (IllegalMove, ValueError, TypeError, IndexError):
        return None


def _cells(cells: list[tuple[int, int]]) -> bool:
    return len(cells) <= MAX_MOVES and all(0 <= c < COLUMNS and 0 <= r < ROWS for c, r in cells)


class ColumnValue(msgspec.Struct, frozen=True):
    """A column's value in ``/api/analysis``'s answer."""

    result: str
    score: int = 0
    # ``in`` is a Python keyword: renamed.
    moves: int = msgspec.field(default=0, name="in")


class Analysis(msgspec.Struct, frozen=True):
    """The answer of ``/api/analysis``, as far as the terminal prints it."""

    turn: str
    columns: list[ColumnValue | None]
    best: list[int]


class AnalysisError(msgspec.Struct, frozen=True):
    error: str


def read_analysis(body: bytes) -> Analysis | None:
    """The analysis in an answer, or None if it is not a sound one."""
    try:
        answer = msgspec.json.decode(body, type=Analysis)
    except Exception:  # noqa: BLE001 - refused, whatever the reason
        return None
    results = {"win", "draw", "loss"}
    if (
        len(answer.columns) != COLUMNS
        or answer.turn not in ("red", "yellow")
        or not all(
            column is None or (column.result in results and 0 <= column.moves <= MAX_MOVES) for column in answer.columns
        )
        or len(answer.best) > COLUMNS
        or not all(0 <= best < COLUMNS for best in answer.best)
    ):
        return None
    return answer


def analysis_error(body: bytes) -> str:
    """The ``error`` text of a refused analysis, cleaned, or a generic word."""
    try:
        return clean(msgspec.json.decode(body, type=AnalysisError).error, 120)
    except Exception:  # noqa: BLE001
        return "the server's answer could not be read"
