"""A timed game's clocks as the terminal shows them: the last ``clock`` the server
sent, counted down on this machine's own clock from the moment it arrived (the
server's ``at`` is on another machine's clock: only the time since arrival is
trusted), and written as one line, mm:ss, with tenths under 10 s."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from ...domain.clock import ABORT_AFTER, TimeControl
from ...protocol.server_messages import ClockView
from ..safe import clean
from .screen import Screen

#: The most seconds a clock line shows (999:59): a server's figure beyond it is shown as that.
MOST = 999 * 60 + 59.0
#: Under this many seconds left, tenths are shown (and, on a terminal, refreshed).
TENTHS_UNDER = 10.0


def clock_text(seconds: float) -> str:
    """``02:53``; ``00:09.4`` under 10 s. Never rounded up: it shows no time a side has not got."""
    if not math.isfinite(seconds):
        return "--:--"
    seconds = min(max(seconds, 0.0), MOST)
    if seconds < TENTHS_UNDER:
        return f"00:0{math.floor(seconds * 10) / 10:.1f}"
    whole = math.floor(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def rules_line(control: str) -> str:
    """What a game on ``control`` is, said once as it starts."""
    try:
        parsed = TimeControl.parse(control)
    except ValueError:
        return f"A game on a clock ({clean(control, 12)})."
    each = f"{parsed.initial / 60:g} minute{'s' if parsed.initial != 60 else ''} each"
    more = f", and {parsed.increment:g} s more after each move" if parsed.increment else ""
    return f"A game on a clock: {each}{more}. A first move not made within {ABORT_AFTER:g} s aborts the game."


@dataclass(frozen=True)
class Clocks:
    """Both sides' time, as the server last told it, ``received`` on this machine's clock."""

    view: ClockView
    received: float
    #: Whose first move is due (the side to move) while ``first_move_in`` counts down.
    turn: str | None = None

    def left(self, player: str, now: float) -> float:
        """Seconds ``player`` has at ``now``: the running side's counted down since the view arrived."""
        value = self.view.red if player == "red" else self.view.yellow
        if self.view.runs == player:
            value -= max(0.0, now - self.received)
        return max(0.0, value) if math.isfinite(value) else value

    def first_move_in(self, now: float) -> float | None:
        """Seconds left for the first move due before the game is aborted; None once both sides moved."""
        if self.view.first_move_in is None:
            return None
        return max(0.0, self.view.first_move_in - max(0.0, now - self.received))

    @property
    def counting(self) -> bool:
        """Whether anything counts down: a side's clock, or the first move's window."""
        return self.view.runs is not None or self.view.first_move_in is not None

    def stopped(self, now: float, loser_on_time: str | None = None) -> Clocks:
        """The clocks as they stand at ``now``, stopped (the game ended); the side that lost on
        time at zero, whatever this machine counted."""
        red, yellow = self.left("red", now), self.left("yellow", now)
        if loser_on_time == "red":
            red = 0.0
        elif loser_on_time == "yellow":
            yellow = 0.0
        view = ClockView(control=self.view.control, red=red, yellow=yellow, at=self.view.at)
        return Clocks(view, now)

    def next_change(self, now: float, step: float) -> float | None:
        """Seconds until the countdown next crosses a multiple of ``step`` (a new figure to show);
        None when nothing counts down."""
        if self.view.runs is not None:
            value = self.left(self.view.runs, now)
            step = min(step, 1.0) if value < TENTHS_UNDER else 1.0
        else:
            first = self.first_move_in(now)
            if first is None:
                return None
            value, step = first, 1.0  # shown in whole seconds
        if not math.isfinite(value) or value <= 0:
            return None  # at zero: the server's word on the end comes next
        delay = value - step * math.floor(value / step)
        return delay + 0.001 if delay > 0.001 else step

    def line(self, you: str | None, now: float) -> str:
        """``Clock 3+2: Red (you) 02:53 (running) | Yellow 02:41``, and the first move's countdown."""
        sides = []
        for player in ("red", "yellow"):
            name = player.capitalize() + (" (you)" if you == player else "")
            running = " (running)" if self.view.runs == player else ""
            sides.append(f"{name} {clock_text(self.left(player, now))}{running}")
        text = f"Clock {clean(self.view.control, 12)}: {' | '.join(sides)}"
        first = self.first_move_in(now)
        if first is not None and self.turn is not None:
            whose = "your" if you == self.turn else f"{self.turn.capitalize()}'s"
            within = f"{math.ceil(min(first, MOST))} s" if math.isfinite(first) else "-- s"
            text += f" | {whose} first move within {within}"
        return text


class ClockLine:
    """The clocks of the game on screen, as a status line: shown when the server tells them,
    counted down on ``now`` (this machine's clock, in seconds; injected by tests) in between,
    and stopped at the end. ``changed`` is set on news, for the refresher (``ticking.py``)."""

    def __init__(self, screen: Screen, now: Callable[[], float]) -> None:
        self.screen = screen
        self.now = now
        self.clocks: Clocks | None = None
        self.you: str | None = None
        self.changed = asyncio.Event()

    def set(self, view: ClockView | None, turn: str | None, you: str | None) -> None:
        """A clock from the server (None: the game is untimed): shown at once, counted from now."""
        self.you = you
        if view is None:
            self.clocks = None
            self.screen.end_status()
            return
        clocks = self.clocks = Clocks(view, self.now(), turn)
        self.screen.status(clocks.line(you, self.now()))
        if clocks.counting:
            self.changed.set()
        else:
            self.screen.end_status()  # stopped: the line stays as it is, an ordinary one

    def refresh(self) -> float | None:
        """Show the clocks as they stand now, while they count down; the seconds until their
        figures change (None: they do not)."""
        clocks = self.clocks
        if clocks is None or not clocks.counting:
            return None
        now = self.now()
        self.screen.status(clocks.line(self.you, now))
        return clocks.next_change(now, 0.1 if self.screen.tty else 1.0)

    def first_move_due(self, turn: str | None) -> None:
        """The opponent sat down: a timed game's first move is due from now. (The server tells
        the guest so in its ``state``, but the host only sees the seat taken: counted from here.)"""
        clocks = self.clocks
        if clocks is not None and not clocks.counting:
            self.set(msgspec.structs.replace(clocks.view, first_move_in=ABORT_AFTER), turn, self.you)

    def stop(self, loser_on_time: str | None = None) -> None:
        """The game ended: the clocks stop where they stand (the loser on time at zero)."""
        if self.clocks is not None and self.clocks.counting:
            self.set(self.clocks.stopped(self.now(), loser_on_time).view, None, self.you)
