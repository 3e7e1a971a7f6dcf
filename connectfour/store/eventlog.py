"""The event log of every game: append event N exactly once, from any process.

The log is the source of truth the processes share: a game's state is its
events replayed (``service.events.GameState``). An append names the version
it takes; it succeeds only if that is the game's next version, so of two
processes racing for one ply exactly one wins, and the other catches up and
checks its event again. Once stored, the event is announced on the bus with
its version, never before. A retried append of the very same event (a
client library retrying after a lost reply) answers as the first one did,
instead of storing it twice.
"""

from __future__ import annotations

from typing import Protocol

from ..bus import Bus
from ..domain.events import Event, decode_event, encode_event
from .base import StoreError


class VersionConflict(StoreError):
    """Another event holds this version, or the one before it is missing."""

    def __init__(self, game_id: str, version: int, last: int) -> None:
        super().__init__(f"game {game_id}: version {version} is not next (the log is at {last})")
        self.last = last


class EventLog(Protocol):
    async def append(self, game_id: str, version: int, event: Event) -> None:
        """Store ``event`` as ``version``, then announce it; VersionConflict unless it was next."""

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        """The game's events after version ``after``, in order; empty for an unknown game."""

    async def last_version(self, game_id: str) -> int:
        """The game's newest version; 0 for an unknown game."""


class MemoryEventLog:
    """Every game's log in this process's memory, announced on ``bus``."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._logs: dict[str, list[bytes]] = {}

    async def append(self, game_id: str, version: int, event: Event) -> None:
        log = self._logs.get(game_id)
        last = len(log) if log else 0
        data = encode_event(event)
        if version <= last and log is not None and log[version - 1] == data:
            return  # a retry of what is stored: already there, and already announced
        if version != last + 1:
            raise VersionConflict(game_id, version, last)
        if log is None:
            log = self._logs[game_id] = []
        log.append(data)
        self.bus.publish(game_id, version, data)

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        log = self._logs.get(game_id, [])
        return [(version, decode_event(data)) for version, data in enumerate(log[after:], after + 1)]

    async def last_version(self, game_id: str) -> int:
        return len(self._logs.get(game_id, ()))
