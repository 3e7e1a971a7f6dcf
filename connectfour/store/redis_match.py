"""The quick-match queue kept in Redis, for every process of a Redis store.

Each operation is one call of a function of ``redis_match.lua``: taking the
oldest live ticket and queueing one's own when there is none happen in one
step, so two processes cannot both queue players who should be paired.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from redis.exceptions import ResponseError

from ..domain.seats import TTL
from ..redis.client import FAILURES
from .base import StoreError
from .matching import Ticket
from .redis_functions import Functions
from .redis_layout import encode_time

LIBRARY = (Path(__file__).parent / "redis_match.lua").read_text()
#: Every key shares one hash tag: one Cluster slot. A queue per pool (untimed: the first), one
#: hash of every pool's tickets.
QUEUE = b"cf:{cf:match}:queue"
TICKETS = b"cf:{cf:match}:tickets"


def queue_of(pool: str) -> bytes:
    """The queue of a pool of players: those who chose one time control (``""``: untimed)."""
    return QUEUE + b":" + pool.encode() if pool else QUEUE


class RedisMatchQueue:
    def __init__(self, functions: Functions, ttl: float = TTL) -> None:
        self._functions = functions
        self.ttl = ttl

    async def _call(self, function: str, *args: bytes, pool: str = "") -> Any:
        functions = self._functions
        try:
            return await functions.call(function, (queue_of(pool), TICKETS), args, library=LIBRARY)
        except ResponseError as exc:
            raise StoreError(f"quick match: {exc}") from None
        except FAILURES as exc:
            raise functions.failed(exc, "quick match") from exc

    @staticmethod
    def _ticket(found: Any, pool: str) -> Ticket | None:
        if not found:
            return None
        game, join = cast("list[bytes]", found)
        return Ticket(game.decode(), join.decode(), pool)

    async def take(self, now: float, pool: str = "") -> Ticket | None:
        return self._ticket(await self._call("cf_match_take", encode_time(now), pool=pool), pool)

    async def offer(self, ticket: Ticket, now: float) -> Ticket | None:
        found = await self._call(
            "cf_match_take",
            encode_time(now),
            ticket.game.encode(),
            ticket.join.encode(),
            encode_time(self.ttl),
            pool=ticket.pool,
        )
        return self._ticket(found, ticket.pool)

    async def cancel(self, game_id: str, pool: str = "") -> bool:
        return bool(await self._call("cf_match_cancel", game_id.encode(), pool=pool))

    async def renew(self, game_ids: list[str], now: float) -> None:
        if game_ids:
            await self._call("cf_match_renew", encode_time(now), encode_time(self.ttl), *(g.encode() for g in game_ids))
