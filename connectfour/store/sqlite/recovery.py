"""On start, whatever a crash left in the journal is replayed into SQLite before anything else happens."""

from __future__ import annotations

import logging
import sqlite3

import msgspec

from . import journal, rows
from .entries import replay
from .gamelog import StoredGame

log = logging.getLogger("connectfour.store")


def recover(db: sqlite3.Connection, segments: journal.Journal) -> int:
    """Replay every segment a previous run left into SQLite, then delete them; the last sequence number seen.

    Each game is read from SQLite before its first record applies, and
    written back whole once all have: a replay of segments already folded
    (a crash between the fold and the deletion) changes nothing.
    """
    found = segments.segments()
    if not found:
        return 0
    games: dict[str, StoredGame] = {}
    deleted: set[str] = set()
    count = 0

    def load(game_id: str) -> StoredGame | None:
        return rows.select(db, game_id)

    for segment in found:
        for entry in journal.read(segment.path):
            try:
                replay(games, deleted, entry, load)
            except (ValueError, IndexError, msgspec.DecodeError) as exc:
                log.error("journal %s: unreadable record %r skipped: %s", segment.path, entry[:80], exc)
            count += 1
    rows.delete(db, deleted)
    rows.upsert(db, games.values())
    for segment in found:
        segment.path.unlink()
    log.info("journal: %d changes to %d games replayed", count, len(games))
    return found[-1].seq
