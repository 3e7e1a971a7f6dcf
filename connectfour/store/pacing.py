"""When a store's next write may go: at once, unless the writes are crowded.

A write (the SQLite journal's, a batch to Redis) costs about the same
whatever it carries, so under load a store spaces its writes ``interval``
apart and each carries more changes: a group commit. Only under load: a
write that carried fewer than ``crowd`` changes shows that they come
slowly, and then the next write goes at once, so that a change in a quiet
moment, or at a rate the interval would barely group, waits for nothing.
Once writes carry ``crowd`` changes or more (several came in one turn of
the event loop), the next waits out the interval, and goes on waiting while
each interval gathers that many: a store is paced from about
``crowd / interval`` changes a second.
"""

from __future__ import annotations

import math

#: The least changes a write carries for the next one to wait out the interval.
CROWD = 4


class Pacing:
    """The pacing of one store's writes: ``wrote`` after each, ``not_before`` for the next."""

    __slots__ = ("interval", "crowd", "not_before")

    def __init__(self, interval: float = 0.0, crowd: int = CROWD) -> None:
        if crowd < 1:
            raise ValueError(f"a crowd is one change or more, not {crowd}")
        #: The longest a change waits for others to share its write (seconds; 0: never).
        self.interval = interval
        self.crowd = crowd
        #: The loop's time before which the next write does not go (``-inf``: at once).
        self.not_before = -math.inf

    def wrote(self, changes: int, now: float) -> None:
        """A write of ``changes`` went at ``now`` (the loop's time)."""
        self.not_before = now + self.interval if changes >= self.crowd else -math.inf
