"""The WebSocket endpoint: aiohttp answers the handshake, then the wire takes the bytes."""

from __future__ import annotations

import logging

from aiohttp import web

from ..config import Settings
from ..protocol.messages import SUBPROTOCOL_V1
from ..service import GameService
from .connection import Connection
from .handshake import accept_headers
from .origin import origin_allowed

log = logging.getLogger("connectfour.web")

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", GameService)
CONNECTIONS = web.AppKey("connections", set[Connection])


def is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def websocket(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    peer = request.remote or "?"
    origin = request.headers.get("Origin")
    if not origin_allowed(origin, request.host, settings.allowed_origins):
        log.warning("refused WebSocket from %s: origin %r not allowed", peer, origin)
        raise web.HTTPForbidden(text=f"Origin {origin} is not allowed to connect.\n")
    headers, subprotocol = accept_headers(request, (SUBPROTOCOL_V1,))
    response = web.StreamResponse(status=101, reason="Switching Protocols", headers=headers)
    try:
        await response.prepare(request)
    except ConnectionResetError:
        # aiohttp drops this answer quietly: the transport is already gone.
        log.debug("peer %s left during the handshake", peer)
        return web.Response(status=400, text="Connection closed during the handshake.\n")
    transport = request.transport
    if transport is None or transport.is_closing():
        return response
    connections = request.app[CONNECTIONS]
    conn = Connection(
        transport,  # type: ignore[arg-type]
        peer,
        request.app[SERVICE],
        extended=subprotocol == SUBPROTOCOL_V1,
        max_size=settings.max_frame,
        rate=settings.rate,
        burst=settings.burst,
        on_close=connections.discard,
    )
    connections.add(conn)
    log.info("conn %d: connected from %s (%s)", conn.id, peer, "v1" if conn.extended else "tutorial")
    # From here on every byte of the connection goes to the wire, from data_received.
    request.protocol.set_parser(conn.wire)  # type: ignore[arg-type]
    await conn.closed
    log.info("conn %d: closed (code %s)", conn.id, conn.close_code or 1006)
    return response
