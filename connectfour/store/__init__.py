"""Durable state: one interface, several implementations."""

from .base import GameRecord, KeyKind, PlyConflict, Store, StoreError
from .memory import MemoryStore

__all__ = ["GameRecord", "KeyKind", "MemoryStore", "PlyConflict", "Store", "StoreError"]
