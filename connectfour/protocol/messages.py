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

from typing import Annotated, Literal, get_args

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
#: A time control: minutes each side starts with, + seconds added after each of its moves.
TimeControlText = Annotated[
    str,
    msgspec.Meta(max_length=9, pattern=r"^\d{1,3}(\.\d{1,2})?\+\d{1,2}\Z", description='minutes+seconds, e.g. "3+2"'),
]
Level = Annotated[int, msgspec.Meta(ge=1, le=4, description="1 (beginner) to 4 (perfect)")]
#: A player's display name: letters and digits of any script, with ``_ - . '``
#: and single spaces between words; never markup, and shown as text only.
NAME_PATTERN = r"^[\w'.-]+( [\w'.-]+)*\Z"
Name = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=24, pattern=NAME_PATTERN, description="a display name"),
]
#: The revision of ``connectfour.v1`` each later addition came with (an event's
#: tag, or ``tag.field``); anything not named here is revision 1. A revision
#: only adds: a client of revision 1 is served unchanged, and an older server
#: answers a newer request with ``unknown_type``.
REVISION = 4
ADDED_IN: dict[str, int] = {
    **{
        name: 2
        for name in (
            "client:init.public", "client:init.name", "client:lobby", "client:match", "client:cancel",
            "server:state.red_name", "server:state.yellow_name", "server:state.public", "server:state.match",
            "server:presence.red_name", "server:presence.yellow_name", "server:lobby", "server:cancelled",
        )
    },
    **{
        name: 3
        for name in (
            "client:init.id", "client:play.id", "client:resume.id", "client:resign.id", "client:claim.id",
            "client:rematch.id", "client:lobby.id", "client:match.id", "client:cancel.id",
            "server:ack", "server:error.id", "server:error.ply", "server:state.watch",
        )
    },
    **{
        name: 4
        for name in (
            "client:init.clock", "client:match.clock", "client:offer_draw", "client:decline_draw",
            "client:takeback", "client:decline_takeback", "server:state.clock", "server:play.clock",
            "server:state.draw_offer", "server:state.takeback_request", "server:draw_offer",
            "server:draw_declined", "server:takeback_request", "server:takeback_declined",
            "server:lobby.waiting.clock", "server:lobby.playing.clock", "server:state.taken_back",
            "server:presence.clock",
        )
    },  # fmt: skip
}  # fmt: skip
#: A client's name for one request, echoed by its answer (``ack`` or ``error``).
RequestId = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+\Z", description="a request id"),
]


# Every event repeats ``frozen=True``: msgspec inherits it from the base anyway,
# but type checkers (dataclass_transform) treat a subclass without it as mutable.
class _Client(msgspec.Struct, tag_field="type", frozen=True, kw_only=True):
    """Base of the events a client sends. ``id`` (v1, revision 3): the client's name for
    this request; its answer, ``ack`` or ``error``, carries it back, and the same request
    sent again with the same ``id`` (after a lost answer, on another connection) is
    answered as the first was instead of being refused."""

    id: RequestId | None = None


class Init(_Client, tag="init", frozen=True):
    """Start a game, or take a seat with ``join``, or watch with ``watch``.

    ``local`` (v1) starts a game played by both colours on one device.
    ``computer`` (v1) starts a game against the computer at that level, 1
    (a beginner) to 4 (perfect play); ``color`` is the colour the person
    plays, red (first) by default.
    ``public`` lists a new game in the lobby, with its invite, until a guest
    joins, then as a game anyone may watch; a game is private (link only)
    by default. ``name`` is the display name shown to everyone in the game
    (when starting or joining).
    ``clock`` (v1, revision 4) plays a new game (online, or against the
    computer) on a clock: ``"3+2"`` is 3 minutes each and 2 seconds more
    after each move; without it the game is untimed.
    """

    join: Key | None = None
    watch: Key | None = None
    local: bool = False
    computer: Level | None = None
    color: Player = "red"
    public: bool = False
    name: Name | None = None
    clock: TimeControlText | None = None


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


class OfferDraw(_Client, tag="offer_draw", frozen=True):
    """Offer a draw, or accept the opponent's standing offer (v1, revision 4). Between two
    people online only; an offer stands until the opponent moves, accepts or declines, and
    a player may offer again once both sides moved since."""


class DeclineDraw(_Client, tag="decline_draw", frozen=True):
    """Decline the opponent's offer of a draw (v1, revision 4)."""


class Takeback(_Client, tag="takeback", frozen=True):
    """Take back one's last move (v1, revision 4): at once against the computer (with its
    reply) and on one device; between two people, ask the opponent, or accept its request."""


class DeclineTakeback(_Client, tag="decline_takeback", frozen=True):
    """Decline the opponent's request for a takeback (v1, revision 4)."""


class Lobby(_Client, tag="lobby", frozen=True):
    """Follow the lobby: a ``lobby`` event now, then whenever it changes, at
    most a few a second. A connection in a game cannot; starting, joining or
    watching a game stops the updates."""


class Match(_Client, tag="match", frozen=True):
    """Play someone: pair with the player who has waited longest for a quick
    match, or wait for the next one (``state`` with ``match`` and status
    ``waiting``). Colours are drawn at random. ``name`` as in ``init``;
    ``clock`` (revision 4) as in ``init``: only players who chose the same
    control (or none) are paired."""

    name: Name | None = None
    clock: TimeControlText | None = None


class Cancel(_Client, tag="cancel", frozen=True):
    """Stop waiting for a quick match; ``cancelled`` confirms, and the
    connection may start over. Too late once an opponent was found."""


ClientEvent = (
    Init
    | Play
    | Resume
    | Resign
    | Claim
    | Rematch
    | Lobby
    | Match
    | Cancel
    | OfferDraw
    | DeclineDraw
    | Takeback
    | DeclineTakeback
)


class _Server(msgspec.Struct, tag_field="type", frozen=True, omit_defaults=True):
    """Base of the events the server sends."""


class InitEvent(_Server, tag="init", frozen=True):
    """Sent to whoever created a game: the keys to share.

    ``join`` is absent for a game played on one device.
    """

    game: str
    watch: str
    join: str | None = None


class ClockView(msgspec.Struct, frozen=True, omit_defaults=True):
    """Both sides' time in a timed game, as of ``at`` (the server's time, seconds since the
    epoch, so that a client can allow for the message's way): seconds ``red`` and ``yellow``
    have left, whose clock ``runs`` (none before both sides moved once, or once the game
    ended), and, until then, seconds left for the first move due (``first_move_in``: the
    game is aborted if it does not come). ``control``: as the game was created, ``"3+2"``."""

    control: str
    red: float
    yellow: float
    at: float
    runs: Player | None = None
    first_move_in: float | None = None


class StateEvent(_Server, tag="state", frozen=True):
    """A full snapshot, sent once a connection is seated or watching (v1).

    ``token`` is the seat's secret, for ``resume``: players only, keep it private.
    ``computer`` is the seat the computer plays in a game against it, and
    ``level`` its level; the computer's seat is always ``connected``.
    ``red_name`` and ``yellow_name`` are the players' display names, when
    they gave one. ``public``: the game is listed in the lobby; ``match``:
    it was made by a quick match. ``watch``: the game's watch key, for a
    player (either one) to share; spectators have it already.
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
    red_name: str | None = None
    yellow_name: str | None = None
    public: bool = False
    match: bool = False
    watch: str | None = None
    clock: ClockView | None = None
    draw_offer: Player | None = None
    takeback_request: Player | None = None
    #: In the ``state`` sent because moves were taken back: how many (1 or 2), so that no
    #: client takes it for moves the server lost.
    taken_back: int | None = None


class PlayEvent(_Server, tag="play", frozen=True):
    """A move was stored. ``turn`` is who plays next, null once the game ended.
    ``clock`` (revision 4): both sides' time after it, in a timed game."""

    player: Player
    column: int
    row: int
    ply: int
    turn: Player | None
    clock: ClockView | None = None


class WinEvent(_Server, tag="win", frozen=True):
    """``player`` won. ``cells`` holds every cell of the winning lines (empty
    unless ``reason`` is ``four``)."""

    player: Player
    reason: Reason
    cells: list[Cell] = []


class DrawEvent(_Server, tag="draw", frozen=True):
    """The board is full and nobody connected four."""


class PresenceEvent(_Server, tag="presence", frozen=True):
    """Who is connected: each seat, and how many spectators (v1); and the
    players' names, once given (a guest's arrives with its seat)."""

    red: Seat
    yellow: Seat
    spectators: int
    #: Seconds until the opponent of an absent player may claim the win, while
    #: that player is away and the grace period runs; absent otherwise.
    red_claimable_in: float | None = None
    yellow_claimable_in: float | None = None
    red_name: str | None = None
    yellow_name: str | None = None
    #: In a timed game (revision 4): both clocks as of this change, as in ``state``; the
    #: guest's arrival starts the first move's countdown.
    clock: ClockView | None = None


class DrawOfferEvent(_Server, tag="draw_offer", frozen=True):
    """``player`` offers a draw (v1, revision 4): the opponent may ``offer_draw`` to accept,
    ``decline_draw``, or move on (which withdraws it)."""

    player: Player


class DrawDeclinedEvent(_Server, tag="draw_declined", frozen=True):
    """``player`` declined the offer of a draw (v1, revision 4)."""

    player: Player


class TakebackRequestEvent(_Server, tag="takeback_request", frozen=True):
    """``player`` asks to take back its last move (v1, revision 4): the opponent may
    ``takeback`` to accept or ``decline_takeback``; a move withdraws it. Once taken back,
    everyone gets a ``state`` of the game as it stands then."""

    player: Player


class TakebackDeclinedEvent(_Server, tag="takeback_declined", frozen=True):
    """``player`` declined the request for a takeback (v1, revision 4)."""

    player: Player


class RematchEvent(_Server, tag="rematch", frozen=True):
    """``player`` offers a rematch (v1). When both have, everyone moves to the
    new game: ``init`` and ``state`` of the new game follow."""

    player: Player


class ErrorEvent(_Server, tag="error", frozen=True):
    """A request was refused. ``code`` is stable, ``message`` is for people; each code says
    whether nothing changed or the outcome is unknown (docs/protocol.md, "Errors")."""

    message: str
    code: str
    #: With ``seat_taken`` (v1): the game's watch key, so that a spent invite can still watch.
    watch: str | None = None
    #: The refused request's ``id``, and a refused move's ``ply``, when it gave them (v1, revision 3).
    id: str | None = None
    ply: int | None = None


class AckEvent(_Server, tag="ack", frozen=True):
    """A request that carried an ``id`` took effect, or had already (a retry of it): its
    answer (v1, revision 3). ``ply``: a move's, when it gave one."""

    id: str
    ply: int | None = None


class AnnouncementEvent(_Server, tag="announcement", frozen=True):
    """A word from the operators to everyone connected (v1): "restart in 5 minutes".

    ``level`` is "info" or "warning"; ``restart`` is true when this server is
    about to close the connection to restart, and the client should reconnect.
    """

    message: str
    level: Literal["info", "warning"] = "info"
    restart: bool = False


class WaitingGame(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """A public game waiting for a guest: join it with ``init`` and ``join``."""

    game: str
    join: str
    #: The host's colour, and name if given.
    color: Player
    name: str | None = None
    #: When the game was created (seconds since the epoch).
    since: float = 0.0
    #: Its time control (``"3+2"``), if timed (revision 4).
    clock: str | None = None


class PlayingGame(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """A public game being played: watch it with ``init`` and ``watch``."""

    game: str
    watch: str
    ply: int
    spectators: int
    red: str | None = None
    yellow: str | None = None
    #: Its time control (``"3+2"``), if timed (revision 4).
    clock: str | None = None


class LobbyEvent(_Server, tag="lobby", frozen=True):
    """The lobby, whole each time (v1, revision 2): who is online on every
    server, how many wait for a quick match, the public games waiting for a
    guest (longest waiting first) and those being played (most watched
    first). Each list holds at most 20 games; ``waiting_total`` and
    ``playing_total`` count them all."""

    online: int
    seeking: int
    waiting: list[WaitingGame]
    playing: list[PlayingGame]
    waiting_total: int
    playing_total: int


class CancelledEvent(_Server, tag="cancelled", frozen=True):
    """No longer waiting for a quick match: the connection is free again (v1, revision 2)."""


ServerEvent = (
    InitEvent
    | StateEvent
    | PlayEvent
    | WinEvent
    | DrawEvent
    | PresenceEvent
    | RematchEvent
    | ErrorEvent
    | AnnouncementEvent
    | LobbyEvent
    | CancelledEvent
    | AckEvent
    | DrawOfferEvent
    | DrawDeclinedEvent
    | TakebackRequestEvent
    | TakebackDeclinedEvent
)

# The same lists, for the reference and the tests: one place to add an event.
CLIENT_EVENTS: tuple[type[_Client], ...] = get_args(ClientEvent)
SERVER_EVENTS: tuple[type[_Server], ...] = get_args(ServerEvent)
