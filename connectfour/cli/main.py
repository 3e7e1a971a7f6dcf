"""The ``connectfour`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .. import __version__
from ..config import Settings
from . import serve_options
from .arguments import number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connectfour", description="Real-time multiplayer Connect Four.")
    parser.add_argument("--version", action="version", version=f"connectfour {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve_options.add_parser(commands)

    from ..bench.cli import add_parser as add_bench
    from .play import add_parser as add_play
    from .solve import add_parser as add_solve

    add_bench(commands)
    add_play(commands)
    add_solve(commands)

    prune = commands.add_parser("prune", help="delete games with no activity for some days")
    prune.add_argument("--older-than", type=number, required=True, metavar="DAYS", help="age in days")
    prune.add_argument(
        "--db",
        type=serve_options.database,
        default=os.environ.get("CONNECTFOUR_DB") or serve_options.DEFAULT_DB,
        metavar="PATH",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        problem = serve_options.problem(args)
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
                args.redis,
                retention=args.keep_finished,
                ttl=args.registration_ttl,
                replication=replication,
                batch_interval=args.batch_interval,
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
            store = SQLiteStore(args.db, fsync=args.fsync, batch_interval=args.batch_interval)
        except StoreError as exc:
            print(f"connectfour: --db: {exc}", file=sys.stderr)
            return 1
        log.info("games are stored in %s%s", args.db, " (fsync on every commit)" if args.fsync else "")
    settings = Settings(
        host=args.host,
        port=args.port,
        allowed_origins=serve_options.origins(args),
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
