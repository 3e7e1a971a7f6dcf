"""``SQLiteStore``: compare the version (and the presence's ``seq``), append to the journal, announce.

Each event is applied to its game's record in memory at once and written
to the journal: every event of one event-loop turn with a single write,
each caller hearing only once that write returned. With a ``batch_interval``,
under load (``pacing.py``), a write comes no sooner than that long after
the one before it (a group commit): each write then carries more events,
and the turns of the loop, the writes and the announcements per event are
fewer; an event after a quiet moment, or while events come slowly, is
written at once. Nothing is announced on the bus
before it is in the journal, and ``read`` returns nothing that is not. The
games in memory reach SQLite by ``folding.py``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import time
from collections.abc import Container
from pathlib import Path

from ... import metrics
from ...bus import Bus, LocalBus
from ...completion import completion
from ...domain.events import Created, Event, Moved, ends
from ..base import Committed, ConditionFailed, GameRecord, KeyKind, StoreError, VersionConflict, append
from ..matching import LocalMatchQueue
from ..pacing import Pacing
from ..seats import LocalSeats
from . import journal, rows
from .connection import connect
from .entries import created_record, deleted_record, event_record, pack, touched_record
from .folding import Folder
from .gamelog import COLUMN_CODES, StoredGame, advance, events, take_back, without_log
from .lock import lock
from .pending import Pending, notify
from .recovery import recover
from .schema import prepare

log = logging.getLogger("connectfour.store")

#: Games deleted per transaction (and event-loop turn) by ``delete_unplayed``.
DELETE_CHUNK = 500
#: The longest ``batch_interval``: every event waits up to this long for its write.
MAX_BATCH_INTERVAL = 1.0


class SQLiteStore:
    """The embedded default store: one SQLite file in WAL mode, written through a journal (see the package)."""

    def __init__(
        self, path: str | Path, *, fsync: bool = False, bus: Bus | None = None, batch_interval: float = 0.0
    ) -> None:
        if not 0 <= batch_interval <= MAX_BATCH_INTERVAL:
            raise ValueError(f"the batch interval must be 0 to {MAX_BATCH_INTERVAL:g}s, not {batch_interval:g}")
        self.path = str(path)
        #: The least time between two writes to the journal under load (0: each turn of the loop's).
        self.batch_interval = batch_interval
        self.fsync = fsync
        self.bus: Bus = bus if bus is not None else LocalBus()
        self.seats = LocalSeats(self.bus, over=self._over)
        self.match = LocalMatchQueue()
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._lock = lock(self.path)
        except OSError as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        try:
            self._db = connect(self.path, fsync=fsync)
            prepare(self._db)
            self._journal = journal.Journal(self.path, fsync=fsync)
            seq = recover(self._db, self._journal)
            self._journal.start(seq + 1)
        except (OSError, sqlite3.Error) as exc:
            os.close(self._lock)
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        self._pending: list[Pending] = []
        self._flush_scheduled = False
        self._pacing = Pacing(batch_interval)
        self._folder = Folder(
            self._db, self._journal, flush=self._flush, connect=functools.partial(connect, self.path, fsync=fsync)
        )
        # The folder's own dicts, which it never replaces: one lookup less on every move.
        self._dirty = self._folder.dirty
        self._folding = self._folder.folding
        self._folded = self._folder.folded

    # -- writes -----------------------------------------------------------------

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
                code = COLUMN_CODES.get(event.column)
                if code is None:
                    raise StoreError(f"game {game_id}: no column {event.column!r}")
                entry = f"E {game_id} {version} {code} x{pack(event.at).hex()}"  # (``entries.time_text``)
                if event.end is not None:
                    entry = f"{entry} {event.end}"
            else:
                code, entry = event_record(game_id, version, event)
            if presence_seq is not None and self.seats.seq(game_id) != presence_seq:
                raise ConditionFailed(f"game {game_id}: its presence changed since the decision")
        except StoreError as exc:
            committed(exc)
            return
        previous, was_open = record.updated_at, record.result is None
        if type(event) is Moved and event.end is None:
            # ``GameRecord.advance`` for the commonest event, without its dispatch.
            at = event.at
            record.version = version
            record.moves.append(event.column)
            record.log += code
            record.times.append(at)
            if at > previous:
                record.updated_at = at
        else:
            advance(record, event, code)
        self._pending.append(Pending(entry, record, version, event, previous, was_open, committed))
        if not self._flush_scheduled:
            self._schedule_flush()

    def _create(self, game_id: str, version: int, event: Created, committed: Committed) -> None:
        """Start a game not in memory: it must be unknown, at version 1, with keys of its own."""
        keys = [event.watch_key] + ([event.join_key] if event.join_key else [])
        known = self._folder.keys
        existing = self._folding.get(game_id)
        # One query asks after the id and the keys at once: the commonest answer is "neither".
        taken = existing is not None or any(key in known for key in keys) or rows.exists(self._db, game_id, keys)
        if taken and existing is None:
            existing = rows.select(self._db, game_id)
        if existing is not None:
            if version != existing.version + 1:
                raise VersionConflict(game_id, version, existing.version)
            raise StoreError(f"game {game_id} already exists")
        if version != 1:
            raise VersionConflict(game_id, version, 0)
        if taken:
            raise StoreError(f"game {game_id} or one of its keys already exists")
        record = StoredGame.created(game_id, event)
        assert isinstance(record, StoredGame)  # (``created`` is typed to return the base class)
        self._dirty[game_id] = record
        known[event.watch_key] = (game_id, "watch")
        if event.join_key:
            known[event.join_key] = (game_id, "join")
        self._enqueue(Pending(created_record(record), record, 1, event, record.updated_at, True, committed))

    async def append(self, game_id: str, version: int, event: Event, presence_seq: int | None = None) -> None:
        await append(self, game_id, version, event, presence_seq)

    async def confirm(self, game_id: str) -> None:
        """Nothing to wait for: what is stored was durable before it was acknowledged."""

    async def touch(self, game_id: str, at: float) -> None:
        record = self._load(game_id)
        if record is None:
            raise StoreError(f"no game {game_id}")
        previous = record.updated_at
        record.updated_at = max(previous, at)
        entry = touched_record(game_id, at)
        await completion(lambda done: self._enqueue(Pending(entry, record, 0, None, previous, False, done)))

    def _enqueue(self, pending: Pending) -> None:
        self._pending.append(pending)
        if not self._flush_scheduled:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Write what waits at the end of this turn of the loop, or, under load, ``batch_interval``
        after the last write if that is later. (A write that comes sooner, for a read or a
        fold, leaves the call in place: it then finds less to write, or nothing.)"""
        self._flush_scheduled = True
        loop = asyncio.get_running_loop()
        at = self._pacing.not_before
        if at > loop.time():
            loop.call_at(at, self._flush)
        else:
            loop.call_soon(self._flush)

    def _flush(self) -> None:
        """Write every pending event with one call to the journal, then announce each and wake its sender."""
        batch, self._pending = self._pending, []
        self._flush_scheduled = False
        if not batch:
            return
        if self.batch_interval:
            self._pacing.wrote(len(batch), asyncio.get_running_loop().time())
        metrics.count("connectfour_journal_writes_total")
        try:
            self._journal.write(journal.encode([pending.entry for pending in batch]))
        except OSError as exc:
            for pending in reversed(batch):
                self._undo(pending)
            error = StoreError(f"cannot write the journal: {exc.strerror or exc}")
            for pending in batch:
                notify(pending.committed, error)
            return
        if time.monotonic() >= self._folder.due:
            self._folder.rotate()
        publish = self.bus.publish
        for pending in batch:
            event = pending.event
            if event is not None:
                record = pending.record
                if record.result is not None and ends(event):
                    self.seats.ended(record.id)
                publish(record.id, pending.version, event)
            try:  # (one sender's failure must not keep the others of its batch from hearing)
                pending.committed(None)
            except Exception:
                log.exception("handling a stored change failed")

    def _undo(self, pending: Pending) -> None:
        """Take back an event (or a touch) whose journal write failed."""
        record, event = pending.record, pending.event
        record.updated_at = pending.previous
        if event is None:
            return
        if isinstance(event, Created):
            self._dirty.pop(record.id, None)
            self._folder.forget_keys(record)
        else:
            take_back(record, event, pending.was_open)

    def _load(self, game_id: str) -> StoredGame | None:
        """The game's record, kept in memory from now until it is next folded (one folded
        lately is still there: as SQLite holds it, without reading it back)."""
        record = (
            self._dirty.get(game_id)
            or self._folding.get(game_id)
            or self._folded.pop(game_id, None)
            or rows.select(self._db, game_id)
        )
        if record is not None:
            self._dirty[game_id] = record
        return record

    def _in_memory(self, game_id: str) -> StoredGame | None:
        """The game's record if it is in memory: as new as SQLite's row, or newer."""
        return self._dirty.get(game_id) or self._folding.get(game_id) or self._folded.get(game_id)

    def _over(self, game_id: str) -> bool:
        record = self._in_memory(game_id) or rows.select(self._db, game_id)
        return record is not None and record.result is not None

    # -- reads ------------------------------------------------------------------

    def _durable(self, game_id: str) -> StoredGame | None:
        """The game with every change to it in the journal: none is shown before."""
        if self._pending:
            self._flush()
        return self._in_memory(game_id) or rows.select(self._db, game_id)

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        record = self._durable(game_id)
        if record is None:
            return []
        return list(enumerate(events(record)[after:], after + 1))

    async def versions(self, game_ids: list[str]) -> dict[str, int]:
        if self._pending:
            self._flush()  # a version not yet in the journal is not there
        found: dict[str, int] = {}
        stored: list[str] = []
        for game_id in game_ids:
            record = self._in_memory(game_id)
            if record is not None:
                found[game_id] = record.version
            else:
                stored.append(game_id)
        try:
            found.update(rows.versions(self._db, stored))
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        return {game_id: found.get(game_id, 0) for game_id in game_ids}

    async def get(self, game_id: str) -> GameRecord | None:
        record = self._durable(game_id)
        return None if record is None else without_log(record)

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        found = self._folder.keys.get(key)
        if found is not None:
            return found
        return rows.find_key(self._db, key)

    async def idle_games(self, before: float) -> list[str]:
        cached = {**self._folding, **self._dirty}
        stored = [game_id for game_id in rows.open_idle(self._db, before) if game_id not in cached]
        return stored + [r.id for r in cached.values() if r.result is None and r.updated_at < before]

    # -- the sweeps ---------------------------------------------------------------

    async def prune(self, before: float) -> int:
        try:
            self._folder.fold_everything(restart=True)
            gone = rows.prune(self._db, before)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"database error: {exc}") from exc
        for game_id in gone:
            self.seats.forget(game_id)
        return len(gone)

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        """See ``Store.delete_unplayed``. Unlike ``prune`` this runs every few
        minutes while games are played, so it folds nothing: a game in memory
        is judged by its record there, newer than its row. Thousands of games
        are deleted a chunk per event-loop turn, so moves never wait long.

        It is the one change that does not move forward: the rows go from
        SQLite and the records from memory at once, and a ``D`` record in the
        journal keeps a replay from bringing back a game whose creation an
        unfolded segment still holds."""
        try:
            stored = rows.unplayed(self._db, before)
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
            self._folder.checkpoint()  # copy the deletions out of the WAL, as after a fold
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
        in_memory: dict[str, StoredGame] = {}
        stored: list[str] = []
        for game_id in candidates:
            if game_id in keep:
                continue
            record = self._in_memory(game_id)
            if record is None:
                stored.append(game_id)  # not in memory, so its row is current
            elif _unplayed(record, before):
                in_memory[game_id] = record
        try:
            gone = list(in_memory) + rows.still_unplayed(self._db, before, stored)
            if not gone:
                return 0
            rows.delete(self._db, gone)
        except sqlite3.Error as exc:
            raise StoreError(f"database error: {exc}") from exc
        self._folder.forget(in_memory)
        for game_id in gone:
            self.seats.forget(game_id)
        try:
            self._journal.write(journal.encode([deleted_record(game_id) for game_id in gone]))
        except OSError as exc:
            raise StoreError(f"cannot write the journal: {exc.strerror or exc}") from exc
        return len(gone)

    # -- the process ---------------------------------------------------------------

    @property
    def location(self) -> str:
        return self.path

    @property
    def in_process(self) -> bool:
        return True

    async def ping(self) -> None:
        """The file is this process's own: it answers while the process runs."""

    async def close(self) -> None:
        await self._folder.stop()
        try:
            self._folder.fold_everything(restart=False)  # a clean stop leaves no journal behind
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except (OSError, sqlite3.Error) as exc:
            log.warning("the journal stays for the next start: %s", exc)
        finally:
            self._journal.close()
            self._db.close()
            os.close(self._lock)


def _unplayed(record: GameRecord, before: float) -> bool:
    return not record.moves and record.updated_at < before
