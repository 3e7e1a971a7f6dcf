"""The Redis store's sweeps: the games idle since a time, and deleting those nobody played or
looked at since, with their keys and index entries.

The candidates come from the sweeps' indexes (``cf:open``, ``cf:unplayed``, ``cf:done``,
``redis_layout.py``), scored by time; each game is checked (by ``cf_delete`` itself for a
deletion, so that a move stored meanwhile keeps it), and the index entries that no longer
apply are dropped on the way.
"""

from __future__ import annotations

from collections.abc import Container
from typing import cast

from ..redis.client import FAILURES
from .redis_functions import Functions, fcall
from .redis_layout import DONE, OPEN, UNPLAYED, encode_time, exclusive, game_keys

#: Games per pipeline.
CHUNK = 200


class RedisSweeps:
    def __init__(self, functions: Functions, retention: float) -> None:
        self._functions = functions
        #: Seconds a finished game is kept: its index entry goes some time after its keys expired.
        self.retention = retention

    async def _candidates(self, index: bytes, before: float) -> list[str]:
        """The games of ``index`` (``OPEN``, ``UNPLAYED``, ``DONE``) scored before ``before``."""
        ids = cast("list[bytes]", await self._functions.client.zrangebyscore(index, "-inf", exclusive(before)))
        return [game_id.decode() for game_id in ids]

    async def idle_games(self, before: float) -> list[str]:
        try:
            candidates = await self._candidates(OPEN, before)
            idle: list[str] = []
            over: list[str] = []
            for start in range(0, len(candidates), CHUNK):
                chunk = candidates[start : start + CHUNK]
                pipe = self._functions.client.pipeline(transaction=False)
                for game_id in chunk:
                    pipe.hmget(game_keys(game_id)[1], [b"updated_at", b"result"])
                for game_id, (updated, result) in zip(chunk, await pipe.execute()):
                    if updated is None or result is not None:
                        over.append(game_id)  # gone, or ended: not open any more
                    elif float(updated) < before:
                        idle.append(game_id)
            if over:
                await self._functions.client.zrem(OPEN, *over)
            # Finished games whose keys expired long ago leave the finished index.
            await self._functions.client.zremrangebyscore(DONE, "-inf", exclusive(before - self.retention))
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc
        return idle

    async def prune(self, before: float) -> int:
        try:
            candidates = dict.fromkeys(await self._candidates(OPEN, before) + await self._candidates(DONE, before))
            return await self._delete(list(candidates), b"idle", before, frozenset())
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        try:
            return await self._delete(await self._candidates(UNPLAYED, before), b"unplayed", before, keep)
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc

    async def _delete(self, candidates: list[str], mode: bytes, before: float, keep: Container[str]) -> int:
        """Delete the candidates that still qualify (checked by the function, so a move
        stored meanwhile keeps a game), with their keys and index entries."""
        functions = self._functions
        if not functions.loaded():
            await functions.load()
        deleted = 0
        for start in range(0, len(candidates), CHUNK):
            chunk = [game_id for game_id in candidates[start : start + CHUNK] if game_id not in keep]
            if not chunk:
                continue
            pipe = self._functions.client.pipeline(transaction=False)
            for game_id in chunk:
                keys = game_keys(game_id)
                fcall(pipe, "cf_delete", keys, [mode, encode_time(before)], await functions.route(keys[0]))
            tidy = self._functions.client.pipeline(transaction=False)
            for game_id, answer in zip(chunk, await pipe.execute()):
                member = game_id.encode()
                status = answer[0]
                if status == b"deleted":
                    deleted += 1
                    for key in answer[1:]:
                        if key:  # one by one: in a Cluster, each in its own slot
                            tidy.delete(b"cf:key:" + key)
                    tidy.zrem(OPEN, member)
                    tidy.zrem(UNPLAYED, member)
                    tidy.zrem(DONE, member)
                elif status == b"gone":
                    tidy.zrem(OPEN, member)
                    tidy.zrem(UNPLAYED, member)
                    tidy.zrem(DONE, member)
                elif status == b"played":
                    tidy.zrem(UNPLAYED, member)
            await tidy.execute()
        return deleted
