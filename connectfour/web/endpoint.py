"""The WebSocket endpoint: frames in, session events out, every refusal answered."""

from __future__ import annotations

import logging
import weakref

from aiohttp import WSCloseCode, WSMsgType, web

from ..config import Settings
from ..protocol import ProtocolError, decode
from ..protocol.messages import SUBPROTOCOL_V1, ErrorEvent
from ..service import GameService, Session
from ..service.game import send_event
from ..store import StoreError
from .connection import Connection
from .origin import origin_allowed

log = logging.getLogger("connectfour.web")

#: Frames dropped in a row by the rate limit before the connection is closed.
FLOOD_LIMIT = 100

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", GameService)
SOCKETS = web.AppKey("sockets", weakref.WeakSet[web.WebSocketResponse])


def is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def websocket(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    peer = request.remote or "?"
    origin = request.headers.get("Origin")
    if not origin_allowed(origin, request.host, settings.allowed_origins):
        log.warning("refused WebSocket from %s: origin %r not allowed", peer, origin)
        raise web.HTTPForbidden(text=f"Origin {origin} is not allowed to connect.\n")

    ws = web.WebSocketResponse(
        protocols=(SUBPROTOCOL_V1,),
        max_msg_size=settings.max_frame,
        compress=False,
        heartbeat=settings.heartbeat or None,
        decode_text=False,
    )
    try:
        await ws.prepare(request)
    except ConnectionResetError:
        # aiohttp drops this answer quietly: the transport is already gone.
        log.debug("peer %s left during the handshake", peer)
        return web.Response(status=400, text="Connection closed during the handshake.\n")
    transport = request.transport
    if transport is None:  # the peer vanished during the handshake
        return ws
    conn = Connection(
        ws,
        transport,  # type: ignore[arg-type]
        peer,
        extended=ws.ws_protocol == SUBPROTOCOL_V1,
        rate=settings.rate,
        burst=settings.burst,
    )
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    session = Session(request.app[SERVICE], conn)
    log.info("conn %d: connected from %s (%s)", conn.id, peer, "v1" if conn.extended else "tutorial")
    try:
        await _serve(conn, session)
    finally:
        session.close()
        sockets.discard(ws)
        log.info("conn %d: closed (code %s)", conn.id, ws.close_code)
    return ws


async def _serve(conn: Connection, session: Session) -> None:
    ws = conn.ws
    dropped = 0
    while True:
        msg = await ws.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            return
        if msg.type is WSMsgType.ERROR:
            # aiohttp has already closed with the fitting code (1009 for size).
            log.warning("conn %d: protocol error, closed: %s", conn.id, ws.exception())
            return
        if not conn.admit():
            dropped += 1
            if dropped == 1:
                _refuse(conn, session, ProtocolError("rate_limited", "Too many messages; slow down."))
            elif dropped >= FLOOD_LIMIT:
                log.warning("conn %d: flooding, closed", conn.id)
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Too many messages.")
                return
            continue
        dropped = 0
        if msg.type is not WSMsgType.TEXT:
            _refuse(conn, session, ProtocolError("binary_frame", "Binary frames are not supported; send JSON text."))
            continue
        was_in_game = session.game is not None
        try:
            await session.handle(decode(msg.data))
        except ProtocolError as exc:
            _refuse(conn, session, exc)
        except StoreError as exc:
            log.error("conn %d: the store failed: %s", conn.id, exc)
            _refuse(conn, session, ProtocolError("unavailable", "The server could not save this; nothing changed, try again."))
        except Exception:
            log.exception("conn %d: failed to handle %r", conn.id, msg.data[:200])
            send_event(conn, ErrorEvent(message="Internal error; nothing was changed.", code="internal_error"))
        if not was_in_game and session.game is not None:
            log.info("conn %d: %s in game %s", conn.id, session.role, session.game.id)


def _refuse(conn: Connection, session: Session, exc: ProtocolError) -> None:
    game = session.game.id if session.game else "-"
    log.info("conn %d (game %s): refused %s: %s", conn.id, game, exc.code, exc.message)
    send_event(conn, ErrorEvent(message=exc.message, code=exc.code))
