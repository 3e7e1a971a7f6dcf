"""The embedded default store: one SQLite file in WAL mode, written through a journal.

An SQLite commit costs tens of microseconds, and a busy server makes
thousands of changes a second (moves above all, but also games created,
invites spent, games finished). So each change is made to the game's
record in memory and written to an append-only journal (``journal``): every
change of one event-loop turn with a single write, each caller resuming
only once that write returned. Nothing is announced before it is in the
journal.

Every ``FOLD_INTERVAL`` seconds the journal starts a new segment, and the
games the full one changed are folded into SQLite, a few per event-loop
turn, one row each (a game that starts and ends within a segment costs one
insert); then the segment is deleted and the games leave memory. On start,
whatever a crash left in the journal is replayed into SQLite before
anything else happens. Folding and replaying are idempotent: every change
only moves a game forward (more moves, an invite spent, a result set).

Deleting the games nobody played (``delete_unplayed``) is the one change
that does not: the rows go from SQLite and the records from memory at once,
and a ``D`` record in the journal keeps a replay from bringing back a game
whose creation an unfolded segment still holds.

With ``fsync=False`` (the default) a write reaches the operating system but
is not forced to the disk: it survives the process being killed, not a power
cut. ``fsync=True`` forces every batch and commit to the disk.

One server process owns a database at a time (a lock file says which);
scaling out over several processes is the job of a shared store.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Collection, Container, Iterable
from pathlib import Path

import msgspec

from ..completion import completion
from . import journal
from ..domain import Reason, Result
from .base import Committed, GameRecord, KeyKind, PlyConflict, StoreError, append

log = logging.getLogger("connectfour.store")

#: Seconds between the journal's segments: each is folded into SQLite once full.
FOLD_INTERVAL = 10.0
#: Seconds before a fold that failed is tried again.
RETRY_INTERVAL = 1.0
#: Games folded per transaction (and event-loop turn), so that moves never wait long.
FOLD_CHUNK = 50
#: Games deleted per transaction (and event-loop turn) by ``delete_unplayed``.
DELETE_CHUNK = 500
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
    moves        TEXT NOT NULL DEFAULT '',
    computer     TEXT,
    level        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS games_open ON games (updated_at) WHERE result IS NULL;
CREATE INDEX IF NOT EXISTS games_updated ON games (updated_at);
"""

_PRUNE = "DELETE FROM games WHERE updated_at < ?"

# A partial index of the games without a move: the sweep that looks for idle
# ones every minute reads none of the played games, the bulk of a database
# that keeps them all. ``_migrate`` makes it, not SCHEMA: a database of the
# first schema has no moves column until then.
_UNPLAYED_INDEX = "CREATE INDEX IF NOT EXISTS games_unplayed ON games (updated_at) WHERE moves = ''"
_UNPLAYED = "SELECT id FROM games WHERE moves = '' AND updated_at < ?"

_COLUMNS = (
    "id, watch_key, join_key, red_token, yellow_token, local, invite_spent, "
    "created_at, updated_at, result, reason, finished_at, rematch_of, moves, computer, level"
)

# Folding writes a game's whole record; each field only ever moves forward,
# so folding an older record over a newer row changes nothing.
_UPSERT = f"""
INSERT INTO games ({_COLUMNS}) VALUES ({", ".join("?" * 16)})
ON CONFLICT (id) DO UPDATE SET
    invite_spent = max(invite_spent, excluded.invite_spent),
    updated_at = max(updated_at, excluded.updated_at),
    result = coalesce(result, excluded.result),
    reason = coalesce(reason, excluded.reason),
    finished_at = coalesce(finished_at, excluded.finished_at),
    moves = CASE WHEN length(excluded.moves) > length(moves) THEN excluded.moves ELSE moves END
"""

#: A change waiting for its journal write: (journal record, whose first letter
#: is its kind; game; the game's updated_at before it; committed).
_Pending = tuple[str, GameRecord, float, Committed]


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
            self._journal = journal.Journal(self.path, fsync=fsync)
            seq = self._recover()
            self._journal.start(seq + 1)
        except (OSError, sqlite3.Error) as exc:
            os.close(self._lock)
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        self._pending: list[_Pending] = []
        self._flush_scheduled = False
        # Games changed in the segment being written, and in the one being folded.
        self._dirty: dict[str, GameRecord] = {}
        self._folding: dict[str, GameRecord] = {}
        self._folding_seq = 0
        self._fold_chunks: list[list[GameRecord]] = []
        self._keys: dict[str, tuple[str, KeyKind]] = {}  # of games created since their last fold
        self._started = time.monotonic()
        self._closed = False
        self._stop = threading.Event()
        self._folded = threading.Event()  # wakes the checkpointer
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
        # slow, so a thread does them, not whichever commit comes next.
        db.execute("PRAGMA wal_autocheckpoint = 0")
        db.execute(f"PRAGMA journal_size_limit = {64 << 20}")
        return db

    def _migrate(self) -> None:
        """Bring a database made by an earlier version up to this schema."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(games)")}
        if "moves" not in columns:
            self._db.execute("ALTER TABLE games ADD COLUMN moves TEXT NOT NULL DEFAULT ''")
        if "computer" not in columns:  # games against the computer: its seat and level
            self._db.execute("ALTER TABLE games ADD COLUMN computer TEXT")
            self._db.execute("ALTER TABLE games ADD COLUMN level INTEGER NOT NULL DEFAULT 0")
        if self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'moves'").fetchone():
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "UPDATE games SET moves = (SELECT coalesce(group_concat(col, ''), '') FROM "
                "(SELECT col FROM moves WHERE game_id = games.id ORDER BY ply))"
            )
            self._db.execute("DROP TABLE moves")
            self._db.execute("COMMIT")
        self._db.execute(_UNPLAYED_INDEX)

    # -- the journal ------------------------------------------------------------

    def _recover(self) -> int:
        """Replay every segment a previous run left into SQLite; the last sequence number seen."""
        segments = self._journal.segments()
        if not segments:
            return 0
        games: dict[str, GameRecord] = {}
        deleted: set[str] = set()
        count = 0
        for _, path in segments:
            for entry in journal.read(path):
                try:
                    self._replay(games, deleted, entry)
                except (ValueError, msgspec.ValidationError) as exc:
                    log.error("journal %s: unreadable record %r skipped: %s", path, entry[:80], exc)
                count += 1
        _delete(self._db, deleted)
        _upsert(self._db, games.values())
        for _, path in segments:
            path.unlink()
        log.info("journal: %d changes to %d games replayed", count, len(games))
        return segments[-1][0]

    def _replay(self, games: dict[str, GameRecord], deleted: set[str], entry: str) -> None:
        """Apply one journal record to ``games`` (or ``deleted``), loading each game from SQLite first."""
        kind, _, rest = entry.partition(" ")
        if kind == "C":
            created: GameRecord = msgspec.json.decode(rest, type=GameRecord)
            deleted.discard(created.id)
            if created.id not in games:
                games[created.id] = self._read(created.id) or created
            return
        if kind == "D":
            games.pop(rest, None)
            deleted.add(rest)
            return
        game_id, *fields = rest.split(" ")
        record = games.get(game_id) or self._read(game_id)
        if record is None:
            log.warning("journal: a change to the unknown game %s skipped", game_id)
            return
        games[game_id] = record
        if kind == "M":
            ply, column, at = int(fields[0]), int(fields[1]), float(fields[2])
            if ply == len(record.moves):
                record.moves.append(column)
            record.updated_at = max(record.updated_at, at)
        elif kind == "S":
            record.invite_spent = True
        elif kind == "F":
            at = float(fields[2])
            if record.result is None:
                record.result, record.reason, record.finished_at = fields[0], fields[1], at  # type: ignore[assignment]
            record.updated_at = max(record.updated_at, at)
        elif kind == "T":
            record.updated_at = max(record.updated_at, float(fields[0]))
        else:
            raise ValueError(f"unknown kind {kind!r}")

    def _enqueue(self, entry: str, record: GameRecord, previous: float, committed: Committed) -> None:
        self._pending.append((entry, record, previous, committed))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    async def _commit(self, entry: str, record: GameRecord, previous: float) -> None:
        await completion(lambda done: self._enqueue(entry, record, previous, done))

    def _flush(self) -> None:
        """Write every pending change with one call to the journal, then wake their senders."""
        batch, self._pending = self._pending, []
        self._flush_scheduled = False
        if not batch:
            return
        try:
            self._journal.write(journal.encode([pending[0] for pending in batch]))
        except OSError as exc:
            for entry, record, previous, _ in reversed(batch):
                self._undo(entry[0], record, previous)
            error = StoreError(f"cannot write the journal: {exc.strerror or exc}")
            for pending in batch:
                _notify(pending[3], error)
            return
        if time.monotonic() - self._started >= FOLD_INTERVAL:
            self._rotate()
        for pending in batch:
            _notify(pending[3], None)

    def _undo(self, kind: str, record: GameRecord, previous: float) -> None:
        """Take back a change whose journal write failed."""
        record.updated_at = previous
        if kind == "M":
            record.moves.pop()
        elif kind == "S":
            record.invite_spent = False
        elif kind == "F":
            record.result = record.reason = record.finished_at = None
        elif kind == "C":
            self._dirty.pop(record.id, None)
            self._forget_keys(record)

    # -- folding ----------------------------------------------------------------

    def _checkpoint_loop(self) -> None:
        """Copy SQLite's WAL into the database file after each fold, off the event loop."""
        db = self._connect()
        try:
            while True:
                self._folded.wait()
                self._folded.clear()
                if self._stop.is_set():
                    break
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # busy or disk trouble: the next fold retries
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            db.close()

    def _rotate(self) -> None:
        """Start a new segment, and fold the full one into SQLite a chunk per event-loop turn."""
        if self._folding_seq or not self._dirty:
            return  # still folding the previous one, or nothing to fold
        try:
            self._journal.start(self._journal.seq + 1)
        except OSError as exc:  # the current segment stays in use
            log.error("cannot start a new journal segment: %s", exc)
            return
        self._started = time.monotonic()
        self._folding, self._dirty = self._dirty, {}
        self._folding_seq = self._journal.seq - 1
        records = list(self._folding.values())
        self._fold_chunks = [records[start : start + FOLD_CHUNK] for start in range(0, len(records), FOLD_CHUNK)]
        asyncio.get_running_loop().call_soon(self._fold_step)

    def _fold_step(self) -> None:
        if self._closed or not self._folding_seq:
            return  # everything was folded at once meanwhile
        if self._pending:
            self._flush()  # a change not yet in the journal must not reach SQLite first
        loop = asyncio.get_running_loop()
        if self._fold_chunks:
            try:
                _upsert(self._db, self._fold_chunks[-1])
            except sqlite3.Error as exc:
                log.error("cannot fold the journal into the database (retrying): %s", exc)
                loop.call_later(RETRY_INTERVAL, self._fold_step)
                return
            self._fold_chunks.pop()
            loop.call_soon(self._fold_step)
            return
        try:
            self._journal.path(self._folding_seq).unlink(missing_ok=True)
        except OSError as exc:  # harmless: folding it again changes nothing
            log.warning("cannot delete a folded journal segment: %s", exc)
        for game_id, record in self._folding.items():
            if game_id not in self._dirty:
                self._forget_keys(record)
        self._folding, self._folding_seq = {}, 0
        self._folded.set()

    def _fold_everything(self, *, restart: bool) -> None:
        """Fold every change into SQLite now, delete the journal, and start a new one if ``restart``."""
        if self._pending:
            self._flush()
        _upsert(self._db, {**self._folding, **self._dirty}.values())
        self._journal.close()
        if restart:
            self._journal.start(self._journal.seq + 1)
        for seq, path in self._journal.segments():
            if not restart or seq < self._journal.seq:
                path.unlink()
        self._dirty, self._folding, self._folding_seq, self._fold_chunks, self._keys = {}, {}, 0, [], {}
        self._started = time.monotonic()

    def _forget_keys(self, record: GameRecord) -> None:
        self._keys.pop(record.watch_key, None)
        if record.join_key:
            self._keys.pop(record.join_key, None)

    # -- writes -----------------------------------------------------------------

    def _load(self, game_id: str) -> GameRecord:
        """The game's record, kept in memory from now until it is next folded."""
        record = self._dirty.get(game_id) or self._folding.get(game_id) or self._read(game_id)
        if record is None:
            raise StoreError(f"no game {game_id}")
        self._dirty[game_id] = record
        return record

    async def create(self, record: GameRecord) -> None:
        keys = [record.watch_key] + ([record.join_key] if record.join_key else [])
        taken = record.id in self._dirty or record.id in self._folding or any(key in self._keys for key in keys)
        if taken or self._stored(record.id, keys):
            raise StoreError(f"game {record.id} or one of its keys already exists")
        record = dataclasses.replace(record, moves=list(record.moves), updated_at=record.updated_at or record.created_at)
        self._dirty[record.id] = record
        self._keys[record.watch_key] = (record.id, "watch")
        if record.join_key:
            self._keys[record.join_key] = (record.id, "join")
        await self._commit("C " + msgspec.json.encode(record).decode(), record, record.updated_at)

    async def spend_invite(self, game_id: str) -> bool:
        record = self._load(game_id)
        if record.invite_spent:
            return False
        record.invite_spent = True
        await self._commit(f"S {game_id}", record, record.updated_at)
        return True

    async def finish(self, game_id: str, result: Result, reason: Reason, at: float) -> bool:
        record = self._load(game_id)
        if record.result is not None:
            return False
        previous = record.updated_at
        record.result, record.reason, record.finished_at = result, reason, at
        record.updated_at = max(previous, at)
        await self._commit(f"F {game_id} {result} {reason} {at!r}", record, previous)
        return True

    async def touch(self, game_id: str, at: float) -> None:
        record = self._load(game_id)
        previous = record.updated_at
        record.updated_at = max(previous, at)
        await self._commit(f"T {game_id} {at!r}", record, previous)

    def append_nowait(self, game_id: str, ply: int, column: int, at: float, committed: Committed) -> None:
        record = self._dirty.get(game_id)
        if record is None:
            try:
                record = self._load(game_id)
            except StoreError as exc:
                committed(exc)
                return
        if ply != len(record.moves) or record.result is not None:
            committed(PlyConflict(f"game {game_id} is at ply {len(record.moves)}, not {ply}, or has ended"))
            return
        previous = record.updated_at
        record.moves.append(column)
        record.updated_at = max(previous, at)
        self._enqueue(f"M {game_id} {ply} {column} {at!r}", record, previous, committed)

    async def append(self, game_id: str, ply: int, column: int, at: float) -> None:
        await append(self, game_id, ply, column, at)

    async def prune(self, before: float) -> int:
        try:
            self._fold_everything(restart=True)
            return self._db.execute(_PRUNE, (before,)).rowcount
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"database error: {exc}") from exc

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        """See ``Store.delete_unplayed``. Unlike ``prune`` this runs every few
        minutes while games are played, so it folds nothing: a game in memory
        is judged by its record there, newer than its row. Thousands of games
        are deleted a chunk per event-loop turn, so moves never wait long."""
        try:
            stored = [game_id for (game_id,) in self._db.execute(_UNPLAYED, (before,))]
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        cached = [r.id for r in (*self._folding.values(), *self._dirty.values()) if _unplayed(r, before)]
        candidates = list(dict.fromkeys(stored + cached))
        deleted = 0
        for start in range(0, len(candidates), DELETE_CHUNK):
            if start:
                await asyncio.sleep(0)
            deleted += self._delete_now(candidates[start : start + DELETE_CHUNK], before, keep)
        if deleted:
            self._folded.set()  # the checkpointer copies the deletions out of the WAL, as after a fold
        return deleted

    def _delete_now(self, candidates: list[str], before: float, keep: Container[str]) -> int:
        """Delete those of ``candidates`` that are still unplayed and idle, at once:
        from SQLite, then from memory, then a ``D`` record each in the journal.

        In this order a failure part-way can at worst let a replay after a
        crash bring back a game, which the next sweep deletes again; it never
        leaves a ``D`` record behind a game still alive, whose later changes a
        replay would then lose.
        """
        if self._pending:
            self._flush()  # a change to a candidate is in the journal before its deletion
        in_memory: dict[str, GameRecord] = {}
        stored: list[str] = []
        for game_id in candidates:
            if game_id in keep:
                continue
            record = self._dirty.get(game_id) or self._folding.get(game_id)
            if record is None:
                stored.append(game_id)  # not in memory, so its row is current
            elif _unplayed(record, before):
                in_memory[game_id] = record
        try:
            gone = list(in_memory)
            if stored:
                marks = ", ".join("?" * len(stored))
                rows = self._db.execute(f"{_UNPLAYED} AND id IN ({marks})", (before, *stored))
                gone += [game_id for (game_id,) in rows]
            if not gone:
                return 0
            _delete(self._db, gone)
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        for game_id, record in in_memory.items():
            self._dirty.pop(game_id, None)
            self._folding.pop(game_id, None)
            self._forget_keys(record)
        if in_memory and self._fold_chunks:  # a chunk still to fold must not write it back
            self._fold_chunks = [[r for r in chunk if r.id not in in_memory] for chunk in self._fold_chunks]
        try:
            self._journal.write(journal.encode([f"D {game_id}" for game_id in gone]))
        except OSError as exc:
            raise StoreError(f"cannot write the journal: {exc.strerror or exc}") from exc
        return len(gone)

    # -- reads ------------------------------------------------------------------

    def _read(self, game_id: str) -> GameRecord | None:
        """The game as SQLite has it."""
        try:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM games WHERE id = ?", (game_id,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        if row is None:
            return None
        (gid, watch, join, red, yellow, local, spent, created, updated, result, reason, finished, rematch_of, moves, computer, level) = row
        return GameRecord(
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
        )

    def _stored(self, game_id: str, keys: list[str]) -> bool:
        """Whether SQLite holds this game id or any of these keys."""
        marks = ", ".join("?" * len(keys))
        return bool(
            self._db.execute(
                f"SELECT EXISTS (SELECT 1 FROM games WHERE id = ? OR watch_key IN ({marks}) OR join_key IN ({marks}))",
                (game_id, *keys, *keys),
            ).fetchone()[0]
        )

    async def get(self, game_id: str) -> GameRecord | None:
        if self._pending:
            self._flush()  # show no change that is not in the journal
        record = self._dirty.get(game_id) or self._folding.get(game_id)
        if record is not None:
            record = copy.copy(record)
            record.moves = list(record.moves)
            return record
        return self._read(game_id)

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        found = self._keys.get(key)
        if found is not None:
            return found
        row = self._db.execute(
            "SELECT id, 'watch' FROM games WHERE watch_key = ?1 UNION ALL SELECT id, 'join' FROM games WHERE join_key = ?1",
            (key,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    async def idle_games(self, before: float) -> list[str]:
        cached = {**self._folding, **self._dirty}
        rows = self._db.execute("SELECT id FROM games WHERE result IS NULL AND updated_at < ?", (before,))
        stored = [game_id for (game_id,) in rows if game_id not in cached]
        return stored + [r.id for r in cached.values() if r.result is None and r.updated_at < before]

    async def close(self) -> None:
        self._closed = True
        self._stop.set()
        self._folded.set()
        await asyncio.to_thread(self._checkpointer.join)
        try:
            self._fold_everything(restart=False)  # a clean stop leaves no journal behind
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except (OSError, sqlite3.Error) as exc:
            log.warning("the journal stays for the next start: %s", exc)
        finally:
            self._journal.close()
            self._db.close()
            os.close(self._lock)


def _row(record: GameRecord) -> tuple[object, ...]:
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
    )


def _unplayed(record: GameRecord, before: float) -> bool:
    return not record.moves and record.updated_at < before


def _delete(db: sqlite3.Connection, game_ids: Collection[str]) -> None:
    """Delete these games in one transaction."""
    if not game_ids:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany("DELETE FROM games WHERE id = ?", [(game_id,) for game_id in game_ids])
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _upsert(db: sqlite3.Connection, records: Iterable[GameRecord]) -> None:
    """Write these games in one transaction."""
    rows = [_row(record) for record in records]
    if not rows:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.executemany(_UPSERT, rows)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


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
        log.exception("handling a stored change failed")


def prune_database(path: str, before: float) -> int:
    """Delete games with no activity since ``before``, whether or not a server is running.

    Without a server, the store opens as usual (replaying any journal a
    crash left). With one, SQLite lags the server's journal by seconds, and
    a game the server changed meanwhile is written back whole at its next
    fold, so only games idle for days, as SQLite shows them, can go.
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
            return db.execute(_PRUNE, (before,)).rowcount
    except sqlite3.Error as exc:
        raise StoreError(f"database error: {exc}") from exc
