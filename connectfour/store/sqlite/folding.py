"""Folding the journal into SQLite: the games changed since their last fold, and how they get there.

Every event is applied at once to its game's record in memory (``dirty``).
Every ``FOLD_INTERVAL`` seconds the journal starts a new segment, and the
games the full one changed (now ``folding``) are folded into SQLite, a few
per event-loop turn, one row each (a game that starts and ends within a
segment costs one insert); then the segment is deleted. A game folded stays
in memory (``folded``) until the next fold ends, so that one played on is
not read back from SQLite; one left alone that long leaves memory. A thread
then copies SQLite's WAL into the database file, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from ..base import GameRecord, KeyKind
from . import rows
from .gamelog import StoredGame
from .journal import Journal

log = logging.getLogger("connectfour.store")

#: Seconds between the journal's segments: each is folded into SQLite once full.
FOLD_INTERVAL = 10.0
#: Seconds before a fold that failed is tried again.
RETRY_INTERVAL = 1.0
#: Games folded per transaction (and event-loop turn), so that moves never wait long.
FOLD_CHUNK = 50


class Folder:
    """The games in memory, by the segment that changed them, and their fold into SQLite.

    ``flush`` writes the events not yet in the journal: a change must be
    there before it reaches SQLite. ``connect`` opens the checkpointer's own
    connection.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        journal: Journal,
        *,
        flush: Callable[[], None],
        connect: Callable[[], sqlite3.Connection],
    ) -> None:
        # The dicts are emptied and filled, never replaced: the store reads
        # them on every move through references of its own.
        #: The games changed in the segment being written.
        self.dirty: dict[str, StoredGame] = {}
        #: The games changed in the segment being folded.
        self.folding: dict[str, StoredGame] = {}
        #: The games the last fold wrote and nothing changed since, as SQLite holds them.
        self.folded: dict[str, StoredGame] = {}
        #: That segment's number; 0 while none is folded.
        self.folding_seq = 0
        #: The games still to fold, a transaction each, the last first.
        self.chunks: list[list[StoredGame]] = []
        #: The keys of the games created since their last fold, which SQLite may not hold yet.
        self.keys: dict[str, tuple[str, KeyKind]] = {}
        #: When (``time.monotonic()``) the segment being written is full.
        self.due = time.monotonic() + FOLD_INTERVAL
        self._db = db
        self._journal = journal
        self._flush = flush
        self._closed = False
        self._stop = threading.Event()
        self._folded = threading.Event()  # wakes the checkpointer
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, args=(connect,), name="sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def rotate(self) -> None:
        """Start a new segment, and fold the full one into SQLite a chunk per event-loop turn."""
        if self.folding_seq or not self.dirty:
            return  # still folding the previous one, or nothing to fold
        try:
            self._journal.start(self._journal.seq + 1)
        except OSError as exc:  # the current segment stays in use
            log.error("cannot start a new journal segment: %s", exc)
            return
        self.due = time.monotonic() + FOLD_INTERVAL
        self.folding.clear()
        self.folding.update(self.dirty)
        self.dirty.clear()
        self.folding_seq = self._journal.seq - 1
        records = list(self.folding.values())
        self.chunks = [records[start : start + FOLD_CHUNK] for start in range(0, len(records), FOLD_CHUNK)]
        asyncio.get_running_loop().call_soon(self._step)

    def _step(self) -> None:
        if self._closed or not self.folding_seq:
            return  # everything was folded at once meanwhile
        self._flush()  # a change not yet in the journal must not reach SQLite first
        loop = asyncio.get_running_loop()
        if self.chunks:
            try:
                rows.upsert(self._db, self.chunks[-1])
            except sqlite3.Error as exc:
                log.error("cannot fold the journal into the database (retrying): %s", exc)
                loop.call_later(RETRY_INTERVAL, self._step)
                return
            self.chunks.pop()
            loop.call_soon(self._step)
            return
        try:
            self._journal.path(self.folding_seq).unlink(missing_ok=True)
        except OSError as exc:  # harmless: folding it again changes nothing
            log.warning("cannot delete a folded journal segment: %s", exc)
        self.folded.clear()  # those left alone for a whole segment leave memory
        for game_id, record in self.folding.items():
            if game_id not in self.dirty:
                self.forget_keys(record)
                self.folded[game_id] = record
        self.folding.clear()
        self.folding_seq = 0
        self.checkpoint()

    def fold_everything(self, *, restart: bool) -> None:
        """Fold every change into SQLite now, delete the journal, and start a new one if ``restart``."""
        self._flush()
        rows.upsert(self._db, {**self.folding, **self.dirty}.values())
        self._journal.close()
        if restart:
            self._journal.start(self._journal.seq + 1)
        for seq, path in self._journal.segments():
            if not restart or seq < self._journal.seq:
                path.unlink()
        self.dirty.clear()
        self.folding.clear()
        self.folded.clear()
        self.keys.clear()
        self.folding_seq, self.chunks = 0, []
        self.due = time.monotonic() + FOLD_INTERVAL

    def forget(self, records: dict[str, StoredGame]) -> None:
        """Let go of games deleted from SQLite: a chunk still to fold must not write them back."""
        for game_id, record in records.items():
            self.dirty.pop(game_id, None)
            self.folding.pop(game_id, None)
            self.folded.pop(game_id, None)
            self.forget_keys(record)
        if records and self.chunks:
            self.chunks = [[r for r in chunk if r.id not in records] for chunk in self.chunks]

    def forget_keys(self, record: GameRecord) -> None:
        self.keys.pop(record.watch_key, None)
        if record.join_key:
            self.keys.pop(record.join_key, None)

    def checkpoint(self) -> None:
        """Have the checkpointer copy SQLite's WAL into the database file (after a fold or a deletion)."""
        self._folded.set()

    async def stop(self) -> None:
        """Fold nothing more in the background, and end the checkpointer."""
        self._closed = True
        self._stop.set()
        self._folded.set()
        await asyncio.to_thread(self._checkpointer.join)

    def _checkpoint_loop(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Copy SQLite's WAL into the database file after each fold, off the event loop."""
        db = connect()
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
