"""A lean WebSocket client for load generation: an asyncio Protocol, no tasks per frame.

The load generator must be much faster than the server it measures, so it
skips everything a general client does and a benchmark does not need: frames
are parsed in ``data_received`` and handed to a callback; text frames are sent
with a fixed all-zero mask (legal, and the server unmasks it as any other);
no compression, no fragmentation of what it sends.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections import deque
from collections.abc import Callable
from typing import cast

TextHandler = Callable[[bytes], None]

_MASK = b"\x00\x00\x00\x00"
_OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x1, 0x8, 0x9, 0xA


def client_frame(payload: bytes, opcode: int = _OP_TEXT) -> bytes:
    """A masked client frame (with a zero mask, so the payload is sent as is)."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        return bytes((first, 0x80 | size)) + _MASK + payload
    if size < 1 << 16:
        return bytes((first, 0x80 | 126)) + size.to_bytes(2, "big") + _MASK + payload
    return bytes((first, 0x80 | 127)) + size.to_bytes(8, "big") + _MASK + payload


class HandshakeError(Exception):
    pass


class LeanClient(asyncio.Protocol):
    """One connection. ``on_text`` gets each text frame's payload as bytes."""

    def __init__(self, host: str, path: str, subprotocol: str | None) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            + (f"Sec-WebSocket-Protocol: {subprotocol}\r\n" if subprotocol else "")
            + "\r\n"
        ).encode()
        self.transport: asyncio.Transport | None = None
        #: Frames wait here until a hot-path handler replaces ``on_text``.
        self.inbox: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.on_text: TextHandler = self.queue
        self.on_close: Callable[[], None] = lambda: None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self._buffer = bytearray()
        self._upgraded = False

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream transport: it writes
        sock = transport.get_extra_info("socket")
        if sock is not None:  # small frames must leave at once, not wait for Nagle
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self._fail(HandshakeError(status.decode(errors="replace")))
                return
            self._upgraded = True
            if not self.opened.done():
                self.opened.set_result(None)
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            size = buffer[1] & 0x7F
            start = 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size = int.from_bytes(buffer[2:4], "big")
                start = 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size = int.from_bytes(buffer[2:10], "big")
                start = 10
            end = start + size
            if len(buffer) < end:
                return
            payload = bytes(buffer[start:end])
            del buffer[:end]
            if opcode == _OP_TEXT:
                self.on_text(payload)
            elif opcode == _OP_PING:
                self._write(client_frame(payload, _OP_PONG))
            elif opcode == _OP_CLOSE:
                self.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        was_closed = self.closed
        self.closed = True
        self._fail(ConnectionError("connection lost before the handshake ended"))
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if not was_closed:
            self.on_close()

    # -- use ------------------------------------------------------------------------

    def queue(self, payload: bytes) -> None:
        """The default ``on_text``: keep the frame for ``recv``."""
        self.inbox.append(payload)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def recv(self, timeout: float = 10.0) -> bytes:
        """The next text frame, for set-up steps; the hot path uses ``on_text``."""
        while not self.inbox:
            if self.closed:
                raise ConnectionError("connection closed")
            self._waiter = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(self._waiter, timeout)
        return self.inbox.popleft()

    def send(self, frame: bytes) -> None:
        """Send a frame built by ``client_frame`` (build it once, send it often)."""
        self._write(frame)

    def send_text(self, payload: bytes) -> None:
        self._write(client_frame(payload))

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(b"\x03\xe8", _OP_CLOSE))
            self.transport.close()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _fail(self, exc: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
            if self.transport is not None:
                self.transport.close()


async def connect(host: str, port: int, path: str = "/ws", subprotocol: str | None = None) -> LeanClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: LeanClient(f"{host}:{port}", path, subprotocol), host, port)
    await client.opened
    return client
