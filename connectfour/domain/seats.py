"""Seats held from any process: a seat's holder is a connection of some process,
and it holds the seat only while that process is alive.

A process proves it is alive by renewing its registration before ``ttl``
runs out (one renewal per process, not one per seat). When it stops (a
crash, ``kill -9``), each seat it held turns disconnected at the moment its
registration ran out, and the grace period for a claim starts then: so a
process's death frees its seats within ``ttl`` seconds and loses no timer,
since every deadline is computed from stored times, by whichever process
looks. A resume on another process takes the seat; the old holder's
process sees in the next ``Presence`` that its connection no longer holds
the seat, and closes it (``replaced``).

Pure values with the time passed in: the shared store keeps them (in
memory for one process, in Redis for many) and announces each new
``Presence`` of a game on the bus, where the latest ``seq`` wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import msgspec

from . import PLAYERS, Player, SeatState

#: Seconds a process's registration lasts; it renews it every third of that.
TTL = 15.0
#: Registration expiries, by process: when each one's seats are free from.
Expiries = Mapping[str, float]


class Holder(NamedTuple):
    process: str
    connection: int


class Registry:
    """Which processes are alive: each renews its registration before ``ttl`` runs out."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self.expiries: dict[str, float] = {}

    def renew(self, process: str, now: float) -> None:
        self.expiries[process] = now + self.ttl

    def stop(self, process: str, now: float) -> None:
        """A clean stop: its seats are free from now."""
        self.expiries[process] = min(self.expiries.get(process, now), now)

    def alive(self, process: str, now: float) -> bool:
        return self.expiries.get(process, float("-inf")) > now


class Presence(msgspec.Struct, frozen=True, omit_defaults=True):
    """One game's seats and audience, as every process sees them."""

    #: Grows with every change: of two presences of a game, the later has the larger.
    seq: int = 0
    red: Holder | None = None
    yellow: Holder | None = None
    #: When each seat was last left (or first looked at, free); None while held.
    red_left: float | None = None
    yellow_left: float | None = None
    #: Spectators by process.
    watching: dict[str, int] = {}

    def holder(self, color: Player) -> Holder | None:
        return self.red if color == "red" else self.yellow

    def live_holder(self, color: Player, expiries: Expiries, now: float) -> Holder | None:
        """The seat's holder, if its process is alive."""
        holder = self.holder(color)
        if holder is not None and expiries.get(holder.process, float("-inf")) <= now:
            return None
        return holder

    def away_since(self, color: Player, expiries: Expiries, now: float) -> float | None:
        """Since when the seat has been free; None while held (or never held nor looked at)."""
        holder = self.holder(color)
        if holder is not None:
            ended = expiries.get(holder.process, float("-inf"))
            return ended if ended <= now else None
        return self.red_left if color == "red" else self.yellow_left

    def state(self, color: Player, expiries: Expiries, now: float, grace: float, *, invited: bool = False) -> SeatState:
        """How the seat looks to everyone; ``invited``: yellow's invite is still unspent."""
        if self.live_holder(color, expiries, now) is not None:
            return "connected"
        if invited:
            return "empty"
        since = self.away_since(color, expiries, now)
        return "gone" if since is not None and now - since >= grace else "disconnected"

    def claimable(self, color: Player, expiries: Expiries, now: float, grace: float) -> bool:
        """Whether ``color`` has been away at least ``grace`` seconds: its opponent may claim the win."""
        since = self.away_since(color, expiries, now)
        return since is not None and now - since >= grace

    def spectators(self, expiries: Expiries, now: float) -> int:
        """Spectators on processes that are alive."""
        return sum(n for process, n in self.watching.items() if expiries.get(process, float("-inf")) > now)

    def processes(self) -> set[str]:
        """Every process this presence names."""
        named = set(self.watching)
        for holder in (self.red, self.yellow):
            if holder is not None:
                named.add(holder.process)
        return named

    # -- changes: each returns the next presence --------------------------------

    def take(self, colors: tuple[Player, ...], holder: Holder) -> Presence:
        changes: dict[str, object] = {}
        for color in colors:
            changes[color] = holder
            changes[f"{color}_left"] = None
        return msgspec.structs.replace(self, seq=self.seq + 1, **changes)

    def leave(self, holder: Holder, now: float) -> Presence:
        """``holder`` closed its connection: the seats it still held are free from ``now``."""
        changes: dict[str, object] = {}
        for color in PLAYERS:
            if self.holder(color) == holder:
                changes[color] = None
                changes[f"{color}_left"] = now
        return msgspec.structs.replace(self, seq=self.seq + 1, **changes) if changes else self

    def watched(self, process: str, count: int) -> Presence:
        watching = dict(self.watching)
        if count:
            watching[process] = count
        else:
            watching.pop(process, None)
        return msgspec.structs.replace(self, seq=self.seq + 1, watching=watching)


def first_look(now: float) -> Presence:
    """A game's presence when nobody recorded one yet (a new game, or after a restart):
    both seats free since now, so a claim needs the full grace period from here."""
    return Presence(red_left=now, yellow_left=now)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Presence)


def encode_presence(presence: Presence) -> bytes:
    return _encoder.encode(presence)


def decode_presence(data: bytes | str) -> Presence:
    return _decoder.decode(data)
