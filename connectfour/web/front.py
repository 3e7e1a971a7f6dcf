"""The front door: the first bytes of every connection, before aiohttp sees them.

Most connections to this server are WebSocket upgrades: the tutorial's
protocol opens three per game. Through aiohttp, each one is parsed into a
Request, runs a handler task, is answered through a StreamResponse and is
then moved to our protocol (``endpoint._take_over``): that was most of the
server's CPU time per connection. The door reads the request head itself
and, when it is a plain, valid upgrade of ``/`` or ``/ws``, answers 101 and
gives the socket straight to a ``Connection``.

Everything else goes to aiohttp's own RequestHandler with every byte read so
far, as if aiohttp had accepted the connection: another method, path or
query, a malformed, duplicated or missing header, a bad key or version, a
refused origin, a request body, a head longer than ``MAX_HEAD``. So the page,
keep-alive, static files and every 400 and 403 answer (with its log line)
stay aiohttp's and ``endpoint.websocket``'s, unchanged. The door only takes
the path on which nothing can be refused.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.web_server import Server

from ..protocol.messages import SUBPROTOCOL_V1
from .connection import Connection
from .endpoint import CONNECTIONS, SERVICE, SETTINGS, open_connection
from .handshake import HandshakeRefused, check_upgrade, parse_head
from .wire import Wire

log = logging.getLogger("connectfour.web")

#: A head not complete within this many bytes goes to aiohttp, which applies
#: its own limits (and answers 400 when they are passed).
MAX_HEAD = 8190
#: Seconds a connection may take to send a complete request head, as aiohttp
#: gives a new connection before its first request (its keep-alive timeout).
HANDSHAKE_TIMEOUT = 75.0

_SUBPROTOCOLS = (SUBPROTOCOL_V1,)
#: Targets the door upgrades; any other goes to aiohttp, which routes it.
_TARGETS = frozenset(("/", "/ws"))
_GET = b"GET "
_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
_CHOSEN = {name: b"\r\nSec-WebSocket-Protocol: " + name.encode() for name in _SUBPROTOCOLS}
_END = b"\r\n\r\n"


class Front:
    """The listening socket's protocol factory: one door per accepted connection."""

    def __init__(self, app: web.Application, server: Server, timeout: float = HANDSHAKE_TIMEOUT) -> None:
        self.server = server
        settings = app[SETTINGS]
        self._settings = settings
        self._service = app[SERVICE]
        self._connections = app[CONNECTIONS]
        self._allowed = settings.allowed_origins
        self._timeout = timeout
        # Doors still waiting for a whole head, in two generations: a sweep
        # every ``timeout`` closes the older one, so a silent peer is closed
        # after between one and two timeouts, with no timer per connection.
        self._young: set[_Door] = set()
        self._old: set[_Door] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self.closing = False

    def __call__(self) -> _Door:
        return _Door(self)

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().call_later(self._timeout, self._sweep)

    def close(self) -> None:
        """No new upgrades; doors still waiting for a head are closed."""
        self.closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for door in (*self._young, *self._old):
            door.transport.close()  # type: ignore[union-attr]

    def _sweep(self) -> None:
        old, self._old, self._young = self._old, self._young, set()
        if old:
            log.info("closed %d connections that sent no complete request in time", len(old))
        for door in old:
            door.transport.close()  # type: ignore[union-attr]
        self._sweeper = asyncio.get_running_loop().call_later(self._timeout, self._sweep)

    def upgrade(self, transport: asyncio.Transport, head: bytes, end: int) -> Connection | None:
        """Answer 101 if ``head[:end]`` is a valid upgrade of / or /ws; else None, and nothing was sent.

        A refused upgrade is not answered here: aiohttp answers it, through
        ``endpoint.websocket``, which logs it, with the same check's verdict.
        """
        if self.closing:
            return None
        request = parse_head(head[: end + 2])
        if request is None or request.target not in _TARGETS:
            return None
        try:
            accepted = check_upgrade(
                request.method,
                request.version,
                request.headers,
                scheme="http",
                allowed_origins=self._allowed,
                subprotocols=_SUBPROTOCOLS,
            )
        except HandshakeRefused:
            return None
        chosen = accepted.subprotocol
        transport.write(_SWITCHING + accepted.accept.encode() + (_CHOSEN[chosen] if chosen else b"") + _END)
        peername = transport.get_extra_info("peername")
        peer = str(peername[0]) if isinstance(peername, (tuple, list)) else "?"
        return open_connection(self._settings, self._service, self._connections, transport, peer, chosen)


class _Door(asyncio.Protocol):
    """A connection until its first request head is read; then its WebSocket, or aiohttp's."""

    __slots__ = ("front", "transport", "head", "wire")

    def __init__(self, front: Front) -> None:
        self.front = front
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.wire: Wire | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.front._young.add(self)

    def data_received(self, data: bytes) -> None:
        wire = self.wire
        if wire is not None:
            wire.feed_data(data)
            return
        head = self.head + data if self.head else data
        end = head.find(_END)
        if end < 0:
            if len(head) > MAX_HEAD or not (head.startswith(_GET) if len(head) >= 4 else _GET.startswith(head)):
                self._hand_over(head)
            else:
                self.head = head
            return
        self.head = b""
        front = self.front
        front._young.discard(self)
        front._old.discard(self)
        conn = front.upgrade(self.transport, head, end) if end <= MAX_HEAD else None  # type: ignore[arg-type]
        if conn is None:
            self._hand_over(head)
            return
        self.wire = wire = conn.wire
        if end + 4 < len(head):  # frames sent along with the request
            wire.feed_data(head[end + 4 :])

    def eof_received(self) -> bool | None:
        return None  # close the transport, as aiohttp does

    def connection_lost(self, exc: Exception | None) -> None:
        wire = self.wire
        if wire is not None:
            wire.feed_eof()
        else:
            self.front._young.discard(self)
            self.front._old.discard(self)

    def _hand_over(self, data: bytes) -> None:
        """Give the connection to aiohttp as if it had accepted it, with what was read."""
        front = self.front
        front._young.discard(self)
        front._old.discard(self)
        self.head = b""
        transport = self.transport
        handler = front.server()
        transport.set_protocol(handler)  # type: ignore[union-attr]
        handler.connection_made(transport)  # type: ignore[arg-type]
        handler.data_received(data)


class Site(web.TCPSite):
    """A TCP site whose connections come in through the front door."""

    __slots__ = ("front",)

    def __init__(
        self,
        runner: web.AppRunner,
        host: str | None = None,
        port: int | None = None,
        *,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        **kwargs,  # type: ignore[no-untyped-def]
    ) -> None:
        super().__init__(runner, host, port, **kwargs)
        assert runner.server is not None
        self.front = Front(runner.app, runner.server, handshake_timeout)

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.front,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port
        self.front.start()

    async def stop(self) -> None:
        await super().stop()
        self.front.close()
