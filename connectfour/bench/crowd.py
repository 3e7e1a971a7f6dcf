"""Scenarios with many connections: fan-out to N spectators, and N idle connections held.

fan-out: one game watched by N spectators; each move's time to reach the
opponent and every spectator, and the time until the last of them has it.
capacity: N connections opened and held; the rate they opened at and, given
the server's pid, its memory per connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import procstat
from .games import DRAW, V1
from .wsclient import LeanClient, client_frame, connect

_PLAY_PREFIXES = (b'{"type":"play"', b'{"type": "play"')


def _address(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"


async def open_many(
    url: str,
    count: int,
    *,
    subprotocol: str | None,
    concurrency: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[LeanClient], float]:
    """Open ``count`` connections, ``concurrency`` handshakes at a time; (clients, seconds)."""
    host, port, path = _address(url)
    clients: list[LeanClient] = []
    semaphore = asyncio.Semaphore(concurrency)
    start = time.monotonic()

    async def one() -> None:
        async with semaphore:
            clients.append(await connect(host, port, path, subprotocol))
            if progress and len(clients) % 500 == 0:
                progress(len(clients), count)

    await asyncio.gather(*(one() for _ in range(count)))
    return clients, time.monotonic() - start


@dataclass
class FanoutResult:
    spectators: int
    connect_seconds: float
    to_all: list[int] = field(default_factory=list)  # ns per move, until the last recipient
    to_each: list[int] = field(default_factory=list)  # ns per recipient and move


async def run_fanout(
    url: str,
    *,
    spectators: int,
    moves: int,
    v1: bool = False,
    on_measure: Callable[[], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FanoutResult:
    host, port, path = _address(url)
    subprotocol = V1 if v1 else None
    red = await connect(host, port, path, subprotocol)
    red.send_text(b'{"type":"init"}')
    init = await _until(red, "init")
    yellow = await connect(host, port, path, subprotocol)
    yellow.send_text(json.dumps({"type": "init", "join": init["join"]}).encode())
    # A first move, so that each spectator's replay of it confirms its seat.
    red.send_text(b'{"type":"play","column":%d}' % DRAW[0])
    await _until(yellow, "play")
    watchers, seconds = await open_many(url, spectators, subprotocol=subprotocol, progress=progress)
    watch = client_frame(json.dumps({"type": "init", "watch": init["watch"]}).encode())
    for watcher in watchers:
        watcher.send(watch)
    for watcher in watchers:
        await _until(watcher, "state" if v1 else "play")
    result = FanoutResult(spectators, seconds)
    if on_measure:
        on_measure()
    try:
        for ply in range(1, min(moves + 1, len(DRAW))):
            mover, opponent = (red, yellow) if ply % 2 == 0 else (yellow, red)
            audience = [opponent, *watchers]
            waiting = len(audience)
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            sent = 0

            # It reads this turn's sent, done and waiting (set after it is made): it is
            # replaced before the next turn, so the loop's later values never reach it.
            def handler(payload: bytes) -> None:
                nonlocal waiting
                if payload.startswith(_PLAY_PREFIXES):
                    result.to_each.append(time.perf_counter_ns() - sent)  # noqa: B023
                    waiting -= 1
                    if waiting == 0 and not done.done():  # noqa: B023
                        done.set_result(None)  # noqa: B023

            for client in (*audience, mover):
                client.inbox.clear()
                client.on_text = handler if client is not mover else (lambda payload: None)
            sent = time.perf_counter_ns()
            mover.send_text(b'{"type":"play","column":%d}' % DRAW[ply])
            await asyncio.wait_for(done, 60)
            result.to_all.append(time.perf_counter_ns() - sent)
    finally:
        for client in (red, yellow, *watchers):
            client.close()
    return result


async def _until(client: LeanClient, kind: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = json.loads(await client.recv())
        if event["type"] == kind:
            return event
        if event["type"] == "error":
            raise ConnectionError(f"server refused: {event}")


@dataclass
class CapacityResult:
    connections: int
    seconds: float
    rss_before: int | None
    rss_after: int | None

    @property
    def bytes_per_connection(self) -> float | None:
        if self.rss_before is None or self.rss_after is None:
            return None
        return (self.rss_after - self.rss_before) / self.connections


async def run_capacity(
    url: str,
    *,
    connections: int,
    server_pid: int | None,
    v1: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CapacityResult:
    before = procstat.sample(server_pid).rss if server_pid else None
    clients, seconds = await open_many(url, connections, subprotocol=V1 if v1 else None, progress=progress)
    try:
        # Let the server settle, then check every connection is still open.
        await asyncio.sleep(1.0)
        lost = sum(client.closed for client in clients)
        if lost:
            raise ConnectionError(f"{lost} of {connections} connections were closed by the server")
        after = procstat.sample(server_pid).rss if server_pid else None
    finally:
        for client in clients:
            client.close()
    return CapacityResult(connections, seconds, before, after)
