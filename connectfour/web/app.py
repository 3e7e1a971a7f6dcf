"""The aiohttp application: page, replay, static files, WebSocket endpoint, health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from .. import __version__, metrics
from ..config import Settings
from ..service import GameService
from ..store import MemoryStore, Store
from . import wire
from .endpoint import CONNECTIONS, SERVICE, SETTINGS, is_upgrade, websocket

log = logging.getLogger("connectfour.web")

STATIC = Path(__file__).parent / "static"
#: Seconds connections get to close on shutdown before they are cut.
CLOSE_TIMEOUT = 3.0


async def index(request: web.Request) -> web.StreamResponse:
    """``/`` is the page, or the WebSocket endpoint for an Upgrade (as in the tutorial)."""
    if is_upgrade(request):
        return await websocket(request)
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def replay_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "replay.html", headers={"Cache-Control": "no-cache"})


async def game_record(request: web.Request) -> web.Response:
    """A finished game's moves and result, for the replay page."""
    game_id = request.match_info["game_id"]
    record = await request.app[SERVICE].store.get(game_id)
    if record is None:
        return web.json_response({"error": "Game not found."}, status=404)
    if record.result is None:
        return web.json_response({"error": "This game is not finished yet."}, status=404)
    return web.json_response(
        {
            "game": record.id,
            "moves": record.moves,
            "result": record.result,
            "reason": record.reason,
            "created_at": record.created_at,
            "finished_at": record.finished_at,
            "rematch_of": record.rematch_of,
        }
    )


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "connections": len(request.app[CONNECTIONS]),
            "games": len(service.games),
        }
    )


async def metrics_page(request: web.Request) -> web.Response:
    """Counters and gauges for Prometheus and its kin."""
    gauges = {
        "connectfour_connections": ("Open WebSocket connections.", len(request.app[CONNECTIONS])),
        "connectfour_games_in_memory": ("Games with a connection in this process.", len(request.app[SERVICE].games)),
    }
    return web.Response(text=metrics.render(gauges), content_type="text/plain", charset="utf-8")


async def _close_connections(app: web.Application) -> None:
    """On shutdown, tell every client the server is restarting (1012) and close.

    A peer that does not read cannot be closed cleanly: after a few seconds
    its connection is cut.
    """
    connections = list(app[CONNECTIONS])
    if not connections:
        return
    log.info("closing %d connections for shutdown", len(connections))
    for conn in connections:
        conn.close(wire.CLOSE_RESTART, "Server restarting.")
    _, stuck = await asyncio.wait([conn.closed for conn in connections], timeout=CLOSE_TIMEOUT)
    for conn in connections:
        if not conn.closed.done():
            conn.transport.abort()
    if stuck:
        log.warning("cut %d connections that did not close in time", len(stuck))


async def _heartbeat(app: web.Application) -> AsyncIterator[None]:
    """Ping connections that went quiet; drop those quiet for two rounds.

    One sweep for all connections, instead of a timer each.
    """
    period = app[SETTINGS].heartbeat

    async def sweep() -> None:
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for conn in list(app[CONNECTIONS]):
                quiet = now - conn.last_seen
                if quiet > 2 * period:
                    log.info("conn %d: no answer to pings, dropped", conn.id)
                    conn.transport.abort()
                elif quiet > period:
                    conn.ping()

    task = asyncio.create_task(sweep()) if period > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _expire_games(app: web.Application) -> AsyncIterator[None]:
    """Finish games abandoned by everyone, at start and then periodically."""
    service = app[SERVICE]
    interval = min(60.0, max(0.05, service.expire_after / 4))

    async def sweep() -> None:
        while True:
            try:
                await service.expire_idle()
            except Exception:
                log.exception("expiring idle games failed")
            await asyncio.sleep(interval)

    task = asyncio.create_task(sweep())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings | None = None, store: Store | None = None) -> web.Application:
    settings = settings or Settings()
    app = web.Application()
    app[SETTINGS] = settings
    app[SERVICE] = GameService(
        store or MemoryStore(), grace=settings.grace, expire_after=settings.expire_after, forget_unplayed_after=settings.forget_unplayed_after
    )
    app[CONNECTIONS] = set()
    app.router.add_get("/", index)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/game/{game_id}", replay_page)
    app.router.add_get("/api/games/{game_id}", game_record)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.on_shutdown.append(_close_connections)
    app.cleanup_ctx.append(_expire_games)
    app.cleanup_ctx.append(_heartbeat)
    return app
