"""A game's log as this store keeps it: one character per event, and each event's time, in the game's record.

A game's log is kept compactly in its record (and its row) rather than as
encoded events: its ``moves``, and ``log``, one character per event after
``Created``:

    '0'-'6'  a move in that column (whose, by the parity of the moves before it)
    'J'      joined
    'r' 'y'  red or yellow resigned
    'R' 'Y'  red or yellow claimed the win (under the record's ``grace``)
    'E'      expired
    'f' 'g'  red's or yellow's time ran out (a timed game's flag fell)
    'A'      aborted: a first move not made in time
    'd' 'e'  red or yellow offered a draw; 'h' 'i' declined one; 'D' a draw agreed
    'k' 'l'  red or yellow asked for a takeback; 'm' 'n' declined one
    'b' 'B'  one or two moves taken back
    'o' 'p'  red or yellow offered a rematch
    'S'      the rematch started (the new game's id is the ``rematch`` field)

so that a game's version is ``1 + len(log)``; and ``times``, the time of
each event after ``Created`` (whose time is ``created_at``), exactly as it
was appended: a list of floats in memory, one BLOB in SQLite (``times.py``).
``events`` rebuilds the events from the record, each move's end from a
board, each with its own time.

A database written before times were kept has none for the events it held
then: ``times`` belongs to the last events of the log, and each event before
them reads back as it always did, ``Created`` with ``created_at``, the event
that ended the game with ``finished_at``, every other with ``updated_at``
(and a claim with a ``grace`` of 0.0). Replayed, the events give the same
game: board, result, end and version. An append that repeats a stored event
is a ``VersionConflict`` here, not the silent success of a store that keeps
events whole: nothing in one process ever needs to retry one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import msgspec

from ...domain import PLAYERS, Player
from ...domain.events import (
    Aborted,
    Claimed,
    DrawAgreed,
    DrawDeclined,
    DrawOffered,
    Event,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    RematchStarted,
    Resigned,
    TakebackDeclined,
    TakebackRequested,
    TimedOut,
    TookBack,
)
from ...rules import Board, IllegalMove
from ..base import GameRecord, StoreError, ends

#: The log character of a move in each column.
COLUMN_CODES = {column: str(column) for column in range(7)}
RESIGNED: dict[Player, str] = {"red": "r", "yellow": "y"}
CLAIMED: dict[Player, str] = {"red": "R", "yellow": "Y"}
OFFERED: dict[Player, str] = {"red": "o", "yellow": "p"}
FLAGGED: dict[Player, str] = {"red": "f", "yellow": "g"}
DRAW_OFFERED: dict[Player, str] = {"red": "d", "yellow": "e"}
DRAW_DECLINED: dict[Player, str] = {"red": "h", "yellow": "i"}
TAKEBACK_REQUESTED: dict[Player, str] = {"red": "k", "yellow": "l"}
TAKEBACK_DECLINED: dict[Player, str] = {"red": "m", "yellow": "n"}
TOOK_BACK = {1: "b", 2: "B"}
_COLUMN_OF = {code: column for column, code in COLUMN_CODES.items()}
_RESIGNER: dict[str, Player] = {code: player for player, code in RESIGNED.items()}
_CLAIMER: dict[str, Player] = {code: player for player, code in CLAIMED.items()}
_OFFERER: dict[str, Player] = {code: player for player, code in OFFERED.items()}
_FLAGGED: dict[str, Player] = {code: player for player, code in FLAGGED.items()}
#: The events of a player (offers, requests, answers) by their log character.
_BY_PLAYER: dict[str, tuple[type[DrawOffered | DrawDeclined | TakebackRequested | TakebackDeclined], Player]] = {
    code: (kind, player)
    for kind, codes in (
        (DrawOffered, DRAW_OFFERED),
        (DrawDeclined, DRAW_DECLINED),
        (TakebackRequested, TAKEBACK_REQUESTED),
        (TakebackDeclined, TAKEBACK_DECLINED),
    )
    for player, code in codes.items()
}

_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(GameRecord))


@dataclass(slots=True)
class StoredGame(GameRecord):
    """A game's record as this store keeps it: with its log, whose events it can rebuild."""

    log: str = ""
    #: The rematch's game id, once it started (the event ``S`` of ``log``).
    rematch: str | None = None
    #: The id of the request whose ``Joined`` spent the invite, if it gave one.
    joined_by: str | None = None
    #: The times of the last ``len(times)`` events of ``log``: of all of them, unless
    #: the game began before times were kept.
    times: list[float] = dataclasses.field(default_factory=list)
    #: The grace period of the claim that ended the game, if one did (and after times were kept).
    grace: float | None = None


def without_log(record: StoredGame) -> GameRecord:
    """A copy of the record as the ``Store`` interface gives it: without the log."""
    copy = GameRecord(**{name: getattr(record, name) for name in _RECORD_FIELDS})
    copy.moves = list(record.moves)
    return copy


def advance(record: StoredGame, event: Event, code: str) -> None:
    """Follow one more event (never ``Created``), written ``code`` in the log."""
    record.advance(event)
    record.log += code
    record.times.append(event.at)
    if type(event) is RematchStarted:
        record.rematch = event.game
    elif type(event) is Joined:
        record.joined_by = event.request
    elif type(event) is Claimed:
        record.grace = event.grace


def take_back(record: StoredGame, event: Event, was_open: bool) -> None:
    """Undo ``advance`` of ``event`` (never ``Created``), the game's last: its journal write failed."""
    record.version -= 1
    record.log = record.log[:-1]
    record.times.pop()
    if type(event) is Moved:
        record.moves.pop()
    elif type(event) is Joined:
        record.invite_spent = False
    elif type(event) is RematchStarted:
        record.rematch = None
    elif type(event) is Claimed:
        record.grace = None
    elif type(event) is TookBack:
        record.moves = moves_of(record.log)
    if was_open:
        record.result = record.reason = record.finished_at = None


def moves_of(log: str) -> list[int]:
    """The columns a log leaves on the board: its moves, less those taken back."""
    moves: list[int] = []
    for code in log:
        if code in _COLUMN_OF:
            moves.append(_COLUMN_OF[code])
        elif code == "b" or code == "B":
            del moves[-(1 if code == "b" else 2) :]
    return moves


def turn(record: GameRecord) -> Player:
    """Whose move comes next, by the parity of the moves so far."""
    return PLAYERS[len(record.moves) & 1]


def event(code: str, at: float, mover: Player, extra: str | None) -> Event:
    """The event a log character stands for (a move ``mover``'s); ``extra`` is a move's end,
    a claim's grace (``repr``) or the rematch's game."""
    if code in _COLUMN_OF:
        end: Literal["four", "full"] | None = "four" if extra == "four" else "full" if extra == "full" else None
        return Moved(at=at, player=mover, column=_COLUMN_OF[code], end=end)
    if code == "J":
        return Joined(at=at)
    if code in _RESIGNER:
        return Resigned(at=at, player=_RESIGNER[code])
    if code in _CLAIMER:
        return Claimed(at=at, player=_CLAIMER[code], grace=float(extra) if extra else 0.0)
    if code == "E":
        return Expired(at=at)
    if code in _FLAGGED:
        return TimedOut(at=at, player=_FLAGGED[code])
    if code == "A":
        return Aborted(at=at)
    if code == "D":
        return DrawAgreed(at=at)
    if code in _BY_PLAYER:
        kind, player = _BY_PLAYER[code]
        return kind(at=at, player=player)
    if code == "b" or code == "B":
        return TookBack(at=at, plies=1 if code == "b" else 2)
    if code in _OFFERER:
        return RematchOffered(at=at, player=_OFFERER[code])
    if code == "S" and extra:
        return RematchStarted(at=at, game=extra)
    raise ValueError(f"no event {code!r}")


def events(record: StoredGame) -> list[Event]:
    """The game's events rebuilt from its record, each move's end from a board, each with its time.

    An event older than the record's ``times`` (one stored before they were
    kept) has the time the record kept for it: ``finished_at`` for the one
    that ended the game, ``updated_at`` for every other after ``Created``.
    """
    rebuilt: list[Event] = [record.created_event()]
    board = Board()
    times, finished = record.times, record.finished_at
    untimed = len(record.log) - len(times)
    if untimed < 0:
        raise StoreError(f"game {record.id}: {len(times)} stored times for {len(record.log)} events")
    for index, code in enumerate(record.log):
        timed = index >= untimed
        at = times[index - untimed] if timed else record.updated_at
        next_event: Event
        if code in _COLUMN_OF:
            column, player = _COLUMN_OF[code], PLAYERS[len(board.moves) & 1]
            try:
                row = board.check(player, column)
            except IllegalMove as exc:
                raise StoreError(f"game {record.id}: its stored moves are not a game ({exc})") from None
            end = board.outcome(column, row)
            board.play(player, column)
            next_event = Moved(at=at, player=player, column=column, end=end)
        elif code == "J":
            next_event = record.joined_event(at, request=record.joined_by)
        elif code in _CLAIMER:
            next_event = Claimed(at=at, player=_CLAIMER[code], grace=record.grace or 0.0)
        else:
            try:
                next_event = event(code, at, "red", record.rematch)
            except ValueError as exc:
                raise StoreError(f"game {record.id}: {exc} in its stored log") from None
        if type(next_event) is TookBack:
            board = Board.from_moves(board.moves[: -next_event.plies])
        if not timed and finished is not None and ends(next_event):
            next_event = msgspec.structs.replace(next_event, at=finished)
        rebuilt.append(next_event)
    return rebuilt
