"""The games table's rows: a game's record to its row and back, and every statement the store runs on them.

Folding writes a game's whole record (``upsert``), its times encoded then
(``times.py``); each field only ever moves forward (a longer log, and its
times and moves with it: a takeback shortens the moves, never the log; an
invite spent, a result set), so folding an older record
over a newer row changes nothing, and a replay may fold the same record
twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable

import msgspec

from ...domain.clock import TimeControl
from ..base import KeyKind, StoreError
from . import times
from .connection import transaction
from .gamelog import StoredGame
from .schema import UNPLAYED

#: Game ids named per query by ``versions``.
QUERY_CHUNK = 500

_COLUMNS = (
    "id, watch_key, join_key, red_token, yellow_token, local, invite_spent, "
    "created_at, updated_at, result, reason, finished_at, rematch_of, moves, computer, level, log, rematch, "
    "host, public, match, red_name, yellow_name, joined_by, times, grace, clock"
)
_SELECT = f"SELECT {_COLUMNS} FROM games WHERE id = ?"
_UPSERT = f"""
INSERT INTO games ({_COLUMNS}) VALUES ({", ".join("?" * 27)})
ON CONFLICT (id) DO UPDATE SET
    invite_spent = max(invite_spent, excluded.invite_spent),
    updated_at = max(updated_at, excluded.updated_at),
    result = coalesce(result, excluded.result),
    reason = coalesce(reason, excluded.reason),
    finished_at = coalesce(finished_at, excluded.finished_at),
    moves = CASE WHEN length(excluded.log) > length(log) THEN excluded.moves ELSE moves END,
    log = CASE WHEN length(excluded.log) > length(log) THEN excluded.log ELSE log END,
    times = CASE WHEN length(excluded.log) > length(log) THEN excluded.times ELSE times END,
    rematch = coalesce(rematch, excluded.rematch),
    red_name = coalesce(red_name, excluded.red_name),
    yellow_name = coalesce(yellow_name, excluded.yellow_name),
    joined_by = coalesce(joined_by, excluded.joined_by),
    grace = coalesce(grace, excluded.grace)
"""
#: Every game idle since ``?``, played or not.
PRUNE = "DELETE FROM games WHERE updated_at < ?"
_IDLE = "SELECT id FROM games WHERE updated_at < ?"


def row(record: StoredGame) -> tuple[object, ...]:
    """The record's row, in the order of ``_COLUMNS``."""
    return (
        record.id,
        record.watch_key,
        record.join_key,
        record.red_token,
        record.yellow_token,
        int(record.local),
        int(record.invite_spent),
        record.created_at,
        record.updated_at or record.created_at,
        record.result,
        record.reason,
        record.finished_at,
        record.rematch_of,
        "".join(map(str, record.moves)),
        record.computer,
        record.level,
        record.log,
        record.rematch,
        record.host,
        int(record.public),
        int(record.match),
        record.red_name,
        record.yellow_name,
        record.joined_by,
        times.encode(record.times, record.created_at),
        record.grace,
        msgspec.json.encode(record.clock).decode() if record.clock is not None else None,
    )


def select(db: sqlite3.Connection, game_id: str) -> StoredGame | None:
    """The game as SQLite has it."""
    try:
        row = db.execute(_SELECT, (game_id,)).fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"database error: {exc}") from exc
    if row is None:
        return None
    (gid, watch, join, red, yellow, local, spent, created, updated, result, reason, finished, rematch_of, moves,
     computer, level, events, rematch, host, public, match, red_name, yellow_name, joined_by, kept, grace, clock) = row  # fmt: skip
    try:
        at = times.decode(kept, created)
    except ValueError as exc:
        raise StoreError(f"game {gid}: {exc}") from None
    try:
        control = msgspec.json.decode(clock, type=TimeControl) if clock is not None else None
    except (msgspec.DecodeError, ValueError) as exc:
        raise StoreError(f"game {gid}: no time control {clock!r}: {exc}") from None
    return StoredGame(
        id=gid,
        watch_key=watch,
        join_key=join,
        red_token=red,
        yellow_token=yellow,
        created_at=created,
        local=bool(local),
        invite_spent=bool(spent),
        moves=[int(column) for column in moves],
        updated_at=updated,
        result=result,
        reason=reason,
        finished_at=finished,
        rematch_of=rematch_of,
        computer=computer,
        level=level,
        version=1 + len(events),
        log=events,
        rematch=rematch,
        host=host,
        public=bool(public),
        match=bool(match),
        red_name=red_name,
        yellow_name=yellow_name,
        joined_by=joined_by,
        times=at,
        grace=grace,
        clock=control,
    )


def exists(db: sqlite3.Connection, game_id: str, keys: list[str]) -> bool:
    """Whether SQLite holds this game id or any of these keys."""
    marks = ", ".join("?" * len(keys))
    try:
        return bool(
            db.execute(
                f"SELECT EXISTS (SELECT 1 FROM games WHERE id = ? OR watch_key IN ({marks}) OR join_key IN ({marks}))",
                (game_id, *keys, *keys),
            ).fetchone()[0]
        )
    except sqlite3.Error as exc:
        raise StoreError(f"database error: {exc}") from exc


def versions(db: sqlite3.Connection, game_ids: list[str]) -> dict[str, int]:
    """The version of each of these games SQLite holds, ``QUERY_CHUNK`` ids per query."""
    found: dict[str, int] = {}
    for start in range(0, len(game_ids), QUERY_CHUNK):
        chunk = game_ids[start : start + QUERY_CHUNK]
        found.update(
            db.execute(f"SELECT id, 1 + length(log) FROM games WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
        )
    return found


def find_key(db: sqlite3.Connection, key: str) -> tuple[str, KeyKind] | None:
    """The game whose watch or invite key this is, and which."""
    row = db.execute(
        "SELECT id, 'watch' FROM games WHERE watch_key = ?1 UNION ALL SELECT id, 'join' FROM games WHERE join_key = ?1",
        (key,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def open_idle(db: sqlite3.Connection, before: float) -> list[str]:
    """The unfinished games idle since ``before``, as SQLite has them."""
    return [
        game_id for (game_id,) in db.execute("SELECT id FROM games WHERE result IS NULL AND updated_at < ?", (before,))
    ]


def unplayed(db: sqlite3.Connection, before: float) -> list[str]:
    """The games without a move idle since ``before``, as SQLite has them."""
    return [game_id for (game_id,) in db.execute(UNPLAYED, (before,))]


def still_unplayed(db: sqlite3.Connection, before: float, game_ids: list[str]) -> list[str]:
    """Those of ``game_ids`` that SQLite holds without a move and idle since ``before``."""
    if not game_ids:
        return []
    marks = ", ".join("?" * len(game_ids))
    return [game_id for (game_id,) in db.execute(f"{UNPLAYED} AND id IN ({marks})", (before, *game_ids))]


def upsert(db: sqlite3.Connection, records: Iterable[StoredGame]) -> None:
    """Write these games in one transaction."""
    rows = [row(record) for record in records]
    if not rows:
        return
    with transaction(db):
        db.executemany(_UPSERT, rows)


def delete(db: sqlite3.Connection, game_ids: Collection[str]) -> None:
    """Delete these games in one transaction."""
    if not game_ids:
        return
    with transaction(db):
        db.executemany("DELETE FROM games WHERE id = ?", [(game_id,) for game_id in game_ids])


def prune(db: sqlite3.Connection, before: float) -> list[str]:
    """Delete the games with no activity since ``before`` in one transaction; their ids."""
    with transaction(db):
        gone = [game_id for (game_id,) in db.execute(_IDLE, (before,))]
        db.execute(PRUNE, (before,))
    return gone
