"""The store in process memory: for tests and for throwaway servers."""

from __future__ import annotations

import copy

from .base import GameRecord, KeyKind, PlyConflict, StoreError


class MemoryStore:
    def __init__(self) -> None:
        self._games: dict[str, GameRecord] = {}
        self._keys: dict[str, tuple[str, KeyKind]] = {}

    async def create(self, record: GameRecord) -> None:
        keys = [record.watch_key] + ([record.join_key] if record.join_key else [])
        if record.id in self._games or any(key in self._keys for key in keys):
            raise StoreError(f"game {record.id} or one of its keys already exists")
        self._games[record.id] = copy.deepcopy(record)
        self._keys[record.watch_key] = (record.id, "watch")
        if record.join_key:
            self._keys[record.join_key] = (record.id, "join")

    async def get(self, game_id: str) -> GameRecord | None:
        record = self._games.get(game_id)
        return copy.deepcopy(record) if record else None

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        return self._keys.get(key)

    async def spend_invite(self, game_id: str) -> bool:
        record = self._games[game_id]
        if record.invite_spent:
            return False
        record.invite_spent = True
        return True

    async def append(self, game_id: str, ply: int, column: int) -> None:
        moves = self._games[game_id].moves
        if ply != len(moves):
            raise PlyConflict(f"game {game_id} is at ply {len(moves)}, not {ply}")
        moves.append(column)

    async def close(self) -> None:
        pass
