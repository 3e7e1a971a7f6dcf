"""Fan-out: what an event a game has taken means to the connections of this process.

Each stored event, once applied to the game's state (in version order,
whichever process stored it), is told to every member here, encoded once
per protocol flavour (``Game.broadcast``). No store, no decision: the
service has already done both.
"""

from __future__ import annotations

import time

import msgspec

from .. import metrics
from ..domain import RED, YELLOW, offers, other
from ..domain.events import (
    Aborted,
    Claimed,
    DrawAgreed,
    DrawDeclined,
    DrawOffered,
    Event,
    Expired,
    Moved,
    RematchOffered,
    Resigned,
    TakebackDeclined,
    TakebackRequested,
    TimedOut,
    TookBack,
)
from ..protocol.server_messages import (
    DrawDeclinedEvent,
    DrawEvent,
    DrawOfferEvent,
    PlayEvent,
    RematchEvent,
    TakebackDeclinedEvent,
    TakebackRequestEvent,
    WinEvent,
)
from .game import Game, send_event
from .views import clock_view


def tell(game: Game, event: Event, row: int = -1) -> None:
    """Tell everyone here of ``event``, which the game's state has taken (a move to ``row``)."""
    if type(event) is Moved:
        tell_move(game, event, row)
    elif isinstance(event, Resigned):
        game.broadcast(WinEvent(other(event.player), "resign"))
    elif isinstance(event, Claimed):
        game.broadcast(WinEvent(event.player, "claim"))
    elif isinstance(event, TimedOut):
        game.broadcast(WinEvent(other(event.player), "time"))
    elif isinstance(event, (Expired, Aborted, DrawAgreed, TookBack)):
        taken_back = event.plies if isinstance(event, TookBack) else None
        for member, role in game.members.items():
            if member.speaks_v1:
                snapshot = game.snapshot(role)
                if taken_back is not None:
                    snapshot = msgspec.structs.replace(snapshot, taken_back=taken_back)
                send_event(member, snapshot)
            elif isinstance(event, DrawAgreed):  # (a tutorial client knows no takeback)
                send_event(member, DrawEvent())
    elif isinstance(event, DrawOffered):
        game.broadcast(DrawOfferEvent(event.player, offers.draw_again_at(game.state)))
    elif isinstance(event, DrawDeclined):
        game.broadcast(DrawDeclinedEvent(event.player))
    elif isinstance(event, TakebackRequested):
        game.broadcast(TakebackRequestEvent(event.player))
    elif isinstance(event, TakebackDeclined):
        game.broadcast(TakebackDeclinedEvent(event.player))
    elif isinstance(event, RematchOffered):
        game.broadcast(RematchEvent(event.player))
    # Joined: the guest's seat, taken next, tells everyone. RematchStarted: everyone here moves.


def tell_move(game: Game, event: Moved, row: int) -> None:
    """The hot path: the move, then the end it made."""
    state = game.state
    end = event.end
    player = event.player
    started = time.perf_counter()
    clock = clock_view(state, event.at) if state.clock is not None else None
    turn = None if end else YELLOW if player == RED else RED  # (``other``, inlined)
    game.broadcast(PlayEvent(player, event.column, row, len(state.board.moves) - 1, turn, clock))
    metrics.fanned_out(started)
    if end == "four":
        game.broadcast(WinEvent(player, "four", [(c, r) for c, r in state.board.cells]))
    elif end == "full":
        game.broadcast(DrawEvent())
