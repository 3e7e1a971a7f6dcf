"""Durable state: one interface, several implementations."""

from ..domain import Reason, Result
from .base import GameRecord, KeyKind, PlyConflict, Store, StoreError
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
