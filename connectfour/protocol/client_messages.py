"""The messages a client sends, one struct per request, and the field types they check.

Decoded by ``codec.py`` with precise errors; ``docs/protocol.md`` is checked
against these definitions by a test, so a field added here without
documentation fails the build.
"""

from __future__ import annotations

from typing import Annotated, get_args

import msgspec

from ..domain import Player

Column = Annotated[int, msgspec.Meta(ge=0, le=6, description="0 (left) to 6 (right)")]
Ply = Annotated[int, msgspec.Meta(ge=0, le=42)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
#: A time control: minutes each side starts with, + seconds added after each of its moves.
TimeControlText = Annotated[
    str,
    msgspec.Meta(max_length=9, pattern=r"^\d{1,3}(\.\d{1,2})?\+\d{1,2}\Z", description='minutes+seconds, e.g. "3+2"'),
]
#: The computer's strength: 1 (a beginner) to 4 (perfect play).
Level = Annotated[int, msgspec.Meta(ge=1, le=4, description="1 (beginner) to 4 (perfect)")]
#: A player's display name: letters and digits of any script, with ``_ - . '``
#: and single spaces between words; never markup, and shown as text only.
NAME_PATTERN = r"^[\w'.-]+( [\w'.-]+)*\Z"
Name = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=24, pattern=NAME_PATTERN, description="a display name"),
]
#: A client's name for one request, echoed by its answer (``ack`` or ``error``).
RequestId = Annotated[
    str,
    msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+\Z", description="a request id"),
]


# Every event repeats ``frozen=True``: msgspec inherits it from the base anyway,
# but type checkers (dataclass_transform) treat a subclass without it as mutable.
# gc=False (inherited too): a message holds only strings, numbers and lists of them,
# so it can never be part of a reference cycle; one is made for every frame.
class _Client(msgspec.Struct, tag_field="type", frozen=True, kw_only=True, gc=False):
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

# For the reference and the tests: one place to add a request.
CLIENT_EVENTS: tuple[type[_Client], ...] = get_args(ClientEvent)
