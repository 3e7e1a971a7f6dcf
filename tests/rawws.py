"""A raw socket speaking WebSocket byte by byte: for peers that misbehave on purpose."""

from __future__ import annotations

import asyncio
import os

TIMEOUT = 5.0
KEY = "dGhlIHNhbXBsZSBub25jZQ=="

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def upgrade_request(path: str = "/ws", *, extra: str = "", host: str = "127.0.0.1") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode("latin-1")


def client_frame(
    payload: bytes, opcode: int = OP_TEXT, *, fin: bool = True, length: int | None = None, rsv: int = 0
) -> bytes:
    """A masked client frame; ``length`` announces another size than the payload's."""
    size = len(payload) if length is None else length
    head = bytes(((0x80 if fin else 0) | rsv << 4 | opcode,))
    if size < 126:
        head += bytes((0x80 | size,))
    elif size < 1 << 16:
        head += bytes((0x80 | 126,)) + size.to_bytes(2, "big")
    else:
        head += bytes((0x80 | 127,)) + size.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, *, limit: int = 1 << 16) -> RawSocket:
        return cls(*await asyncio.open_connection("127.0.0.1", port, limit=limit))

    @classmethod
    async def upgraded(cls, port: int, request: bytes | None = None) -> RawSocket:
        """A connection whose handshake was answered with 101."""
        raw = await cls.connect(port)
        await raw.send(request or upgrade_request())
        head = await asyncio.wait_for(raw.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert head.startswith(b"HTTP/1.1 101 "), head
        return raw

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def frame(self) -> tuple[int, bytes]:
        """The next server frame: opcode and payload."""
        first, second = await asyncio.wait_for(self.reader.readexactly(2), TIMEOUT)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await self.reader.readexactly(8), "big")
        return first & 0x0F, await asyncio.wait_for(self.reader.readexactly(size), TIMEOUT)

    async def until(self, opcode: int) -> bytes:
        """Skip frames until one with ``opcode``; its payload."""
        while True:
            got, payload = await self.frame()
            if got == opcode:
                return payload

    async def close_code(self) -> int | None:
        """Read up to the server's close frame; its code (None if the connection just ended)."""
        try:
            payload = await self.until(OP_CLOSE)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005

    async def ended(self) -> bytes:
        """Everything the server still sends, until it closes the connection."""
        received = b""
        try:
            while chunk := await asyncio.wait_for(self.reader.read(65536), TIMEOUT):
                received += chunk
        except ConnectionError:
            pass
        return received

    async def request(self, payload: bytes = b'{"type":"init","watch":"none"}') -> bytes:
        """Send a text frame and wait for the text frame answering it: the server has
        read everything sent before."""
        await self.send(client_frame(payload))
        return await self.until(OP_TEXT)

    def close(self) -> None:
        self.writer.close()
