"""The embedded default store: one SQLite file in WAL mode.

Moves are appended in batches: every append made during one turn of the
event loop is written in a single transaction, and each caller resumes only
after that transaction committed. So a move is on disk (in the WAL) before it
is announced, and a busy server pays one commit for many moves.

With ``fsync=False`` (the default) a commit reaches the operating system but
is not forced to the disk: it survives the process being killed, not a power
cut. ``fsync=True`` forces every commit to the disk (``synchronous=FULL``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

from .base import Committed, GameRecord, KeyKind, PlyConflict, Reason, Result, StoreError, append

log = logging.getLogger("connectfour.store")

#: Seconds between checkpoints of the WAL into the database file.
CHECKPOINT_INTERVAL = 1.0
PAGE_SIZE = 1024

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
    rematch_of   TEXT
);
CREATE INDEX IF NOT EXISTS games_open ON games (updated_at) WHERE result IS NULL;
CREATE INDEX IF NOT EXISTS games_updated ON games (updated_at);
CREATE TABLE IF NOT EXISTS moves (
    game_id TEXT NOT NULL REFERENCES games (id) ON DELETE CASCADE,
    ply     INTEGER NOT NULL,
    col     INTEGER NOT NULL,
    at      REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (game_id, ply)
) WITHOUT ROWID;
"""

# A game's last activity is the later of games.updated_at and its last move's
# time: a move then writes one row, not a row and two index entries more.
_QUIET = "NOT EXISTS (SELECT 1 FROM moves WHERE game_id = games.id AND at >= :before)"

# The move goes in only at the next ply of an unfinished game: no duplicate
# (the primary key), no gap (the previous ply exists), nothing after the end.
_APPEND = """
INSERT OR IGNORE INTO moves (game_id, ply, col, at)
SELECT :game, :ply, :col, :at
WHERE EXISTS (SELECT 1 FROM games WHERE id = :game AND result IS NULL)
  AND (:ply = 0 OR EXISTS (SELECT 1 FROM moves WHERE game_id = :game AND ply = :ply - 1))
"""

_COLUMNS = (
    "id, watch_key, join_key, red_token, yellow_token, local, invite_spent, "
    "created_at, updated_at, result, reason, finished_at, rematch_of"
)

_Pending = tuple[str, int, int, float, Committed]


class SQLiteStore:
    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # Small pages: a commit writes whole pages to the WAL, and a move
            # changes a few dozen bytes. (Only takes effect in a new file.)
            self._db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {'FULL' if fsync else 'NORMAL'}")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA busy_timeout = 5000")
            # Keep the hot part of the file in memory: no read syscalls on a move.
            self._db.execute(f"PRAGMA cache_size = -{64 << 10}")
            self._db.execute(f"PRAGMA mmap_size = {256 << 20}")
            # Checkpoints copy the WAL into the database and flush it to disk:
            # slow, so a thread does them instead of whichever commit comes next.
            self._db.execute("PRAGMA wal_autocheckpoint = 0")
            self._db.execute(f"PRAGMA journal_size_limit = {64 << 20}")
            self._db.executescript(SCHEMA)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        self._pending: list[_Pending] = []
        self._flush_scheduled = False
        self._stop = threading.Event()
        self._checkpointer = None
        if self.path != ":memory:":
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="sqlite-checkpoint", daemon=True)
            self._checkpointer.start()

    def _migrate(self) -> None:
        """Bring a database made by an earlier version up to this schema."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(moves)")}
        if "at" not in columns:
            self._db.execute("ALTER TABLE moves ADD COLUMN at REAL NOT NULL DEFAULT 0")

    def _checkpoint_loop(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 5000")
            while not self._stop.wait(CHECKPOINT_INTERVAL):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # busy or disk trouble: the next round retries
                    log.warning("WAL checkpoint failed: %s", exc)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("final WAL checkpoint failed: %s", exc)
        finally:
            db.close()

    # -- writes ---------------------------------------------------------------

    def _write(self, sql: str, params: tuple | dict) -> int:
        """One statement in its own transaction; the number of rows it changed."""
        try:
            return self._db.execute(sql, params).rowcount
        except sqlite3.IntegrityError as exc:
            raise StoreError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc

    async def create(self, record: GameRecord) -> None:
        self._write(
            f"INSERT INTO games ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
            (
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
            ),
        )

    async def spend_invite(self, game_id: str) -> bool:
        return self._write("UPDATE games SET invite_spent = 1 WHERE id = ? AND invite_spent = 0", (game_id,)) == 1

    async def finish(self, game_id: str, result: Result, reason: Reason, at: float) -> bool:
        changed = self._write(
            "UPDATE games SET result = ?, reason = ?, finished_at = ?, updated_at = ? WHERE id = ? AND result IS NULL",
            (result, reason, at, at, game_id),
        )
        return changed == 1

    async def touch(self, game_id: str, at: float) -> None:
        self._write("UPDATE games SET updated_at = max(updated_at, ?) WHERE id = ?", (at, game_id))

    async def prune(self, before: float) -> int:
        return self._write(f"DELETE FROM games WHERE updated_at < :before AND {_QUIET}", {"before": before})

    def append_nowait(self, game_id: str, ply: int, column: int, at: float, committed: Committed) -> None:
        self._pending.append((game_id, ply, column, at, committed))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    async def append(self, game_id: str, ply: int, column: int, at: float) -> None:
        await append(self, game_id, ply, column, at)

    def _flush(self) -> None:
        """Write every pending move in one transaction, then wake their senders."""
        batch, self._pending = self._pending, []
        self._flush_scheduled = False
        if not batch:
            return
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            stored = []
            for game_id, ply, column, at, _ in batch:
                inserted = db.execute(_APPEND, {"game": game_id, "ply": ply, "col": column, "at": at})
                stored.append(inserted.rowcount == 1)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            error = StoreError(f"database error: {exc}")
            for *_, committed in batch:
                _notify(committed, error)
            return
        for (game_id, ply, _, _, committed), inserted in zip(batch, stored):
            _notify(committed, None if inserted else PlyConflict(f"game {game_id}: ply {ply} is taken or out of order"))

    # -- reads ----------------------------------------------------------------

    async def get(self, game_id: str) -> GameRecord | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM games WHERE id = ?", (game_id,)).fetchone()
        if row is None:
            return None
        log_rows = self._db.execute("SELECT col, at FROM moves WHERE game_id = ? ORDER BY ply", (game_id,)).fetchall()
        moves = [col for col, _ in log_rows]
        (gid, watch, join, red, yellow, local, spent, created, updated, result, reason, finished, rematch_of) = row
        return GameRecord(
            id=gid,
            watch_key=watch,
            join_key=join,
            red_token=red,
            yellow_token=yellow,
            created_at=created,
            local=bool(local),
            invite_spent=bool(spent),
            moves=moves,
            updated_at=max(updated, log_rows[-1][1]) if log_rows else updated,
            result=result,
            reason=reason,
            finished_at=finished,
            rematch_of=rematch_of,
        )

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        row = self._db.execute(
            "SELECT id, 'watch' FROM games WHERE watch_key = ?1 UNION ALL SELECT id, 'join' FROM games WHERE join_key = ?1",
            (key,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    async def idle_games(self, before: float) -> list[str]:
        rows = self._db.execute(
            f"SELECT id FROM games WHERE result IS NULL AND updated_at < :before AND {_QUIET}", {"before": before}
        )
        return [game_id for (game_id,) in rows]

    async def close(self) -> None:
        if self._pending:
            self._flush()
        self._db.close()
        if self._checkpointer is not None:
            self._stop.set()
            await asyncio.to_thread(self._checkpointer.join)


def _notify(committed: Committed, error: StoreError | None) -> None:
    """One sender's failure must not keep the others of its batch from hearing."""
    try:
        committed(error)
    except Exception:
        log.exception("handling a stored move failed")
