"""The games table, and how a database made by an earlier version is brought up to it.

A game is one row: its record's fields, and its log (``gamelog.py``) as
three columns, ``moves`` (its columns as digits, for the unplayed index and
the replay page), ``log`` (one character per event after ``Created``) and
``times`` (their times, ``times.py``; NULL in a row written before they
were kept, whose events then read back with the record's times).
"""

from __future__ import annotations

import sqlite3

from .connection import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id           TEXT PRIMARY KEY,
    watch_key    TEXT NOT NULL UNIQUE,
    join_key     TEXT UNIQUE,
    red_token    TEXT NOT NULL,
    yellow_token TEXT NOT NULL,
    local        INTEGER NOT NULL,
    invite_spent INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    result       TEXT,
    reason       TEXT,
    finished_at  REAL,
    rematch_of   TEXT,
    moves        TEXT NOT NULL DEFAULT '',
    computer     TEXT,
    level        INTEGER NOT NULL DEFAULT 0,
    log          TEXT NOT NULL DEFAULT '',
    rematch      TEXT,
    host         TEXT NOT NULL DEFAULT 'red',
    public       INTEGER NOT NULL DEFAULT 0,
    match        INTEGER NOT NULL DEFAULT 0,
    red_name     TEXT,
    yellow_name  TEXT,
    joined_by    TEXT,
    times        BLOB,
    grace        REAL,
    clock        TEXT
);
CREATE INDEX IF NOT EXISTS games_open ON games (updated_at) WHERE result IS NULL;
CREATE INDEX IF NOT EXISTS games_updated ON games (updated_at);
"""

# A partial index of the games without a move: the sweep that looks for idle
# ones every minute reads none of the played games, the bulk of a database
# that keeps them all. ``migrate`` makes it, not SCHEMA: a database of the
# first schema has no moves column until then.
UNPLAYED_INDEX = "CREATE INDEX IF NOT EXISTS games_unplayed ON games (updated_at) WHERE moves = ''"
#: The games without a move idle since ``?``: the query that index serves.
UNPLAYED = "SELECT id FROM games WHERE moves = '' AND updated_at < ?"

# The log of a row written before there was one, from what the row says:
# the invite spent (before the first move: a guest joins, then red plays),
# the moves, and the end that is not a move's.
_SYNTHESIZE_LOG = """
UPDATE games SET log =
    CASE WHEN NOT local AND join_key IS NOT NULL AND invite_spent THEN 'J' ELSE '' END
    || moves
    || CASE reason
        WHEN 'resign' THEN CASE result WHEN 'red' THEN 'y' ELSE 'r' END
        WHEN 'claim' THEN CASE result WHEN 'red' THEN 'R' ELSE 'Y' END
        WHEN 'expired' THEN 'E'
        ELSE ''
    END
"""


def prepare(db: sqlite3.Connection) -> None:
    """Make the table in a new database, or bring an older one's up to this schema."""
    db.executescript(SCHEMA)
    migrate(db)


def migrate(db: sqlite3.Connection) -> None:
    """Bring a database made by an earlier version up to this schema."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(games)")}
    if "moves" not in columns:
        db.execute("ALTER TABLE games ADD COLUMN moves TEXT NOT NULL DEFAULT ''")
    if "computer" not in columns:  # games against the computer: its seat and level
        db.execute("ALTER TABLE games ADD COLUMN computer TEXT")
        db.execute("ALTER TABLE games ADD COLUMN level INTEGER NOT NULL DEFAULT 0")
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'moves'").fetchone():
        with transaction(db):
            db.execute(
                "UPDATE games SET moves = (SELECT coalesce(group_concat(col, ''), '') FROM "
                "(SELECT col FROM moves WHERE game_id = games.id ORDER BY ply))"
            )
            db.execute("DROP TABLE moves")
    if "log" not in columns:  # every event, not only the moves: one transaction, so none is left without
        with transaction(db):
            db.execute("ALTER TABLE games ADD COLUMN log TEXT NOT NULL DEFAULT ''")
            db.execute("ALTER TABLE games ADD COLUMN rematch TEXT")
            db.execute(_SYNTHESIZE_LOG)
    if "host" not in columns:  # the lobby: who created the game, how it is found, the players' names
        for column in (
            "host TEXT NOT NULL DEFAULT 'red'",
            "public INTEGER NOT NULL DEFAULT 0",
            "match INTEGER NOT NULL DEFAULT 0",
            "red_name TEXT",
            "yellow_name TEXT",
        ):
            db.execute(f"ALTER TABLE games ADD COLUMN {column}")
    if "joined_by" not in columns:  # the request that spent the invite: its retry sits the same guest
        db.execute("ALTER TABLE games ADD COLUMN joined_by TEXT")
    if "times" not in columns:  # each event's own time, and a claim's grace: NULL for the events held until now
        with transaction(db):
            db.execute("ALTER TABLE games ADD COLUMN times BLOB")
            db.execute("ALTER TABLE games ADD COLUMN grace REAL")
    if "clock" not in columns:  # a timed game's control, as JSON: NULL for an untimed game
        db.execute("ALTER TABLE games ADD COLUMN clock TEXT")
    db.execute(UNPLAYED_INDEX)
