"""The Redis store's sweeps: the games idle since a time, and deleting those nobody played or
looked at since, with their keys and index entries.

The candidates come from the sweeps' indexes (``cf:open``, ``cf:unplayed``, ``cf:done``,
``redis_layout.py``), scored by time. Each game is checked here, from its log (when its last
event happened; whether it has a move) and its record (when someone last looked at it); a
deletion is then ``cf_delete`` at the version read, so that anything stored or looked at
meanwhile keeps the game. The index entries that no longer apply are dropped on the way.
"""

from __future__ import annotations

from collections.abc import Container
from typing import cast

from ..domain.events import Moved, decode_event
from ..redis.client import FAILURES
from .redis_functions import Functions, fcall
from .redis_layout import DONE, OPEN, UNPLAYED, encode_time, exclusive, game_keys, last_time

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
                    log, rec = game_keys(game_id)[:2]
                    pipe.hmget(rec, [b"updated_at", b"ended", b"result"])  # (result: as games ended before)
                    pipe.lindex(log, -1)
                answers = await pipe.execute()
                for game_id, (touched, ended, result), last in zip(chunk, answers[::2], answers[1::2]):
                    if touched is None or ended is not None or result is not None:
                        over.append(game_id)  # gone, or ended: not open any more
                    elif max(float(touched), last_time(last)) < before:
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
            return await self._delete(list(candidates), before, frozenset(), unplayed=False)
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        try:
            return await self._delete(await self._candidates(UNPLAYED, before), before, keep, unplayed=True)
        except FAILURES as exc:
            raise self._functions.failed(exc) from exc

    async def _delete(self, candidates: list[str], before: float, keep: Container[str], *, unplayed: bool) -> int:
        """Delete the candidates idle since ``before`` (and, if ``unplayed``, without a move),
        with their keys and index entries."""
        functions = self._functions
        if not functions.loaded():
            await functions.load()
        client = functions.client
        deleted = 0
        for start in range(0, len(candidates), CHUNK):
            chunk = [game_id for game_id in candidates[start : start + CHUNK] if game_id not in keep]
            if not chunk:
                continue
            read = client.pipeline(transaction=False)
            for game_id in chunk:
                read.lrange(game_keys(game_id)[0], 0, -1)
            due: list[tuple[str, int]] = []  # (game, the version it was read at)
            tidy = client.pipeline(transaction=False)
            for game_id, log in zip(chunk, await read.execute()):
                events = [decode_event(entry) for entry in log]
                if unplayed and any(type(event) is Moved for event in events):
                    tidy.zrem(UNPLAYED, game_id.encode())  # played: not a candidate any more
                elif not events or max(event.at for event in events) < before:
                    due.append((game_id, len(events)))
            pipe = client.pipeline(transaction=False)
            for game_id, version in due:
                keys = game_keys(game_id)
                fcall(pipe, "cf_delete", keys, [b"%d" % version, encode_time(before)], await functions.route(keys[0]))
            for (game_id, _), answer in zip(due, await pipe.execute()):
                member = game_id.encode()
                status = answer[0]
                if status == b"deleted":
                    deleted += 1
                    for key in answer[1:]:
                        if key:  # one by one: in a Cluster, each in its own slot
                            tidy.delete(b"cf:key:" + key)
                if status in (b"deleted", b"gone"):
                    tidy.zrem(OPEN, member)
                    tidy.zrem(UNPLAYED, member)
                    tidy.zrem(DONE, member)
            await tidy.execute()
        return deleted
