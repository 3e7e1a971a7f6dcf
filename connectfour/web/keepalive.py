"""Finding dead peers: ping a connection that went quiet, cut it when that ping
goes unanswered for the timeout.

A connection notes only that it heard from its peer (a message or a pong);
the sweep keeps the clock, so one sweep serves every connection and tests
drive it with a clock of their own. A peer is never cut unless a ping of
ours has waited at least ``timeout`` seconds for its pong, however late a
sweep runs.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterable
from typing import Protocol

_STAMP = struct.Struct("!d")


class Pingable(Protocol):
    #: Set by the connection on every message or pong from the peer; cleared by a sweep.
    heard: bool
    #: When our unanswered ping went out, or None.
    pinged_at: float | None

    def ping(self, payload: bytes) -> None: ...

    def abort(self, reason: str) -> None: ...


def ping_payload(pinged_at: float) -> bytes:
    """A ping carries when it was sent, so that only its own pong answers it."""
    return _STAMP.pack(pinged_at)


class Keepalive:
    def __init__(self, interval: float, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.timeout = timeout
        self.clock = clock

    def sweep(self, connections: Iterable[Pingable]) -> tuple[int, int]:
        """One round: ping the quiet, cut the unanswered; (pinged, cut).

        Run it every ``interval`` seconds: a connection silent for a whole
        round is pinged, and cut on the first round at least ``timeout``
        after that ping if no pong came back.
        """
        now = self.clock()
        pinged = cut = 0
        for conn in list(connections):
            if conn.pinged_at is not None:
                if now - conn.pinged_at >= self.timeout:
                    conn.abort(f"no pong within {self.timeout:g}s")
                    cut += 1
            elif conn.heard:
                conn.heard = False
            else:
                conn.pinged_at = now
                conn.ping(ping_payload(now))
                pinged += 1
        return pinged, cut


def answers(pinged_at: float | None, payload: bytes) -> bool:
    """Whether a pong carrying ``payload`` answers the ping sent at ``pinged_at``."""
    return pinged_at is not None and payload == _STAMP.pack(pinged_at)
