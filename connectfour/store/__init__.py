"""Durable state: one interface, several implementations."""

from .base import GameRecord, KeyKind, PlyConflict, Reason, Result, Store, StoreError
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = [
    "GameRecord",
    "KeyKind",
    "MemoryStore",
    "PlyConflict",
    "Reason",
    "Result",
    "SQLiteStore",
    "Store",
    "StoreError",
]
