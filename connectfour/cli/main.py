"""The ``connectfour`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .. import __version__
from ..config import Settings


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, not {port}")
    return port


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
        "'*' allows any (also $CONNECTFOUR_ALLOWED_ORIGINS, comma-separated; default: this server's own)",
    )
    serve.add_argument("--max-frame", type=int, default=Settings.max_frame, help="largest client frame in bytes")
    serve.add_argument("--rate", type=float, default=Settings.rate, help="frames per second allowed per connection")
    serve.add_argument("--burst", type=int, default=Settings.burst, help="frames allowed in a burst above --rate")
    serve.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"), help="DEBUG, INFO, WARNING...")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2  # pragma: no cover - argparse already refused


def _serve(args: argparse.Namespace) -> int:
    from ..store import MemoryStore
    from ..web.server import run

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    settings = Settings(
        host=args.host,
        port=args.port,
        allowed_origins=_origins(args),
        max_frame=args.max_frame,
        rate=args.rate,
        burst=args.burst,
    )
    run(settings, MemoryStore())
    return 0
