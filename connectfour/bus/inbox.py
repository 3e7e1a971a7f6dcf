"""Putting one game's announced events back in version order, sans I/O.

A bus may deliver late, twice, out of order or not at all (Redis pub/sub is
at most once, and a resubscription replays nothing). Each process keeps,
for each game it has members in, the last version it applied; an event is
applied only when it is the next one. One ahead of a gap is held until the
store fills the gap; one already applied is dropped.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")

#: Events held ahead of a gap; past this the newest are dropped too: the
#: store holds them all, and the read that fills the gap brings them back.
MAX_HELD = 64


class Inbox(Generic[T]):
    __slots__ = ("version", "_held")

    def __init__(self, version: int) -> None:
        #: The last version applied.
        self.version = version
        self._held: dict[int, T] = {}

    @property
    def gap(self) -> bool:
        """Whether events were seen past one still missing: read the store from ``version + 1``."""
        return bool(self._held)

    def take_next(self, version: int) -> bool:
        """Take ``version`` as applied if it is the next one and nothing is held: the
        hot path's shortcut of ``offer``, in one call. False, changing nothing, if not."""
        if version == self.version + 1 and not self._held:
            self.version = version
            return True
        return False

    def offer(self, version: int, event: T) -> list[tuple[int, T]]:
        """An announced event; the events that may now be applied, in order (often just this one)."""
        if version <= self.version:
            return []  # a duplicate, or one the store already gave us
        if version != self.version + 1:
            if len(self._held) < MAX_HELD:
                self._held[version] = event
            return []
        self.version = version
        ready = [(version, event)]
        held = self._held
        while held:
            following = held.pop(self.version + 1, None)
            if following is None:
                break
            self.version += 1
            ready.append((self.version, following))
        return ready

    def fill(self, stored: list[tuple[int, T]]) -> list[tuple[int, T]]:
        """Events read from the store after ``version``, in order; those that may now be applied."""
        ready: list[tuple[int, T]] = []
        for version, event in stored:
            ready += self.offer(version, event)
        # Whatever is still held past the store's end was dropped by the bus
        # or not stored yet; a later announcement or read brings it back.
        return ready
