"""The journal's records, one per change: how each is written, and how a replay applies it.

``E <game> <version> <character> <time>`` is an event, by its log character
(``gamelog.py``) and its time, then a move's end ("four", "full"), a claim's
grace (``repr``; a journal written before it was kept has none: 0.0), the
rematch's game or the guest's name and request; ``C`` and the record as
JSON is a game created; ``T <game> <time>`` a touch; ``D <game>`` a
deletion. A journal written before versions holds ``M`` (a move by its
ply), ``S`` (an invite spent) and ``F`` (a game finished) instead of ``E``.

A time is ``x`` and the 16 hexadecimal digits of its IEEE 754 bits (little
endian), which give the same float back: a move's record is made on every
move, and this takes a fifth of the time of ``repr``, the decimal form a
journal written before held (and a replay still reads).

Replaying is idempotent: an event applies only at the version after the
game's, so one already folded into SQLite (or replayed) changes nothing.
(A move's record is written where it is made, on the hot path of
``store.py``, in the same form as ``event_record`` would write it.)
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from typing import cast
from urllib.parse import quote, unquote

import msgspec

from ...domain import Player, Reason, Result, other
from ...domain.events import (
    Aborted,
    Claimed,
    Created,
    DrawAgreed,
    DrawDeclined,
    DrawOffered,
    Event,
    Expired,
    Joined,
    RematchOffered,
    RematchStarted,
    Resigned,
    TakebackDeclined,
    TakebackRequested,
    TimedOut,
    TookBack,
)
from ..base import StoreError
from .gamelog import (
    CLAIMED,
    DRAW_DECLINED,
    DRAW_OFFERED,
    FLAGGED,
    OFFERED,
    RESIGNED,
    TAKEBACK_DECLINED,
    TAKEBACK_REQUESTED,
    TOOK_BACK,
    StoredGame,
    advance,
    event,
    turn,
)

log = logging.getLogger("connectfour.store")

_DOUBLE = struct.Struct("<d")
#: ``f"x{pack(at).hex()}"`` is a time as a record writes it (``time_text``, inlined on the hot path).
pack = _DOUBLE.pack


def time_text(at: float) -> str:
    """A time as the journal writes it: ``x`` and its bits in hexadecimal, exact."""
    return f"x{pack(at).hex()}"


def read_time(text: str) -> float:
    """A time as the journal wrote it: in hexadecimal after ``x``, or (before) as ``repr`` wrote it.

    Raises ValueError for neither.
    """
    if text[:1] == "x":
        if len(text) != 17:
            raise ValueError(f"no time {text!r}")
        return float(_DOUBLE.unpack(bytes.fromhex(text[1:]))[0])
    return float(text)


def event_record(game_id: str, version: int, stored: Event) -> tuple[str, str]:
    """Check an event other than a move against what its record needs; its log character and record."""
    extra = ""
    if isinstance(stored, Joined):
        code = "J"
        # (the journal's records are split on spaces; ~ is in no quoted name)
        if stored.request is not None:
            extra = f" {quote(stored.name or '', safe='')}~{quote(stored.request, safe='')}"
        elif stored.name is not None:
            extra = f" {quote(stored.name, safe='')}"
    elif isinstance(stored, Resigned):
        code = RESIGNED[stored.player]
    elif isinstance(stored, Claimed):
        code, extra = CLAIMED[stored.player], f" {stored.grace!r}"
    elif isinstance(stored, Expired):
        code = "E"
    elif isinstance(stored, TimedOut):
        code = FLAGGED[stored.player]
    elif isinstance(stored, Aborted):
        code = "A"
    elif isinstance(stored, DrawOffered):
        code = DRAW_OFFERED[stored.player]
    elif isinstance(stored, DrawDeclined):
        code = DRAW_DECLINED[stored.player]
    elif isinstance(stored, DrawAgreed):
        code = "D"
    elif isinstance(stored, TakebackRequested):
        code = TAKEBACK_REQUESTED[stored.player]
    elif isinstance(stored, TakebackDeclined):
        code = TAKEBACK_DECLINED[stored.player]
    elif isinstance(stored, TookBack):
        if stored.plies not in TOOK_BACK:
            raise StoreError(f"game {game_id}: no takeback of {stored.plies} moves")
        code = TOOK_BACK[stored.plies]
    elif isinstance(stored, RematchOffered):
        code = OFFERED[stored.player]
    elif isinstance(stored, RematchStarted):
        if stored.game.split() != [stored.game]:  # (the journal's records are split on spaces)
            raise StoreError(f"game {game_id}: no rematch game {stored.game!r}")
        code, extra = "S", f" {stored.game}"
    elif isinstance(stored, Created):
        raise StoreError(f"game {game_id} already exists")
    else:
        raise StoreError(f"game {game_id}: an event {stored!r} of no kind this store keeps")
    return code, f"E {game_id} {version} {code} {time_text(stored.at)}{extra}"


def created_record(record: StoredGame) -> str:
    return "C " + msgspec.json.encode(record).decode()


def touched_record(game_id: str, at: float) -> str:
    return f"T {game_id} {time_text(at)}"


def deleted_record(game_id: str) -> str:
    return f"D {game_id}"


def replay(
    games: dict[str, StoredGame], deleted: set[str], entry: str, load: Callable[[str], StoredGame | None]
) -> None:
    """Apply one journal record to ``games`` (or ``deleted``), taking each game from ``load`` first.

    Raises ValueError, IndexError or msgspec.DecodeError for a record it cannot read.
    """
    kind, _, rest = entry.partition(" ")
    if kind == "C":
        created: StoredGame = msgspec.json.decode(rest, type=StoredGame)
        created.version = created.version or 1  # a journal written before versions
        deleted.discard(created.id)
        if created.id not in games:
            games[created.id] = load(created.id) or created
        return
    if kind == "D":
        games.pop(rest, None)
        deleted.add(rest)
        return
    game_id, *fields = rest.split(" ")
    record = games.get(game_id) or load(game_id)
    if record is None:
        log.warning("journal: a change to the unknown game %s skipped", game_id)
        return
    games[game_id] = record
    if kind == "E":
        version, code, at = int(fields[0]), fields[1], read_time(fields[2])
        if version == record.version + 1:
            extra = fields[3] if len(fields) > 3 else None
            joined = _joined(record, at, extra) if code == "J" else None
            advance(record, joined or event(code, at, turn(record), extra), code)
        elif version > record.version + 1:
            log.warning("journal: version %d of %s skipped: the game is at %d", version, game_id, record.version)
    elif kind == "T":
        record.updated_at = max(record.updated_at, read_time(fields[0]))
    elif kind in ("M", "S", "F"):
        _replay_before_versions(record, kind, fields)
    else:
        raise ValueError(f"unknown kind {kind!r}")


def _joined(record: StoredGame, at: float, extra: str | None) -> Joined:
    """A ``J`` record's event: its name, and the request's id after a ``~``."""
    if extra is None:
        return record.joined_event(at)
    name, _, request = extra.partition("~")
    return record.joined_event(at, unquote(name) or None, unquote(request) or None)


def _replay_before_versions(record: StoredGame, kind: str, fields: list[str]) -> None:
    """Apply a record of a journal written before versions: a move by its ply,
    an invite spent (``S``), a game finished (``F``), each as the event it was."""
    if kind == "M":
        ply, column, at = int(fields[0]), fields[1], float(fields[2])
        if ply == len(record.moves):
            advance(record, event(column, at, turn(record), None), column)
        record.updated_at = max(record.updated_at, at)
    elif kind == "S":
        if not record.invite_spent and not record.local and record.join_key is not None:
            advance(record, Joined(at=record.updated_at), "J")
        record.invite_spent = True
    elif kind == "F":
        result, reason, at = fields[0], fields[1], float(fields[2])
        if record.result is None:
            winner: Player = "yellow" if result == "yellow" else "red"
            if reason == "resign":
                advance(record, Resigned(at=at, player=other(winner)), RESIGNED[other(winner)])
            elif reason == "claim":
                advance(record, Claimed(at=at, player=winner, grace=0.0), CLAIMED[winner])
            elif reason == "expired":
                advance(record, Expired(at=at), "E")
            else:  # four in a row or a full board: the last move's end, which the old record did not carry
                record.result, record.reason, record.finished_at = cast(Result, result), cast(Reason, reason), at
        record.updated_at = max(record.updated_at, at)
