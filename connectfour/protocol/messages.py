"""Typed messages, one struct per event type and direction.

The tutorial's events (``init``, ``play``, ``win``, ``error``) are the
compatibility contract. A client that negotiates the ``connectfour.v1``
WebSocket subprotocol receives the richer events defined here; every other
client receives a projection of them onto the tutorial's fields (see
``legacy.py``).

``docs/protocol.md`` is checked against these definitions by a test, so a
field added here without documentation fails the build.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

import msgspec

from ..domain import Player, Reason, Role, SeatState, Status

#: The subprotocol a client offers to opt into every extension.
SUBPROTOCOL_V1 = "connectfour.v1"

Column = Annotated[int, msgspec.Meta(ge=0, le=6, description="0 (left) to 6 (right)")]
Ply = Annotated[int, msgspec.Meta(ge=0, le=42)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
#: A seat: empty (the invite is unused), connected, disconnected, or gone
#: (absent longer than the grace period).
Seat = SeatState
Cell = tuple[int, int]
#: The computer's strength: 1 (a beginner) to 4 (perfect play).
Level = Annotated[int, msgspec.Meta(ge=1, le=4, description="1 (beginner) to 4 (perfect)")]


# Every event repeats ``frozen=True``: msgspec inherits it from the base anyway,
# but type checkers (dataclass_transform) treat a subclass without it as mutable.
class _Client(msgspec.Struct, tag_field="type", frozen=True):
    """Base of the events a client sends."""


class Init(_Client, tag="init", frozen=True):
    """Start a game, or take a seat with ``join``, or watch with ``watch``.

    ``local`` (v1) starts a game played by both colours on one device.
    ``computer`` (v1) starts a game against the computer at that level, 1
    (a beginner) to 4 (perfect play); ``color`` is the colour the person
    plays, red (first) by default.
    """

    join: Key | None = None
    watch: Key | None = None
    local: bool = False
    computer: Level | None = None
    color: Player = "red"


class Play(_Client, tag="play", frozen=True):
    """Drop a checker in ``column``.

    ``ply`` (v1, optional) is the index the move must take in the move log:
    a move sent for a ply that is already played is refused, so a double
    click or a second tab can never play twice.
    """

    column: Column
    ply: Ply | None = None


class Resume(_Client, tag="resume", frozen=True):
    """Take back a seat after a reload or a dropped connection (v1).

    ``token`` is the seat's secret from ``state``. A newer connection with the
    same token takes the seat; the older one is told why and closed.
    """

    game: Key
    token: Key


class Resign(_Client, tag="resign", frozen=True):
    """Give the game up: the opponent wins (v1)."""


class Claim(_Client, tag="claim", frozen=True):
    """Win a game whose opponent has been away longer than the grace period (v1)."""


class Rematch(_Client, tag="rematch", frozen=True):
    """Offer, or accept, a new game with colours swapped once this one ended (v1)."""


ClientEvent = Union[Init, Play, Resume, Resign, Claim, Rematch]


class _Server(msgspec.Struct, tag_field="type", frozen=True, omit_defaults=True):
    """Base of the events the server sends."""


class InitEvent(_Server, tag="init", frozen=True):
    """Sent to whoever created a game: the keys to share.

    ``join`` is absent for a game played on one device.
    """

    game: str
    watch: str
    join: str | None = None


class StateEvent(_Server, tag="state", frozen=True):
    """A full snapshot, sent once a connection is seated or watching (v1).

    ``token`` is the seat's secret, for ``resume``: players only, keep it private.
    ``computer`` is the seat the computer plays in a game against it, and
    ``level`` its level; the computer's seat is always ``connected``.
    """

    game: str
    you: Role
    moves: list[int]
    ply: int
    status: Status
    turn: Player | None
    red: Seat
    yellow: Seat
    spectators: int
    winner: Player | None = None
    reason: Reason | None = None
    cells: list[Cell] = []
    token: str | None = None
    rematch_of: str | None = None
    computer: Player | None = None
    level: int | None = None
    #: As in ``presence``: seconds until an absent player's opponent may claim.
    red_claimable_in: float | None = None
    yellow_claimable_in: float | None = None


class PlayEvent(_Server, tag="play", frozen=True):
    """A move was stored. ``turn`` is who plays next, null once the game ended."""

    player: Player
    column: int
    row: int
    ply: int
    turn: Player | None


class WinEvent(_Server, tag="win", frozen=True):
    """``player`` won. ``cells`` holds every cell of the winning lines (empty
    unless ``reason`` is ``four``)."""

    player: Player
    reason: Reason
    cells: list[Cell] = []


class DrawEvent(_Server, tag="draw", frozen=True):
    """The board is full and nobody connected four."""


class PresenceEvent(_Server, tag="presence", frozen=True):
    """Who is connected: each seat, and how many spectators (v1)."""

    red: Seat
    yellow: Seat
    spectators: int
    #: Seconds until the opponent of an absent player may claim the win, while
    #: that player is away and the grace period runs; absent otherwise.
    red_claimable_in: float | None = None
    yellow_claimable_in: float | None = None


class RematchEvent(_Server, tag="rematch", frozen=True):
    """``player`` offers a rematch (v1). When both have, everyone moves to the
    new game: ``init`` and ``state`` of the new game follow."""

    player: Player


class ErrorEvent(_Server, tag="error", frozen=True):
    """A request was refused; nothing changed. ``code`` is stable, ``message`` is for people."""

    message: str
    code: str
    #: With ``seat_taken`` (v1): the game's watch key, so that a spent invite can still watch.
    watch: str | None = None


class AnnouncementEvent(_Server, tag="announcement", frozen=True):
    """A word from the operators to everyone connected (v1): "restart in 5 minutes".

    ``level`` is "info" or "warning"; ``restart`` is true when this server is
    about to close the connection to restart, and the client should reconnect.
    """

    message: str
    level: Literal["info", "warning"] = "info"
    restart: bool = False


ServerEvent = Union[
    InitEvent, StateEvent, PlayEvent, WinEvent, DrawEvent, PresenceEvent, RematchEvent, ErrorEvent, AnnouncementEvent
]

CLIENT_EVENTS: tuple[type[_Client], ...] = (Init, Play, Resume, Resign, Claim, Rematch)
SERVER_EVENTS: tuple[type[_Server], ...] = (
    InitEvent,
    StateEvent,
    PlayEvent,
    WinEvent,
    DrawEvent,
    PresenceEvent,
    RematchEvent,
    ErrorEvent,
    AnnouncementEvent,
)
