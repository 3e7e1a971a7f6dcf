"""Seats held from any process: a seat's holder is a connection of some process,
and it holds the seat only while that process is alive.

A process proves it is alive by renewing its registration before ``ttl``
runs out (one renewal per process, not one per seat). When it stops (a
crash, ``kill -9``), each seat it held turns disconnected at the moment its
registration ran out, and the grace period for a claim starts then: so a
process's death frees its seats within ``ttl`` seconds, and loses no timer,
since every deadline is computed from stored times, by whichever process
looks. A resume on another process takes the seat; the old holder's
process, if alive, is told to close the old connection (``replaced``).

Pure bookkeeping with the time passed in: the shared store keeps the
tables and the registry (in memory for one process, in Redis for many).
"""

from __future__ import annotations

from typing import NamedTuple

from . import PLAYERS, Player, SeatState


class Holder(NamedTuple):
    process: str
    connection: int


class Registry:
    """Which processes are alive: each renews its registration before ``ttl`` runs out."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._expires: dict[str, float] = {}

    def renew(self, process: str, now: float) -> None:
        self._expires[process] = now + self.ttl

    def stop(self, process: str, now: float) -> None:
        """A clean stop: its seats are free from now."""
        self._expires[process] = min(self._expires.get(process, now), now)

    def alive(self, process: str, now: float) -> bool:
        return self._expires.get(process, float("-inf")) > now

    def ended_at(self, process: str) -> float:
        """When the process's registration ran out (or runs out): its seats are free from then."""
        return self._expires.get(process, float("-inf"))


class SeatTable:
    """The two seats of one game."""

    __slots__ = ("holders", "left_at")

    def __init__(self) -> None:
        self.holders: dict[Player, Holder | None] = {color: None for color in PLAYERS}
        #: When each seat was last left; None while held, or if never held.
        self.left_at: dict[Player, float | None] = {color: None for color in PLAYERS}

    def holder(self, color: Player, registry: Registry, now: float) -> Holder | None:
        """The seat's holder, if its process is alive."""
        holder = self.holders[color]
        if holder is not None and not registry.alive(holder.process, now):
            return None
        return holder

    def take(self, color: Player, holder: Holder, registry: Registry, now: float) -> Holder | None:
        """Give the seat to ``holder``; the previous holder, if alive and another connection, to be told ``replaced``."""
        previous = self.holder(color, registry, now)
        self.holders[color] = holder
        self.left_at[color] = None
        return previous if previous is not None and previous != holder else None

    def leave(self, holder: Holder, now: float) -> list[Player]:
        """``holder`` left (closed its connection): the seats it held, free from ``now``."""
        left = [color for color in PLAYERS if self.holders[color] == holder]
        for color in left:
            self.holders[color] = None
            self.left_at[color] = now
        return left

    def state(self, color: Player, registry: Registry, now: float, grace: float, *, invited: bool = False) -> SeatState:
        """How the seat looks to everyone; ``invited``: yellow's invite is still unspent."""
        if self.holder(color, registry, now) is not None:
            return "connected"
        if invited:
            return "empty"
        since = self._since(color, registry, now)
        return "gone" if since is not None and now - since >= grace else "disconnected"

    def claimable(self, color: Player, registry: Registry, now: float, grace: float) -> bool:
        """Whether ``color`` has been away at least ``grace`` seconds: its opponent may claim the win."""
        if self.holder(color, registry, now) is not None:
            return False
        since = self._since(color, registry, now)
        return since is not None and now - since >= grace

    def _since(self, color: Player, registry: Registry, now: float) -> float | None:
        holder = self.holders[color]
        if holder is not None:  # held by a process that is no longer alive
            return registry.ended_at(holder.process)
        return self.left_at[color]
