"""The tutorial's view of our events, byte for byte.

A client that did not negotiate ``connectfour.v1`` gets only ``init``,
``play``, ``win`` and ``error``, with exactly the fields and the JSON spacing
of the tutorial's reference server (Python's ``json.dumps``). Events it has no
word for are either dropped (presence) or told as an ``error`` message the
tutorial's page shows to its user (a draw).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..domain import Player
from ..rules import COLUMNS, PLAYERS, ROWS
from .server_messages import DrawEvent, ErrorEvent, InitEvent, PlayEvent, ServerEvent, StateEvent, WinEvent

DRAW_MESSAGE = "The game ended in a draw."

#: The fields of each event that the tutorial defines, in both directions;
#: tutorial clients send and receive no others.
TUTORIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "init": ("join", "watch"),
    "play": ("column", "player", "row"),
    "win": ("player",),
    "error": ("message",),
}


def _dumps(event: dict[str, object]) -> bytes:
    return json.dumps(event).encode()


# Every possible move frame, built once: 2 players x 7 columns x 6 rows.
_PLAY_FRAMES = {
    (player, column, row): _dumps({"type": "play", "player": player, "column": column, "row": row})
    for player in PLAYERS
    for column in range(COLUMNS)
    for row in range(ROWS)
}
_WIN_FRAMES = {player: _dumps({"type": "win", "player": player}) for player in PLAYERS}
_DRAW_FRAME = _dumps({"type": "error", "message": DRAW_MESSAGE})
# A move's frames as ``encode_legacy`` returns them: made once, not on every move.
_PLAYED = {key: (frame,) for key, frame in _PLAY_FRAMES.items()}


def encode_legacy(event: ServerEvent) -> Sequence[bytes]:
    """The frames a tutorial client receives for ``event`` (often one, maybe none)."""
    if isinstance(event, PlayEvent):
        return _PLAYED[event.player, event.column, event.row]
    if isinstance(event, WinEvent):
        return [_WIN_FRAMES[event.player]]
    if isinstance(event, DrawEvent):
        return [_DRAW_FRAME]
    if isinstance(event, ErrorEvent):
        return [_dumps({"type": "error", "message": event.message})]
    if isinstance(event, InitEvent):
        if event.join is None:
            return []
        return [_dumps({"type": "init", "join": event.join, "watch": event.watch})]
    if isinstance(event, StateEvent):
        return replay(event.moves, event.winner, event.status == "draw")
    return []


def replay(columns: list[int], winner: Player | None, draw: bool) -> list[bytes]:
    """Past moves as the tutorial replays them to a joiner or spectator."""
    heights = [0] * COLUMNS
    frames = []
    for ply, column in enumerate(columns):
        frames.append(_PLAY_FRAMES[PLAYERS[ply & 1], column, heights[column]])
        heights[column] += 1
    if winner is not None:
        frames.append(_WIN_FRAMES[winner])
    elif draw:
        frames.append(_DRAW_FRAME)
    return frames
