"""A command or an event the game does not allow, with the protocol's code for it."""

from __future__ import annotations

from typing import Literal

#: The protocol's codes for the refusals the rulebook makes.
RefusalCode = Literal[
    "game_not_found",
    "already_started",
    "invalid_token",
    "not_a_player",
    "not_claimable",
    "game_not_over",
    "seat_taken",
    "spectator",
    "invalid_column",
    "not_your_turn",
    "column_full",
    "game_over",
    "stale_ply",
    "future_ply",
    "invalid_event",
    "out_of_time",
    "clock_running",
    "not_available",
]


class Refused(Exception):
    """A command the game does not allow now; nothing changes. ``watch``: a watch key offered instead."""

    def __init__(self, code: RefusalCode, message: str, *, watch: str | None = None) -> None:
        super().__init__(message)
        self.code: RefusalCode = code
        self.message = message
        self.watch = watch
