"""One game as this process follows it: the state its events made, the
presence every process shares, and the connections attached here.

A process owns no game. It follows each game it has members in by applying
the game's stored events in version order (``inbox``), whichever process
stored them, and fans each out to its own connections, encoded once per
protocol flavour. Seats and spectators live in the shared ``Presence``; the
process only remembers which of its connections hold which seat.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec

from ..bus import Inbox
from ..domain import PLAYERS, RED, YELLOW, Player, Role, SeatState, rulebook
from ..domain.events import Event
from ..domain.seats import Holder, Presence
from ..domain.state import GameState
from ..protocol import encode, encode_legacy
from ..protocol.legacy import replay
from ..protocol.server_messages import PresenceEvent, ServerEvent, StateEvent
from ..rules import Board
from . import views

log = logging.getLogger("connectfour.game")

#: Spectators coming and going are told to everyone at most this often (seconds);
#: without it, N spectators arriving would cost N * N frames.
PRESENCE_DELAY = 0.25
#: The key of the computer's pending move among a game's timers.
COMPUTER_TIMER = "computer"
#: The key of the timer that shows a seat turning "gone" when its grace period ends.
GRACE_TIMER = "grace"
#: The key of the timer that tells the shared presence how many spectators are here.
WATCH_TIMER = "watch"


class Timer(Protocol):
    def cancel(self) -> None: ...


Scheduler = Callable[[float, Callable[[], None]], Timer]


class Member(Protocol):
    """A connection as the service sees it: the edge frames and writes."""

    speaks_v1: bool  # negotiated connectfour.v1
    #: Whose connection it is, as the limits per address count clients (an address, an
    #: IPv6 client's network): what the lobby keeps fair between.
    client: str

    def send(self, payload: bytes) -> None:
        """Queue one text frame; never blocks."""

    def close(self, code: int, reason: str) -> None:
        """Close the connection soon; frames already queued go out first."""

    @property
    def lagging(self) -> bool:
        """The peer has not read what it was sent: what can wait (the lobby) does."""


def send_event(member: Member, event: ServerEvent) -> None:
    if member.speaks_v1:
        member.send(encode(event))
    else:
        for frame in encode_legacy(event):
            member.send(frame)


def colors_of(role: Role) -> tuple[Player, ...]:
    """The seats a role holds."""
    if role == "both":
        return PLAYERS
    if role == "spectator":
        return ()
    return (role,)


class Game:
    """A game followed by this process, with the connections attached to it here."""

    __slots__ = (
        "state", "id", "inbox", "last", "presence", "expiries", "process", "members", "arriving", "holders",
        "spectators_here", "spectators_told", "thinking", "reading_back", "lost", "to_rematch", "touched_at",
        "_grace", "_schedule", "_clock", "_timers", "_here", "_last_presence", "_listening",
    )  # fmt: skip

    def __init__(
        self,
        state: GameState,
        presence: Presence,
        *,
        process: str,
        grace: float,
        schedule: Scheduler,
        clock: Callable[[], float] = time.time,
        last: Event | None = None,
    ) -> None:
        self.state = state
        self.id = state.id
        self.inbox: Inbox[Event] = Inbox(state.version)
        #: The event at ``inbox.version``, as applied here: what the store must still hold
        #: there (``Following.catch_up``); another one means it lost what we saw.
        self.last = last
        #: The latest presence seen, and when the processes it names stop being alive.
        self.presence = presence
        self.expiries: dict[str, float] = {process: float("inf")}
        self.process = process
        self.members: dict[Member, Role] = {}
        #: Requests under way that will attach a connection (or give up): the game is
        #: not let go meanwhile, though nobody is attached yet.
        self.arriving = 0
        #: The seats held by connections of this process, with the holder each is known by.
        self.holders: dict[Member, Holder] = {}
        #: Spectators here, and how many the shared presence was last told.
        self.spectators_here = 0
        self.spectators_told = 0
        #: The computer's move is scheduled or being searched.
        self.thinking = False
        #: A read of the store is under way to fill a gap in the events.
        self.reading_back = False
        #: The store lost events this copy applied (``Following.rewound``): it is let go of,
        #: and the game loaded again from what the store kept.
        self.lost = False
        #: Moving this process's members to the rematch, once it started.
        self.to_rematch: asyncio.Future[object] | None = None
        #: The latest activity this process knows the store has for the game.
        self.touched_at = state.updated_at
        self._grace = grace
        self._schedule = schedule
        self._clock = clock
        self._timers: dict[str, Timer] = {}
        #: The seats connections here hold (``_held_here``), kept as they change.
        self._here: frozenset[Player] = frozenset()
        self._last_presence: PresenceEvent | None = None
        #: Members here that hear presence (v1): a tutorial client hears none of it.
        self._listening = 0

    # -- derived state --------------------------------------------------------

    @property
    def board(self) -> Board:
        return self.state.board

    @property
    def local(self) -> bool:
        return self.state.local

    @property
    def over(self) -> bool:
        return self.state.result is not None

    @property
    def idle(self) -> bool:
        return not self.members and not self.arriving

    def think(self, timer: Timer) -> None:
        """The computer's move is scheduled (``timer``), then searched, until ``thought``."""
        self.thinking = True
        self.add_timer(COMPUTER_TIMER, timer)

    def lose(self) -> None:
        """The store lost events applied here: this copy is not the game any more."""
        self.lost = True

    def thought(self) -> None:
        self.thinking = False
        self.forget_timer(COMPUTER_TIMER)

    def touched(self, at: float) -> None:
        """The store has this activity stamp for the game now."""
        self.touched_at = max(self.touched_at, at)

    def start_reading_back(self) -> bool:
        """A read of the store to fill a gap starts, unless one is under way (False)."""
        if self.reading_back:
            return False
        self.reading_back = True
        return True

    def done_reading_back(self) -> None:
        self.reading_back = False

    def hold(self) -> None:
        """A request will attach a connection (or give up): the game stays followed meanwhile."""
        self.arriving += 1

    def let_go(self) -> None:
        self.arriving -= 1

    @property
    def computer(self) -> Player | None:
        return self.state.computer

    def holder_of(self, color: Player) -> Member | None:
        """The connection of this process holding ``color``, if any."""
        for member in self.holders:
            if color in colors_of(self.members[member]):
                return member
        return None

    def seats(self) -> rulebook.Seats:
        """The seats as this process sees them: the shared presence, and its own holders."""
        return rulebook.Seats(self.presence, self.expiries, self._grace, self._here)

    def seat_state(self, color: Player, now: float | None = None) -> SeatState:
        """How the seat looks at ``now`` (default: the clock); one event reads every seat at one instant."""
        now = self._clock() if now is None else now
        return rulebook.seat_state(self.state, self.seats(), color, now)

    def _away_since(self, color: Player, now: float) -> float | None:
        return rulebook.away_since(self.state, self.seats(), color, now)

    def claimable_in(self, color: Player, now: float | None = None) -> float | None:
        """Seconds until ``color``'s opponent may claim the win, while ``color`` is away."""
        now = self._clock() if now is None else now
        return rulebook.claimable_in(self.state, self.seats(), color, now)

    def spectators(self) -> int:
        """Spectators everywhere: those of live processes elsewhere, and ours as they are now."""
        others = self.presence.spectators(self.expiries, self._clock()) - self.presence.watching.get(self.process, 0)
        return others + self.spectators_here

    def token_role(self, token: str) -> Role | None:
        """The seat a token holds, compared in constant time; never the computer's."""
        state = self.state
        given = token.encode()
        matches: dict[Player, bool] = {
            RED: hmac.compare_digest(given, state.red_token.encode()),
            YELLOW: hmac.compare_digest(given, state.yellow_token.encode()),
        }
        return rulebook.role_of(state, matches)

    def snapshot(self, role: Role) -> StateEvent:
        """The whole ``state`` a connection of ``role`` is sent, as of now."""
        return views.state_view(self.state, self.seats(), role, self._clock(), self.spectators())

    def presence_event(self, now: float) -> PresenceEvent:
        return views.presence_view(self.state, self.seats(), now, self.spectators())

    # -- members --------------------------------------------------------------

    def add(self, member: Member, role: Role, holder: Holder | None) -> None:
        """Attach a connection; it gets the snapshot (a tutorial client, the replay) before any later event."""
        self.members[member] = role
        if holder is None:
            self.spectators_here += 1
        else:
            self.holders[member] = holder
            self._here = self._held_here()
        if member.speaks_v1:
            self._listening += 1
            if self._listening == 1:  # the first here to hear presence: an away seat's grace matters again
                self._wake_after_grace(self._clock())
            send_event(member, self.snapshot(role))
        else:  # the tutorial's replay: the moves so far and the result, none of the snapshot's seats
            result = self.state.result
            winner = result if result == RED or result == YELLOW else None
            for frame in replay(self.state.board.moves, winner, result == "draw"):
                member.send(frame)

    def remove(self, member: Member) -> tuple[Role | None, Holder | None]:
        role = self.members.pop(member, None)
        if role is not None and member.speaks_v1:
            self._listening -= 1
        holder = self.holders.pop(member, None)
        if role == "spectator":
            self.spectators_here -= 1
        if holder is not None:
            self._here = self._held_here()
        return role, holder

    def _held_here(self) -> frozenset[Player]:
        """The seats connections of this process hold (kept: every seat's look reads it)."""
        return frozenset(color for member in self.holders for color in colors_of(self.members[member]))

    # -- presence ---------------------------------------------------------------

    def follow(self, presence: Presence) -> bool:
        """Take a presence unless it is older than the one held; whether it was taken.
        (One as old replaces it: this process's own guess of it, say.)"""
        if presence.seq < self.presence.seq:
            return False
        self.presence = presence
        return True

    def replaced(self) -> list[Member]:
        """Connections here holding a seat the shared presence gives to another holder."""
        return [
            member
            for member, holder in self.holders.items()
            if any(self.presence.holder(color) != holder for color in colors_of(self.members[member]))
        ]

    def tell_presence(self) -> None:
        """Tell everyone here how the seats and the audience stand, if that changed,
        and wake up again when an away seat's grace period runs out. One instant decides both, so a
        timer that fires a hair early wakes up again rather than leaving a seat "disconnected" for good.
        With nobody here who hears presence (tutorial clients only) there is nothing to tell, nor
        to wake up for, until someone who does arrives (``add``)."""
        self.cancel_timer(GRACE_TIMER)
        if not self._listening:
            self._last_presence = None
            return
        now = self._clock()
        event = self.presence_event(now)
        if event != self._last_presence:
            self._last_presence = event
            if self.state.clock is not None:  # (the clocks as of now: not part of what changed)
                event = msgspec.structs.replace(event, clock=views.clock_view(self.state, now))
            self.broadcast(event)
        self._wake_after_grace(now)

    def _wake_after_grace(self, now: float) -> None:
        """Tell presence again when the first away seat's grace period runs out."""
        waits = []
        for color in PLAYERS:
            since = self._away_since(color, now)
            if since is not None and now - since < self._grace:  # away, not for the whole grace period yet
                waits.append(since + self._grace - now)
        if waits:
            self._timers[GRACE_TIMER] = self._schedule(max(0.0, min(waits)), self.tell_presence)

    # -- timers -----------------------------------------------------------------

    def add_timer(self, key: str, timer: Timer) -> None:
        """Keep a timer that ``close`` cancels."""
        self.cancel_timer(key)
        self._timers[key] = timer

    def has_timer(self, key: str) -> bool:
        return key in self._timers

    def forget_timer(self, key: str) -> None:
        self._timers.pop(key, None)

    def cancel_timer(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def close(self) -> None:
        """Drop timers: the game leaves this process's memory."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # -- fan-out --------------------------------------------------------------

    def broadcast(self, event: ServerEvent) -> None:
        """Send ``event`` to every member, encoding it once per protocol flavour."""
        v1: bytes | None = None
        legacy: Sequence[bytes] | None = None
        for member in self.members:
            if member.speaks_v1:
                if v1 is None:
                    v1 = encode(event)
                member.send(v1)
            else:
                if legacy is None:
                    legacy = encode_legacy(event)
                for frame in legacy:
                    member.send(frame)
