"""The service's side of a test without sockets: connections that keep what
they are sent, and a clock with a scheduler that the test moves by hand."""

from __future__ import annotations

import json


class Member:
    """A connection as a service sees it, keeping what it is sent."""

    speaks_v1 = True
    #: As a connection whose peer reads everything: nothing it is sent waits.
    lagging = False

    def __init__(self, client: str = "127.0.0.1") -> None:
        #: Whose connection it is (an address), as the lobby's fairness counts them.
        self.client = client
        self.events: list[dict] = []
        self.closed: tuple[int, str] | None = None

    def send(self, payload: bytes) -> None:
        self.events.append(json.loads(payload))

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def of(self, type_: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type_]


class Timers:
    """A clock and a scheduler the test moves by hand, shared by every service of a test:
    a grace period passes when the test says."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.due: list[tuple[float, int, object]] = []
        self._count = 0

    def clock(self) -> float:
        return self.now

    def schedule(self, delay: float, callback):
        self._count += 1
        entry = (self.now + delay, self._count, callback)
        self.due.append(entry)
        timers = self

        class Handle:
            def cancel(self) -> None:
                if entry in timers.due:
                    timers.due.remove(entry)

        return Handle()

    def advance(self, seconds: float) -> None:
        """Run what falls due, in time order; a callback may cancel or add others."""
        self.now += seconds
        while True:
            ready = sorted(e for e in self.due if e[0] <= self.now)
            if not ready:
                return
            self.due.remove(ready[0])
            ready[0][2]()
