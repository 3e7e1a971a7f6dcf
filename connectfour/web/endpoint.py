"""The WebSocket endpoint as an aiohttp handler: for upgrades the front guard
(``web/front.py``) hands over, such as one on a keep-alive connection after
a first plain request; then the wire takes the bytes."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol, runtime_checkable

from aiohttp import web

from ..config import Settings
from ..protocol.revisions import SUBPROTOCOL_V1
from ..service import GameService
from .connection import Connection
from .handshake import HandshakeRefused, check_upgrade
from .limits import ClientTable, forwarded_address, forwarded_scheme
from .wire import Wire

log = logging.getLogger("connectfour.web")

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", GameService)
CONNECTIONS = web.AppKey("connections", set[Connection])
CLIENTS = web.AppKey("clients", ClientTable)


@runtime_checkable
class Guard(Protocol):
    """The protocol of a connection that came in through the front guard (``front.Guard``),
    which stays its protocol for its whole life: told which WebSocket the bytes are for."""

    counted: str | None

    def attach(self, conn: Connection) -> None: ...


def guard_of(transport: asyncio.BaseTransport) -> Guard | None:
    """The guard of a connection aiohttp is serving, if it came in through one."""
    protocol = transport.get_protocol()
    return protocol if isinstance(protocol, Guard) else None


def is_upgrade(request: web.Request) -> bool:
    """Whether ``/`` is asked for the WebSocket rather than the page: any copy of Upgrade names it.

    Loose on purpose: ``websocket()`` then checks the request strictly, so a
    malformed upgrade gets its 400 rather than the page.
    """
    return any("websocket" in value.lower() for value in request.headers.getall("Upgrade", ()))


def accept_headers(
    request: web.Request, subprotocols: tuple[str, ...], allowed_origins: tuple[str, ...], scheme: str
) -> tuple[dict[str, str], str | None]:
    """Headers of the 101 answer and the chosen subprotocol, by ``check_upgrade``.

    A refusal is logged and raised as aiohttp's HTTPBadRequest (400),
    HTTPForbidden (403, an origin not allowed) or HTTPMethodNotAllowed (405).
    """
    version = request.version
    try:
        accepted = check_upgrade(
            request.method,
            f"HTTP/{version.major}.{version.minor}",
            request.headers.items(),
            scheme=scheme,
            allowed_origins=allowed_origins,
            subprotocols=subprotocols,
        )
    except HandshakeRefused as refused:
        peer = client_address(request, request.app[SETTINGS])
        if refused.status == 403:
            log.warning("refused WebSocket from %s: origin %r not allowed", peer, request.headers.get("Origin"))
            raise web.HTTPForbidden(text=refused.text, headers=refused.headers) from None
        log.info("refused WebSocket from %s: %s", peer, refused.text.strip())
        if refused.status == 405:
            raise web.HTTPMethodNotAllowed(request.method, ["GET"], text=refused.text) from None
        raise web.HTTPBadRequest(text=refused.text, headers=refused.headers) from None
    return accepted.headers(), accepted.subprotocol


def client_address(request: web.Request, settings: Settings) -> str:
    """The client's address: the peer's, or, behind a trusted proxy, the last X-Forwarded-For entry."""
    if settings.trust_forwarded_for:
        forwarded = request.headers.getall("X-Forwarded-For", ())
        if forwarded:
            return forwarded_address(forwarded[-1]) or request.remote or "?"
    return request.remote or "?"


def client_scheme(request: web.Request, settings: Settings) -> str:
    """The scheme the client used: the request's, or, behind a trusted proxy, X-Forwarded-Proto."""
    if settings.trust_forwarded_for:
        return forwarded_scheme(request.headers.getall("X-Forwarded-Proto", ())) or request.scheme
    return request.scheme


async def websocket(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    peer = client_address(request, settings)
    scheme = client_scheme(request, settings)
    headers, subprotocol = accept_headers(request, (SUBPROTOCOL_V1,), settings.allowed_origins, scheme)
    transport = request.transport
    guard = guard_of(transport) if transport is not None else None
    # Without a proxy the guard counted this connection when it was accepted.
    counted = guard is not None and settings.trust_forwarded_for
    if counted and not request.app[CLIENTS].connect(peer):
        raise web.HTTPTooManyRequests(text="Too many connections from your address.\n", headers={"Retry-After": "10"})
    response = web.StreamResponse(status=101, reason="Switching Protocols", headers=headers)
    try:
        await response.prepare(request)
    except ConnectionResetError:
        # aiohttp drops this answer quietly: the transport is already gone.
        log.debug("peer %s left during the handshake", peer)
        if counted:
            request.app[CLIENTS].disconnect(peer)
        return web.Response(status=400, text="Connection closed during the handshake.\n")
    if transport is None or transport.is_closing():
        if counted:
            request.app[CLIENTS].disconnect(peer)
        return response
    app = request.app
    conn = open_connection(app[SETTINGS], app[SERVICE], app[CONNECTIONS], app[CLIENTS], transport, peer, subprotocol)
    _take_over(request, transport, conn, guard)
    if guard is not None and counted:
        guard.counted = peer
    return response


def open_connection(
    settings: Settings,
    service: GameService,
    connections: set[Connection],
    clients: ClientTable,
    transport: asyncio.Transport,
    peer: str,
    subprotocol: str | None,
) -> Connection:
    """A WebSocket connection whose handshake was answered: registered, ready for frames."""
    conn = Connection(
        transport,
        peer,
        service,
        settings,
        clients,
        speaks_v1=subprotocol == SUBPROTOCOL_V1,
        on_close=connections.discard,
    )
    connections.add(conn)
    log.info("conn %d: connected from %s (%s)", conn.id, peer, "v1" if conn.speaks_v1 else "tutorial")
    return conn


class _Socket(asyncio.Protocol):
    """The connection's own transport protocol once aiohttp has let go of it
    (when it did not come in through the front guard)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def data_received(self, data: bytes) -> None:
        self.conn.wire.feed_data(data)

    def eof_received(self) -> bool | None:
        return None  # close the transport: a peer that stops sending is gone

    def pause_writing(self) -> None:
        self.conn.pause_writing()

    def resume_writing(self) -> None:
        self.conn.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.wire.feed_eof()


class _Handoff:
    """What aiohttp feeds its upgraded payload to: the wire, until we take over."""

    __slots__ = ("wire", "detached")

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.detached = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        return self.wire.feed_data(data)

    def feed_eof(self) -> None:
        if not self.detached:
            self.wire.feed_eof()


def _take_over(request: web.Request, transport: asyncio.Transport, conn: Connection, guard: Guard | None) -> None:
    """Move the connection from aiohttp to our own protocol, and let aiohttp forget it.

    aiohttp keeps, for each connection it serves, a request handler, the
    parsed request and a task until the handler returns: about 7 KiB that a
    WebSocket connection does not need once the handshake is done. So:
    bytes aiohttp has already read past the handshake go to the wire; the
    transport gets our protocol for every later byte; and aiohttp's handler
    is told the connection is gone, without letting it close the socket,
    so that it finishes the request and drops its objects.
    """
    handler = request.protocol
    handoff = _Handoff(conn.wire)
    # The one type: ignore left: set_parser is typed for aiohttp's own parser; any object
    # with feed_data and feed_eof serves (tests/test_aiohttp_contract.py holds it to that).
    handler.set_parser(handoff)  # type: ignore[arg-type]
    if guard is not None:
        guard.attach(conn)
    else:
        transport.set_protocol(_Socket(conn))
    handoff.detached = True
    handler.transport = None  # it must not close the socket it no longer owns
    handler.connection_lost(None)
