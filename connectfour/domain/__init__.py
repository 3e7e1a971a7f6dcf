"""The words every layer shares: players, roles, how a game stands and how it ended.

The rules, the store, the service and the protocol all speak of the same
things; defining them once here keeps a ``"yelow"`` from passing between
layers unnoticed (mypy checks every use against these literals).
"""

from __future__ import annotations

from typing import Literal

Player = Literal["red", "yellow"]
RED: Literal["red"] = "red"
YELLOW: Literal["yellow"] = "yellow"
PLAYERS: tuple[Player, Player] = (RED, YELLOW)

#: Who a connection is in a game: a player, both players on one device, or a spectator.
Role = Literal["red", "yellow", "both", "spectator"]
#: Where a game stands.
Status = Literal["waiting", "playing", "won", "draw", "abandoned"]
#: How a game ended: the winner's colour, "draw", or "abandoned" (nobody won).
Result = Literal["red", "yellow", "draw", "abandoned"]
#: Why: four in a row, full board, resignation, the opponent's absence, expiry, the
#: loser's clock run out ("time"), a first move not made in time ("aborted": nobody won),
#: or a draw both players agreed to ("agreement").
Reason = Literal["four", "full", "resign", "claim", "expired", "time", "aborted", "agreement"]
#: A seat as the players and spectators see it.
SeatState = Literal["empty", "connected", "disconnected", "gone"]


def other(player: Player) -> Player:
    return YELLOW if player == RED else RED
