"""The server's own Python, without the kernel: tutorial games driven in one process.

The guard, the connections, the service and the store of a real application
(``create_app``, the front ``Site``'s protocol factory) are fed the frames
clients would send, through transports that keep count of what is written
and send nothing. So the figures are the CPU time of this process's Python
alone (its main thread's ``time.thread_time``), free of the system calls and
the load generator that the ``games`` scenario measures with them: per game
set up (three connections upgraded, ``init``, ``join``, ``watch``), per
move, and per game closed.

Nothing here reads a clock to decide what to do next: each phase waits for
the frames it expects. Under ``valgrind --tool=callgrind`` two runs of
different ``--games`` give the instructions of a game (and, with ``--moves
win`` against the 42-move draw, of a move) by difference, start-up cancelling
out: the figures docs/benchmarks.md gives for set-up and moves in instructions.

Run with ``python -m connectfour.bench.inproc [--games N] [--rounds R] [--moves draw|win] [--store sqlite|memory]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from ..config import Settings
from ..store import MemoryStore, SQLiteStore, Store
from ..web.app import create_app
from ..web.front import Guard, Listener, Site
from ..web.server import make_runner, tune_gc
from .games import DRAW

#: A game red wins with its fourth disc in column 0: set-up weighs more against its moves.
WIN = [0, 1, 0, 1, 0, 1, 0]
HEAD = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
#: Seconds a phase may take before the drive gives up (a server that lost a frame).
PHASE_TIMEOUT = 60.0


def client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked client frame of at most 125 bytes, with a zero mask (RFC 6455 allows it)."""
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


class Counter:
    """What the transports saw (plays sent to spectators, connections closed), and a
    future for the count a phase waits for."""

    def __init__(self) -> None:
        self.seen = {"play": 0, "closed": 0}
        self.waiting: tuple[str, int, asyncio.Future[None]] | None = None

    def saw(self, kind: str) -> None:
        self.seen[kind] += 1
        waiting = self.waiting
        if waiting is not None and waiting[0] == kind and self.seen[kind] >= waiting[1]:
            self.waiting = None
            waiting[2].set_result(None)

    async def until(self, kind: str, count: int) -> None:
        if self.seen[kind] >= count:
            return
        future = asyncio.get_running_loop().create_future()
        self.waiting = (kind, count, future)
        await asyncio.wait_for(future, PHASE_TIMEOUT)


class Transport(asyncio.Transport):
    """A connection's transport that sends nothing: it keeps the last text frame, and
    counts the plays a spectator is sent and the connections closed."""

    def __init__(self, counter: Counter, spectator: bool = False) -> None:
        super().__init__()
        self.counter = counter
        self.spectator = spectator
        self.last = b""
        self.closing = False
        self.protocol: Guard | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        data = bytes(data)
        if data[:1] == b"\x81":
            self.last = data[2 : 2 + data[1]]
            if self.spectator and self.last.startswith(b'{"type": "play"'):
                self.counter.saw("play")

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.counter.saw("closed")
            if self.protocol is not None:
                asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def drive(games: int, rounds: int, moves: list[int], store: Store) -> list[dict[str, float]]:
    """Play ``rounds`` rounds of ``games`` games; per round, CPU µs per game set up, per move, per game closed."""
    settings = Settings(host="127.0.0.1", port=0, connections_per_address=0, waiting_per_address=0, games_per_minute=0)
    runner = make_runner(create_app(settings, store))
    await runner.setup()
    tune_gc()
    site = Site(runner, "127.0.0.1", 0)  # never started: its guards are fed by hand
    listener: Listener = site.factory
    counter = Counter()
    frames = [client_frame(b'{"type":"play","column":%d}' % column) for column in moves]
    results = []
    try:
        for _ in range(rounds):
            counter.seen = {"play": 0, "closed": 0}

            def connect(spectator: bool = False) -> tuple[Guard, Transport]:
                transport = Transport(counter, spectator)
                guard = listener()
                transport.protocol = guard
                guard.connection_made(transport)
                guard.data_received(HEAD)
                return guard, transport

            started = time.thread_time()
            tables = []
            for _ in range(games):
                red, red_out = connect()
                red.data_received(client_frame(b'{"type":"init"}'))
                while not red_out.last.startswith(b'{"type": "init"'):
                    await asyncio.sleep(0)
                init = json.loads(red_out.last)
                yellow, _ = connect()
                yellow.data_received(client_frame(json.dumps({"type": "init", "join": init["join"]}).encode()))
                spectator, _ = connect(spectator=True)
                spectator.data_received(client_frame(json.dumps({"type": "init", "watch": init["watch"]}).encode()))
                tables.append((red, yellow, spectator))
            await asyncio.sleep(0)
            set_up = time.thread_time()
            for ply, frame in enumerate(frames):
                for table in tables:
                    table[ply & 1].data_received(frame)
                await counter.until("play", games * (ply + 1))
            played = time.thread_time()
            closing = client_frame(b"\x03\xe8", 0x8)
            for table in tables:
                for guard in table:
                    guard.data_received(closing)
            await counter.until("closed", 3 * games)
            await asyncio.sleep(0)
            closed = time.thread_time()
            results.append(
                {
                    "set_up_us_per_game": (set_up - started) / games * 1e6,
                    "us_per_move": (played - set_up) / (games * len(moves)) * 1e6,
                    "close_us_per_game": (closed - played) / games * 1e6,
                }
            )
    finally:
        await runner.cleanup()
        await store.close()
    return results


def run(coroutine: Coroutine[Any, Any, list[dict[str, float]]]) -> list[dict[str, float]]:
    """On uvloop, as the server runs, where there is uvloop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional off Linux and macOS
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectfour.bench.inproc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=200, help="games at once (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each with new games (default %(default)s)")
    parser.add_argument("--moves", choices=("draw", "win"), default="draw", help="the 42-move draw or a 7-move win")
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="connectfour-inproc-") as tmp:
        store: Store = SQLiteStore(Path(tmp) / "games.db") if args.store == "sqlite" else MemoryStore()
        results = run(drive(args.games, args.rounds, DRAW if args.moves == "draw" else WIN, store))
    for name in ("set_up_us_per_game", "us_per_move", "close_us_per_game"):
        values = [round(result[name], 2) for result in results]
        print(f"{name}: median {statistics.median(values)} ({', '.join(map(str, values))})")


if __name__ == "__main__":
    main()
