"""The aiohttp application: page, replay, static files, WebSocket endpoint, health."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from .. import __version__, metrics
from ..bus import Bus
from ..config import Settings
from ..protocol import encode
from ..service import GameService
from ..service.computer import Computer
from ..service.game import Scheduler
from ..solver.service import Solver
from ..store import MemoryStore, Store, StoreError
from ..store.base import move_times
from . import wire
from .analysis import SCORES, SOLVER, Scores, analysis
from .announce import BUS, RESTARTING, announce, hear_announcements, tell
from .connection import Connection
from .endpoint import CLIENTS, CONNECTIONS, SERVICE, SETTINGS, client_address, is_upgrade, websocket
from .keepalive import Keepalive
from .limits import AddressLimits, ClientTable

log = logging.getLogger("connectfour.web")

STATIC = Path(__file__).parent / "static"
KEEPALIVE = web.AppKey("keepalive", Keepalive)
#: Every answer: the page's URLs carry invite keys, so nothing may frame it,
#: sniff it, run foreign scripts in it or pass its address on.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Server": "connectfour",
}
#: Seconds connections get to close on shutdown before they are cut.
CLOSE_TIMEOUT = 3.0


async def index(request: web.Request) -> web.StreamResponse:
    """``/`` is the page, or the WebSocket endpoint for an Upgrade (as in the tutorial)."""
    if is_upgrade(request):
        return await websocket(request)
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


#: Seconds /healthz waits for the store to answer.
HEALTH_TIMEOUT = 2.0


async def replay_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "replay.html", headers={"Cache-Control": "no-cache"})


async def game_record(request: web.Request) -> web.Response:
    """A finished game's moves and result, for the replay page."""
    game_id = request.match_info["game_id"]
    record = await request.app[SERVICE].store.get(game_id)
    if record is None:
        return web.json_response({"error": "Game not found.", "code": "game_not_found"}, status=404)
    if record.result is None:
        return web.json_response({"error": "This game is not finished yet.", "code": "not_finished"}, status=404)
    events = [event for _, event in await request.app[SERVICE].store.read(game_id)]
    return web.json_response(
        {
            "game": record.id,
            "moves": record.moves,
            "result": record.result,
            "reason": record.reason,
            "created_at": record.created_at,
            "finished_at": record.finished_at,
            "rematch_of": record.rematch_of,
            "red_name": record.red_name,
            "yellow_name": record.yellow_name,
            "computer": record.computer,
            "level": record.level if record.computer is not None else None,
            "clock": str(record.clock) if record.clock is not None else None,
            "times": move_times(events),
        }
    )


def _operator(request: web.Request) -> bool:
    """Whether the client may see this process's insides (its pid, its store, its metrics):
    a client on this host (a Prometheus or a health check beside the server), or anyone
    bearing ``--metrics-token``. Everyone else gets what a load balancer needs, no more."""
    settings = request.app[SETTINGS]
    token = settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    try:
        return ipaddress.ip_address(client_address(request, settings).partition("%")[0]).is_loopback
    except ValueError:
        return False


async def healthz(request: web.Request) -> web.Response:
    """200 while this process can serve games; 503 when its store does not answer,
    so that a load balancer sends new clients to another node. The details (which
    worker answered, the store's location, what failed) are for the operator only."""
    service = request.app[SERVICE]
    store = service.store
    body: dict[str, object] = {"status": "ok", "store_reachable": True}
    details: dict[str, object] = {}
    if _operator(request):
        details = {
            "version": __version__,
            "pid": os.getpid(),  # which worker answered, behind one port
            "connections": len(request.app[CONNECTIONS]),
            "games": len(service.games),
            "store": store.location,
        }
    try:
        await asyncio.wait_for(store.ping(), HEALTH_TIMEOUT)
    except (TimeoutError, StoreError) as exc:
        body.update(status="unavailable", store_reachable=False, **details)
        if details:
            body["error"] = str(exc) or "the store did not answer in time"
        return web.json_response(body, status=503)
    return web.json_response({**body, **details})


def _gauges(app: web.Application) -> metrics.Gauges:
    """The live gauges of this process."""
    clients = app[CLIENTS]
    return {
        "connectfour_connections": ("Open WebSocket connections.", len(app[CONNECTIONS])),
        "connectfour_games_in_memory": ("Games with a connection in this process.", len(app[SERVICE].games)),
        "connectfour_client_addresses": ("Client addresses holding connections or a spent allowance.", len(clients)),
        "connectfour_waiting_connections": (
            "Connections yet to send a complete first request head (counted per address; not behind a trusted proxy).",
            clients.waiting_total(),
        ),
        "connectfour_address_connections": (
            "Open connections counted against their client address's bound (HTTP and WebSocket alike).",
            clients.connections_total(),
        ),
        "connectfour_lobby_watchers": ("Connections following the lobby here.", len(app[SERVICE].lobby.watchers)),
        "connectfour_solver_searches": ("Exact searches running (the computer's and analyses).", app[SOLVER].running),
        "connectfour_solver_waiting": ("Exact searches waiting for a solver thread.", app[SOLVER].waiting),
    }


async def metrics_page(request: web.Request) -> web.Response:
    """Counters, latency histograms and gauges for Prometheus and its kin; with
    ``--workers``, summed over the workers, whichever one answers. Only for the
    operator (``_operator``): to anyone else there is no such page."""
    if not _operator(request):
        if request.app[SETTINGS].metrics_token:
            return web.json_response(
                {"error": "A valid metrics token is needed: Authorization: Bearer TOKEN."},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="connectfour"'},
            )
        raise web.HTTPNotFound()
    return web.Response(body=metrics.render(_gauges(request.app)), headers={"Content-Type": metrics.CONTENT_TYPE})


async def _close_connections(app: web.Application) -> None:
    """On shutdown, tell every client the server is restarting (1012) and close.

    A peer that does not read cannot be closed cleanly: after a few seconds
    its connection is cut.
    """
    # A typed local: inside list(...), mypy would infer the key's type from list's parameter.
    open_connections: set[Connection] = app[CONNECTIONS]
    connections = list(open_connections)
    if not connections:
        return
    log.info("closing %d connections for shutdown", len(connections))
    # Said first, so that a page shows "restarting, reconnecting" rather than a bare error.
    tell(open_connections, encode(RESTARTING))
    for conn in connections:
        conn.close(wire.CLOSE_RESTART, "Server restarting.")
    _, stuck = await asyncio.wait([conn.closed for conn in connections], timeout=CLOSE_TIMEOUT)
    for conn in connections:
        if not conn.closed.done():
            conn.transport.abort()
    if stuck:
        log.warning("cut %d connections that did not close in time", len(stuck))


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


async def _heartbeat(app: web.Application) -> AsyncIterator[None]:
    """Ping connections that went quiet, cut those whose ping went unanswered,
    and forget client addresses that hold nothing: one sweep for all, instead
    of a timer each."""
    keepalive = app[KEEPALIVE]
    period = keepalive.interval
    connections: set[Connection] = app[CONNECTIONS]

    async def sweep() -> None:
        while True:
            await asyncio.sleep(period)
            keepalive.sweep(connections)
            app[CLIENTS].forget_idle()

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


async def _registration(app: web.Application) -> AsyncIterator[None]:
    """Keep this process registered as alive while it runs; on a clean stop,
    its seats are free at once rather than once the registration runs out."""
    service = app[SERVICE]
    task = asyncio.create_task(service.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    try:
        await service.stop()
    except Exception:
        log.exception("could not deregister this process")


async def _lobby(app: web.Application) -> AsyncIterator[None]:
    """Hear the other processes' parts of the lobby, and tick this one's."""
    lobby = app[SERVICE].lobby
    connections = app[CONNECTIONS]
    lobby.online = lambda: len(connections)
    await app[BUS].listen("lobby", lobby.hear)
    task = asyncio.create_task(lobby.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _flush_metrics(app: web.Application) -> AsyncIterator[None]:
    """With ``--workers``: hand this worker's metrics to the others every
    ``metrics.FLUSH_INTERVAL`` seconds, and a last time when it stops."""
    if metrics.DIRECTORY is None:
        yield
        return

    def flush() -> None:
        try:
            metrics.flush(_gauges(app))
        except Exception:
            log.exception("could not flush the metrics to %s", metrics.DIRECTORY)

    async def every_interval() -> None:
        while True:
            await asyncio.sleep(metrics.FLUSH_INTERVAL)
            flush()

    task = asyncio.create_task(every_interval())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    flush()


async def _solver(app: web.Application) -> AsyncIterator[None]:
    """Load the opening book off the loop at start; stop the search threads at the end."""
    solver = app[SOLVER]
    await solver.start()
    yield
    solver.close()


def create_app(
    settings: Settings | None = None,
    store: Store | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    bus: Bus | None = None,
    game_clock: Callable[[], float] = time.time,
    schedule: Scheduler | None = None,
) -> web.Application:
    """The application; ``clock`` (monotonic seconds) drives keepalive and the limits per address;
    ``bus`` is shared with the other processes (in one process, a bus of its own);
    ``game_clock`` (seconds since the epoch) and ``schedule`` are the games' time and timers
    (a test's own, to move a clock by hand)."""
    settings = settings or Settings()
    app = web.Application()
    app[SETTINGS] = settings
    # One bounded solver for the computer's moves and the analysis: together
    # they can hold at most its threads, never the event loop.
    app[SOLVER] = solver = Solver(max_searches=settings.solver_searches or None, budget=settings.search_budget)
    app[SCORES] = Scores()
    if store is None:
        store = MemoryStore(bus)
    elif bus is not None and store.bus is not bus:
        raise ValueError("the store announces on another bus than the one given")
    app[SERVICE] = GameService(
        store,
        grace=settings.grace,
        expire_after=settings.expire_after,
        forget_unplayed_after=settings.forget_unplayed_after,
        computer=Computer(solver, budget=settings.search_budget),
        computer_delay=settings.computer_delay,
        lobby_interval=settings.lobby_interval,
        clock=game_clock,
        schedule=schedule,
    )
    app[CONNECTIONS] = set()
    limits = AddressLimits(
        settings.connections_per_address, settings.waiting_per_address, settings.games_per_minute, settings.ipv6_prefix
    )
    app[CLIENTS] = ClientTable(limits, clock)
    app[KEEPALIVE] = Keepalive(settings.heartbeat, settings.heartbeat, clock)
    app[BUS] = store.bus
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/game/{game_id}", replay_page)
    app.router.add_get("/api/games/{game_id}", game_record)
    app.router.add_get("/api/analysis", analysis)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    app.router.add_post("/api/announce", announce)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.on_shutdown.append(_close_connections)
    app.cleanup_ctx.append(_solver)
    app.cleanup_ctx.append(_expire_games)
    app.cleanup_ctx.append(_registration)
    app.cleanup_ctx.append(_heartbeat)
    app.cleanup_ctx.append(hear_announcements)
    app.cleanup_ctx.append(_lobby)
    app.cleanup_ctx.append(_flush_metrics)
    return app
