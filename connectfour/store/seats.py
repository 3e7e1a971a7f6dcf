"""Where each game's ``Presence`` is kept, and the registry of live processes.

``Seats`` is the interface every store offers; ``LocalSeats`` keeps both in
this process's memory, for the stores whose processes share one memory
(the memory store of several services in one test, the single-process
SQLite store). Every change is announced on the bus as version 0 of the
game's channel, where ``seq`` orders presences as versions order events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec

from ..bus import Bus
from ..domain import Player
from ..domain.seats import TTL, Holder, Presence, Registry, first_look

#: The version a presence is announced with on a game's channel; events start at 1.
PRESENCE = 0


class Seats(Protocol):
    @property
    def ttl(self) -> float:
        """Seconds a registration lasts: a process renews it every third of that."""

    async def take(self, game_id: str, colors: tuple[Player, ...], holder: Holder, now: float) -> Presence:
        """Give the seats to ``holder``; whoever held them before reads in the result that it no longer does."""

    async def leave(self, game_id: str, holder: Holder, now: float) -> Presence:
        """``holder`` is gone: the seats it still holds are free from ``now``."""

    async def watch(self, game_id: str, process: str, count: int, now: float) -> Presence:
        """``process`` has ``count`` spectators of the game now."""

    async def presence(self, game_id: str, now: float) -> Presence:
        """The game's presence (recorded as first seen ``now`` if it had none)."""

    async def renew(self, process: str, now: float) -> None:
        """``process`` is alive for another ``ttl`` seconds."""

    async def stop(self, process: str, now: float) -> None:
        """``process`` stops: its seats are free from ``now``."""

    async def expiries(self, processes: set[str]) -> dict[str, float]:
        """When each process's registration runs out (or ran out); absent if never registered."""


class LocalSeats:
    def __init__(self, bus: Bus, ttl: float = TTL, over: Callable[[str], bool] = lambda game_id: False) -> None:
        self.bus = bus
        self.registry = Registry(ttl)
        self.ttl = ttl
        self._games: dict[str, Presence] = {}
        #: Whether a game ended (the store knows): its presence is dropped whenever nobody is left in it.
        self._over = over
        self._seq = 0

    def __len__(self) -> int:
        """Games whose presence is kept here."""
        return len(self._games)

    # -- for the store's appends (synchronous: the same memory) ---------------------

    def seq(self, game_id: str) -> int | None:
        """The ``seq`` of the game's presence, if it has one: what a conditional append compares."""
        presence = self._games.get(game_id)
        return presence.seq if presence is not None else None

    def ended(self, game_id: str) -> None:
        self._drop_if_empty(game_id)

    def forget(self, game_id: str) -> None:
        self._games.pop(game_id, None)

    # -- Seats ----------------------------------------------------------------------

    def _get(self, game_id: str, now: float) -> Presence:
        presence = self._games.get(game_id)
        if presence is None:
            presence = self._games[game_id] = msgspec.structs.replace(first_look(now), seq=self._next())
        return presence

    def _next(self) -> int:
        """One counter for every game: a presence dropped and made again never goes back in ``seq``."""
        self._seq += 1
        return self._seq

    def _set(self, game_id: str, presence: Presence) -> Presence:
        presence = msgspec.structs.replace(presence, seq=self._next())
        self._games[game_id] = presence
        self.bus.publish(game_id, PRESENCE, presence)
        self._drop_if_empty(game_id)
        return presence

    def _drop_if_empty(self, game_id: str) -> None:
        """An ended game's presence goes each time nobody is left in it (the game stays ended:
        a look makes a first one again, which goes in its turn)."""
        presence = self._games.get(game_id)
        if presence is not None and presence.red is None and presence.yellow is None and not presence.watching:
            if self._over(game_id):
                del self._games[game_id]

    async def take(self, game_id: str, colors: tuple[Player, ...], holder: Holder, now: float) -> Presence:
        return self._set(game_id, self._get(game_id, now).take(colors, holder))

    async def leave(self, game_id: str, holder: Holder, now: float) -> Presence:
        presence = self._get(game_id, now)
        left = presence.leave(holder, now)
        return presence if left is presence else self._set(game_id, left)

    async def watch(self, game_id: str, process: str, count: int, now: float) -> Presence:
        presence = self._get(game_id, now)
        if presence.watching.get(process, 0) == count:
            return presence
        return self._set(game_id, presence.watched(process, count))

    async def presence(self, game_id: str, now: float) -> Presence:
        return self._get(game_id, now)

    async def renew(self, process: str, now: float) -> None:
        self.registry.renew(process, now)

    async def stop(self, process: str, now: float) -> None:
        self.registry.stop(process, now)

    async def expiries(self, processes: set[str]) -> dict[str, float]:
        known = self.registry.expiries
        return {process: known[process] for process in processes if process in known}
