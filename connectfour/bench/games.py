"""Scenario: many games at once, each with spectators, closed or open loop.

Speaks the tutorial's part-2 protocol (``init``, ``join``, ``watch``,
``play``), so it measures any compatible server; ``v1`` offers this server's
subprotocol instead. Every game plays the same 42-move draw, so each game is
exactly 42 legal moves long; then the game's connections are replaced by a
new game's, which keeps connection set-up in the measured load as the
tutorial's protocol requires (one game per connection).

Moves are driven from the frame callbacks: when a player's client receives
its opponent's move it sends its own at once (closed loop) or at its next
slot (open loop: ``rate`` moves/s over all games, each game
keeping its share).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .wsclient import LeanClient, client_frame, connect

# A full board with no four anywhere.
DRAW = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0,
        2, 3, 2, 3, 2, 3, 3, 2, 3, 2, 3, 2,
        4, 5, 4, 5, 4, 5, 5, 4, 5, 4, 5, 4,
        6, 6, 6, 6, 6, 6]  # fmt: skip
_MOVE_FRAMES = [client_frame(b'{"type":"play","column":%d}' % column) for column in DRAW]
_PLAY_PREFIXES = (b'{"type":"play"', b'{"type": "play"')
_ERROR_PREFIXES = (b'{"type":"error"', b'{"type": "error"')
_DRAW_MESSAGE = b"The game ended in a draw."
V1 = "connectfour.v1"
#: A game that has not ended after this many seconds counts as an error.
GAME_TIMEOUT = 60.0


@dataclass
class Stats:
    moves: int = 0
    games: int = 0
    connections: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    to_opponent: list[int] = field(default_factory=list)  # nanoseconds
    to_spectators: list[int] = field(default_factory=list)

    def reset(self) -> None:
        """Forget the warm-up: counts restart, samples go."""
        self.moves = self.games = self.connections = self.errors = 0
        self.error_samples.clear()
        self.to_opponent.clear()
        self.to_spectators.clear()

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:200])


class _Game:
    """One game in flight, driven by its clients' frame callbacks."""

    def __init__(self, stats: Stats, pace: Callable[[], float] | None) -> None:
        self.stats = stats
        self.pace = pace
        self.sent_at = [0] * len(DRAW)
        self.players: list[LeanClient] = []
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.remaining = 0

    def send_move(self, ply: int) -> None:
        if self.pace is not None:
            delay = self.pace()
            if delay > 0:
                self.loop.call_later(delay, self._send_now, ply)
                return
        self._send_now(ply)

    def _send_now(self, ply: int) -> None:
        self.sent_at[ply] = time.perf_counter_ns()
        self.players[ply & 1].send(_MOVE_FRAMES[ply])

    def handler(self, seat: int | None) -> Callable[[bytes], None]:
        stats, sent_at, last = self.stats, self.sent_at, len(DRAW)
        seen = 0

        def on_text(payload: bytes) -> None:
            nonlocal seen
            if payload.startswith(_PLAY_PREFIXES):
                latency = time.perf_counter_ns() - sent_at[seen]
                if seat is None:
                    stats.to_spectators.append(latency)
                elif seat != seen & 1:
                    stats.to_opponent.append(latency)
                    stats.moves += 1
                    if seen + 1 < last:
                        self.send_move(seen + 1)
                seen += 1
                if seen == last:
                    self._finished_one()
            elif payload.startswith(_ERROR_PREFIXES) and _DRAW_MESSAGE not in payload:
                stats.error(payload.decode(errors="replace"))

        return on_text

    def _finished_one(self) -> None:
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)

    def lost(self) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError("a connection closed mid-game"))


async def _wait_for(client: LeanClient, kind: bytes) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = json.loads(await client.recv())
        if event["type"] == kind.decode():
            return event
        if event["type"] == "error":
            raise ConnectionError(f"server refused: {event}")


class Pace:
    """One game's open-loop schedule: a move every ``interval`` seconds, the
    first at a random point of the first interval so that games do not move
    in step. A move due while the server is late goes at once, and the
    schedule goes on from it (no burst to catch up)."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        phase: Callable[[float], float] = lambda interval: random.uniform(0.0, interval),
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._phase = phase
        self.next: float | None = None

    def delay(self) -> float:
        """Seconds from now to this game's next move."""
        now = self._clock()
        due = self.next if self.next is not None else now + self._phase(self.interval)
        slot = max(now, due)
        self.next = slot + self.interval
        return slot - now


#: Where a client connects: host, port and path.
Address = tuple[str, int, str]


async def play_one_game(
    addresses: list[Address],
    spectators: int,
    v1: bool,
    stats: Stats,
    pace: Callable[[], float] | None,
    running: Callable[[], bool] = lambda: False,
    first: int = 0,
    clock: str | None = None,
) -> None:
    """Set up one game's connections and play it; with v1, play rematch after
    rematch on the same connections for as long as ``running()`` says.

    With several ``addresses`` (server processes sharing games) the clients
    take them in turn from ``first``: red on one, yellow on the next, and so on."""
    subprotocol = V1 if v1 else None
    clients: list[LeanClient] = []
    turn = itertools.count(first)

    def where() -> Address:
        return addresses[next(turn) % len(addresses)]

    try:
        red = await connect(*where(), subprotocol)
        clients.append(red)
        red.send_text(json.dumps({"type": "init", "clock": clock}).encode() if clock else b'{"type":"init"}')
        init = await _wait_for(red, b"init")
        yellow = await connect(*where(), subprotocol)
        clients.append(yellow)
        yellow.send_text(json.dumps({"type": "init", "join": init["join"]}).encode())
        watchers = []
        for _ in range(spectators):
            watcher = await connect(*where(), subprotocol)
            clients.append(watcher)
            watcher.send_text(json.dumps({"type": "init", "watch": init["watch"]}).encode())
            watchers.append(watcher)
        stats.connections += len(clients)
        while True:
            if v1:  # every member has its snapshot before the first move
                for client in clients:
                    await _wait_for(client, b"state")
            game = _Game(stats, pace)
            game.players = [red, yellow]
            game.remaining = len(clients)
            for seat, client in [(0, red), (1, yellow), *((None, w) for w in watchers)]:
                client.on_text = game.handler(seat)
                client.on_close = game.lost
                # Frames that came with the snapshot (presence, say) are not moves.
                client.inbox.clear()
            game.send_move(0)
            await asyncio.wait_for(game.done, GAME_TIMEOUT)
            stats.games += 1
            if not (v1 and running()):
                return
            # A rematch on the same connections: colours swap, spectators follow.
            for client in clients:
                client.on_text = client.queue
            red.send_text(b'{"type":"rematch"}')
            yellow.send_text(b'{"type":"rematch"}')
            red, yellow = yellow, red
    finally:
        for client in clients:
            client.on_close = lambda: None
            client.close()


async def run_games(
    url: str | list[str],
    *,
    games: int,
    spectators: int,
    duration: float,
    rate: float | None = None,
    v1: bool = False,
    warmup: float = 0.0,
    on_measure: Callable[[], None] | None = None,
    progress: Callable[[float, float, Stats], None] | None = None,
    clock: str | None = None,
) -> tuple[Stats, float]:
    """Play ``games`` games at once: ``warmup`` seconds unmeasured (connections
    ramping up), then ``duration`` seconds measured; (stats, seconds measured).
    ``on_measure`` runs when the measured part starts."""
    addresses: list[Address] = []
    for each in [url] if isinstance(url, str) else url:
        parts = urlsplit(each)
        addresses.append((parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"))
    stats = Stats()
    # Each game keeps its own schedule, its share of the rate: a server quick to
    # set games up does not let its first games race through the slots of the
    # others, so every server carries the same connection set-up per move.
    interval = games / rate if rate else None

    running = True

    async def lane(number: int) -> None:
        # The flag, not only the cancellation, ends a lane: asyncio.wait_for can
        # swallow a cancellation that races with its own result (Python 3.11).
        while running:
            try:
                pace = Pace(interval).delay if interval else None
                await play_one_game(addresses, spectators, v1, stats, pace, lambda: running, first=number, clock=clock)
            except (TimeoutError, OSError, ConnectionError, json.JSONDecodeError) as exc:
                stats.error(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.1)

    lanes = [asyncio.ensure_future(lane(number)) for number in range(games)]
    try:
        await asyncio.sleep(warmup)
        stats.reset()
        if on_measure:
            on_measure()
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < duration:
            if progress:
                progress(elapsed, duration, stats)
            await asyncio.sleep(min(0.5, duration - elapsed))
    finally:
        elapsed = time.monotonic() - start if "start" in locals() else 0.0
        moves = stats.moves
        running = False
        for task in lanes:
            task.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        stats.moves = moves
    return stats, elapsed
