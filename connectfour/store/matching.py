"""The quick-match queue: players waiting for "Play someone", shared by every process.

A waiting player hosts a game nobody can find but through this queue; its
ticket names that game and its invite. Whoever comes next takes the oldest
ticket and joins that game as its guest, so the two longest-waiting players
are paired, wherever each is connected. Taking a ticket and queueing one's
own are one atomic step (``offer``): two players arriving at once on two
processes cannot both end up waiting.

A ticket lasts ``ttl`` seconds unless the waiting player's process renews it
(its heartbeat does), so the tickets of a process that died go by
themselves; a player who leaves or cancels withdraws it at once.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from ..domain.seats import TTL


class Ticket(msgspec.Struct, frozen=True, gc=False):
    """A player waiting for a quick match: the game it hosts, that game's invite, and the
    pool it waits in: its time control (``"3+2"``), empty for an untimed game. Only
    players of one pool are paired."""

    game: str
    join: str
    pool: str = ""


class MatchQueue(Protocol):
    @property
    def ttl(self) -> float:
        """Seconds a ticket lasts unless renewed."""

    async def take(self, now: float, pool: str = "") -> Ticket | None:
        """Take the oldest live ticket of ``pool`` out of the queue; None when nobody waits."""

    async def offer(self, ticket: Ticket, now: float) -> Ticket | None:
        """Take the oldest live ticket of ``ticket``'s pool, or, when nobody waits there, queue
        ``ticket`` (and return None). A ticket still queued stays as it is (None): a player is
        never paired with itself."""

    async def cancel(self, game_id: str, pool: str = "") -> bool:
        """Withdraw the ticket of ``game_id``; False if it was no longer queued (someone took it)."""

    async def renew(self, game_ids: list[str], now: float) -> None:
        """The players of these tickets still wait: each lasts another ``ttl`` from ``now``."""


class LocalMatchQueue:
    """The queue in this process's memory: for the stores whose processes share it."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        # Per pool; insertion order is queue order: the oldest ticket first.
        self._queues: dict[str, dict[str, tuple[Ticket, float]]] = {}

    def _pop(self, now: float, pool: str) -> Ticket | None:
        queue = self._queues.get(pool)
        while queue:
            game_id = next(iter(queue))
            ticket, expires = queue.pop(game_id)
            if expires > now:
                return ticket
        return None

    async def take(self, now: float, pool: str = "") -> Ticket | None:
        taken = self._pop(now, pool)
        self._tidy(pool)
        return taken

    async def offer(self, ticket: Ticket, now: float) -> Ticket | None:
        queue = self._queues.setdefault(ticket.pool, {})
        queued = queue.get(ticket.game)
        if queued is not None and queued[1] > now:
            return None  # it waits already (another tab of the same player): never paired with itself
        taken = self._pop(now, ticket.pool)
        if taken is None:
            queue[ticket.game] = (ticket, now + self.ttl)
        self._tidy(ticket.pool)
        return taken

    async def cancel(self, game_id: str, pool: str = "") -> bool:
        queue = self._queues.get(pool, {})
        withdrawn = queue.pop(game_id, None) is not None
        self._tidy(pool)
        return withdrawn

    @property
    def pools(self) -> int:
        """How many pools hold a ticket (an empty one is not kept)."""
        return len(self._queues)

    def _tidy(self, pool: str) -> None:
        """An empty pool goes: a client choosing ever new time controls leaves nothing behind."""
        if not self._queues.get(pool, True):
            del self._queues[pool]

    async def renew(self, game_ids: list[str], now: float) -> None:
        for queue in self._queues.values():
            for game_id in game_ids:
                queued = queue.get(game_id)
                if queued is not None and queued[1] > now:
                    queue[game_id] = (queued[0], now + self.ttl)  # (an existing key keeps its place)
