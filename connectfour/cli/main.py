"""The ``connectfour`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from urllib.parse import urlsplit

from .. import __version__
from ..config import Settings
from .arguments import count, ipv6_prefix, number, port, positive, positive_seconds, rate, seconds, workers

DEFAULT_DB = "var/connectfour.db"


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise argparse.ArgumentTypeError(f"not a log level: {value!r} (DEBUG, INFO, WARNING, ERROR or CRITICAL)")
    return level


def _database(value: str) -> str:
    """An SQLite path: an empty one would be a temporary database, lost at exit."""
    if not value:
        raise argparse.ArgumentTypeError("an empty path")
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value} is a directory, not a database file")
    return value


def _origin(value: str) -> str:
    """``*`` or an origin as a browser sends it, ``scheme://host[:port]``: anything else never matches."""
    origin = value.strip().rstrip("/")
    if origin == "*":
        return origin
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises ValueError for a bad one
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an origin: {value!r} ({exc})") from None
    if not parts.scheme or not parts.hostname or parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise argparse.ArgumentTypeError(f"not an origin: {value!r} (scheme://host[:port], e.g. https://example.com)")
    return origin


def _origins(args: argparse.Namespace) -> tuple[str, ...]:
    """The origins of ``--allowed-origin`` and ``$CONNECTFOUR_ALLOWED_ORIGINS`` (ArgumentTypeError for a bad one)."""
    env = os.environ.get("CONNECTFOUR_ALLOWED_ORIGINS", "")
    return tuple(args.allowed_origin or []) + tuple(_origin(item) for item in env.split(",") if item.strip())


def _serve_problem(args: argparse.Namespace) -> str | None:
    """Why ``serve``'s options cannot work together, before anything starts (so before any worker)."""
    try:
        _origins(args)
    except argparse.ArgumentTypeError as exc:
        return f"$CONNECTFOUR_ALLOWED_ORIGINS: {exc}"
    if args.redis and args.memory:
        return "--memory and --redis are two different stores: choose one"
    if (args.redis_replicas or args.redis_aof) and not args.redis:
        return "--redis-replicas and --redis-aof say what a change in Redis waits for: they need --redis"
    if args.workers != 1 and not args.redis:
        return "--workers above 1 needs --redis: worker processes share games only through Redis"
    if args.workers != 1 and args.port == 0:
        return "--workers needs a fixed --port, which every worker shares"
    metrics = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics and args.workers == 1 and not os.path.isdir(metrics):
        return f"$PROMETHEUS_MULTIPROC_DIR: {metrics} is not a directory"
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connectfour", description="Real-time multiplayer Connect Four.")
    parser.add_argument("--version", action="version", version=f"connectfour {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the page and the WebSocket API on one port")
    serve.add_argument("--host", default=Settings.host, help="interface to listen on (default: all, %(default)s)")
    serve.add_argument(
        "--port",
        type=port,
        default=os.environ.get("PORT") or str(Settings.port),  # (checked by type only when used)
        help="TCP port (default: $PORT or %(default)s)",
    )
    serve.add_argument(
        "--allowed-origin",
        action="append",
        type=_origin,
        metavar="ORIGIN",
        help="a browser origin allowed to connect, e.g. https://example.com; repeatable; "
        "'*' allows any (also $CONNECTFOUR_ALLOWED_ORIGINS, comma-separated); this server's own is always allowed",
    )
    serve.add_argument("--max-frame", type=positive, default=Settings.max_frame, help="largest client frame in bytes")
    serve.add_argument("--rate", type=rate, default=Settings.rate, help="frames per second allowed per connection")
    serve.add_argument("--burst", type=positive, default=Settings.burst, help="frames allowed in a burst above --rate")
    serve.add_argument(
        "--db",
        type=_database,
        default=os.environ.get("CONNECTFOUR_DB") or DEFAULT_DB,
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
        "redis+cluster://host:port[,host:port...], nodes to start from) (also $CONNECTFOUR_REDIS_URL)",
    )
    serve.add_argument(
        "--redis-replicas",
        type=count,
        default=0,
        metavar="N",
        help="with --redis: acknowledge a change only once N replicas have it (WAIT), so that a failover "
        "onto one of them loses nothing acknowledged; a change not replicated within the store's timeout "
        "is answered 'unavailable', to be sent again (default %(default)s: acknowledged once the primary has it)",
    )
    serve.add_argument(
        "--redis-aof",
        action="store_true",
        help="with --redis: acknowledge a change only once it is in the primary's append-only file on disk, "
        "and in those of the --redis-replicas replicas (WAITAOF; the primary needs appendonly yes)",
    )
    serve.add_argument(
        "--workers",
        type=workers,
        default=1,
        metavar="N",
        help="server processes on this port, sharing games through --redis (default %(default)s)",
    )
    serve.add_argument(
        "--keep-finished",
        type=positive_seconds,
        default=30 * 86400.0,
        metavar="SECONDS",
        help="with --redis: how long a finished game stays, for its replay (default %(default)g, 30 days)",
    )
    serve.add_argument(
        "--registration-ttl",
        type=positive_seconds,
        default=15.0,
        metavar="SECONDS",
        help="with --redis: a process renews its registration every third of this; when it dies, "
        "its players count as disconnected this long after its last renewal at most (default %(default)g)",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # a worker of --workers
    serve.add_argument(
        "--fsync",
        action="store_true",
        help="force every commit to disk: survives power loss, costs a disk flush per batch",
    )
    serve.add_argument(
        "--grace",
        type=seconds,
        default=Settings.grace,
        metavar="SECONDS",
        help="how long a player may be away before the opponent can claim the win (default %(default)g)",
    )
    serve.add_argument(
        "--expire-after",
        type=positive_seconds,
        default=Settings.expire_after,
        metavar="SECONDS",
        help="a game nobody is connected to ends as abandoned after this long (default %(default)g)",
    )
    serve.add_argument(
        "--computer-delay",
        type=seconds,
        default=Settings.computer_delay,
        metavar="SECONDS",
        help="how long the computer waits before it answers a move (default %(default)g)",
    )
    serve.add_argument(
        "--lobby-interval",
        type=positive_seconds,
        default=Settings.lobby_interval,
        metavar="SECONDS",
        help="the most often lobby watchers are told of a change (default %(default)g)",
    )
    serve.add_argument(
        "--solver-searches",
        type=count,
        default=Settings.solver_searches,
        metavar="N",
        help="exact searches at once, for the computer and the analysis; 0: one per core but one (default %(default)s)",
    )
    serve.add_argument(
        "--search-budget",
        type=positive_seconds,
        default=Settings.search_budget,
        metavar="SECONDS",
        help="time one exact search may take: the computer then plays a quick move, the analysis answers 503 (default %(default)g)",
    )
    serve.add_argument(
        "--max-output",
        type=count,
        default=Settings.max_output,
        metavar="BYTES",
        help="bytes a connection may leave unread before it is dropped (default %(default)s)",
    )
    serve.add_argument(
        "--heartbeat",
        type=seconds,
        default=Settings.heartbeat,
        metavar="SECONDS",
        help="ping a peer silent this long, and cut it if the pong takes as long again; 0: no pings (default %(default)g)",
    )
    serve.add_argument(
        "--head-timeout",
        type=positive_seconds,
        default=Settings.head_timeout,
        metavar="SECONDS",
        help="time to send a complete request head; also how long an idle keep-alive connection stays (default %(default)g)",
    )
    limits = serve.add_argument_group("limits per client address (0: no limit)")
    limits.add_argument(
        "--connections-per-address",
        type=count,
        default=Settings.connections_per_address,
        metavar="N",
        help="open connections (default %(default)s)",
    )
    limits.add_argument(
        "--waiting-per-address",
        type=count,
        default=Settings.waiting_per_address,
        metavar="N",
        help="connections yet to send a complete request head (default %(default)s)",
    )
    limits.add_argument(
        "--games-per-minute",
        type=count,
        default=Settings.games_per_minute,
        metavar="N",
        help="new games a minute, as many at once (default %(default)s)",
    )
    limits.add_argument(
        "--ipv6-prefix",
        type=ipv6_prefix,
        default=Settings.ipv6_prefix,
        metavar="BITS",
        help="count IPv6 clients per network of this prefix length, as a subscriber is usually given a /64; "
        "128 per address (default %(default)s)",
    )
    limits.add_argument(
        "--trust-forwarded-for",
        action="store_true",
        help="take the client's address from X-Forwarded-For and the scheme from X-Forwarded-Proto; "
        "only behind a proxy that sets them, with this port closed to anyone else",
    )
    serve.add_argument(
        "--forget-unplayed-after",
        type=seconds,
        default=Settings.forget_unplayed_after,
        metavar="SECONDS",
        help="a game without a single move is deleted, keys and all, once nobody has been connected to it "
        "for this long; games with moves are kept for their replay (default %(default)g; 0 never)",
    )
    serve.add_argument(
        "--admin-token",
        default=os.environ.get("CONNECTFOUR_ADMIN_TOKEN") or None,
        metavar="TOKEN",
        help="bearer token of POST /api/announce, which tells every connected client something "
        "(also $CONNECTFOUR_ADMIN_TOKEN; default: none, and the endpoint answers 404)",
    )
    serve.add_argument(
        "--metrics-token",
        default=os.environ.get("CONNECTFOUR_METRICS_TOKEN") or None,
        metavar="TOKEN",
        help="bearer token that shows /metrics and the details of /healthz (pid, store, error) to clients "
        "not on this host (also $CONNECTFOUR_METRICS_TOKEN; default: none, and only clients on this host see them)",
    )
    serve.add_argument(
        "--log-level", type=_log_level, default=os.environ.get("LOG_LEVEL") or "INFO", help="DEBUG, INFO, WARNING..."
    )

    from ..bench.cli import add_parser as add_bench
    from .play import add_parser as add_play
    from .solve import add_parser as add_solve

    add_bench(commands)
    add_play(commands)
    add_solve(commands)

    prune = commands.add_parser("prune", help="delete games with no activity for some days")
    prune.add_argument("--older-than", type=number, required=True, metavar="DAYS", help="age in days")
    prune.add_argument("--db", type=_database, default=os.environ.get("CONNECTFOUR_DB") or DEFAULT_DB, metavar="PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        problem = _serve_problem(args)
        if problem:
            print(f"connectfour: {problem}", file=sys.stderr)
            return 2  # before any worker starts: nothing to start again
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
    """Start ``--workers`` server processes on one port (the options were checked)."""
    from .workers import supervise

    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    return supervise(argv, args.workers)


def _serve(args: argparse.Namespace) -> int:
    from ..store import MemoryStore, SQLiteStore, Store, StoreError
    from ..web.server import CANNOT_START, run

    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    log = logging.getLogger("connectfour")
    store: Store
    if args.redis:
        from ..store.redis import RedisStore
        from ..store.replication import Replication

        try:
            replication = Replication(replicas=args.redis_replicas, aof=args.redis_aof)
            store = RedisStore(
                args.redis, retention=args.keep_finished, ttl=args.registration_ttl, replication=replication
            )
        except ValueError as exc:  # redis-py's word on a URL it cannot read, or ours on a Cluster's
            print(f"connectfour: --redis: {exc}", file=sys.stderr)
            return CANNOT_START  # as a worker: the supervisor does not start it again and again
        log.info("games are kept in Redis at %s, finished ones for %gs", store.location, args.keep_finished)
        if replication.waits:
            log.info(
                "a change is acknowledged once %d replicas have it%s",
                replication.replicas,
                ", and it is on disk" if replication.aof else "",
            )
    elif args.memory:
        store = MemoryStore()
        log.info("games are kept in memory only")
    else:
        try:
            store = SQLiteStore(args.db, fsync=args.fsync)
        except StoreError as exc:
            print(f"connectfour: --db: {exc}", file=sys.stderr)
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
        ipv6_prefix=args.ipv6_prefix,
        trust_forwarded_for=args.trust_forwarded_for,
        admin_token=args.admin_token,
        metrics_token=args.metrics_token,
        forget_unplayed_after=args.forget_unplayed_after,
        computer_delay=args.computer_delay,
        lobby_interval=args.lobby_interval,
        solver_searches=args.solver_searches,
        search_budget=args.search_budget,
        reuse_port=args.reuse_port,
    )
    try:
        return run(settings, store)
    except OSError as exc:  # an address that does not resolve, is not this machine's, or is in use
        print(f"connectfour: --host/--port: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return CANNOT_START


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
