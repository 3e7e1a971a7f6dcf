"""``connectfour serve``'s options: what each means, its default (from the environment
where it says so), and which of them cannot work together."""

from __future__ import annotations

import argparse
import logging
import os
from urllib.parse import urlsplit

from ..config import Settings
from ..store.pacing import CROWD
from .arguments import count, ipv6_prefix, port, positive, positive_seconds, rate, seconds, workers

DEFAULT_DB = "var/connectfour.db"
#: The longest ``--batch-interval``: in Redis mode an append's wait for its batch counts
#: against the store's 2 s to answer it.
MAX_BATCH_INTERVAL = 0.5
#: ``--batch-interval``'s default (docs/benchmarks.md, "Writes paced only under load").
BATCH_INTERVAL = 0.005


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise argparse.ArgumentTypeError(f"not a log level: {value!r} (DEBUG, INFO, WARNING, ERROR or CRITICAL)")
    return level


def database(value: str) -> str:
    """An SQLite path: an empty one would be a temporary database, lost at exit."""
    if not value:
        raise argparse.ArgumentTypeError("an empty path")
    if os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value} is a directory, not a database file")
    return value


def _batch_interval(value: str) -> float:
    """Seconds between a process's writes to its store: under Redis's timeout, which a batch's
    wait counts against."""
    given = seconds(value)
    if given > MAX_BATCH_INTERVAL:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_BATCH_INTERVAL:g} seconds, not {value}")
    return given


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


def origins(args: argparse.Namespace) -> tuple[str, ...]:
    """The origins of ``--allowed-origin`` and ``$CONNECTFOUR_ALLOWED_ORIGINS`` (ArgumentTypeError for a bad one)."""
    env = os.environ.get("CONNECTFOUR_ALLOWED_ORIGINS", "")
    return tuple(args.allowed_origin or []) + tuple(_origin(item) for item in env.split(",") if item.strip())


def problem(args: argparse.Namespace) -> str | None:
    """Why ``serve``'s options cannot work together, before anything starts (so before any worker)."""
    try:
        origins(args)
    except argparse.ArgumentTypeError as exc:
        return f"$CONNECTFOUR_ALLOWED_ORIGINS: {exc}"
    if args.redis and args.memory:
        return "--memory and --redis are two different stores: choose one"
    if (args.redis_replicas or args.redis_aof) and not args.redis:
        return "--redis-replicas and --redis-aof say what a change in Redis waits for: they need --redis"
    if args.batch_interval != BATCH_INTERVAL and args.memory:
        return "--batch-interval paces a store's writes, and --memory writes nothing: choose one"
    if args.workers != 1 and not args.redis:
        return "--workers above 1 needs --redis: worker processes share games only through Redis"
    if args.workers != 1 and args.port == 0:
        return "--workers needs a fixed --port, which every worker shares"
    metrics = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics and args.workers == 1 and not os.path.isdir(metrics):
        return f"$PROMETHEUS_MULTIPROC_DIR: {metrics} is not a directory"
    return None


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        type=database,
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
        "--batch-interval",
        "--redis-batch-interval",  # its name while it paced Redis only
        type=_batch_interval,
        default=BATCH_INTERVAL,
        metavar="SECONDS",
        help="under load, the least time between two of a process's writes to its store (SQLite's "
        "journal, or a batch to Redis): each write then carries more moves, and the server (and Redis) "
        f"spend less per move, for at most this much more time per move; a write of fewer than {CROWD} changes "
        "lets the next go at once, so a move in a quiet moment, or while moves come slowly, waits for "
        "nothing; 0 writes as soon as the loop turns (SQLite) or the last batch is answered (Redis) "
        "(default %(default)g)",
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
