"""The front guard: the first bytes of every connection, before aiohttp sees them.

Most connections to this server are WebSocket upgrades: the tutorial's
protocol opens three per game. Through aiohttp, each one is parsed into a
Request, runs a handler task, is answered through a StreamResponse and is
then moved to our protocol (``endpoint._take_over``): that was most of the
server's CPU time per connection. The guard reads the request head itself
and, when it is a plain, valid upgrade of ``/`` or ``/ws``, answers 101 and
gives the socket straight to a ``Connection``.

Everything else goes to aiohttp's own RequestHandler with every byte read so
far, as if aiohttp had accepted the connection: another method, path or
query, a refused upgrade (``handshake.check_upgrade`` decides for both), a
head longer than ``MAX_HEAD``. So the page, keep-alive, static files and
every 400 and 403 answer (with its log line) stay aiohttp's and
``endpoint.websocket``'s. The guard only takes the path on which nothing can
be refused.

The guard is also where a connection is held to account: every first request
head, whatever its method, must be complete within the head timeout (aiohttp's
keep-alive timeout covers the later ones), and each client address may hold
only so many connections, and so many still owing a head (``limits.py``).
So the guard stays the connection's protocol for its whole life, passing
bytes and flow control on to the WebSocket or to aiohttp's handler, and
giving the connection back to its address's count when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from typing import cast

from aiohttp import web

from ..protocol.revisions import SUBPROTOCOL_V1
from .connection import Connection
from .endpoint import CLIENTS, CONNECTIONS, SERVICE, SETTINGS, open_connection
from .handshake import HandshakeRefused, RequestHead, check_upgrade, parse_head
from .limits import forwarded_address, forwarded_scheme
from .wire import Wire

log = logging.getLogger("connectfour.web")

#: A head not complete within this many bytes goes to aiohttp, which applies
#: its own limits (and answers 400 when they are passed).
MAX_HEAD = 8190
#: The kernel's send buffer of every connection (it doubles what is asked).
#: Left to itself it grows to 4 MiB for a peer that does not read, outside
#: any bound of ours; the frames of a game and the page's files are small.
KERNEL_SEND_BUFFER = 32 * 1024
#: The start of a request line: a method (upper case, as aiohttp's parser insists), then a space.
_REQUEST_START = re.compile(rb"[A-Z]{1,16}(?: |$)")

_SUBPROTOCOLS = (SUBPROTOCOL_V1,)
#: Targets the guard upgrades; any other goes to aiohttp, which routes it.
_TARGETS = frozenset(("/", "/ws"))
_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
_CHOSEN = {name: b"\r\nSec-WebSocket-Protocol: " + name.encode() for name in _SUBPROTOCOLS}
_END = b"\r\n\r\n"


class Listener:
    """The listening socket's protocol factory: one guard per accepted connection."""

    def __init__(self, app: web.Application, server: web.Server, timeout: float | None = None) -> None:
        self.server = server
        settings = app[SETTINGS]
        self._settings = settings
        self._service = app[SERVICE]
        self._connections = app[CONNECTIONS]
        self.clients = app[CLIENTS]
        self._allowed = settings.allowed_origins
        self.trust_forwarded = settings.trust_forwarded_for
        self._timeout = settings.head_timeout if timeout is None else timeout
        # Doors still waiting for a whole head, in two generations: a sweep
        # every half timeout closes the older one, so a silent peer is closed
        # after between a half and a whole timeout, with no timer per connection.
        self._young: set[Guard] = set()
        self._old: set[Guard] = set()
        self._sweeper: asyncio.TimerHandle | None = None
        self.closing = False

    def __call__(self) -> Guard:
        return Guard(self)

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().call_later(self._timeout / 2, self._sweep)

    def close(self) -> None:
        """No new upgrades; guards still waiting for a head are closed."""
        self.closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for guard in (*self._young, *self._old):
            guard.transport.close()

    def _sweep(self) -> None:
        old, self._old, self._young = self._old, self._young, set()
        if old:
            log.info("closed %d connections that sent no complete request in time", len(old))
        for guard in old:
            guard.transport.close()
        self._sweeper = asyncio.get_running_loop().call_later(self._timeout / 2, self._sweep)

    def upgrade(self, transport: asyncio.Transport, request: RequestHead, address: str) -> Connection | None:
        """Answer 101 if ``request`` is a valid upgrade of / or /ws; else None.

        A refused upgrade is not answered here: aiohttp answers it, through
        ``endpoint.websocket``, which logs it, with the same check's verdict.
        Only a client over its connection bound gets its 429 here (and the
        transport is then closing).
        """
        if self.closing or request.target not in _TARGETS:
            return None
        scheme = "http"
        if self.trust_forwarded:
            forwarded = [value for name, value in request.headers if name.lower() == "x-forwarded-for"]
            if forwarded:
                address = forwarded_address(forwarded[-1]) or address
            proto = [value for name, value in request.headers if name.lower() == "x-forwarded-proto"]
            scheme = forwarded_scheme(proto) or scheme
        try:
            accepted = check_upgrade(
                request.method,
                request.version,
                request.headers,
                scheme=scheme,
                allowed_origins=self._allowed,
                subprotocols=_SUBPROTOCOLS,
            )
        except HandshakeRefused:
            return None
        if self.trust_forwarded and not self.clients.connect(address):
            _refuse(transport, "Too many connections from your address.")
            return None
        chosen = accepted.subprotocol
        transport.write(_SWITCHING + accepted.accept.encode() + (_CHOSEN[chosen] if chosen else b"") + _END)
        return open_connection(
            self._settings, self._service, self._connections, self.clients, transport, address, chosen
        )


class Guard(asyncio.Protocol):
    """A connection's protocol for its whole life.

    Until its first request head is complete, the guard reads it (within the
    head timeout); then it passes every byte and every flow-control call to
    the connection's WebSocket or to aiohttp's request handler, and it gives
    the connection back to its address's count when it ends.
    """

    __slots__ = ("listener", "transport", "head", "wire", "conn", "http", "address", "counted", "owing")
    transport: asyncio.Transport  # set by connection_made, before anything else is called

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.head = b""
        self.wire: Wire | None = None
        self.conn: Connection | None = None
        self.http: asyncio.Protocol | None = None
        self.address = "?"
        #: The address whose connection count this one is part of, if any.
        self.counted: str | None = None
        #: The address whose count of connections owing a head this one is part of, if any:
        #: given back once, whatever ends the wait (a head, a sweep, a close).
        self.owing: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = stream = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        self.address = address = str(peername[0]) if isinstance(peername, (tuple, list)) else "?"
        listener = self.listener
        if not listener.trust_forwarded:
            # Behind a trusted proxy every connection comes from the proxy:
            # the client's address is only known from the request.
            clients = listener.clients
            if not clients.connect(address):
                _refuse(stream, "Too many connections from your address.")
                return
            self.counted = address
            if not clients.start_waiting(address):
                _refuse(stream, "Too many connections without a request from your address.")
                return
            self.owing = address
        listener._young.add(self)

    def data_received(self, data: bytes) -> None:
        wire = self.wire
        if wire is not None:
            wire.feed_data(data)
            return
        http = self.http
        if http is not None:
            http.data_received(data)
            return
        head = self.head + data if self.head else data
        end = head.find(_END)
        if end < 0:
            if len(head) > MAX_HEAD:
                self._hand_over(head)  # perhaps a legal head with big cookies: aiohttp's limits decide
            elif not _REQUEST_START.match(head) or head.count(b"\n") != head.count(b"\r\n"):
                self._malformed("This is not an HTTP/1.1 request (a request line, then CRLF line ends).")
            else:
                self.head = head
            return
        self.head = b""
        self._stop_waiting()
        if end > MAX_HEAD:
            self._hand_over(head)
            return
        request = parse_head(head[: end + 2]) if _REQUEST_START.match(head) else None
        if request is None:
            self._malformed("Malformed request head.")
            return
        listener = self.listener
        conn = listener.upgrade(self.transport, request, self.address)
        if conn is None:
            if not self.transport.is_closing():
                self._hand_over(head)
            return
        if listener.trust_forwarded:
            self.counted = conn.peer
        self.attach(conn)
        if end + 4 < len(head):  # frames sent along with the request
            conn.wire.feed_data(head[end + 4 :])

    def attach(self, conn: Connection) -> None:
        """From now on the bytes are this WebSocket's."""
        self.http = None
        self.conn = conn
        self.wire = conn.wire

    def eof_received(self) -> bool | None:
        http = self.http
        if http is not None:
            return http.eof_received()
        return None  # close the transport: a peer that stops sending is gone

    def pause_writing(self) -> None:
        target = self.conn or self.http
        if target is not None:
            target.pause_writing()

    def resume_writing(self) -> None:
        target = self.conn or self.http
        if target is not None:
            target.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        wire, http = self.wire, self.http
        self._stop_waiting()
        if wire is not None:
            wire.feed_eof()
        elif http is not None:
            http.connection_lost(exc)
        if self.counted is not None:
            self.listener.clients.disconnect(self.counted)
            self.counted = None

    def _stop_waiting(self) -> None:
        listener = self.listener
        listener._young.discard(self)
        listener._old.discard(self)
        owing, self.owing = self.owing, None
        if owing is not None:
            listener.clients.stop_waiting(owing)

    def _malformed(self, text: str) -> None:
        """Answer 400 and close: what aiohttp would do, without naming its version."""
        self._stop_waiting()
        self.head = b""
        body = (text + "\n").encode()
        self.transport.write(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
            b"Server: connectfour\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()

    def _hand_over(self, data: bytes) -> None:
        """Give the connection to aiohttp as if it had accepted it, with what was read."""
        self._stop_waiting()
        self.head = b""
        self.http = handler = self.listener.server()
        handler.connection_made(self.transport)
        handler.data_received(data)


def _refuse(transport: asyncio.Transport, text: str) -> None:
    """Answer 429 before the request is read, and close: the client sees why."""
    body = (text + "\n").encode()
    transport.write(
        b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
        b"Retry-After: 10\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    transport.close()


class Site(web.BaseSite):
    """A TCP site whose connections come in through the front guard.

    Built on aiohttp's public ``BaseSite`` (which registers the site with its
    runner): the listening socket is our own, with the guard as its protocol
    factory instead of the runner's server.
    """

    __slots__ = ("factory", "host", "requested_port", "reuse_address", "reuse_port", "backlog", "listener", "port")

    def __init__(
        self,
        runner: web.AppRunner,
        host: str | None = None,
        port: int = 0,
        *,
        handshake_timeout: float | None = None,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
        backlog: int = 128,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        assert runner.server is not None
        #: The guards' factory: one per accepted connection.
        self.factory = Listener(runner.app, runner.server, handshake_timeout)
        self.host = host
        self.requested_port = self.port = port
        self.reuse_address = reuse_address
        #: Several processes listen on one port (``--workers``); the kernel spreads connections.
        self.reuse_port = reuse_port
        self.backlog = backlog
        self.listener: asyncio.Server | None = None

    @property
    def name(self) -> str:
        return f"http://{self.host or '0.0.0.0'}:{self.port}"

    async def start(self) -> None:
        await super().start()  # registers the site with its runner
        loop = asyncio.get_running_loop()
        self.listener = listener = await loop.create_server(
            self.factory,
            self.host,
            self.requested_port,
            backlog=self.backlog,
            reuse_address=self.reuse_address,
            reuse_port=self.reuse_port,
        )
        for sock in listener.sockets:
            # Accepted connections inherit it: no system call per connection.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)
        if listener.sockets:
            self.port = listener.sockets[0].getsockname()[1]
        self.factory.start()

    async def stop(self) -> None:
        if self.listener is not None:
            self.listener.close()
        await super().stop()
        self.factory.close()
