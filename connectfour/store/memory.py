"""The store in process memory: for tests and for throwaway servers."""

from __future__ import annotations

import copy
from collections.abc import Container

from ..domain import Reason, Result
from .base import Committed, GameRecord, KeyKind, PlyConflict, StoreError, append


class MemoryStore:
    def __init__(self) -> None:
        self._games: dict[str, GameRecord] = {}
        self._keys: dict[str, tuple[str, KeyKind]] = {}

    def _game(self, game_id: str) -> GameRecord:
        try:
            return self._games[game_id]
        except KeyError:
            raise StoreError(f"no game {game_id}") from None

    async def create(self, record: GameRecord) -> None:
        keys = [record.watch_key] + ([record.join_key] if record.join_key else [])
        if record.id in self._games or any(key in self._keys for key in keys):
            raise StoreError(f"game {record.id} or one of its keys already exists")
        record = copy.deepcopy(record)
        record.updated_at = record.updated_at or record.created_at
        self._games[record.id] = record
        self._keys[record.watch_key] = (record.id, "watch")
        if record.join_key:
            self._keys[record.join_key] = (record.id, "join")

    async def get(self, game_id: str) -> GameRecord | None:
        record = self._games.get(game_id)
        return copy.deepcopy(record) if record else None

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        return self._keys.get(key)

    async def spend_invite(self, game_id: str) -> bool:
        record = self._game(game_id)
        if record.invite_spent:
            return False
        record.invite_spent = True
        return True

    def append_nowait(self, game_id: str, ply: int, column: int, at: float, committed: Committed) -> None:
        record = self._games.get(game_id)
        if record is None:
            committed(StoreError(f"no game {game_id}"))
        elif ply != len(record.moves) or record.result is not None:
            committed(PlyConflict(f"game {game_id} is at ply {len(record.moves)}, not {ply}"))
        else:
            record.moves.append(column)
            record.updated_at = at
            committed(None)

    async def append(self, game_id: str, ply: int, column: int, at: float) -> None:
        await append(self, game_id, ply, column, at)

    async def finish(self, game_id: str, result: Result, reason: Reason, at: float) -> bool:
        record = self._game(game_id)
        if record.result is not None:
            return False
        record.result, record.reason, record.finished_at, record.updated_at = result, reason, at, at
        return True

    async def touch(self, game_id: str, at: float) -> None:
        self._game(game_id).updated_at = at

    async def idle_games(self, before: float) -> list[str]:
        return [g.id for g in self._games.values() if g.result is None and g.updated_at < before]

    async def prune(self, before: float) -> int:
        return self._delete([g for g in self._games.values() if g.updated_at < before])

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        return self._delete(
            [g for g in self._games.values() if not g.moves and g.updated_at < before and g.id not in keep]
        )

    def _delete(self, gone: list[GameRecord]) -> int:
        """Drop these games and their keys; how many there were."""
        for record in gone:
            del self._games[record.id]
            self._keys.pop(record.watch_key, None)
            if record.join_key:
                self._keys.pop(record.join_key, None)
        return len(gone)

    async def close(self) -> None:
        pass
