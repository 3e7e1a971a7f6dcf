"""The store interface: the move log is the source of truth.

Appending the move at ply N succeeds exactly once; a second append at the
same ply, from any caller, raises ``PlyConflict``. The service announces a
move only after ``append`` returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

KeyKind = Literal["join", "watch"]


class StoreError(Exception):
    """The store could not do what was asked; nothing was changed."""


class PlyConflict(StoreError):
    """Another move already holds this ply (or an earlier one is missing)."""


@dataclass
class GameRecord:
    """What the store keeps of one game."""

    id: str
    watch_key: str
    join_key: str | None  # None: a game played on one device, no invite
    created_at: float
    moves: list[int] = field(default_factory=list)
    invite_spent: bool = False

    @property
    def local(self) -> bool:
        return self.join_key is None


class Store(Protocol):
    async def create(self, record: GameRecord) -> None:
        """Store a new game with its keys."""

    async def get(self, game_id: str) -> GameRecord | None:
        """A copy of the game, or None."""

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        """The game an invite or watch key belongs to, and which key it is."""

    async def spend_invite(self, game_id: str) -> bool:
        """Mark the invite used. True for exactly one caller, ever."""

    async def append(self, game_id: str, ply: int, column: int) -> None:
        """Add the move at index ``ply``; raise PlyConflict unless ``ply`` is the next one."""

    async def close(self) -> None:
        """Release files and connections."""
