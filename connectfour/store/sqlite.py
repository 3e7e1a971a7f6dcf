"""The embedded default store: one SQLite file in WAL mode, written through a journal.

An SQLite commit costs tens of microseconds, and a busy server stores
thousands of events a second (moves above all). So each event is applied to
the game's record in memory at once and written to an append-only journal
(``journal``): every event of one event-loop turn with a single write, each
caller hearing only once that write returned. Nothing is announced on the
bus before it is in the journal, and ``read`` returns nothing that is not.

Every ``FOLD_INTERVAL`` seconds the journal starts a new segment, and the
games the full one changed are folded into SQLite, a few per event-loop
turn, one row each (a game that starts and ends within a segment costs one
insert); then the segment is deleted and the games leave memory. On start,
whatever a crash left in the journal is replayed into SQLite before
anything else happens. Folding and replaying are idempotent: a journal
record applies only at the version after the game's, and a row only ever
moves forward (a longer log, an invite spent, a result set).

A game's log is kept compactly in its row rather than as encoded events:
``moves``, its columns as digits (for the unplayed index and the replay
page), and ``log``, one character per event after ``Created``:

    '0'-'6'  a move in that column (whose, by the parity of the moves before it)
    'J'      joined
    'r' 'y'  red or yellow resigned
    'R' 'Y'  red or yellow claimed the win
    'E'      expired
    'o' 'p'  red or yellow offered a rematch
    'S'      the rematch started (the new game's id is the ``rematch`` column)

so that a game's version is ``1 + len(log)``. ``read`` rebuilds the events
from the record, each move's end from a board. Two things are not kept,
and read back otherwise: the time of each event (``Created`` has
``created_at``, the event that ended the game ``finished_at``, every other
``updated_at``) and a claim's ``grace`` (0.0). Replayed, the events give the
same game: board, result, end and version. For the same reason an append
that repeats a stored event is a ``VersionConflict`` here, not the silent
success of a store that keeps events whole: nothing in one process ever
needs to retry one. The journal's records are as compact:
``E <game> <version> <character> <time>``, then a move's end ("four",
"full") or the rematch's game; ``C`` and the record as JSON for a game
created; ``T`` a touch; ``D`` a deletion.

Deleting the games nobody played (``delete_unplayed``) is the one change
that does not move forward: the rows go from SQLite and the records from
memory at once, and a ``D`` record in the journal keeps a replay from
bringing back a game whose creation an unfolded segment still holds.

With ``fsync=False`` (the default) a write reaches the operating system but
is not forced to the disk: it survives the process being killed, not a power
cut. ``fsync=True`` forces every batch and commit to the disk.

One server process owns a database at a time (a lock file says which), so
the seats live in its memory (``LocalSeats``) and its bus is a ``LocalBus``
unless it is given another; scaling out over several processes is the job
of a shared store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Collection, Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast
from urllib.parse import quote, unquote

import msgspec

from ..bus import Bus, LocalBus
from ..completion import completion
from ..domain import PLAYERS, Player, Reason, Result, other
from ..domain.events import (
    Claimed,
    Created,
    Event,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    RematchStarted,
    Resigned,
)
from ..rules import Board, IllegalMove
from . import journal
from .base import Committed, ConditionFailed, GameRecord, KeyKind, StoreError, VersionConflict, append, ends
from .matching import LocalMatchQueue
from .seats import LocalSeats

log = logging.getLogger("connectfour.store")

#: Seconds between the journal's segments: each is folded into SQLite once full.
FOLD_INTERVAL = 10.0
#: Seconds before a fold that failed is tried again.
RETRY_INTERVAL = 1.0
#: Games folded per transaction (and event-loop turn), so that moves never wait long.
FOLD_CHUNK = 50
#: Games deleted per transaction (and event-loop turn) by ``delete_unplayed``.
DELETE_CHUNK = 500
#: Game ids named per query by ``versions``.
QUERY_CHUNK = 500
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
    level        INTEGER NOT NULL DEFAULT 0,
    log          TEXT NOT NULL DEFAULT '',
    rematch      TEXT,
    host         TEXT NOT NULL DEFAULT 'red',
    public       INTEGER NOT NULL DEFAULT 0,
    match        INTEGER NOT NULL DEFAULT 0,
    red_name     TEXT,
    yellow_name  TEXT,
    joined_by    TEXT
);
CREATE INDEX IF NOT EXISTS games_open ON games (updated_at) WHERE result IS NULL;
CREATE INDEX IF NOT EXISTS games_updated ON games (updated_at);
"""

_PRUNE = "DELETE FROM games WHERE updated_at < ?"
_IDLE = "SELECT id FROM games WHERE updated_at < ?"

# A partial index of the games without a move: the sweep that looks for idle
# ones every minute reads none of the played games, the bulk of a database
# that keeps them all. ``_migrate`` makes it, not SCHEMA: a database of the
# first schema has no moves column until then.
_UNPLAYED_INDEX = "CREATE INDEX IF NOT EXISTS games_unplayed ON games (updated_at) WHERE moves = ''"
_UNPLAYED = "SELECT id FROM games WHERE moves = '' AND updated_at < ?"

_COLUMNS = (
    "id, watch_key, join_key, red_token, yellow_token, local, invite_spent, "
    "created_at, updated_at, result, reason, finished_at, rematch_of, moves, computer, level, log, rematch, "
    "host, public, match, red_name, yellow_name, joined_by"
)

# Folding writes a game's whole record; each field only ever moves forward,
# so folding an older record over a newer row changes nothing.
_UPSERT = f"""
INSERT INTO games ({_COLUMNS}) VALUES ({", ".join("?" * 24)})
ON CONFLICT (id) DO UPDATE SET
    invite_spent = max(invite_spent, excluded.invite_spent),
    updated_at = max(updated_at, excluded.updated_at),
    result = coalesce(result, excluded.result),
    reason = coalesce(reason, excluded.reason),
    finished_at = coalesce(finished_at, excluded.finished_at),
    moves = CASE WHEN length(excluded.moves) > length(moves) THEN excluded.moves ELSE moves END,
    log = CASE WHEN length(excluded.log) > length(log) THEN excluded.log ELSE log END,
    rematch = coalesce(rematch, excluded.rematch),
    red_name = coalesce(red_name, excluded.red_name),
    yellow_name = coalesce(yellow_name, excluded.yellow_name),
    joined_by = coalesce(joined_by, excluded.joined_by)
"""

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

#: The log character of a move in each column.
_COLUMN_CODES = {column: str(column) for column in range(7)}
_RESIGNED: dict[Player, str] = {"red": "r", "yellow": "y"}
_CLAIMED: dict[Player, str] = {"red": "R", "yellow": "Y"}
_OFFERED: dict[Player, str] = {"red": "o", "yellow": "p"}
_COLUMN_OF = {code: column for column, code in _COLUMN_CODES.items()}
_RESIGNER: dict[str, Player] = {code: player for player, code in _RESIGNED.items()}
_CLAIMER: dict[str, Player] = {code: player for player, code in _CLAIMED.items()}
_OFFERER: dict[str, Player] = {code: player for player, code in _OFFERED.items()}


@dataclass
class _Game(GameRecord):
    """A game's record as this store keeps it: with its log, whose events it can rebuild."""

    log: str = ""
    #: The rematch's game id, once it started (the event ``S`` of ``log``).
    rematch: str | None = None
    #: The id of the request whose ``Joined`` spent the invite, if it gave one.
    joined_by: str | None = None


#: An event (or a touch: no event) waiting for its journal write: its journal
#: record, whose first letter is its kind; the game; the event's version; the
#: event; the game's updated_at before it; whether the game was still open
#: before it; committed. A plain tuple, made on every move and always unpacked
#: by these names (a NamedTuple took 0.27 µs to make against 0.06 µs here, timeit).
_Pending = tuple[str, _Game, int, Event | None, float, bool, Committed]

_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(GameRecord))


class DatabaseInUse(StoreError):
    """Another server process holds this database."""


class SQLiteStore:
    def __init__(self, path: str | Path, *, fsync: bool = False, bus: Bus | None = None) -> None:
        self.path = str(path)
        self.fsync = fsync
        self.bus: Bus = bus if bus is not None else LocalBus()
        self.seats = LocalSeats(self.bus, over=self._over)
        self.match = LocalMatchQueue()
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
        self._dirty: dict[str, _Game] = {}
        self._folding: dict[str, _Game] = {}
        self._folding_seq = 0
        self._fold_chunks: list[list[_Game]] = []
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
        if "log" not in columns:  # every event, not only the moves: one transaction, so none is left without
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("ALTER TABLE games ADD COLUMN log TEXT NOT NULL DEFAULT ''")
                self._db.execute("ALTER TABLE games ADD COLUMN rematch TEXT")
                self._db.execute(_SYNTHESIZE_LOG)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        if "host" not in columns:  # the lobby: who created the game, how it is found, the players' names
            for column in (
                "host TEXT NOT NULL DEFAULT 'red'",
                "public INTEGER NOT NULL DEFAULT 0",
                "match INTEGER NOT NULL DEFAULT 0",
                "red_name TEXT",
                "yellow_name TEXT",
            ):
                self._db.execute(f"ALTER TABLE games ADD COLUMN {column}")
        if "joined_by" not in columns:  # the request that spent the invite: its retry sits the same guest
            self._db.execute("ALTER TABLE games ADD COLUMN joined_by TEXT")
        self._db.execute(_UNPLAYED_INDEX)

    # -- the journal ------------------------------------------------------------

    def _recover(self) -> int:
        """Replay every segment a previous run left into SQLite; the last sequence number seen."""
        segments = self._journal.segments()
        if not segments:
            return 0
        games: dict[str, _Game] = {}
        deleted: set[str] = set()
        count = 0
        for _, path in segments:
            for entry in journal.read(path):
                try:
                    self._replay(games, deleted, entry)
                except (ValueError, IndexError, msgspec.DecodeError) as exc:
                    log.error("journal %s: unreadable record %r skipped: %s", path, entry[:80], exc)
                count += 1
        _delete(self._db, deleted)
        _upsert(self._db, games.values())
        for _, path in segments:
            path.unlink()
        log.info("journal: %d changes to %d games replayed", count, len(games))
        return segments[-1][0]

    def _replay(self, games: dict[str, _Game], deleted: set[str], entry: str) -> None:
        """Apply one journal record to ``games`` (or ``deleted``), loading each game from SQLite first.

        An event applies only at the version after the game's: one already
        folded into SQLite (or replayed) changes nothing.
        """
        kind, _, rest = entry.partition(" ")
        if kind == "C":
            created: _Game = msgspec.json.decode(rest, type=_Game)
            created.version = created.version or 1  # a journal written before versions
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
        if kind == "E":
            version, code, at = int(fields[0]), fields[1], float(fields[2])
            if version == record.version + 1:
                extra = fields[3] if len(fields) > 3 else None
                event = _joined(record, at, extra) if code == "J" else None
                _advance(record, event or _event(code, at, _turn(record), extra), code)
            elif version > record.version + 1:
                log.warning("journal: version %d of %s skipped: the game is at %d", version, game_id, record.version)
        elif kind == "T":
            record.updated_at = max(record.updated_at, float(fields[0]))
        elif kind in ("M", "S", "F"):
            _replay_before_versions(record, kind, fields)
        else:
            raise ValueError(f"unknown kind {kind!r}")

    def _enqueue(self, pending: _Pending) -> None:
        self._pending.append(pending)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Write every pending event with one call to the journal, then announce each and wake its sender."""
        batch, self._pending = self._pending, []
        self._flush_scheduled = False
        if not batch:
            return
        try:
            self._journal.write(journal.encode([entry for entry, *_ in batch]))
        except OSError as exc:
            for _, record, _, event, previous, was_open, _ in reversed(batch):
                self._undo(record, event, previous, was_open)
            error = StoreError(f"cannot write the journal: {exc.strerror or exc}")
            for *_, committed in batch:
                _notify(committed, error)
            return
        if time.monotonic() - self._started >= FOLD_INTERVAL:
            self._rotate()
        publish = self.bus.publish
        for _, record, version, event, _, _, committed in batch:
            if event is not None:
                if record.result is not None and ends(event):
                    self.seats.ended(record.id)
                publish(record.id, version, event)
            _notify(committed, None)

    def _undo(self, record: _Game, event: Event | None, previous: float, was_open: bool) -> None:
        """Take back an event (or a touch) whose journal write failed."""
        record.updated_at = previous
        if event is None:
            return
        if isinstance(event, Created):
            self._dirty.pop(record.id, None)
            self._forget_keys(record)
            return
        record.version -= 1
        record.log = record.log[:-1]
        if isinstance(event, Moved):
            record.moves.pop()
        elif isinstance(event, Joined):
            record.invite_spent = False
        elif isinstance(event, RematchStarted):
            record.rematch = None
        if was_open:
            record.result = record.reason = record.finished_at = None

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

    def _over(self, game_id: str) -> bool:
        record = self._dirty.get(game_id) or self._folding.get(game_id) or self._read(game_id)
        return record is not None and record.result is not None

    def _load(self, game_id: str) -> _Game | None:
        """The game's record, kept in memory from now until it is next folded."""
        record = self._dirty.get(game_id) or self._folding.get(game_id) or self._read(game_id)
        if record is not None:
            self._dirty[game_id] = record
        return record

    def append_nowait(
        self, game_id: str, version: int, event: Event, committed: Committed, presence_seq: int | None = None
    ) -> None:
        record = self._dirty.get(game_id)
        try:
            if record is None:
                if isinstance(event, Created):
                    self._create(game_id, version, event, committed)
                    return
                record = self._load(game_id)
                if record is None:
                    raise VersionConflict(game_id, version, 0)
            if version != record.version + 1:
                raise VersionConflict(game_id, version, record.version)
            if type(event) is Moved:  # the hot path: no condition, and no encoding but the record's
                code = _COLUMN_CODES.get(event.column)
                if code is None:
                    raise StoreError(f"game {game_id}: no column {event.column!r}")
                entry = f"E {game_id} {version} {code} {event.at!r}"
                if event.end is not None:
                    entry = f"{entry} {event.end}"
            else:
                code, entry = self._check(game_id, version, event)
            if presence_seq is not None and self.seats.seq(game_id) != presence_seq:
                raise ConditionFailed(f"game {game_id}: its presence changed since the decision")
        except StoreError as exc:
            committed(exc)
            return
        previous, was_open = record.updated_at, record.result is None
        if type(event) is Moved and event.end is None:
            # ``GameRecord.advance`` for the commonest event, without its dispatch.
            record.version = version
            record.moves.append(event.column)
            record.log += code
            if event.at > previous:
                record.updated_at = event.at
        else:
            _advance(record, event, code)
        self._enqueue((entry, record, version, event, previous, was_open, committed))

    def _create(self, game_id: str, version: int, event: Created, committed: Committed) -> None:
        """Start a game not in memory: it must be unknown, at version 1, with keys of its own."""
        existing = self._folding.get(game_id) or self._read(game_id)
        if existing is not None:
            if version != existing.version + 1:
                raise VersionConflict(game_id, version, existing.version)
            raise StoreError(f"game {game_id} already exists")
        if version != 1:
            raise VersionConflict(game_id, version, 0)
        keys = [event.watch_key] + ([event.join_key] if event.join_key else [])
        if any(key in self._keys for key in keys) or self._stored(game_id, keys):
            raise StoreError(f"game {game_id} or one of its keys already exists")
        record = _Game.created(game_id, event)
        assert isinstance(record, _Game)  # (``created`` is typed to return the base class)
        self._dirty[game_id] = record
        self._keys[event.watch_key] = (game_id, "watch")
        if event.join_key:
            self._keys[event.join_key] = (game_id, "join")
        entry = "C " + msgspec.json.encode(record).decode()
        self._enqueue((entry, record, 1, event, record.updated_at, True, committed))

    def _check(self, game_id: str, version: int, event: Event) -> tuple[str, str]:
        """Check an event other than a move against what it needs; its log character and journal record."""
        extra = ""
        if isinstance(event, Joined):
            code = "J"
            # (the journal's records are split on spaces; ~ is in no quoted name)
            if event.request is not None:
                extra = f" {quote(event.name or '', safe='')}~{quote(event.request, safe='')}"
            elif event.name is not None:
                extra = f" {quote(event.name, safe='')}"
        elif isinstance(event, Resigned):
            code = _RESIGNED[event.player]
        elif isinstance(event, Claimed):
            code = _CLAIMED[event.player]
        elif isinstance(event, Expired):
            code = "E"
        elif isinstance(event, RematchOffered):
            code = _OFFERED[event.player]
        elif isinstance(event, RematchStarted):
            if event.game.split() != [event.game]:  # (the journal's records are split on spaces)
                raise StoreError(f"game {game_id}: no rematch game {event.game!r}")
            code, extra = "S", f" {event.game}"
        elif isinstance(event, Created):
            raise StoreError(f"game {game_id} already exists")
        else:
            raise StoreError(f"game {game_id}: an event {event!r} of no kind this store keeps")
        return code, f"E {game_id} {version} {code} {event.at!r}{extra}"

    async def append(self, game_id: str, version: int, event: Event, presence_seq: int | None = None) -> None:
        await append(self, game_id, version, event, presence_seq)

    async def touch(self, game_id: str, at: float) -> None:
        record = self._load(game_id)
        if record is None:
            raise StoreError(f"no game {game_id}")
        previous = record.updated_at
        record.updated_at = max(previous, at)
        entry = f"T {game_id} {at!r}"
        await completion(lambda done: self._enqueue((entry, record, 0, None, previous, False, done)))

    async def prune(self, before: float) -> int:
        try:
            self._fold_everything(restart=True)
            gone = _prune(self._db, before)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"database error: {exc}") from exc
        for game_id in gone:
            self.seats.forget(game_id)
        return len(gone)

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
        in_memory: dict[str, _Game] = {}
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
        for game_id in gone:
            self.seats.forget(game_id)
        if in_memory and self._fold_chunks:  # a chunk still to fold must not write it back
            self._fold_chunks = [[r for r in chunk if r.id not in in_memory] for chunk in self._fold_chunks]
        try:
            self._journal.write(journal.encode([f"D {game_id}" for game_id in gone]))
        except OSError as exc:
            raise StoreError(f"cannot write the journal: {exc.strerror or exc}") from exc
        return len(gone)

    # -- reads ------------------------------------------------------------------

    def _read(self, game_id: str) -> _Game | None:
        """The game as SQLite has it."""
        try:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM games WHERE id = ?", (game_id,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        if row is None:
            return None
        (gid, watch, join, red, yellow, local, spent, created, updated, result, reason, finished, rematch_of, moves,
         computer, level, events, rematch, host, public, match, red_name, yellow_name, joined_by) = row  # fmt: skip
        return _Game(
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
        )

    def _stored(self, game_id: str, keys: list[str]) -> bool:
        """Whether SQLite holds this game id or any of these keys."""
        marks = ", ".join("?" * len(keys))
        try:
            return bool(
                self._db.execute(
                    f"SELECT EXISTS (SELECT 1 FROM games WHERE id = ? OR watch_key IN ({marks}) OR join_key IN ({marks}))",
                    (game_id, *keys, *keys),
                ).fetchone()[0]
            )
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc

    def _durable(self, game_id: str) -> _Game | None:
        """The game with every change to it in the journal: none is shown before."""
        if self._pending:
            self._flush()
        return self._dirty.get(game_id) or self._folding.get(game_id) or self._read(game_id)

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        record = self._durable(game_id)
        if record is None:
            return []
        events = _events(record)
        return list(enumerate(events[after:], after + 1))

    async def versions(self, game_ids: list[str]) -> dict[str, int]:
        if self._pending:
            self._flush()  # a version not yet in the journal is not there
        found: dict[str, int] = {}
        stored: list[str] = []
        for game_id in game_ids:
            record = self._dirty.get(game_id) or self._folding.get(game_id)
            if record is not None:
                found[game_id] = record.version
            else:
                stored.append(game_id)
        try:
            for start in range(0, len(stored), QUERY_CHUNK):
                chunk = stored[start : start + QUERY_CHUNK]
                rows = self._db.execute(
                    f"SELECT id, 1 + length(log) FROM games WHERE id IN ({', '.join('?' * len(chunk))})", chunk
                )
                found.update(rows)
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        return {game_id: found.get(game_id, 0) for game_id in game_ids}

    async def get(self, game_id: str) -> GameRecord | None:
        record = self._durable(game_id)
        if record is None:
            return None
        public = GameRecord(**{name: getattr(record, name) for name in _RECORD_FIELDS})
        public.moves = list(record.moves)
        return public

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

    @property
    def location(self) -> str:
        return self.path

    @property
    def in_process(self) -> bool:
        return True

    async def ping(self) -> None:
        """The file is this process's own: it answers while the process runs."""

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


# -- the log ----------------------------------------------------------------------


def _advance(record: _Game, event: Event, code: str) -> None:
    """Follow one more event (never ``Created``), written ``code`` in the log."""
    record.advance(event)
    record.log += code
    if type(event) is RematchStarted:
        record.rematch = event.game
    elif type(event) is Joined:
        record.joined_by = event.request


def _joined(record: _Game, at: float, extra: str | None) -> Joined:
    """A journal's ``J`` record: its name, and the request's id after a ``~``."""
    if extra is None:
        return record.joined_event(at)
    name, _, request = extra.partition("~")
    return record.joined_event(at, unquote(name) or None, unquote(request) or None)


def _turn(record: GameRecord) -> Player:
    """Whose move comes next, by the parity of the moves so far."""
    return PLAYERS[len(record.moves) & 1]


def _event(code: str, at: float, turn: Player, extra: str | None) -> Event:
    """The event a log character stands for; ``extra`` is a move's end or the rematch's game."""
    if code in _COLUMN_OF:
        end: Literal["four", "full"] | None = "four" if extra == "four" else "full" if extra == "full" else None
        return Moved(at=at, player=turn, column=_COLUMN_OF[code], end=end)
    if code == "J":
        return Joined(at=at)
    if code in _RESIGNER:
        return Resigned(at=at, player=_RESIGNER[code])
    if code in _CLAIMER:
        return Claimed(at=at, player=_CLAIMER[code], grace=0.0)
    if code == "E":
        return Expired(at=at)
    if code in _OFFERER:
        return RematchOffered(at=at, player=_OFFERER[code])
    if code == "S" and extra:
        return RematchStarted(at=at, game=extra)
    raise ValueError(f"no event {code!r}")


def _events(record: _Game) -> list[Event]:
    """The game's events rebuilt from its record, each move's end from a board.

    Each event's time is what the record kept: ``finished_at`` for the one
    that ended the game, ``updated_at`` for every other after ``Created``.
    """
    events: list[Event] = [record.created_event()]
    board = Board()
    finished = record.finished_at
    for code in record.log:
        at = record.updated_at
        if code in _COLUMN_OF:
            column, player = _COLUMN_OF[code], PLAYERS[len(board.moves) & 1]
            try:
                row = board.check(player, column)
            except IllegalMove as exc:
                raise StoreError(f"game {record.id}: its stored moves are not a game ({exc})") from None
            end = board.outcome(column, row)
            board.play(player, column)
            if end is not None and finished is not None:
                at, finished = finished, None
            events.append(Moved(at=at, player=player, column=column, end=end))
            continue
        try:
            event = (
                record.joined_event(at, request=record.joined_by)
                if code == "J"
                else _event(code, at, "red", record.rematch)
            )
        except ValueError as exc:
            raise StoreError(f"game {record.id}: {exc} in its stored log") from None
        if finished is not None and ends(event):
            event, finished = msgspec.structs.replace(event, at=finished), None
        events.append(event)
    return events


def _replay_before_versions(record: _Game, kind: str, fields: list[str]) -> None:
    """Apply a record of a journal written before versions: a move by its ply,
    an invite spent (``S``), a game finished (``F``), each as the event it was."""
    if kind == "M":
        ply, column, at = int(fields[0]), fields[1], float(fields[2])
        if ply == len(record.moves):
            _advance(record, _event(column, at, _turn(record), None), column)
        record.updated_at = max(record.updated_at, at)
    elif kind == "S":
        if not record.invite_spent and not record.local and record.join_key is not None:
            _advance(record, Joined(at=record.updated_at), "J")
        record.invite_spent = True
    elif kind == "F":
        result, reason, at = fields[0], fields[1], float(fields[2])
        if record.result is None:
            winner: Player = "yellow" if result == "yellow" else "red"
            if reason == "resign":
                _advance(record, Resigned(at=at, player=other(winner)), _RESIGNED[other(winner)])
            elif reason == "claim":
                _advance(record, Claimed(at=at, player=winner, grace=0.0), _CLAIMED[winner])
            elif reason == "expired":
                _advance(record, Expired(at=at), "E")
            else:  # four in a row or a full board: the last move's end, which the old record did not carry
                record.result, record.reason, record.finished_at = cast(Result, result), cast(Reason, reason), at
        record.updated_at = max(record.updated_at, at)


def _row(record: _Game) -> tuple[object, ...]:
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


def _prune(db: sqlite3.Connection, before: float) -> list[str]:
    """Delete the games with no activity since ``before`` in one transaction; their ids."""
    db.execute("BEGIN IMMEDIATE")
    try:
        gone = [game_id for (game_id,) in db.execute(_IDLE, (before,))]
        db.execute(_PRUNE, (before,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return gone


def _upsert(db: sqlite3.Connection, records: Iterable[_Game]) -> None:
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
