"""Offers of a draw and takebacks: the table manners between two players.

A draw is offered, accepted or declined, and offered again only once both
sides moved; a move is taken back at once against the computer and on one
device, and asked for between two people. The rulebook hands these commands
here with the player each speaks for (``rulebook.mover``, which has refused
a spectator's and any in a game that is over), so that what a player may ask
of the other lives in one module.
"""

from __future__ import annotations

import msgspec

from . import Player, Role, other
from .events import (
    DrawAgreed,
    DrawDeclined,
    DrawOffered,
    Event,
    TakebackDeclined,
    TakebackRequested,
    TookBack,
)
from .refusal import Refused
from .state import GameState

#: A player who offered a draw may offer again once this many moves were played since:
#: one by each side.
DRAW_AGAIN_AFTER = 2

# -- commands (gc=False, as the rulebook's: only strings and numbers) -----------------


class OfferDraw(msgspec.Struct, frozen=True, gc=False):
    """Offer a draw, or accept the opponent's standing offer."""

    role: Role


class DeclineDraw(msgspec.Struct, frozen=True, gc=False):
    role: Role


class TakeBack(msgspec.Struct, frozen=True, gc=False):
    """Take back one's last move: at once against the computer or on one device; between two
    people, ask the opponent (or accept the opponent's standing request)."""

    role: Role


class DeclineTakeback(msgspec.Struct, frozen=True, gc=False):
    role: Role


# -- decisions -------------------------------------------------------------------------


def draw(state: GameState, player: Player, command: OfferDraw | DeclineDraw, now: float) -> Event:
    """An offer of a draw, its acceptance or its refusal, by ``player``: between two people only.
    A player may offer again only once both sides moved since its last offer."""
    if state.local or state.computer is not None:
        raise Refused("not_available", "Draws are offered between two people playing online.")
    offer = state.draw_offer
    if isinstance(command, DeclineDraw):
        if offer != other(player):
            raise Refused("not_available", "There is no offer of a draw to decline.")
        return DrawDeclined(at=now, player=player)
    if offer == other(player):
        return DrawAgreed(at=now)
    if offer == player:
        raise Refused("not_available", "Your offer of a draw stands already.")
    if player in draw_again_at(state):
        raise Refused("not_available", "You can offer a draw again once both of you have moved.")
    return DrawOffered(at=now, player=player)


def draw_again_at(state: GameState) -> dict[Player, int]:
    """For each player whose last offer of a draw keeps it from offering again, the number of
    moves from which it may: the one rule, for the refusal and for what the players are told
    (empty: nobody is kept from offering)."""
    ply = state.board.ply
    again = {player: last + DRAW_AGAIN_AFTER for player, last in state.draw_offered_at.items()}
    return {player: at for player, at in again.items() if ply < at}


def takeback_plies(state: GameState, player: Player) -> int:
    """How many moves ``player``'s takeback removes: its last move, and the reply to it if there
    is one (0: it has no move to take back)."""
    moves = len(state.board.moves)
    plies = 1 if state.board.turn == other(player) else 2
    return plies if plies <= moves else 0


def takeback(state: GameState, player: Player, command: TakeBack | DeclineTakeback, now: float) -> Event:
    """A takeback by ``player``: at once on one device (the last move) and against the computer
    (the player's last move and the computer's reply); between two people, a request the
    opponent accepts (by asking too) or declines."""
    request = state.takeback_request
    if isinstance(command, DeclineTakeback):
        if state.local or state.computer is not None or request != other(player):
            raise Refused("not_available", "There is no request for a takeback to decline.")
        return TakebackDeclined(at=now, player=player)
    if state.local:
        if not state.board.moves:
            raise Refused("not_available", "There is no move to take back.")
        return TookBack(at=now, plies=1)
    if state.computer is not None or request == other(player):
        asking = other(player) if request == other(player) else player
        plies = takeback_plies(state, asking)
        if not plies:
            raise Refused("not_available", "There is no move to take back.")
        return TookBack(at=now, plies=plies)
    if request == player:
        raise Refused("not_available", "Your request for a takeback stands already.")
    if not takeback_plies(state, player):
        raise Refused("not_available", "There is no move of yours to take back.")
    return TakebackRequested(at=now, player=player)
