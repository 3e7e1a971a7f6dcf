"""The SQLite connection: how the store opens its file, and a transaction that fails whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

PAGE_SIZE = 4096


def connect(path: str, *, fsync: bool) -> sqlite3.Connection:
    """A connection to the file in WAL mode, in autocommit unless in a ``transaction``."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # (only takes effect in a new file)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {'FULL' if fsync else 'NORMAL'}")
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute(f"PRAGMA cache_size = -{64 << 10}")
    db.execute(f"PRAGMA mmap_size = {256 << 20}")
    # Checkpoints copy the WAL into the database and flush it to disk:
    # slow, so a thread does them (folding.py), not whichever commit comes next.
    db.execute("PRAGMA wal_autocheckpoint = 0")
    db.execute(f"PRAGMA journal_size_limit = {64 << 20}")
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` to ``COMMIT``, rolled back if anything in between fails:
    a fold, a deletion or a migration is written whole or not at all."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
