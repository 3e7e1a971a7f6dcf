"""Running the application: listen, wait for SIGTERM or SIGINT, shut down cleanly."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from aiohttp import web

from ..config import Settings
from ..store import Store, StoreError
from .app import create_app
from .endpoint import SETTINGS
from .front import Site

log = logging.getLogger("connectfour.web")

#: Seconds that running handlers get to finish after connections are told to close.
SHUTDOWN_TIMEOUT = 5.0
#: Connections waiting to be accepted: after a restart every client reconnects at once.
BACKLOG = 4096
#: Allocations, net of frees, between collections of the youngest generation.
GC_THRESHOLD = 50_000


#: Exit status when the server cannot start at all (its store unreachable):
#: a supervisor must not start it again and again (cli/workers.py).
CANNOT_START = 3


async def serve(settings: Settings, store: Store) -> int:
    try:
        await store.ping()
    except StoreError as exc:
        log.error("cannot reach the store at %s: %s", store.location, exc)
        print(f"connectfour: cannot reach the store at {store.location}: {exc}", file=sys.stderr)
        await store.close()
        return CANNOT_START
    runner = make_runner(create_app(settings, store))
    await runner.setup()
    tune_gc()
    site = Site(
        runner,
        settings.host,
        settings.port,
        reuse_address=True,
        reuse_port=settings.reuse_port or None,
        backlog=BACKLOG,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await site.start()
        shown = "localhost" if settings.host in ("", "0.0.0.0", "::") else settings.host
        log.info("serving on http://%s:%d/ (WebSocket at /ws and /)", shown, settings.port)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
        await store.close()
        log.info("stopped")
    return 0


def make_runner(app: web.Application) -> web.AppRunner:
    """The runner as `connectfour serve` uses it: an idle keep-alive connection,
    or one dribbling its next request head, is closed after the head timeout."""
    return web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        keepalive_timeout=app[SETTINGS].head_timeout,
    )


def tune_gc() -> None:
    """Fewer, cheaper garbage collections: a full collection over every object of
    thousands of connections stalls all of them for tens of milliseconds.

    What exists at start-up (modules, the application) is moved out of the
    collector's sight, and the youngest generation is collected less often.
    Connections and games free themselves by reference counting; the
    collector is only a safety net for cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 100)


def run(settings: Settings, store: Store) -> int:
    """Serve until SIGTERM or SIGINT; the exit status."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional off Linux and macOS
        return asyncio.run(serve(settings, store))
    return uvloop.run(serve(settings, store))
