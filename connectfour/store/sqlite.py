"""The embedded default store: one SQLite file in WAL mode, and a move log.

Games (keys, tokens, seats, results) are rows of SQLite. Moves go first to
an append-only log (``movelog``): every move appended during one turn of the
event loop is written with a single call, and each caller resumes only after
that write returned, so a move is in the log before it is announced. Every
``FOLD_INTERVAL`` seconds the log starts a new segment, and the full one is
folded into the games table, a few games per event-loop turn, then deleted;
on start, whatever a crash left in the log is folded in before anything else
happens. A game's moves are then one string in its row: one update per game
and segment instead of a row, an index entry and a commit per move.

With ``fsync=False`` (the default) a write reaches the operating system but
is not forced to the disk: it survives the process being killed, not a power
cut. ``fsync=True`` forces every batch and commit to the disk.

One server process owns a database at a time (a lock file says which);
scaling out over several processes is the Redis store's job.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections import defaultdict
from pathlib import Path

from . import movelog
from .base import Committed, GameRecord, KeyKind, PlyConflict, Reason, Result, StoreError, append

log = logging.getLogger("connectfour.store")

#: Seconds between the move log's segments: each is folded into SQLite once full.
FOLD_INTERVAL = 2.0
#: Seconds between checkpoints of SQLite's WAL into the database file.
CHECKPOINT_INTERVAL = 1.0
#: Games folded per transaction (and event-loop turn), so that moves never wait long.
FOLD_CHUNK = 50
PAGE_SIZE = 4096

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
    moves        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS games_open ON games (updated_at) WHERE result IS NULL;
CREATE INDEX IF NOT EXISTS games_updated ON games (updated_at);
"""

# A game's moves are one string of column digits. Folding the moves from ply
# :first on appends those it does not have yet, so folding twice is harmless.
_FOLD = """
UPDATE games SET moves = moves || substr(:columns, length(moves) - :first + 1), updated_at = max(updated_at, :at)
WHERE id = :game AND length(moves) >= :first AND length(moves) < :first + length(:columns)
"""

_COLUMNS = (
    "id, watch_key, join_key, red_token, yellow_token, local, invite_spent, "
    "created_at, updated_at, result, reason, finished_at, rematch_of, moves"
)

_Pending = tuple[str, int, int, float, Committed]
#: Moves in the log but not yet in SQLite, by game: (ply, column, time), in order.
_Tail = dict[str, list[tuple[int, int, float]]]
#: In ``_next_ply``: the game has ended.
_ENDED = -1


class DatabaseInUse(StoreError):
    """Another server process holds this database."""


class SQLiteStore:
    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = str(path)
        self.fsync = fsync
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._lock = _lock(self.path)
        except OSError as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        try:
            self._db = self._connect()
            self._db.executescript(SCHEMA)
            self._migrate()
            self._log = movelog.MoveLog(self.path, fsync=fsync)
            seq = self._recover()
            self._log.start(seq + 1)
        except (OSError, sqlite3.Error) as exc:
            os.close(self._lock)
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        self._pending: list[_Pending] = []
        self._flush_scheduled = False
        self._next_ply: dict[str, int] = {}
        self._tail: _Tail = defaultdict(list)
        self._folding: _Tail = {}  # the previous segment's moves, while they are folded
        self._folding_seq = 0  # that segment, or 0
        self._fold_chunks: list[list[dict]] = []
        self._closed = False
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # (only takes effect in a new file)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"PRAGMA synchronous = {'FULL' if self.fsync else 'NORMAL'}")
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute(f"PRAGMA cache_size = -{64 << 10}")
        db.execute(f"PRAGMA mmap_size = {256 << 20}")
        # Checkpoints copy the WAL into the database and flush it to disk:
        # slow, so the background thread does them, not whichever commit comes next.
        db.execute("PRAGMA wal_autocheckpoint = 0")
        db.execute(f"PRAGMA journal_size_limit = {64 << 20}")
        return db

    def _migrate(self) -> None:
        """Bring a database made by an earlier version up to this schema."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(games)")}
        if "moves" not in columns:
            self._db.execute("ALTER TABLE games ADD COLUMN moves TEXT NOT NULL DEFAULT ''")
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'moves'").fetchone():
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE games SET moves = (SELECT coalesce(group_concat(col, ''), '') FROM "
                "(SELECT col FROM moves WHERE game_id = games.id ORDER BY ply))"
            )
            self._db.execute("DROP TABLE moves")
            self._db.execute("COMMIT")

    def _recover(self) -> int:
        """Fold every segment a previous run left into SQLite; the last sequence number seen."""
        segments = self._log.segments()
        if not segments:
            return 0
        tail: _Tail = defaultdict(list)
        for _, path in segments:
            for game, ply, column, at in movelog.read(path):
                tail[game].append((ply, column, at))
        folded = _apply(self._db, _fold_rows(tail))
        for _, path in segments:
            path.unlink()
        moves = sum(len(plies) for plies in tail.values())
        log.info("move log: %d moves of %d games replayed, %d games changed", moves, len(tail), folded)
        return segments[-1][0]

    # -- folding the log -----------------------------------------------------

    def _checkpoint_loop(self) -> None:
        """Copy SQLite's WAL into the database file now and then, off the event loop."""
        db = self._connect()
        try:
            while not self._stop.wait(CHECKPOINT_INTERVAL):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # busy or disk trouble: the next round retries
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            db.close()

    def _rotate(self) -> None:
        """Start a new segment, and fold the full one into SQLite a chunk per event-loop turn."""
        if self._folding_seq or not self._tail:
            return  # still folding the previous one, or nothing to fold
        try:
            self._log.start(self._log.seq + 1)
        except OSError as exc:  # the current segment stays in use
            log.error("cannot start a new move log segment: %s", exc)
            return
        self._started = time.monotonic()
        self._folding, self._tail = self._tail, defaultdict(list)
        self._folding_seq = self._log.seq - 1
        rows = _fold_rows(self._folding)
        self._fold_chunks = [rows[start : start + FOLD_CHUNK] for start in range(0, len(rows), FOLD_CHUNK)]
        asyncio.get_running_loop().call_soon(self._fold_step)

    def _fold_step(self) -> None:
        if self._closed:
            return  # close() folds what is left
        loop = asyncio.get_running_loop()
        if self._fold_chunks:
            try:
                _apply(self._db, self._fold_chunks[-1])
            except sqlite3.Error as exc:
                log.error("cannot fold the move log into the database (retrying): %s", exc)
                loop.call_later(CHECKPOINT_INTERVAL, self._fold_step)
                return
            self._fold_chunks.pop()
            loop.call_soon(self._fold_step)
            return
        try:
            self._log.path(self._folding_seq).unlink(missing_ok=True)
        except OSError as exc:  # harmless: folding it again changes nothing
            log.warning("cannot delete a folded move log segment: %s", exc)
        self._folding, self._folding_seq = {}, 0

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
            f"INSERT INTO games ({_COLUMNS}) VALUES ({', '.join('?' * 14)})",
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
                "".join(map(str, record.moves)),
            ),
        )
        self._next_ply[record.id] = len(record.moves) if record.result is None else _ENDED

    async def spend_invite(self, game_id: str) -> bool:
        return self._write("UPDATE games SET invite_spent = 1 WHERE id = ? AND invite_spent = 0", (game_id,)) == 1

    async def finish(self, game_id: str, result: Result, reason: Reason, at: float) -> bool:
        changed = self._write(
            "UPDATE games SET result = ?, reason = ?, finished_at = ?, updated_at = max(updated_at, ?)"
            " WHERE id = ? AND result IS NULL",
            (result, reason, at, at, game_id),
        )
        self._next_ply.pop(game_id, None)
        return changed == 1

    async def touch(self, game_id: str, at: float) -> None:
        self._write("UPDATE games SET updated_at = max(updated_at, ?) WHERE id = ?", (at, game_id))

    async def prune(self, before: float) -> int:
        candidates = self._db.execute("SELECT id FROM games WHERE updated_at < ?", (before,)).fetchall()
        gone = [(game_id,) for (game_id,) in candidates if self._last_move_at(game_id) < before]
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("DELETE FROM games WHERE id = ?", gone)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(f"database error: {exc}") from exc
        for (game_id,) in gone:
            self._next_ply.pop(game_id, None)
        return len(gone)

    def append_nowait(self, game_id: str, ply: int, column: int, at: float, committed: Committed) -> None:
        next_ply = self._next_ply.get(game_id)
        if next_ply is None:
            try:
                next_ply = self._next_ply[game_id] = self._load_next_ply(game_id)
            except StoreError as exc:
                committed(exc)
                return
        if ply != next_ply:
            committed(PlyConflict(f"game {game_id}: ply {ply} is taken, out of order or after the end"))
            return
        self._next_ply[game_id] = ply + 1
        self._pending.append((game_id, ply, column, at, committed))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    async def append(self, game_id: str, ply: int, column: int, at: float) -> None:
        await append(self, game_id, ply, column, at)

    def _load_next_ply(self, game_id: str) -> int:
        try:
            row = self._db.execute("SELECT length(moves), result FROM games WHERE id = ?", (game_id,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        if row is None:
            raise StoreError(f"no game {game_id}")
        count, result = row
        if result is not None:
            return _ENDED
        for source in (self._folding, self._tail):
            for ply, _, _ in source.get(game_id, ()):
                if ply == count:
                    count += 1
        return count

    def _flush(self) -> None:
        """Write every pending move with one call to the log, then wake their senders."""
        batch, self._pending = self._pending, []
        self._flush_scheduled = False
        if not batch:
            return
        try:
            self._log.write(movelog.encode(batch))
        except OSError as exc:
            for game_id, *_ in batch:
                self._next_ply.pop(game_id, None)  # reservations undone: read again next time
            error = StoreError(f"cannot write the move log: {exc.strerror or exc}")
            for *_, committed in batch:
                _notify(committed, error)
            return
        tail = self._tail
        for game_id, ply, column, at, _ in batch:
            tail[game_id].append((ply, column, at))
        if time.monotonic() - self._started >= FOLD_INTERVAL:
            self._rotate()
        for *_, committed in batch:
            _notify(committed, None)

    # -- reads ----------------------------------------------------------------

    def _merge(self, game_id: str, moves: list[int]) -> list[int]:
        """``moves`` as SQLite has them, followed by those still only in the log."""
        for source in (self._folding, self._tail):
            for ply, column, _ in source.get(game_id, ()):
                if ply == len(moves):
                    moves.append(column)
        return moves

    def _last_move_at(self, game_id: str) -> float:
        """When the latest move not yet folded was made; 0 if there is none."""
        for source in (self._tail, self._folding):
            plies = source.get(game_id)
            if plies:
                return plies[-1][2]
        return 0.0

    async def get(self, game_id: str) -> GameRecord | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM games WHERE id = ?", (game_id,)).fetchone()
        if row is None:
            return None
        (gid, watch, join, red, yellow, local, spent, created, updated, result, reason, finished, rematch_of, moves) = row
        return GameRecord(
            id=gid,
            watch_key=watch,
            join_key=join,
            red_token=red,
            yellow_token=yellow,
            created_at=created,
            local=bool(local),
            invite_spent=bool(spent),
            moves=self._merge(gid, [int(column) for column in moves]),
            updated_at=max(updated, self._last_move_at(gid)),
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
        rows = self._db.execute("SELECT id FROM games WHERE result IS NULL AND updated_at < ?", (before,))
        return [game_id for (game_id,) in rows if self._last_move_at(game_id) < before]

    async def close(self) -> None:
        if self._pending:
            self._flush()
        self._closed = True
        self._stop.set()
        await asyncio.to_thread(self._checkpointer.join)
        self._log.close()
        try:
            self._recover()  # fold what is left, so that a clean stop leaves no log behind
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except (OSError, sqlite3.Error) as exc:
            log.warning("the move log stays for the next start: %s", exc)
        finally:
            self._db.close()
            os.close(self._lock)


def _fold_rows(tail: _Tail) -> list[dict]:
    """The parameters of ``_FOLD`` for every game of ``tail``."""
    rows = []
    for game_id, logged in tail.items():
        by_ply: dict[int, tuple[int, int, float]] = {}
        for move in logged:
            by_ply.setdefault(move[0], move)
        plies = sorted(by_ply.values())
        first = plies[0][0]
        columns = []
        for ply, column, _ in plies:
            if ply != first + len(columns):
                log.error("move log: game %s has no move %d; later moves dropped", game_id, first + len(columns))
                break
            columns.append(str(column))
        rows.append({"game": game_id, "first": first, "columns": "".join(columns), "at": plies[len(columns) - 1][2]})
    return rows


def _apply(db: sqlite3.Connection, rows: list[dict]) -> int:
    """Fold ``rows`` in one transaction; how many games changed."""
    db.execute("BEGIN IMMEDIATE")
    try:
        changed = db.executemany(_FOLD, rows).rowcount
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return changed


def _lock(path: str) -> int:
    """Hold ``<path>-lock`` for as long as this process uses the database."""
    fd = os.open(f"{path}-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise DatabaseInUse(
            f"the database {path} is in use by another connectfour server"
            + (f" (pid {holder})" if holder.isdigit() else "")
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _notify(committed: Committed, error: StoreError | None) -> None:
    """One sender's failure must not keep the others of its batch from hearing."""
    try:
        committed(error)
    except Exception:
        log.exception("handling a stored move failed")


def prune_database(path: str, before: float) -> int:
    """Delete games with no activity since ``before``, whether or not a server is running.

    Without a server, the store opens as usual (folding any log a crash
    left). With one, its log is at most a few seconds behind SQLite's rows,
    so games idle for the days ``prune`` deals in are exactly those SQLite
    shows idle.
    """

    async def with_store() -> int:
        store = SQLiteStore(path)
        try:
            return await store.prune(before)
        finally:
            await store.close()

    try:
        return asyncio.run(with_store())
    except DatabaseInUse:
        pass
    try:
        with sqlite3.connect(path, timeout=5.0) as db:
            return db.execute("DELETE FROM games WHERE updated_at < ?", (before,)).rowcount
    except sqlite3.Error as exc:
        raise StoreError(f"database error: {exc}") from exc
