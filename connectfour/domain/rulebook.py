"""The rulebook: what may happen next in a game, decided in one place.

``decide`` turns a game's state, a command, the time and, where the answer
depends on who is where, the game's seats (``Seats``) into the one event to
append, or raises ``Refused`` with the protocol's code. No I/O, no clock of
its own, no randomness (a new game's keys come in its command), no store:
every process reaches the same decision from the same inputs, and a store
has nothing left to decide. It only compares versions (and, for a decision
that read the seats, the presence's ``seq``) and appends.

How a seat looks (connected, away, gone) and since when a player counts as
away are rules too, so they live here as well, for the decisions and for
what every process tells its clients. The offers of a draw and the
takebacks, what one player may ask of the other, are decided in
``offers.py``: ``decide`` hands them there with the player they speak for.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import msgspec

from ..rules import IllegalMove
from . import PLAYERS, RED, YELLOW, Player, Role, SeatState, offers, other
from .events import (
    Aborted,
    Claimed,
    Event,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    RematchStarted,
    Resigned,
    TimedOut,
)
from .offers import DeclineDraw, DeclineTakeback, OfferDraw, TakeBack
from .refusal import RefusalCode, Refused
from .seats import Expiries, Presence
from .state import GameState

# -- commands: what someone asks of a game ---------------------------------------------
# gc=False: a command holds only strings and numbers (never part of a reference cycle),
# and one is made for every move.


class Join(msgspec.Struct, frozen=True, gc=False):
    """Take the guest's seat with the invite; ``request``: the id the request carried."""

    name: str | None = None
    request: str | None = None


class Move(msgspec.Struct, frozen=True, gc=False):
    """Drop a disc; ``ply``: the ply the client saw, if it said (a retry's guard)."""

    role: Role
    column: int
    ply: int | None = None


class Resign(msgspec.Struct, frozen=True, gc=False):
    role: Role


class Claim(msgspec.Struct, frozen=True, gc=False):
    """Win because the opponent has been away for the grace period."""

    role: Role


class Expire(msgspec.Struct, frozen=True, gc=False):
    """End a game nobody holds a seat of, as abandoned (the sweep's command)."""


class Flag(msgspec.Struct, frozen=True, gc=False):
    """End a timed game whose side to move ran out of time (or, before both sides moved,
    of its first move's window): any process may ask, the first stored wins."""


class OfferRematch(msgspec.Struct, frozen=True, gc=False):
    color: Player


class StartRematch(msgspec.Struct, frozen=True, gc=False):
    """Move everyone on to ``game`` (already created), once the offers are in."""

    game: str


Command = (
    Join
    | Move
    | Resign
    | Claim
    | Expire
    | Flag
    | OfferDraw
    | DeclineDraw
    | TakeBack
    | DeclineTakeback
    | OfferRematch
    | StartRematch
)


@dataclass(frozen=True, slots=True)
class Seats:
    """Who holds the game's seats, as the deciding process knows it.

    ``presence`` is the shared one (its ``seq`` goes with a decision that read
    it, so that the store appends only if it did not change meanwhile);
    ``expiries`` say which processes are alive; ``here`` are the seats held by
    connections of the deciding process, alive by definition."""

    presence: Presence
    expiries: Expiries
    grace: float
    here: Collection[Player] = ()


# -- seats -----------------------------------------------------------------------------


def invited(state: GameState, color: Player) -> bool:
    """Whether ``color``'s seat waits for its invite to be spent."""
    return color == state.guest and not state.local and not state.invite_spent


def away_since(state: GameState, seats: Seats, color: Player, now: float) -> float | None:
    """Since when ``color`` has been away in a way that counts towards a claim; None if it does not
    (held, the computer's, waiting for its guest, a game on one device or one that is over)."""
    if state.local or state.over or color == state.computer or invited(state, color) or color in seats.here:
        return None
    return seats.presence.away_since(color, seats.expiries, now)


def seat_state(state: GameState, seats: Seats, color: Player, now: float) -> SeatState:
    """How ``color``'s seat looks to everyone at ``now``."""
    if color == state.computer or color in seats.here:
        return "connected"
    if invited(state, color):
        return "empty"
    if state.local:
        return "disconnected"
    return seats.presence.state(color, seats.expiries, now, seats.grace)


def claimable_in(state: GameState, seats: Seats, color: Player, now: float) -> float | None:
    """Seconds until ``color``'s opponent may claim the win, while ``color`` is away; rounded up
    to a tenth, so it never reads 0 while the seat is not yet "gone"."""
    since = away_since(state, seats, color, now)
    if since is None or now - since >= seats.grace:  # the very test that makes the seat "gone"
        return None
    return max(0.1, math.ceil((seats.grace - (now - since)) * 10 - 1e-9) / 10)  # 1e-9: 0.7 * 10 is 7.000…1


def claimable(state: GameState, seats: Seats, color: Player, now: float) -> bool:
    """Whether ``color`` has been away the whole grace period."""
    since = away_since(state, seats, color, now)
    return since is not None and now - since >= seats.grace


def held(seats: Seats, now: float) -> bool:
    """Whether a live connection holds a seat."""
    if seats.here:
        return True
    presence = seats.presence
    return any(presence.live_holder(color, seats.expiries, now) is not None for color in PLAYERS)


def role_of(state: GameState, token_matches: dict[Player, bool]) -> Role | None:
    """The seat a player's token holds (``token_matches``: whether it is each colour's token,
    compared by the caller in constant time); never the computer's."""
    role: Role | None = None
    if token_matches[RED]:
        role = "both" if state.local else RED
    elif not state.local and token_matches[YELLOW]:
        role = YELLOW
    return None if role is not None and role == state.computer else role


def mover(state: GameState, role: Role) -> Player:
    """Who a player's command acts for: its colour, or whose turn it is on a shared device."""
    if role == "spectator":
        raise Refused("not_a_player", "Only a player can do this.")
    turn = state.board.turn
    if state.over or turn is None:
        raise Refused("game_over", "The game is over.")
    return turn if role == "both" else role


def rematch_offers_needed(state: GameState) -> int:
    """Against the computer the player's offer is enough: it accepts at once."""
    return 1 if state.computer is not None else 2


def humans(state: GameState) -> tuple[Player, ...]:
    return tuple(color for color in PLAYERS if color != state.computer)


# -- decisions -------------------------------------------------------------------------


def decide(state: GameState, command: Command, now: float, seats: Seats | None = None) -> Event:
    """The event ``command`` makes next, at ``now``; Refused if the game does not allow it.
    ``seats``: needed by the commands that depend on who is where (a claim, an expiry)."""
    if not state.version:
        raise Refused("game_not_found", "Game not found.")
    if type(command) is Move:
        return decide_move(state, command.role, command.column, command.ply, now)[0]
    if isinstance(command, Join):
        if state.invite_spent or state.local or state.join_key is None:
            raise Refused(
                "seat_taken",
                "This invite link was already used: the seat is taken. You can watch the game.",
                watch=state.watch_key,
            )
        if state.over:  # resigned or expired while waiting: no seat to take any more
            raise Refused("game_over", "This game has ended.")
        return Joined(at=now, name=command.name, request=command.request)
    if isinstance(command, Resign):
        return Resigned(at=now, player=mover(state, command.role))
    if isinstance(command, Claim):
        player = mover(state, command.role)
        if seats is None or state.local or not claimable(state, seats, other(player), now):
            grace = seats.grace if seats is not None else 0.0
            raise Refused(
                "not_claimable", f"You can claim the game once your opponent has been away for {grace:g} seconds."
            )
        return Claimed(at=now, player=player, grace=seats.grace)
    if isinstance(command, Expire):
        if state.over:
            raise Refused("game_over", "The game is over.")
        if seats is None or held(seats, now):
            raise Refused("not_claimable", "A seat is held, so the game does not expire.")
        return Expired(at=now)
    if isinstance(command, Flag):
        return flag(state, now)
    if isinstance(command, (OfferDraw, DeclineDraw)):
        return offers.draw(state, mover(state, command.role), command, now)
    if isinstance(command, (TakeBack, DeclineTakeback)):
        return offers.takeback(state, mover(state, command.role), command, now)
    if isinstance(command, OfferRematch):
        if command.color == state.computer:
            raise Refused("not_a_player", "The computer does not offer rematches: it accepts them.")
        if not state.over:
            raise Refused("game_not_over", "A rematch can only be offered once the game has ended.")
        if state.rematch is not None:
            raise Refused("game_over", "The rematch has already started.")
        return RematchOffered(at=now, player=command.color)
    if isinstance(command, StartRematch):
        if not state.over or state.rematch is not None or len(state.rematch_offers) < rematch_offers_needed(state):
            raise Refused("game_not_over", "A rematch starts once both players offered it.")
        return RematchStarted(at=now, game=command.game)
    raise TypeError(f"not a command: {command!r}")


def decide_move(state: GameState, role: Role, column: int, ply: int | None, now: float) -> tuple[Moved, int]:
    """A move's event and the row it lands on: the hot path, so the row found by the
    check is handed on and the deciding process need not check the move again."""
    if role == "spectator":
        raise Refused("spectator", "Spectators cannot play.")
    if state.result is not None:
        raise Refused("game_over", "The game is over.")
    board = state.board
    if ply is not None and ply != len(board.moves):
        code: RefusalCode = "stale_ply" if ply < board.ply else "future_ply"
        raise Refused(code, f"That move was for ply {ply}, but the game is at ply {board.ply}.")
    player = board.turn if role == "both" else role
    if player is None:  # (a full board has a result)
        raise Refused("game_over", "The game is over.")
    try:
        row = board.check(player, column)
    except IllegalMove as exc:
        raise Refused(exc.code, str(exc)) from None
    clock = state.clock
    if clock is not None and clock.expired(now):
        raise Refused("out_of_time", "Your time ran out before the move arrived.")
    return Moved(at=now, player=player, column=column, end=board.outcome(column, row)), row


def flag(state: GameState, now: float) -> TimedOut | Aborted:
    """The end of a timed game whose side to move is out of time at ``now``: on time once both
    sides moved, else aborted (a first move not made in time); at the deadline itself."""
    clock = state.clock
    turn = state.board.turn
    if state.over or turn is None:
        raise Refused("game_over", "The game is over.")
    deadline = clock.deadline if clock is not None else None
    if deadline is None or now < deadline:
        raise Refused("clock_running", "No clock has run out.")
    # The end is stored at the instant the flag fell, however late someone noticed.
    if clock is not None and clock.running:
        return TimedOut(at=deadline, player=turn)
    return Aborted(at=deadline)


def already(state: GameState, command: Command) -> bool:
    """Whether ``command`` is one the game has taken already: a request sent again after its
    answer was lost, which is then answered as the first was instead of refused. A move is
    known by its ply (the same column there, by the same player), a join by its request id."""
    if isinstance(command, Move):
        ply = command.ply
        if ply is None or not 0 <= ply < len(state.board.moves) or state.board.moves[ply] != command.column:
            return False
        player: Player = RED if ply % 2 == 0 else YELLOW
        return command.role == player or command.role == "both"
    if isinstance(command, Join):
        return command.request is not None and state.joined_by == command.request
    if isinstance(command, Resign):
        winner = state.result
        return (
            state.reason == "resign" and (winner == RED or winner == YELLOW) and command.role in (other(winner), "both")
        )
    if isinstance(command, Claim):
        return state.reason == "claim" and command.role in (state.result, "both")
    if isinstance(command, OfferRematch):
        return command.color in state.rematch_offers
    return False


def needs_seats(command: Command) -> bool:
    """Whether deciding ``command`` reads the seats: the append then carries the presence's seq."""
    return isinstance(command, (Claim, Expire))


def first_move_refusal(column: int, ply: int | None) -> Refused | None:
    """The tutorial's first move, before any game exists: checked so that a refused one makes none."""
    if ply:
        return Refused("future_ply", f"That move was for ply {ply}, but no game is started.")
    try:
        GameState("").board.check(RED, column)
    except IllegalMove as exc:
        return Refused(exc.code, str(exc))
    return None
