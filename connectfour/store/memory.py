"""The store in process memory: for tests, for throwaway servers, and for
several services in one process sharing one store and one bus."""

from __future__ import annotations

import copy
from collections.abc import Container

from ..bus import Bus, LocalBus
from ..domain.events import Created, Event, Moved
from .base import Committed, ConditionFailed, GameRecord, KeyKind, StoreError, VersionConflict, append, ends
from .matching import LocalMatchQueue
from .seats import LocalSeats


class MemoryStore:
    def __init__(self, bus: Bus | None = None) -> None:
        self.bus: Bus = bus if bus is not None else LocalBus()
        self.seats = LocalSeats(self.bus, over=self._over)
        self.match = LocalMatchQueue()
        self._games: dict[str, GameRecord] = {}
        self._logs: dict[str, list[Event]] = {}
        self._keys: dict[str, tuple[str, KeyKind]] = {}

    def _over(self, game_id: str) -> bool:
        record = self._games.get(game_id)
        return record is not None and record.result is not None

    def append_nowait(
        self, game_id: str, version: int, event: Event, committed: Committed, presence_seq: int | None = None
    ) -> None:
        try:
            self._append(game_id, version, event, presence_seq)
        except StoreError as exc:
            committed(exc)
        else:
            committed(None)

    def _append(self, game_id: str, version: int, event: Event, presence_seq: int | None) -> None:
        log = self._logs.get(game_id)
        last = len(log) if log is not None else 0
        if version != last + 1:
            raise VersionConflict(game_id, version, last)
        if presence_seq is not None and self.seats.seq(game_id) != presence_seq:
            raise ConditionFailed(f"game {game_id}: its presence changed since the decision")
        if type(event) is Moved and log is not None and event.end is None:  # the hot path
            log.append(event)
            record = self._games[game_id]
            record.version = version
            record.moves.append(event.column)
            if event.at > record.updated_at:
                record.updated_at = event.at
        elif isinstance(event, Created):
            self._create(game_id, event)
        elif log is None:
            raise StoreError(f"no game {game_id}")
        else:
            log.append(event)
            record = self._games[game_id]
            record.advance(event)
            if ends(event):
                self.seats.ended(game_id)
        self.bus.publish(game_id, version, event)

    def _create(self, game_id: str, event: Created) -> None:
        keys = [event.watch_key] + ([event.join_key] if event.join_key else [])
        if game_id in self._games or any(key in self._keys for key in keys):
            raise StoreError(f"game {game_id} or one of its keys already exists")
        self._games[game_id] = GameRecord.created(game_id, event)
        self._logs[game_id] = [event]
        for key in keys:
            self._keys[key] = (game_id, "watch" if key == event.watch_key else "join")

    async def append(self, game_id: str, version: int, event: Event, presence_seq: int | None = None) -> None:
        await append(self, game_id, version, event, presence_seq)

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        log = self._logs.get(game_id, [])
        return list(enumerate(log[after:], after + 1))

    async def versions(self, game_ids: list[str]) -> dict[str, int]:
        return {game_id: len(self._logs.get(game_id, ())) for game_id in game_ids}

    async def get(self, game_id: str) -> GameRecord | None:
        record = self._games.get(game_id)
        return copy.deepcopy(record) if record else None

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        return self._keys.get(key)

    async def confirm(self, game_id: str) -> None:
        """Nothing to wait for: what is stored was durable before it was acknowledged."""

    async def touch(self, game_id: str, at: float) -> None:
        record = self._games.get(game_id)
        if record is None:
            raise StoreError(f"no game {game_id}")
        record.updated_at = max(record.updated_at, at)

    async def idle_games(self, before: float) -> list[str]:
        return [g.id for g in self._games.values() if g.result is None and g.updated_at < before]

    async def prune(self, before: float) -> int:
        return self._delete([g for g in self._games.values() if g.updated_at < before])

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        return self._delete(
            [g for g in self._games.values() if not g.moves and g.updated_at < before and g.id not in keep]
        )

    def _delete(self, gone: list[GameRecord]) -> int:
        """Drop these games, their logs and their keys; how many there were."""
        for record in gone:
            del self._games[record.id]
            del self._logs[record.id]
            self.seats.forget(record.id)
            self._keys.pop(record.watch_key, None)
            if record.join_key:
                self._keys.pop(record.join_key, None)
        return len(gone)

    async def close(self) -> None:
        pass

    @property
    def location(self) -> str:
        return "memory"

    @property
    def in_process(self) -> bool:
        return True

    async def ping(self) -> None:
        pass
