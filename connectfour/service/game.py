"""One live game in this process: its position, its seats and who receives its events."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..domain import Role
from ..protocol import encode, encode_legacy
from ..protocol.messages import (
    PresenceEvent,
    Seat,
    ServerEvent,
    StateEvent,
)
from ..rules import PLAYERS, RED, YELLOW, Board
from ..store import GameRecord, Reason, Result

log = logging.getLogger("connectfour.game")

#: Spectators coming and going are told to everyone at most this often (seconds);
#: without it, N spectators arriving would cost N * N frames.
PRESENCE_DELAY = 0.25
#: The key of the computer's pending move among a game's timers.
COMPUTER_TIMER = "computer"


class Timer(Protocol):
    def cancel(self) -> None: ...


Scheduler = Callable[[float, Callable[[], None]], Timer]


class Member(Protocol):
    """A connection as the service sees it: the edge frames and writes."""

    extended: bool  # negotiated connectfour.v1

    def send(self, payload: bytes) -> None:
        """Queue one text frame; never blocks."""

    def close(self, code: int, reason: str) -> None:
        """Close the connection soon; frames already queued go out first."""


def send_event(member: Member, event: ServerEvent) -> None:
    if member.extended:
        member.send(encode(event))
    else:
        for frame in encode_legacy(event):
            member.send(frame)


class Game:
    """A cached copy of a stored game, plus the connections attached to it here."""

    def __init__(
        self, record: GameRecord, schedule: Scheduler, grace: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.record = record
        self.id = record.id
        self.board = Board.from_moves(record.moves)
        self.seats: dict[str, Member | None] = {RED: None, YELLOW: None}
        self.members: dict[Member, Role] = {}
        self.spectators = 0
        #: Seats absent for longer than the grace period: their opponent may claim.
        self.gone: set[str] = set()
        self.rematch_offers: set[str] = set()
        self._schedule = schedule
        self._grace = grace
        self._timers: dict[str, Timer] = {}
        self._clock = clock
        #: When each absent seat's grace period started (by ``clock``).
        self._away_since: dict[str, float] = {}
        self._presence_pending = False
        #: The computer's move is scheduled or being searched.
        self.thinking = False
        if self.status == "playing":
            for color in PLAYERS:
                self._start_grace(color)

    # -- derived state --------------------------------------------------------

    @property
    def local(self) -> bool:
        return self.record.local

    @property
    def idle(self) -> bool:
        return not self.members

    @property
    def result(self) -> Result | None:
        """How the game ended; a position's own end wins over what the store says."""
        board = self.board
        if board.winner:
            return board.winner
        if board.is_draw:
            return "draw"
        return self.record.result

    @property
    def reason(self) -> Reason | None:
        board = self.board
        if board.winner:
            return "four"
        if board.is_draw:
            return "full"
        return self.record.reason

    @property
    def over(self) -> bool:
        return self.result is not None

    @property
    def status(self) -> str:
        result = self.result
        if result is None:
            if not self.local and not self.record.invite_spent:
                return "waiting"
            return "playing"
        if result == "draw":
            return "draw"
        if result == "abandoned":
            return "abandoned"
        return "won"

    @property
    def turn(self) -> str | None:
        return None if self.over else self.board.turn

    def seat_state(self, color: str) -> Seat:
        if self.seats[color] is not None or color == self.record.computer:
            return "connected"
        if color == YELLOW and not self.local and not self.record.invite_spent:
            return "empty"
        if color in self.gone:
            return "gone"
        return "disconnected"

    def _token_role(self, token: str) -> Role | None:
        """The seat a token holds; compared in constant time."""
        record = self.record
        given = token.encode()
        if hmac.compare_digest(given, record.red_token.encode()):
            return "both" if self.local else RED
        if not self.local and hmac.compare_digest(given, record.yellow_token.encode()):
            return YELLOW
        return None

    def token_role(self, token: str) -> Role | None:
        """The seat a token holds; never the computer's."""
        role = self._token_role(token)
        return None if role is not None and role == self.record.computer else role

    def snapshot(self, role: Role) -> StateEvent:
        board = self.board
        result = self.result
        record = self.record
        token = None
        if role in (RED, "both"):
            token = record.red_token
        elif role == YELLOW:
            token = record.yellow_token
        return StateEvent(
            game=self.id,
            you=role,
            moves=list(board.moves),
            ply=board.ply,
            status=self.status,  # type: ignore[arg-type]
            turn=self.turn,  # type: ignore[arg-type]
            red=self.seat_state(RED),
            yellow=self.seat_state(YELLOW),
            spectators=self.spectators,
            # == narrows the type in every mypy; `in PLAYERS` only from mypy 1.11.
            winner=result if result == RED or result == YELLOW else None,
            reason=self.reason,
            cells=[tuple(cell) for cell in board.cells],  # type: ignore[misc]
            token=token,
            rematch_of=record.rematch_of,
            computer=record.computer,
            level=record.level if record.computer else None,
            red_claimable_in=self.claimable_in(RED),
            yellow_claimable_in=self.claimable_in(YELLOW),
        )

    def presence(self) -> PresenceEvent:
        return PresenceEvent(
            red=self.seat_state(RED),
            yellow=self.seat_state(YELLOW),
            spectators=self.spectators,
            red_claimable_in=self.claimable_in(RED),
            yellow_claimable_in=self.claimable_in(YELLOW),
        )

    def claimable_in(self, color: str) -> float | None:
        """Seconds until ``color``'s opponent may claim the win, while ``color`` is away."""
        since = self._away_since.get(color)
        if since is None or color not in self._timers:
            return None
        return round(max(0.0, self._grace - (self._clock() - since)), 1)

    # -- seats and spectators -------------------------------------------------

    def holder(self, role: Role) -> Member | None:
        """Who holds this seat now (for a same-device game, the one connection)."""
        return self.seats[RED] if role == "both" else self.seats.get(role)

    def seat(self, member: Member, role: Role) -> None:
        """Add a member; it gets the snapshot before any later event."""
        self.members[member] = role
        if role == "spectator":
            self.spectators += 1
        else:
            for color in PLAYERS if role == "both" else (role,):
                self.seats[color] = member
                self.gone.discard(color)
                timer = self._timers.pop(color, None)
                if timer:
                    timer.cancel()
        send_event(member, self.snapshot(role))
        self._presence_changed(urgent=role != "spectator")

    def leave(self, member: Member) -> Role | None:
        role = self.members.pop(member, None)
        if role is None:
            return None
        if role == "spectator":
            self.spectators -= 1
        for color, holder in self.seats.items():
            if holder is member:
                self.seats[color] = None
                self._start_grace(color)
        self._presence_changed(urgent=role != "spectator")
        return role

    def _start_grace(self, color: str) -> None:
        """After the grace period an absent player's opponent may claim the game."""
        if self.local or self.over or self.seats[color] is not None or color in self._timers:
            return
        if color == self.record.computer:
            return
        if color == YELLOW and not self.record.invite_spent:
            return
        self._away_since[color] = self._clock()
        self._timers[color] = self._schedule(self._grace, lambda: self._grace_over(color))

    def _grace_over(self, color: str) -> None:
        self._timers.pop(color, None)
        if self.seats[color] is None and not self.over:
            self.gone.add(color)
            log.info("game %s: %s away longer than the grace period", self.id, color)
            self._presence_changed(urgent=True)

    def add_timer(self, key: str, timer: Timer) -> None:
        """Keep a timer that ``close`` cancels."""
        self._timers[key] = timer

    def forget_timer(self, key: str) -> None:
        self._timers.pop(key, None)

    def close(self) -> None:
        """Drop timers: the game leaves this process's memory."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # -- fan-out --------------------------------------------------------------

    def broadcast(self, event: ServerEvent) -> None:
        """Send ``event`` to every member, encoding it once per protocol flavour."""
        v1: bytes | None = None
        legacy: list[bytes] | None = None
        for member in self.members:
            if member.extended:
                if v1 is None:
                    v1 = encode(event)
                member.send(v1)
            else:
                if legacy is None:
                    legacy = encode_legacy(event)
                for frame in legacy:
                    member.send(frame)

    def _presence_changed(self, urgent: bool) -> None:
        if urgent:
            self._presence_pending = False
            self.broadcast(self.presence())
        elif not self._presence_pending:
            self._presence_pending = True
            self._schedule(PRESENCE_DELAY, self._flush_presence)

    def _flush_presence(self) -> None:
        if self._presence_pending:
            self._presence_pending = False
            self.broadcast(self.presence())
