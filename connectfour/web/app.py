"""The aiohttp application: page, static files, WebSocket endpoint, health."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from pathlib import Path

from aiohttp import WSCloseCode, web

from .. import __version__
from ..config import Settings
from ..service import GameService
from ..store import MemoryStore, Store
from .endpoint import SERVICE, SETTINGS, SOCKETS, is_upgrade, websocket

log = logging.getLogger("connectfour.web")

STATIC = Path(__file__).parent / "static"


async def index(request: web.Request) -> web.StreamResponse:
    """``/`` is the page, or the WebSocket endpoint for an Upgrade (as in the tutorial)."""
    if is_upgrade(request):
        return await websocket(request)
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def healthz(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "connections": len(request.app[SOCKETS]),
            "games": len(service.games),
        }
    )


async def _close_sockets(app: web.Application) -> None:
    """On shutdown, tell every client the server is restarting (1012) and close."""
    sockets = list(app[SOCKETS])
    if sockets:
        log.info("closing %d connections for shutdown", len(sockets))
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"Server restarting.") for ws in sockets),
        return_exceptions=True,
    )


def _call_later(delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
    return asyncio.get_running_loop().call_later(delay, callback)


def create_app(settings: Settings | None = None, store: Store | None = None) -> web.Application:
    settings = settings or Settings()
    app = web.Application()
    app[SETTINGS] = settings
    app[SERVICE] = GameService(store or MemoryStore(), schedule=_call_later)
    app[SOCKETS] = weakref.WeakSet()
    app.router.add_get("/", index)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.on_shutdown.append(_close_sockets)
    return app
