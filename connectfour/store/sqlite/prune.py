"""Pruning a database from outside its server: ``connectfour prune``."""

from __future__ import annotations

import asyncio
import sqlite3

from ..base import StoreError
from . import rows
from .lock import DatabaseInUse
from .store import SQLiteStore


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
            return db.execute(rows.PRUNE, (before,)).rowcount
    except sqlite3.Error as exc:
        raise StoreError(f"database error: {exc}") from exc
