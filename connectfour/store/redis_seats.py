"""``Seats`` in Redis: each game's presence in ``cf:{<id>}:presence``, the registry of live
processes in ``cf:registry`` (a ZSET: process -> when its registration runs out).

A process named in a presence but absent from the registry registered before it took a
seat, so absent means pruned long ago: dead. Entries a day past their expiry are pruned
when any process renews.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, cast

import msgspec

from ..domain import Player
from ..domain.seats import TTL, Holder, Presence, decode_presence, encode_presence, first_look
from ..redis.client import FAILURES
from .base import StoreError
from .redis_functions import Functions, function_call
from .redis_layout import answered, exclusive, fields, game_keys
from .redis_routing import Router

if TYPE_CHECKING:
    from .seats import Seats

REGISTRY = b"cf:registry"
#: Registry entries this long past their expiry are pruned.
REGISTRY_KEPT = 86400.0
#: Attempts at a presence's change that keeps losing to other processes' changes.
PRESENCE_ATTEMPTS = 16


class PresenceArgs(NamedTuple):
    """The arguments of ``cf_presence`` (ARGV), in their order, as ``redis.lua`` names them
    at the top of its ``presence_write``."""

    #: The ``seq`` of the presence the change was made on, or empty if there was none.
    read: bytes
    #: The new presence's ``seq``, and its JSON (``encode_presence``).
    seq: bytes
    json: bytes
    #: ``1`` if nobody is in it (no seat held, no spectator), else ``0``.
    nobody: bytes
    #: ``1`` to announce it on the game's channel (as version 0), else ``0`` (a first look).
    announce: bytes


def next_seq(old: int) -> int:
    """A presence's next ``seq``: the time in microseconds, and always past the one before,
    so that a presence deleted and made again does not go back either."""
    return max(old + 1, time.time_ns() // 1000)


def stored_presence(fields: dict[bytes, bytes]) -> Presence | None:
    """The presence a ``cf:{<id>}:presence`` hash holds; None if there is none. A hash of the
    layout before ``json`` (one field per seat) is read too, and rewritten at its next change."""
    body = fields.get(b"json")
    if body:
        return decode_presence(body)
    seq = fields.get(b"seq")
    if seq is None:
        return None
    holders: dict[str, object] = {}
    for color in ("red", "yellow"):
        process, connection = fields.get(color.encode()), fields.get(f"{color}_c".encode())
        if process is not None and connection is not None:
            holders[color] = Holder(process.decode(), int(connection))
        left = fields.get(f"{color}_left".encode())
        if left is not None:
            holders[f"{color}_left"] = float(left)
    watching = {name[2:].decode(): int(count) for name, count in fields.items() if name.startswith(b"w:")}
    return Presence(seq=int(seq), watching=watching, **holders)  # type: ignore[arg-type]


class RedisSeats:
    """A change is made here, by ``Presence``'s own methods, on the presence as read; the
    ``cf_presence`` function writes it (and announces it as version 0) only if the stored
    one is still that one, and else answers the stored one to make the change on again:
    no rule of the seats is written twice."""

    def __init__(self, functions: Functions, router: Router, ttl: float = TTL) -> None:
        self._functions = functions
        #: A game's presence is read and written the appends' way (``Router.ask``).
        self._router = router
        self.ttl = ttl

    async def _read(self, game_id: str) -> Presence | None:
        (stored,) = await self._router.ask([("HGETALL", game_keys(game_id)[3])])
        return stored_presence(fields(stored, f"game {game_id}"))

    async def _change(
        self, game_id: str, now: float, change: Callable[[Presence], Presence], *, announce: bool = True
    ) -> Presence:
        """Make ``change`` on the stored presence (a first look at ``now`` if there is none) and
        store it, again on the newer one each time another process changed it first."""
        keys = game_keys(game_id)
        current = await self._read(game_id)
        for _ in range(PRESENCE_ATTEMPTS):
            base = current if current is not None else first_look(now)
            changed = change(base)
            if changed is base and current is not None:
                return current  # nothing to change
            made = msgspec.structs.replace(changed, seq=next_seq(base.seq if current is not None else 0))
            args = PresenceArgs(
                read=b"%d" % current.seq if current is not None else b"",
                seq=b"%d" % made.seq,
                json=encode_presence(made),
                nobody=b"1" if made.red is None and made.yellow is None and not made.watching else b"0",
                announce=b"1" if announce else b"0",
            )
            (answer,) = await self._router.ask([function_call("cf_presence", (keys[3], keys[1]), args)])
            answered(answer, f"game {game_id}")
            if answer == 1:
                return made
            seq, body = cast("list[bytes]", answer)
            current = decode_presence(body) if seq and body else None  # (an older layout's: made anew)
        raise StoreError(f"game {game_id}: its presence kept changing")

    async def take(self, game_id: str, colors: tuple[Player, ...], holder: Holder, now: float) -> Presence:
        return await self._change(game_id, now, lambda presence: presence.take(colors, holder))

    async def leave(self, game_id: str, holder: Holder, now: float) -> Presence:
        return await self._change(game_id, now, lambda presence: presence.leave(holder, now))

    async def watch(self, game_id: str, process: str, count: int, now: float) -> Presence:
        def watched(presence: Presence) -> Presence:
            return presence if presence.watching.get(process, 0) == count else presence.watched(process, count)

        return await self._change(game_id, now, watched)

    async def presence(self, game_id: str, now: float) -> Presence:
        """The game's presence; a first look, stored unannounced, if it had none."""
        return await self._change(game_id, now, lambda presence: presence, announce=False)

    async def renew(self, process: str, now: float) -> None:
        try:
            pipe = self._functions.client.pipeline(transaction=False)
            pipe.zadd(REGISTRY, {process: now + self.ttl})
            pipe.zremrangebyscore(REGISTRY, "-inf", exclusive(now - REGISTRY_KEPT))
            await pipe.execute()
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc

    async def stop(self, process: str, now: float) -> None:
        try:
            await self._functions.client.zadd(REGISTRY, {process: now}, lt=True)
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc

    async def expiries(self, processes: set[str]) -> dict[str, float]:
        if not processes:
            return {}
        named = list(processes)
        try:
            scores = await self._functions.client.zmscore(REGISTRY, named)
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc
        return {process: score for process, score in zip(named, scores) if score is not None}


if TYPE_CHECKING:  # mypy checks that this is what the service takes

    def _seats(seats: RedisSeats) -> Seats:
        return seats
