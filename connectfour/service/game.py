"""One live game in this process: its position, its seats and who receives its events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..protocol import encode, encode_legacy
from ..protocol.messages import (
    DrawEvent,
    PlayEvent,
    PresenceEvent,
    Role,
    Seat,
    ServerEvent,
    StateEvent,
    WinEvent,
)
from ..rules import RED, YELLOW, Board, Move
from ..store import GameRecord

log = logging.getLogger("connectfour.game")

#: Spectators coming and going are told to everyone at most this often (seconds);
#: without it, N spectators arriving would cost N * N frames.
PRESENCE_DELAY = 0.25

Scheduler = Callable[[float, Callable[[], None]], Any]


class Member(Protocol):
    """A connection as the service sees it: the edge frames and writes."""

    extended: bool  # negotiated connectfour.v1

    def send(self, payload: bytes) -> None:
        """Queue one text frame; never blocks."""


def send_event(member: Member, event: ServerEvent) -> None:
    if member.extended:
        member.send(encode(event))
    else:
        for frame in encode_legacy(event):
            member.send(frame)


class Game:
    def __init__(self, record: GameRecord, schedule: Scheduler | None = None) -> None:
        self.id = record.id
        self.watch_key = record.watch_key
        self.join_key = record.join_key
        self.invite_spent = record.invite_spent
        self.board = Board.from_moves(record.moves)
        self.seats: dict[str, Member | None] = {RED: None, YELLOW: None}
        self.members: dict[Member, Role] = {}
        self.spectators = 0
        self._schedule = schedule
        self._presence_pending = False

    @property
    def local(self) -> bool:
        return self.join_key is None

    @property
    def idle(self) -> bool:
        return not self.members

    # -- seats and spectators -------------------------------------------------

    def seat(self, member: Member, role: Role) -> None:
        """Add a member; it gets the snapshot before any later event."""
        self.members[member] = role
        if role == "both":
            self.seats[RED] = self.seats[YELLOW] = member
        elif role == "spectator":
            self.spectators += 1
        else:
            self.seats[role] = member
        send_event(member, self.snapshot(role))
        self._presence_changed(urgent=role != "spectator")

    def leave(self, member: Member) -> None:
        role = self.members.pop(member, None)
        if role is None:
            return
        if role == "spectator":
            self.spectators -= 1
        for color, holder in self.seats.items():
            if holder is member:
                self.seats[color] = None
        self._presence_changed(urgent=role != "spectator")

    def seat_state(self, color: str) -> Seat:
        if self.seats[color] is not None:
            return "connected"
        if color == YELLOW and not self.local and not self.invite_spent:
            return "empty"
        return "disconnected"

    @property
    def status(self) -> str:
        board = self.board
        if board.winner:
            return "won"
        if board.is_draw:
            return "draw"
        if not self.local and not self.invite_spent:
            return "waiting"
        return "playing"

    def snapshot(self, role: Role) -> StateEvent:
        board = self.board
        return StateEvent(
            game=self.id,
            you=role,
            moves=list(board.moves),
            ply=board.ply,
            status=self.status,  # type: ignore[arg-type]
            turn=board.turn,
            red=self.seat_state(RED),
            yellow=self.seat_state(YELLOW),
            spectators=self.spectators,
            winner=board.winner,
            cells=[tuple(cell) for cell in board.cells],  # type: ignore[misc]
        )

    def presence(self) -> PresenceEvent:
        return PresenceEvent(
            red=self.seat_state(RED), yellow=self.seat_state(YELLOW), spectators=self.spectators
        )

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

    def announce(self, move: Move) -> None:
        """Tell everyone about a stored move, and the result it produced."""
        board = self.board
        self.broadcast(PlayEvent(move.player, move.column, move.row, move.ply, board.turn))
        if board.winner:
            self.broadcast(WinEvent(board.winner, [tuple(c) for c in board.cells]))  # type: ignore[misc]
            log.info("game %s won by %s at ply %d", self.id, board.winner, move.ply)
        elif board.is_draw:
            self.broadcast(DrawEvent())
            log.info("game %s drawn", self.id)

    def _presence_changed(self, urgent: bool) -> None:
        if urgent or self._schedule is None:
            self._presence_pending = False
            self.broadcast(self.presence())
        elif not self._presence_pending:
            self._presence_pending = True
            self._schedule(PRESENCE_DELAY, self._flush_presence)

    def _flush_presence(self) -> None:
        if self._presence_pending:
            self._presence_pending = False
            self.broadcast(self.presence())
