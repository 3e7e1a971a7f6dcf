"""Scenario: many games at once, each with spectators, closed or open loop.

Speaks the tutorial's part-2 protocol (``init``, ``join``, ``watch``,
``play``), so it measures any compatible server; ``v1`` offers this server's
subprotocol instead. Every game plays the same 42-move draw, so each game is
exactly 42 legal moves long, then the game's connections are replaced by a
new game's, which keeps connection set-up in the measured load.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

import aiohttp

# A full board with no four anywhere.
DRAW = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0,
        2, 3, 2, 3, 2, 3, 3, 2, 3, 2, 3, 2,
        4, 5, 4, 5, 4, 5, 5, 4, 5, 4, 5, 4,
        6, 6, 6, 6, 6, 6]  # fmt: skip


@dataclass
class Stats:
    moves: int = 0
    games: int = 0
    connections: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    to_opponent: list[int] = field(default_factory=list)  # nanoseconds
    to_spectators: list[int] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:200])


class _Game:
    """One game in flight: who moves next and when each ply was sent."""

    def __init__(self, interval: float | None) -> None:
        self.sent_at = [0] * len(DRAW)
        self.interval = interval
        self.next_due = time.monotonic()
        self.done = asyncio.Event()


async def _connect(session: aiohttp.ClientSession, url: str, v1: bool, stats: Stats) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(url, protocols=("connectfour.v1",) if v1 else (), autoping=True, max_msg_size=0)
    stats.connections += 1
    return ws


async def _send_move(ws: aiohttp.ClientWebSocketResponse, game: _Game, ply: int) -> None:
    if game.interval is not None:
        due = max(time.monotonic(), game.next_due)
        game.next_due = due + game.interval
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    game.sent_at[ply] = time.perf_counter_ns()
    await ws.send_str('{"type":"play","column":%d}' % DRAW[ply])


async def _read(ws: aiohttp.ClientWebSocketResponse, game: _Game, seat: int | None, stats: Stats) -> None:
    """Read one connection's frames; a player answers each opposing move with its own."""
    ply = 0
    async for msg in ws:
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        now = time.perf_counter_ns()
        event = json.loads(msg.data)
        kind = event.get("type")
        if kind == "play":
            mover = ply & 1
            if seat is None:
                stats.to_spectators.append(now - game.sent_at[ply])
            elif seat != mover:
                stats.to_opponent.append(now - game.sent_at[ply])
                stats.moves += 1
                if ply + 1 < len(DRAW):
                    await _send_move(ws, game, ply + 1)
            ply += 1
            if ply == len(DRAW):
                break
        elif kind == "error":
            if event.get("message") == "The game ended in a draw." or event.get("code") == "game_over":
                break
            stats.error(event.get("message", msg.data))
        elif kind == "draw":
            break
    if seat is not None:
        game.done.set()


async def _one_game(
    session: aiohttp.ClientSession, url: str, spectators: int, v1: bool, interval: float | None, stats: Stats
) -> None:
    game = _Game(interval)
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    readers: list[asyncio.Future[None]] = []
    try:
        host = await _connect(session, url, v1, stats)
        sockets.append(host)
        await host.send_str('{"type":"init"}')
        init = await host.receive_json()
        guest = await _connect(session, url, v1, stats)
        sockets.append(guest)
        await guest.send_str(json.dumps({"type": "init", "join": init["join"]}))
        watchers = []
        for _ in range(spectators):
            watcher = await _connect(session, url, v1, stats)
            sockets.append(watcher)
            await watcher.send_str(json.dumps({"type": "init", "watch": init["watch"]}))
            watchers.append(watcher)
        if v1:  # let every snapshot arrive before the first move
            for ws in sockets:
                while (await ws.receive_json())["type"] != "state":
                    pass
        readers += [asyncio.ensure_future(_read(host, game, 0, stats)), asyncio.ensure_future(_read(guest, game, 1, stats))]
        readers += [asyncio.ensure_future(_read(w, game, None, stats)) for w in watchers]
        await _send_move(host, game, 0)
        await asyncio.gather(*readers)
        stats.games += 1
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for ws in sockets:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                await ws.close()


async def run_games(
    url: str,
    *,
    games: int,
    spectators: int,
    duration: float,
    rate: float | None = None,
    v1: bool = False,
    progress=None,  # type: ignore[no-untyped-def]
) -> tuple[Stats, float]:
    """Play ``games`` games at once for ``duration`` seconds; (stats, seconds measured)."""
    stats = Stats()
    interval = games / rate if rate else None
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def lane() -> None:
            while True:
                try:
                    await _one_game(session, url, spectators, v1, interval, stats)
                except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                    stats.error(f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.1)

        lanes = [asyncio.ensure_future(lane()) for _ in range(games)]
        start = time.monotonic()
        try:
            while (elapsed := time.monotonic() - start) < duration:
                if progress:
                    progress(elapsed, duration, stats)
                await asyncio.sleep(min(0.5, duration - elapsed))
        finally:
            elapsed = time.monotonic() - start
            for task in lanes:
                task.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)
    return stats, elapsed
