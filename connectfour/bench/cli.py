"""``connectfour bench``: drive a server, report figures as a table or JSON.

Scenarios: ``games`` (many games at once), ``fanout`` (one game, many
spectators), ``capacity`` (many idle connections) and ``lobby`` (many lobby
watchers while public games start, are joined and end). The target is a
running server (``--url``) or servers the command starts itself
(``--spawn``, repeatable, so that several stores are compared in one run).
The load generator and a spawned server are pinned to different CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..cli.arguments import count as _count
from ..cli.arguments import positive as _positive
from ..cli.arguments import positive_seconds as _positive_seconds
from ..cli.arguments import rate as _rate
from ..cli.arguments import seconds as _seconds
from ..cli.arguments import workers as _workers
from ..domain.clock import TimeControl
from . import commandstats, procstat, report, spawn
from .commandstats import StoreProcess
from .crowd import run_capacity, run_fanout
from .games import run_games
from .lobby import run_lobby

STORES = ("memory", "sqlite", "sqlite-fsync", "redis", "redis-fsync", "redis-replica")
TARGETS = (*STORES, "bare", "echo")
SCENARIOS = ("games", "fanout", "capacity", "lobby")

T = TypeVar("T")


def _url(value: str) -> str:
    """A plain ``ws://host:port/path`` (or ``http://``): the load generator speaks no TLS."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad one
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: {exc}") from None
    if parts.scheme not in ("ws", "http") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not a ws:// URL such as ws://127.0.0.1:8000/ws")
    return value


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser(
        "bench",
        help="measure a server: moves/s, latency percentiles, CPU per move, memory per connection",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument(
        "scenario", nargs="?", choices=SCENARIOS, default="games", help="what to measure (default games)"
    )
    target = bench.add_mutually_exclusive_group()
    target.add_argument("--url", type=_url, help="WebSocket URL of a running server, e.g. ws://127.0.0.1:8000/ws")
    target.add_argument(
        "--spawn",
        action="append",
        choices=TARGETS,
        help="start this server on a free port (repeat to compare in one run); "
        "'bare' is a plain aiohttp + msgspec server of the tutorial's protocol with games in memory; "
        "'echo' is a trivial relay that shows how fast the load generator itself can go; "
        "'redis' starts a Redis (redis-server or valkey-server, appendfsync everysec; 'redis-fsync': always; "
        "'redis-replica': with a replica that every change waits for, --redis-replicas 1) "
        "and --workers servers sharing games through it",
    )
    bench.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="with --spawn redis: server processes, each game's players on different ones (default %(default)s)",
    )
    bench.add_argument("--games", type=_positive, default=100, help="games: games played at once (default %(default)s)")
    bench.add_argument(
        "--spectators",
        type=_count,
        help="games: spectators per game (default 1); fanout: spectators of the game (default 1000)",
    )
    bench.add_argument(
        "--duration", type=_positive_seconds, default=10.0, help="games: seconds to measure (default %(default)s)"
    )
    bench.add_argument(
        "--warmup",
        type=_seconds,
        default=2.0,
        help="games: seconds played before measuring, not counted (default %(default)s)",
    )
    bench.add_argument(
        "--rate",
        type=_rate,
        help="games: offered moves/s over all games, each game at its share (open loop); default: closed loop",
    )
    bench.add_argument("--moves", type=_positive, default=20, help="fanout: moves to time (default %(default)s)")
    bench.add_argument(
        "--connections", type=_positive, default=1000, help="capacity: connections to hold (default %(default)s)"
    )
    bench.add_argument(
        "--watchers", type=_positive, default=1000, help="lobby: connections following the lobby (default %(default)s)"
    )
    bench.add_argument(
        "--sample",
        type=_count,
        default=100,
        help="lobby: watchers that decode each update to time it (default %(default)s)",
    )
    bench.add_argument(
        "--v1",
        action="store_true",
        help="offer the connectfour.v1 subprotocol; games then go on by rematch on the same "
        "connections, so connection set-up leaves the measurement",
    )
    bench.add_argument(
        "--clock",
        type=_time_control,
        help="games: play them on this time control (e.g. 3+2; needs --v1); untimed by default",
    )
    bench.add_argument(
        "--server-pid", type=_positive, help="with --url: read CPU time and memory of this server process"
    )
    bench.add_argument("--server-cpu", type=_count, default=0, help="CPU a spawned server is pinned to (default 0)")
    bench.add_argument("--client-cpu", type=_count, default=1, help="CPU the load generator is pinned to (default 1)")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument(
        "--quiet", action="store_true", help="no progress line (there is none unless stderr is a terminal)"
    )
    bench.add_argument("--smoke", action="store_true", help="a tiny run of every scenario against a spawned server")


def _time_control(text: str) -> TimeControl:
    try:
        return TimeControl.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(args: argparse.Namespace) -> int:
    if getattr(args, "clock", None) is not None and not args.v1:
        print("connectfour bench: --clock needs --v1 (a tutorial client plays untimed games)", file=sys.stderr)
        return 2
    if args.smoke:
        return _smoke(args)
    if not args.url and not args.spawn:
        print("connectfour bench: give --url of a running server or --spawn TARGET", file=sys.stderr)
        return 2
    if args.server_pid and not os.path.exists(f"/proc/{args.server_pid}"):
        print(f"connectfour bench: --server-pid: no process {args.server_pid}", file=sys.stderr)
        return 2
    if args.spectators is None:
        args.spectators = 1000 if args.scenario == "fanout" else 1
    spawn.pin(args.client_cpu)
    # The generator's own collector pauses would show up as server latency.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    results = []
    if args.url:
        parts = urlsplit(args.url)
        try:
            socket.create_connection((parts.hostname, parts.port or 80), timeout=5).close()
        except OSError as exc:
            print(f"connectfour bench: --url: cannot reach {args.url}: {exc}", file=sys.stderr)
            return 1
        results.append(_measure(args, args.url, [args.server_pid] if args.server_pid else [], label=args.url))
    else:
        for target in args.spawn:
            workers = args.workers if target.startswith("redis") else 1
            label = f"{target}, {workers} processes" if workers > 1 else target
            try:
                with spawn.spawned(target, args.server_cpu, workers) as (urls, pids, store):
                    results.append(_measure(args, urls, pids, label=label, store=store))
            except RuntimeError as exc:  # no Redis to start, or a server that did not start
                print(f"connectfour bench: --spawn {target}: {exc}", file=sys.stderr)
                return 1
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    else:
        print(report.table(results))
    return 0 if all(r["errors"] == 0 for r in results) else 1


def _smoke(args: argparse.Namespace) -> int:
    """Every scenario, tiny, against the in-memory server: proves the tool works."""
    failures = 0
    runs: list[tuple[str, dict[str, object]]] = [
        ("games", dict(games=2, spectators=1, duration=1.0, warmup=0.2, rate=None)),
        ("games", dict(games=2, spectators=1, duration=1.0, warmup=0.2, rate=50.0)),
        ("games", dict(games=2, spectators=1, duration=1.0, warmup=0.2, rate=None, v1=True)),
        ("fanout", dict(spectators=20, moves=3)),
        ("capacity", dict(connections=50)),
        ("lobby", dict(watchers=20, sample=5, rate=10.0, duration=1.0, warmup=0.5)),
    ]
    with spawn.spawned("memory", args.server_cpu) as (urls, pids, _):
        for scenario, options in runs:
            run = argparse.Namespace(**{**vars(args), "scenario": scenario, "quiet": True, **options})
            result = _measure(run, urls, pids, label=f"smoke {scenario}")
            failures += result["errors"] > 0
            print(report.table([result]))
    return 1 if failures else 0


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)
    return uvloop.run(coro)


def _sample(pids: list[int]) -> procstat.Sample | None:
    """CPU and memory of these processes together."""
    if not pids:
        return None
    total = procstat.Sample(0.0, 0.0, 0)
    for pid in pids:
        each = procstat.sample(pid)
        total = procstat.Sample(total.user + each.user, total.system + each.system, total.rss + each.rss)
    return total


def _measure(
    args: argparse.Namespace, urls: str | list[str], pids: list[int], label: str, store: StoreProcess | None = None
) -> dict[str, Any]:
    """Run the scenario against the servers at ``urls`` (players of a game on
    different ones); CPU per move of ``pids`` together, and of ``store`` (and, for a
    Redis, each command's calls and time per move)."""
    urls = [urls] if isinstance(urls, str) else urls
    url, pid = urls[0], (pids[0] if len(pids) == 1 else None)
    store_pid = [store.pid] if store else []
    before = _sample(pids)
    store_before = _sample(store_pid)
    commands_before = commandstats.sample(store.port) if store and store.port else None
    show = not args.quiet and sys.stderr.isatty()  # a progress line redrawn in a log file is noise

    def measuring() -> None:
        """The measured part starts: CPU counts from here."""
        nonlocal before, store_before, commands_before
        before = _sample(pids)
        store_before = _sample(store_pid)
        if store and store.port:
            commands_before = commandstats.sample(store.port)

    if args.scenario == "games":
        stats, elapsed = _run(
            run_games(
                urls,
                games=args.games,
                spectators=args.spectators,
                duration=args.duration,
                rate=args.rate,
                v1=args.v1,
                warmup=args.warmup,
                on_measure=measuring,
                clock=str(args.clock) if args.clock is not None else None,
                progress=report.games_progress(label) if show else None,
            )
        )
        result = report.games_summary(label, stats, elapsed, args)
        moves = stats.moves
    elif args.scenario == "fanout":
        try:
            fan = _run(
                run_fanout(
                    url,
                    spectators=args.spectators,
                    moves=args.moves,
                    v1=args.v1,
                    on_measure=measuring,
                    progress=report.count_progress(label) if show else None,
                )
            )
        except (TimeoutError, OSError, ConnectionError) as exc:
            return _unreachable(label, "fanout", exc)
        moves = len(fan.to_all)
        result = {
            "target": label,
            "scenario": "fanout",
            "protocol": report.protocol(args),
            "spectators": fan.spectators,
            "moves": moves,
            "connections_per_s": round(fan.spectators / fan.connect_seconds, 1) if fan.connect_seconds else None,
            "ms_to_reach_all": report.percentiles(fan.to_all, (0.5, 0.99, 1.0)),
            "ms_to_each": report.percentiles(fan.to_each),
            "errors": 0,
            "error_samples": [],
        }
    elif args.scenario == "lobby":
        rate = args.rate if args.rate is not None else 100.0
        try:
            lobby, elapsed = _run(
                run_lobby(
                    urls,
                    watchers=args.watchers,
                    rate=rate,
                    duration=args.duration,
                    sample=args.sample,
                    warmup=args.warmup,
                    on_measure=measuring,
                    progress=report.lobby_progress(label) if show else None,
                )
            )
        except (TimeoutError, OSError, ConnectionError) as exc:
            return _unreachable(label, "lobby", exc)
        moves = lobby.changes
        result = {
            "target": label,
            "scenario": "lobby",
            "watchers": lobby.watchers,
            "games_per_s": round(lobby.games / elapsed, 1),
            "lobby_changes": lobby.changes,
            "updates_per_watcher_per_s": round(lobby.frames / max(1, lobby.watchers) / elapsed, 2),
            "kib_per_s_to_watchers": round(lobby.bytes / 1024 / elapsed, 1),
            "ms_update_latency": report.percentiles(lobby.latencies, (0.5, 0.99, 1.0)),
            "latency_samples": len(lobby.latencies),
            "probe_sightings_missed": lobby.missed,
            "errors": lobby.errors,
            "error_samples": lobby.error_samples,
        }
    else:
        try:
            cap = _run(
                run_capacity(
                    url,
                    connections=args.connections,
                    server_pid=pid,
                    v1=args.v1,
                    progress=report.count_progress(label) if show else None,
                )
            )
        except (TimeoutError, OSError, ConnectionError) as exc:
            return _unreachable(label, "capacity", exc)
        moves = 0
        per = cap.bytes_per_connection
        result = {
            "target": label,
            "scenario": "capacity",
            "protocol": report.protocol(args),
            "connections": cap.connections,
            "connections_per_s": round(cap.connections / cap.seconds, 1) if cap.seconds else None,
            "kib_per_connection": round(per / 1024, 2) if per is not None else None,
            "errors": 0,
            "error_samples": [],
        }
    after = _sample(pids)
    store_after = _sample(store_pid)
    if store and store.port and commands_before is not None and moves:
        result["redis_commands_per_move"] = commandstats.per_move(
            commands_before, commandstats.sample(store.port), moves
        )
    if show:
        sys.stderr.write("\n")
    if len(pids) > 1:
        result["server_processes"] = len(pids)
    for key, start, end in (("server", before, after), ("redis", store_before, store_after)):
        if start is None or end is None:
            continue
        used = end - start
        if moves:
            unit = "change" if args.scenario == "lobby" else "move"
            result[f"{key}_cpu_us_per_{unit}"] = {
                "user": round(used.user / moves * 1e6, 2),
                "system": round(used.system / moves * 1e6, 2),
                "total": round((used.user + used.system) / moves * 1e6, 2),
            }
        result[f"{key}_rss_mib"] = round(end.rss / 2**20, 1)
    return result


def _unreachable(label: str, scenario: str, exc: BaseException) -> dict[str, Any]:
    """The result of a scenario that could not reach its server."""
    return {"target": label, "scenario": scenario, "errors": 1, "error_samples": [f"{type(exc).__name__}: {exc}"]}
