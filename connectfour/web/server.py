"""Running the application: listen, wait for SIGTERM or SIGINT, shut down cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from ..config import Settings
from ..store import Store
from .app import create_app

log = logging.getLogger("connectfour.web")

#: Seconds that running handlers get to finish after connections are told to close.
SHUTDOWN_TIMEOUT = 5.0


async def serve(settings: Settings, store: Store) -> None:
    app = create_app(settings, store)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_address=True)
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


def run(settings: Settings, store: Store) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional off Linux and macOS
        asyncio.run(serve(settings, store))
    else:
        uvloop.run(serve(settings, store))
