"""A game's clocks: time controls, and each side's time as the events' times make it.

Nothing ticks. A clock is the sum of what the events say: each move is
stored with the time it was made (``Moved.at``), so the time a side has left
is its starting time, less the time it spent on its timed moves, plus its
increments, less, for the side to move, the time since its turn began. Any
process reaches the same figures from the same log, after a restart or on
another machine, and the moment a flag falls (``Clock.deadline``) is a pure
function of the log too: whoever looks first may end the game, and the
store's compare-and-append lets exactly one end (or move) in.

The rules, as on the real-time game sites:

- ``TimeControl``: minutes each side starts with, and seconds added after
  each of its moves (Fischer increment), written ``"3+2"``.
- The first move of each side is not timed: a side's clock starts with its
  turn after both sides moved once. Each first move must come within
  ``ABORT_AFTER`` seconds of its turn (for the first player, from the game's
  start: both seats taken), or the game is aborted: nobody wins.
- From then on, the side to move loses on time once its time runs out,
  whether or not anyone noticed at that moment: a move stored after the
  deadline does not count.
"""

from __future__ import annotations

import math
import re

import msgspec

from . import PLAYERS, RED, Player, other

#: Seconds each side has for its first move before the game is aborted.
ABORT_AFTER = 30.0
#: Bounds of a time control: minutes each side starts with, seconds added per move.
MAX_MINUTES = 180.0
MAX_INCREMENT = 60.0
#: "minutes+seconds", e.g. "3+2", "0.5+0", "10+5".
_SPEC = re.compile(r"(\d{1,3}(?:\.\d{1,2})?)\+(\d{1,2})")


class TimeControl(msgspec.Struct, frozen=True, gc=False):
    """Each side starts with ``initial`` seconds and gains ``increment`` after each timed move."""

    initial: float
    increment: float = 0.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= MAX_MINUTES * 60) or not math.isfinite(self.initial):
            raise ValueError(f"a clock starts with more than 0 and at most {MAX_MINUTES:g} minutes")
        if not (0 <= self.increment <= MAX_INCREMENT) or not math.isfinite(self.increment):
            raise ValueError(f"an increment is 0 to {MAX_INCREMENT:g} seconds")

    @classmethod
    def parse(cls, text: str) -> TimeControl:
        """``"3+2"``: 3 minutes each, 2 seconds more after each move. ValueError if not so."""
        match = _SPEC.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"a time control is minutes+seconds, such as 3+2, not {text!r}")
        return cls(float(match[1]) * 60, float(match[2]))

    def __str__(self) -> str:
        return f"{self.initial / 60:g}+{self.increment:g}"


class Clock:
    """Both sides' time in one game, taken forward event by event (``GameState`` drives it)."""

    __slots__ = ("control", "left", "turn", "since", "plies", "running")

    def __init__(self, control: TimeControl) -> None:
        self.control = control
        #: Seconds each side had when its current (or next) turn began.
        self.left: dict[Player, float] = dict.fromkeys(PLAYERS, control.initial)
        #: Whose turn it is, and since when (None before the game started: a seat is free).
        self.turn: Player = RED
        self.since: float | None = None
        #: Moves made so far (each side's first is not timed).
        self.plies = 0
        #: Whether the side to move is on its clock (both sides moved once), not on the abort's.
        self.running = False

    def start(self, at: float, first: Player = RED) -> None:
        """Both seats are taken: the first player's turn (and its abort window) begins."""
        if self.since is None:
            self.turn, self.since = first, at

    def moved(self, player: Player, at: float) -> None:
        """``player`` moved at ``at`` (checked already: in time, and its turn)."""
        since = self.since if self.since is not None else at
        if self.running:
            self.left[player] += self.control.increment - max(0.0, at - since)
        self.plies += 1
        self.turn, self.since = other(player), at
        self.running = self.plies >= 2

    def took_back(self, plies: int, at: float) -> None:
        """``plies`` moves were taken back at ``at``: the side to move then is on turn from
        ``at``; the time spent meanwhile stays spent (it was the side to move's)."""
        since = self.since if self.since is not None else at
        if self.running:
            self.left[self.turn] -= max(0.0, at - since)
        self.plies = max(0, self.plies - plies)
        if plies % 2:
            self.turn = other(self.turn)
        self.since = at
        self.running = self.plies >= 2

    # -- what the events make of it ----------------------------------------------

    def remaining(self, player: Player, now: float) -> float:
        """Seconds ``player`` has at ``now`` (never below 0): its own, less the running turn's."""
        left = self.left[player]
        if self.running and player == self.turn and self.since is not None:
            left -= max(0.0, now - self.since)
        return max(0.0, left)

    @property
    def deadline(self) -> float | None:
        """When the side to move runs out: of time (``running``), or of the window for its first
        move (the game is aborted then); None before the game started."""
        if self.since is None:
            return None
        if self.running:
            return self.since + self.left[self.turn]
        return self.since + ABORT_AFTER

    def expired(self, now: float) -> bool:
        """Whether the side to move's time (or first-move window) is over at ``now``."""
        deadline = self.deadline
        return deadline is not None and now >= deadline

    def spent(self, player: Player, at: float) -> float:
        """Seconds a move of ``player`` at ``at`` took (its turn began at ``since``)."""
        return max(0.0, at - self.since) if self.since is not None and player == self.turn else 0.0
