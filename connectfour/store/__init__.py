"""Durable state: one interface, several implementations."""

from ..domain import Reason, Result
from .base import ConditionFailed, GameRecord, KeyKind, Store, StoreError, VersionConflict
from .memory import MemoryStore
from .seats import LocalSeats, Seats
from .sqlite import SQLiteStore

__all__ = [
    "ConditionFailed",
    "GameRecord",
    "KeyKind",
    "LocalSeats",
    "MemoryStore",
    "Reason",
    "Result",
    "SQLiteStore",
    "Seats",
    "Store",
    "StoreError",
    "VersionConflict",
]
