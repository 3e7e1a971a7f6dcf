"""The ``connectfour`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .. import __version__
from ..config import Settings

DEFAULT_DB = "var/connectfour.db"


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, not {port}")
    return port


def _seconds(value: str) -> float:
    seconds = float(value)
    if not seconds >= 0:  # (NaN included)
        raise argparse.ArgumentTypeError(f"must be zero or more seconds, not {value}")
    return seconds


def _positive_seconds(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than zero seconds, not {value}")
    return seconds


def _count(value: str) -> int:
    count = int(value)
    if count < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, not {value}")
    return count


def _origins(args: argparse.Namespace) -> tuple[str, ...]:
    listed = list(args.allowed_origin or [])
    env = os.environ.get("CONNECTFOUR_ALLOWED_ORIGINS", "")
    listed += [item.strip() for item in env.split(",") if item.strip()]
    return tuple(origin.rstrip("/") for origin in listed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connectfour", description="Real-time multiplayer Connect Four.")
    parser.add_argument("--version", action="version", version=f"connectfour {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the page and the WebSocket API on one port")
    serve.add_argument("--host", default=Settings.host, help="interface to listen on (default: all, %(default)s)")
    serve.add_argument(
        "--port",
        type=_port,
        default=_port(os.environ.get("PORT", str(Settings.port))),
        help="TCP port (default: $PORT or %(default)s)",
    )
    serve.add_argument(
        "--allowed-origin",
        action="append",
        metavar="ORIGIN",
        help="a browser origin allowed to connect, e.g. https://example.com; repeatable; "
        "'*' allows any (also $CONNECTFOUR_ALLOWED_ORIGINS, comma-separated); this server's own is always allowed",
    )
    serve.add_argument("--max-frame", type=int, default=Settings.max_frame, help="largest client frame in bytes")
    serve.add_argument("--rate", type=float, default=Settings.rate, help="frames per second allowed per connection")
    serve.add_argument("--burst", type=int, default=Settings.burst, help="frames allowed in a burst above --rate")
    serve.add_argument(
        "--db",
        default=os.environ.get("CONNECTFOUR_DB", DEFAULT_DB),
        metavar="PATH",
        help="SQLite file holding every game (default: $CONNECTFOUR_DB or %(default)s)",
    )
    serve.add_argument("--memory", action="store_true", help="keep games in memory only: a restart loses them")
    serve.add_argument(
        "--redis",
        default=os.environ.get("CONNECTFOUR_REDIS_URL") or None,
        metavar="URL",
        help="keep games in Redis or Valkey, shared by every server process that uses it, e.g. "
        "redis://host:6379/0 (rediss:// for TLS; redis://:password@host/0; a Cluster: "
        "redis+cluster://host:port, any one node) (also $CONNECTFOUR_REDIS_URL)",
    )
    serve.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="server processes on this port, sharing games through --redis (default %(default)s)",
    )
    serve.add_argument(
        "--keep-finished", type=_positive_seconds, default=30 * 86400.0, metavar="SECONDS",
        help="with --redis: how long a finished game stays, for its replay (default %(default)g, 30 days)",
    )
    serve.add_argument(
        "--registration-ttl", type=_positive_seconds, default=15.0, metavar="SECONDS",
        help="with --redis: a process renews its registration every third of this; when it dies, "
        "its players count as disconnected this long after its last renewal at most (default %(default)g)",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # a worker of --workers
    serve.add_argument(
        "--fsync", action="store_true", help="force every commit to disk: survives power loss, costs a disk flush per batch"
    )
    serve.add_argument(
        "--grace", type=float, default=Settings.grace, metavar="SECONDS",
        help="how long a player may be away before the opponent can claim the win (default %(default)g)",
    )
    serve.add_argument(
        "--expire-after", type=float, default=Settings.expire_after, metavar="SECONDS",
        help="a game nobody is connected to ends as abandoned after this long (default %(default)g)",
    )
    serve.add_argument(
        "--computer-delay", type=_seconds, default=Settings.computer_delay, metavar="SECONDS",
        help="how long the computer waits before it answers a move (default %(default)g)",
    )
    serve.add_argument(
        "--solver-searches", type=int, default=Settings.solver_searches, metavar="N",
        help="exact searches at once, for the computer and the analysis; 0: one per core but one (default %(default)s)",
    )
    serve.add_argument(
        "--search-budget", type=_positive_seconds, default=Settings.search_budget, metavar="SECONDS",
        help="time one exact search may take: the computer then plays a quick move, the analysis answers 503 (default %(default)g)",
    )
    serve.add_argument(
        "--max-output", type=_count, default=Settings.max_output, metavar="BYTES",
        help="bytes a connection may leave unread before it is dropped (default %(default)s)",
    )
    serve.add_argument(
        "--heartbeat", type=_seconds, default=Settings.heartbeat, metavar="SECONDS",
        help="ping a peer silent this long, and cut it if the pong takes as long again; 0: no pings (default %(default)g)",
    )
    serve.add_argument(
        "--head-timeout", type=_positive_seconds, default=Settings.head_timeout, metavar="SECONDS",
        help="time to send a complete request head; also how long an idle keep-alive connection stays (default %(default)g)",
    )
    limits = serve.add_argument_group("limits per client address (0: no limit)")
    limits.add_argument(
        "--connections-per-address", type=_count, default=Settings.connections_per_address, metavar="N",
        help="open connections (default %(default)s)",
    )
    limits.add_argument(
        "--waiting-per-address", type=_count, default=Settings.waiting_per_address, metavar="N",
        help="connections yet to send a complete request head (default %(default)s)",
    )
    limits.add_argument(
        "--games-per-minute", type=_count, default=Settings.games_per_minute, metavar="N",
        help="new games a minute, as many at once (default %(default)s)",
    )
    limits.add_argument(
        "--trust-forwarded-for", action="store_true",
        help="take the client's address from X-Forwarded-For and the scheme from X-Forwarded-Proto; "
        "only behind a proxy that sets them, with this port closed to anyone else",
    )
    serve.add_argument(
        "--forget-unplayed-after", type=_seconds, default=Settings.forget_unplayed_after, metavar="SECONDS",
        help="a game without a single move is deleted, keys and all, once nobody has been connected to it "
        "for this long; games with moves are kept for their replay (default %(default)g; 0 never)",
    )
    serve.add_argument(
        "--admin-token", default=os.environ.get("CONNECTFOUR_ADMIN_TOKEN") or None, metavar="TOKEN",
        help="bearer token of POST /api/announce, which tells every connected client something "
        "(also $CONNECTFOUR_ADMIN_TOKEN; default: none, and the endpoint answers 404)",
    )
    serve.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"), help="DEBUG, INFO, WARNING...")

    from ..bench.cli import add_parser as add_bench
    from .play import add_parser as add_play
    from .solve import add_parser as add_solve

    add_bench(commands)
    add_play(commands)
    add_solve(commands)

    prune = commands.add_parser("prune", help="delete games with no activity for some days")
    prune.add_argument("--older-than", type=float, required=True, metavar="DAYS", help="age in days")
    prune.add_argument("--db", default=os.environ.get("CONNECTFOUR_DB", DEFAULT_DB), metavar="PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        if args.workers != 1:
            return _supervise(args, argv)
        return _serve(args)
    if args.command == "prune":
        return _prune(args)
    if args.command == "bench":
        from ..bench.cli import main as bench

        return bench(args)
    if args.command == "play":
        from .play import main as play

        return play(args)
    if args.command == "solve":
        from .solve import main as solve

        return solve(args)
    return 2  # pragma: no cover - argparse already refused


def _supervise(args: argparse.Namespace, argv: list[str]) -> int:
    """Start ``--workers`` server processes on one port, once the options allow it."""
    if args.workers < 1:
        print("connectfour: --workers must be 1 or more", file=sys.stderr)
        return 2
    if not args.redis:
        print(
            "connectfour: --workers above 1 needs --redis: worker processes share games only through Redis",
            file=sys.stderr,
        )
        return 2
    if args.port == 0:
        print("connectfour: --workers needs a fixed --port, which every worker shares", file=sys.stderr)
        return 2
    from .workers import supervise

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    return supervise(argv, args.workers)


def _serve(args: argparse.Namespace) -> int:
    from ..store import MemoryStore, SQLiteStore, Store, StoreError
    from ..web.server import run

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    log = logging.getLogger("connectfour")
    store: Store
    if args.redis and args.memory:
        print("connectfour: --memory and --redis are two different stores: choose one", file=sys.stderr)
        return 2
    if args.redis:
        from ..store.redis import RedisStore

        store = RedisStore(args.redis, retention=args.keep_finished, ttl=args.registration_ttl)
        log.info("games are kept in Redis at %s, finished ones for %gs", store.location, args.keep_finished)
    elif args.memory:
        store = MemoryStore()
        log.info("games are kept in memory only")
    else:
        try:
            store = SQLiteStore(args.db, fsync=args.fsync)
        except StoreError as exc:
            print(f"connectfour: {exc}", file=sys.stderr)
            return 1
        log.info("games are stored in %s%s", args.db, " (fsync on every commit)" if args.fsync else "")
    settings = Settings(
        host=args.host,
        port=args.port,
        allowed_origins=_origins(args),
        max_frame=args.max_frame,
        rate=args.rate,
        burst=args.burst,
        grace=args.grace,
        expire_after=args.expire_after,
        max_output=args.max_output,
        heartbeat=args.heartbeat,
        head_timeout=args.head_timeout,
        connections_per_address=args.connections_per_address,
        waiting_per_address=args.waiting_per_address,
        games_per_minute=args.games_per_minute,
        trust_forwarded_for=args.trust_forwarded_for,
        admin_token=args.admin_token,
        forget_unplayed_after=args.forget_unplayed_after,
        computer_delay=args.computer_delay,
        solver_searches=max(0, args.solver_searches),
        search_budget=args.search_budget,
        reuse_port=args.reuse_port,
    )
    return run(settings, store)


def _prune(args: argparse.Namespace) -> int:
    import time

    from ..store import StoreError
    from ..store.sqlite import prune_database

    if args.older_than < 0:
        print("connectfour: --older-than must be zero or more days", file=sys.stderr)
        return 2
    if not os.path.exists(args.db):
        print(f"connectfour: no database at {args.db}", file=sys.stderr)
        return 1
    try:
        count = prune_database(args.db, before=time.time() - args.older_than * 86400)
    except StoreError as exc:
        print(f"connectfour: {exc}", file=sys.stderr)
        return 1
    print(f"pruned {count} game{'s' if count != 1 else ''} older than {args.older_than:g} days from {args.db}")
    return 0
