"""The store interface: the move log is the source of truth.

Appending the move at ply N succeeds exactly once; a second append at the
same ply, from any caller or process, raises ``PlyConflict``, and so does an
append that would leave a gap. The service announces a move only after
``append`` returned.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..completion import completion
from ..domain import Player, Reason, Result

KeyKind = Literal["join", "watch"]
#: Called once a move is stored (None) or refused (the StoreError).
Committed = Callable[["StoreError | None"], None]


class StoreError(Exception):
    """The store could not do what was asked; nothing was changed."""


class PlyConflict(StoreError):
    """Another move already holds this ply (or an earlier one is missing)."""


@dataclass
class GameRecord:
    """What the store keeps of one game."""

    id: str
    watch_key: str
    join_key: str | None  # None once no invite is needed (same device, rematch)
    red_token: str
    yellow_token: str  # the same as red_token when one device plays both
    created_at: float
    local: bool = False
    invite_spent: bool = False
    moves: list[int] = field(default_factory=list)
    updated_at: float = 0.0
    result: Result | None = None
    reason: Reason | None = None
    finished_at: float | None = None
    rematch_of: str | None = None
    #: The seat the computer holds, in a game against it; its level (1 to 4).
    computer: Player | None = None
    level: int = 0


class Store(Protocol):
    async def create(self, record: GameRecord) -> None:
        """Store a new game with its keys and tokens."""

    async def get(self, game_id: str) -> GameRecord | None:
        """A copy of the game with its moves, or None."""

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        """The game an invite or watch key belongs to, and which key it is."""

    async def spend_invite(self, game_id: str) -> bool:
        """Mark the invite used. True for exactly one caller, ever."""

    def append_nowait(self, game_id: str, ply: int, column: int, at: float, committed: Committed) -> None:
        """Add the move at index ``ply``; ``committed`` hears when it is durable, or
        PlyConflict unless ``ply`` was the next one. It may be called before this returns."""

    async def append(self, game_id: str, ply: int, column: int, at: float) -> None:
        """``append_nowait``, awaited."""

    async def finish(self, game_id: str, result: Result, reason: Reason, at: float) -> bool:
        """Record how an unfinished game ended; False if it had already ended."""

    async def touch(self, game_id: str, at: float) -> None:
        """Note activity (someone left, say), which postpones expiry."""

    async def idle_games(self, before: float) -> list[str]:
        """Unfinished games with no activity since ``before``."""

    async def prune(self, before: float) -> int:
        """Delete games with no activity since ``before``; how many went."""

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        """Delete games without a single move and without activity since ``before``,
        finished or not, with their keys, except those in ``keep``; how many went.

        Creating a game is cheap and nothing else ever deletes it, so without
        this the database grows with every game nobody played. A game with a
        move stays: its replay is worth keeping (``prune`` is for those).
        """

    async def close(self) -> None:
        """Flush and release files and connections."""


async def append(store: Store, game_id: str, ply: int, column: int, at: float) -> None:
    """Await ``store.append_nowait``: the shared body of every store's ``append``."""
    await completion(lambda done: store.append_nowait(game_id, ply, column, at, done))
