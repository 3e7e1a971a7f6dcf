"""``connectfour bench``: drive a server, report figures as a table or JSON."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from . import procstat
from .games import Stats, run_games

STORES = ("memory", "sqlite", "sqlite-fsync")
TARGETS = (*STORES, "echo")


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = commands.add_parser(
        "bench",
        help="measure a server: moves/s, latency percentiles, CPU per move",
        description="Play many games against a server that speaks the tutorial's protocol and report figures.",
    )
    target = bench.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="WebSocket URL of a running server, e.g. ws://127.0.0.1:8000/ws")
    target.add_argument(
        "--spawn",
        action="append",
        choices=TARGETS,
        help="start this server with the given store on a free port (repeat to compare in one run); "
        "'echo' is a trivial relay that shows how fast the load generator itself can go",
    )
    bench.add_argument("--games", type=int, default=100, help="games played at once (default %(default)s)")
    bench.add_argument("--spectators", type=int, default=1, help="spectators per game (default %(default)s)")
    bench.add_argument("--duration", type=float, default=10.0, help="seconds to measure (default %(default)s)")
    bench.add_argument("--rate", type=float, help="offered moves/s over all games (open loop); default: closed loop")
    bench.add_argument("--v1", action="store_true", help="offer the connectfour.v1 subprotocol")
    bench.add_argument("--server-pid", type=int, help="read CPU time and memory of this server process")
    bench.add_argument("--server-cpu", type=int, default=0, help="CPU a spawned server is pinned to")
    bench.add_argument("--client-cpu", type=int, default=1, help="CPU the load generator is pinned to")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument("--quiet", action="store_true", help="no progress line")


def main(args: argparse.Namespace) -> int:
    _pin(args.client_cpu)
    results = []
    if args.url:
        results.append(_measure(args, args.url, args.server_pid, label=args.url))
    else:
        for store in args.spawn:
            with _spawned(store, args.server_cpu) as (url, pid):
                results.append(_measure(args, url, pid, label=store))
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    else:
        print(_table(results, args))
    return 0 if all(r["errors"] == 0 for r in results) else 1


def _pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


@contextlib.contextmanager
def _spawned(target: str, cpu: int) -> Iterator[tuple[str, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="connectfour-bench-") as tmp:
        if target == "echo":
            command = [sys.executable, "-m", "connectfour.bench.echo", str(port)]
        else:
            store_args = {"memory": ["--memory"], "sqlite": [], "sqlite-fsync": ["--fsync"]}[target]
            command = [
                sys.executable, "-m", "connectfour", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--db", os.path.join(tmp, "bench.db"), "--rate", "1000000", "--burst", "1000000",
                "--log-level", "WARNING", *store_args,
            ]  # fmt: skip
        proc = subprocess.Popen(command, preexec_fn=lambda: _pin(cpu))
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError(f"the {target} server did not start") from None
                    time.sleep(0.05)
            yield f"ws://127.0.0.1:{port}/ws", proc.pid
        finally:
            proc.terminate()
            proc.wait(15)


def _measure(args: argparse.Namespace, url: str, pid: int | None, label: str) -> dict:
    before = procstat.sample(pid) if pid else None
    progress = None if args.quiet else _progress(label)
    stats, elapsed = _run(
        run_games(
            url,
            games=args.games,
            spectators=args.spectators,
            duration=args.duration,
            rate=args.rate,
            v1=args.v1,
            progress=progress,
        )
    )
    after = procstat.sample(pid) if pid else None
    if progress:
        sys.stderr.write("\n")
    return _summary(label, stats, elapsed, args, before, after)


def _run(coro):  # type: ignore[no-untyped-def]
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


def _progress(label: str):  # type: ignore[no-untyped-def]
    def show(elapsed: float, duration: float, stats: Stats) -> None:
        width = 30
        done = int(width * min(1.0, elapsed / duration))
        rate = stats.moves / elapsed if elapsed else 0.0
        sys.stderr.write(
            f"\r{label:>12} [{'#' * done}{'.' * (width - done)}] {elapsed:5.1f}s {stats.moves:>9} moves {rate:>9.0f}/s"
        )
        sys.stderr.flush()

    return show


def _percentiles(samples: list[int]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p99": None, "p999": None}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6  # milliseconds

    return {"p50": at(0.50), "p99": at(0.99), "p999": at(0.999)}


def _summary(label, stats, elapsed, args, before, after) -> dict:  # type: ignore[no-untyped-def]
    result = {
        "target": label,
        "games": args.games,
        "spectators": args.spectators,
        "mode": f"open loop at {args.rate:g} moves/s" if args.rate else "closed loop",
        "protocol": "connectfour.v1" if args.v1 else "tutorial",
        "seconds": round(elapsed, 3),
        "moves": stats.moves,
        "moves_per_s": round(stats.moves / elapsed, 1) if elapsed else 0.0,
        "connections": stats.connections,
        "connections_per_s": round(stats.connections / elapsed, 1) if elapsed else 0.0,
        "games_finished": stats.games,
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "latency_ms_to_opponent": _percentiles(stats.to_opponent),
        "latency_ms_to_spectators": _percentiles(stats.to_spectators),
    }
    if before and after:
        used = after - before
        moves = max(1, stats.moves)
        result["server_cpu_us_per_move"] = {
            "user": round(used.user / moves * 1e6, 2),
            "system": round(used.system / moves * 1e6, 2),
            "total": round((used.user + used.system) / moves * 1e6, 2),
        }
        result["server_rss_mib"] = round(after.rss / 2**20, 1)
    return result


def _table(results: list[dict], args: argparse.Namespace) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    rows = [
        ("moves/s", lambda r: f"{r['moves_per_s']:.0f}"),
        ("moves", lambda r: str(r["moves"])),
        ("connections/s", lambda r: f"{r['connections_per_s']:.0f}"),
        ("errors", lambda r: str(r["errors"])),
        ("opponent p50 ms", lambda r: ms(r["latency_ms_to_opponent"]["p50"])),
        ("opponent p99 ms", lambda r: ms(r["latency_ms_to_opponent"]["p99"])),
        ("opponent p99.9 ms", lambda r: ms(r["latency_ms_to_opponent"]["p999"])),
        ("spectator p50 ms", lambda r: ms(r["latency_ms_to_spectators"]["p50"])),
        ("spectator p99 ms", lambda r: ms(r["latency_ms_to_spectators"]["p99"])),
        ("spectator p99.9 ms", lambda r: ms(r["latency_ms_to_spectators"]["p999"])),
        ("server CPU us/move", lambda r: _cpu(r)),
        ("server RSS MiB", lambda r: str(r.get("server_rss_mib", "-"))),
    ]
    header = ["", *(r["target"] for r in results)]
    body = [[name, *(fmt(r) for r in results)] for name, fmt in rows]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = [
        f"{args.games} games x {args.spectators} spectators, "
        f"{results[0]['mode']}, {results[0]['protocol']} protocol, {args.duration:g} s",
        "  ".join(h.rjust(w) for h, w in zip(header, widths)),
    ]
    lines += ["  ".join(str(c).rjust(w) for c, w in zip(row, widths)) for row in body]
    for r in results:
        for sample in r["error_samples"]:
            lines.append(f"error ({r['target']}): {sample}")
    return "\n".join(lines)


def _cpu(result: dict) -> str:
    cpu = result.get("server_cpu_us_per_move")
    if not cpu:
        return "-"
    return f"{cpu['total']:.1f} ({cpu['user']:.1f}u+{cpu['system']:.1f}s)"
