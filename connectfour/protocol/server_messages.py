"""The messages the server sends, one struct per event, with the parts they are made of.

Encoded once per protocol flavour (``codec.py``; the tutorial's view,
``legacy.py``); ``docs/protocol.md`` is checked against these definitions by
a test, so a field added here without documentation fails the build.
"""

from __future__ import annotations

from typing import Literal, get_args

import msgspec

from ..domain import Player, Reason, Role, SeatState, Status

#: A seat: empty (the invite is unused), connected, disconnected, or gone
#: (absent longer than the grace period).
Seat = SeatState
Cell = tuple[int, int]


# Every event repeats ``frozen=True``, as in client_messages.py: type checkers treat a
# subclass without it as mutable. gc=False, as there: one is made for every move.
class _Server(msgspec.Struct, tag_field="type", frozen=True, omit_defaults=True, gc=False):
    """Base of the events the server sends."""


class InitEvent(_Server, tag="init", frozen=True):
    """Sent to whoever created a game: the keys to share.

    ``join`` is absent for a game played on one device.
    """

    game: str
    watch: str
    join: str | None = None


class ClockView(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
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
    ``draw_offer`` and ``takeback_request`` (revision 4): whose stands; ``draw_again_at``:
    for each player held back by its last offer of a draw, the number of moves from which it
    may offer again.
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
    #: For each player held back by its last offer of a draw (revision 4), the number of moves
    #: (``ply``) from which it may offer again: once both sides moved since. Absent while
    #: nobody is held back.
    draw_again_at: dict[Player, int] = {}
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
    ``decline_draw``, or move on (which withdraws it). ``draw_again_at``: as in ``state``,
    after this offer (``player`` may offer again once both sides moved)."""

    player: Player
    draw_again_at: dict[Player, int] = {}


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

# For the reference and the tests: one place to add an event.
SERVER_EVENTS: tuple[type[_Server], ...] = get_args(ServerEvent)
