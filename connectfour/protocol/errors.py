"""Error codes: one stable ``code`` per refusal, with the text people see."""

from __future__ import annotations

from typing import Literal

from ..domain.refusal import Refused

#: The code of every refusal a client can receive: mypy checks each one named.
ErrorCode = Literal[
    "invalid_json", "invalid_message", "unknown_type", "binary_frame", "rate_limited", "too_many_games",
    "already_started", "game_not_found", "invalid_token", "replaced", "not_a_player", "not_claimable",
    "game_not_over", "seat_taken", "spectator", "invalid_column", "not_your_turn", "column_full", "game_over",
    "stale_ply", "future_ply", "not_waiting", "unavailable", "internal_error", "rewound", "out_of_time",
    "not_available",
]  # fmt: skip

#: Every code a client can receive, with what it means. docs/protocol.md lists
#: the same table; a test keeps the two in step.
ERROR_CODES: dict[ErrorCode, str] = {
    "invalid_json": "The frame is not valid JSON.",
    "invalid_message": "The JSON is not an object, or a field is missing or has the wrong type or range.",
    "unknown_type": "The `type` names no client event.",
    "binary_frame": "Binary frames are not accepted; send JSON text.",
    "rate_limited": "Too many frames in a short time; the frame was dropped.",
    "too_many_games": "This address started too many games in the last minute; nothing was created.",
    "already_started": "This connection already started, joined or watches a game.",
    "game_not_found": "No game has this invite or watch key, or (``resume``) this id.",
    "invalid_token": "The token does not hold a seat in this game.",
    "replaced": "The seat was taken over by a newer connection with its token; this one closes.",
    "not_a_player": "Only a player can do this.",
    "not_claimable": "The opponent is connected, or has not been away for the grace period yet.",
    "game_not_over": "A rematch can only be offered once the game has ended.",
    "seat_taken": "The invite was already used: the seat is taken; the error carries the watch key (v1).",
    "spectator": "Spectators cannot play.",
    "invalid_column": "The column is not an integer from 0 to 6.",
    "not_your_turn": "It is the other player's turn.",
    "column_full": "The column is full.",
    "game_over": "The game has ended; no more moves.",
    "stale_ply": "The move was for a ply already played (double click, second tab).",
    "future_ply": "The move was for a ply the game has not reached: the client is ahead of it; resume to resync.",
    "out_of_time": "The mover's clock ran out before the move arrived: the game is lost on time.",
    "not_available": "A draw or a takeback not allowed now: against the computer or on one device (draws), nothing to take back, an offer already made this move, or nothing to decline.",
    "not_waiting": "Nothing to cancel: the connection is not waiting for a quick match, or an opponent was found.",
    "unavailable": "The server could not store the request in time (or, waiting for replicas, not replicate it): its outcome is unknown; send it again with the same id.",
    "internal_error": "A fault in the server, logged: the request's outcome is unknown; send it again with the same id.",
    "rewound": "The store lost the game's latest events (a failover onto a replica that lagged), maybe played on since from an earlier point: never played on in silence; the connection closes (4002), and a resume carries on from what was kept.",
}


class ProtocolError(Exception):
    """A refusal to report to the client as an ``error`` event."""

    def __init__(self, code: ErrorCode, message: str, *, watch: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        #: A watch key the refusal offers instead (a spent invite may still watch).
        self.watch = watch

    @classmethod
    def of(cls, refused: Refused) -> ProtocolError:
        """The rulebook's refusal, as the client hears it."""
        code = refused.code
        if code == "invalid_event" or code == "clock_running":  # a log that does not follow, a flag
            # too early (the server's own command): never a client's doing
            return cls("internal_error", refused.message)
        return cls(code, refused.message, watch=refused.watch)
