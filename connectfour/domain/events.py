"""Every change to a game is one event: what the store keeps and the bus carries.

An event is stored at the next version of its game's log (version 1 is the
game's creation), then announced with that version. The time of an event
travels in it, so that replaying a log needs no clock.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from . import Player
from .clock import TimeControl


# gc=False: an event holds only strings and numbers, so it can never be part of
# a reference cycle; a store keeps every one, and the collector need not walk them.
class _Event(msgspec.Struct, frozen=True, tag_field="kind", kw_only=True, omit_defaults=True, gc=False):
    #: When the event happened (seconds since the epoch), as the process that made it saw it.
    at: float


class Created(_Event, tag="created", frozen=True):
    """A new game with its keys; ``join_key`` is None when no invite is needed
    (same device, rematch). The creator holds ``host`` and the guest the
    other seat; ``public`` lists the game in the lobby, and ``match`` says a
    quick match made it (public too)."""

    local: bool
    watch_key: str
    join_key: str | None
    red_token: str
    yellow_token: str
    rematch_of: str | None = None
    #: The seat the computer holds, in a game against it, and its level (1 to 4).
    computer: Player | None = None
    level: int = 0
    host: Player = "red"
    public: bool = False
    match: bool = False
    #: The players' display names, as far as known at the start.
    red_name: str | None = None
    yellow_name: str | None = None
    #: The game's time control; None for an untimed game.
    clock: TimeControl | None = None


class Joined(_Event, tag="joined", frozen=True):
    """The invite was spent: the guest holds the seat the host does not, under ``name``.
    ``request``: the id the guest's request carried, so that the same request sent again
    (its answer lost) seats the same guest instead of finding the seat taken."""

    name: str | None = None
    request: str | None = None


class Moved(_Event, tag="moved", frozen=True):
    """``end`` is how the move ended the game, if it did: carried in the event so
    that a store records the end with the move, without a board of its own."""

    player: Player
    column: int
    end: Literal["four", "full"] | None = None


class Resigned(_Event, tag="resigned", frozen=True):
    player: Player


class Claimed(_Event, tag="claimed", frozen=True):
    """``player`` wins because the opponent stayed away past the grace period.

    The store appends it only if the opponent's seat has been free at least
    ``grace`` seconds at ``at``, checked with the append itself."""

    player: Player
    grace: float


class Expired(_Event, tag="expired", frozen=True):
    """Nobody came back for too long: the game ends with no winner. The store
    appends it only if no seat is held at ``at``."""


class TimedOut(_Event, tag="timed_out", frozen=True):
    """``player``, to move, ran out of time at ``at`` (its flag fell): the opponent wins."""

    player: Player


class Aborted(_Event, tag="aborted", frozen=True):
    """A first move was not made in time: the game ends, and nobody wins or loses."""


class DrawOffered(_Event, tag="draw_offered", frozen=True):
    """``player`` offers a draw: it stands until the opponent moves, accepts or declines."""

    player: Player


class DrawDeclined(_Event, tag="draw_declined", frozen=True):
    """``player`` declined the opponent's offer of a draw."""

    player: Player


class DrawAgreed(_Event, tag="draw_agreed", frozen=True):
    """The opponent accepted the offer: the game ends drawn."""


class TakebackRequested(_Event, tag="takeback_requested", frozen=True):
    """``player`` asks the opponent to take back its last move (and the reply to it, if any)."""

    player: Player


class TakebackDeclined(_Event, tag="takeback_declined", frozen=True):
    player: Player


class TookBack(_Event, tag="took_back", frozen=True):
    """The last ``plies`` moves (1 or 2) are taken back: the game goes on from before them."""

    plies: int


class RematchOffered(_Event, tag="rematch_offered", frozen=True):
    player: Player


class RematchStarted(_Event, tag="rematch_started", frozen=True):
    """Both players offered: the rematch is ``game``, where everyone moves on to."""

    game: str


Event = (
    Created
    | Joined
    | Moved
    | Resigned
    | Claimed
    | Expired
    | TimedOut
    | Aborted
    | DrawOffered
    | DrawDeclined
    | DrawAgreed
    | TakebackRequested
    | TakebackDeclined
    | TookBack
    | RematchOffered
    | RematchStarted
)


def ends(event: Event) -> bool:
    """Whether ``event``, once stored, ends its game."""
    if type(event) is Moved:
        return event.end is not None
    return isinstance(event, (Resigned, Claimed, Expired, TimedOut, Aborted, DrawAgreed))


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """An event as the stores keep it and the bus carries it: compact JSON, tagged by ``kind``."""
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> Event:
    return _decoder.decode(data)
