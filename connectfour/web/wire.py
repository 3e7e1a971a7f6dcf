"""WebSocket framing (RFC 6455), sans I/O: bytes in, callbacks out; frames built once.

Once the front door (``web/front.py``) or aiohttp has answered the HTTP
handshake, every byte of the connection goes to a ``Wire``, which cuts it
into frames and calls its ``Handler`` synchronously from ``data_received``:
no queue, no future, no task per message, and only a few small objects per
connection.
"""

from __future__ import annotations

from typing import Protocol

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_RESTART = 1012


def frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """A complete unmasked server frame."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        return bytes((first, size)) + payload
    if size < 1 << 16:
        return bytes((first, 126)) + size.to_bytes(2, "big") + payload
    return bytes((first, 127)) + size.to_bytes(8, "big") + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(code.to_bytes(2, "big") + reason.encode()[:120], OP_CLOSE)


def unmask(payload: bytes, mask: bytes) -> bytes:
    size = len(payload)
    if not size or mask == b"\x00\x00\x00\x00":
        return payload
    key = (mask * ((size + 3) >> 2))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


class Handler(Protocol):
    def on_message(self, opcode: int, payload: bytes) -> None:
        """A whole text or binary message."""

    def on_ping(self, payload: bytes) -> None: ...

    def on_pong(self, payload: bytes) -> None: ...

    def on_close(self, code: int | None, reason: str) -> None:
        """The peer sent a close frame."""

    def on_violation(self, code: int, reason: str) -> None:
        """The peer broke the protocol or a limit; the connection must close with ``code``."""

    def on_eof(self) -> None:
        """The connection is gone."""


class Wire:
    """The parser half of a server connection, in the shape aiohttp's ``set_parser`` expects."""

    __slots__ = ("handler", "max_size", "_buffer", "_fragments", "_fragment_op", "_done", "_eof")

    def __init__(self, handler: Handler, max_size: int) -> None:
        self.handler = handler
        self.max_size = max_size
        self._buffer = b""
        self._fragments: list[bytes] | None = None
        self._fragment_op = OP_TEXT
        self._done = False  # no more frames are parsed
        self._eof = False

    def feed_eof(self) -> None:
        self._done = True
        if not self._eof:
            self._eof = True
            self.handler.on_eof()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self._done:
            return False, b""
        buffer = self._buffer + data if self._buffer else data
        handler = self.handler
        position, end = 0, len(buffer)
        while end - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            if not second & 0x80:
                return self._violate(CLOSE_PROTOCOL_ERROR, "Client frames must be masked.")
            if first & 0x70:
                return self._violate(CLOSE_PROTOCOL_ERROR, "No extension was negotiated.")
            size = second & 0x7F
            start = position + 2
            if size == 126:
                if end - start < 2:
                    break
                size = int.from_bytes(buffer[start : start + 2], "big")
                start += 2
            elif size == 127:
                if end - start < 8:
                    break
                size = int.from_bytes(buffer[start : start + 8], "big")
                start += 8
            opcode = first & 0x0F
            if size > self.max_size and opcode < OP_CLOSE:
                return self._violate(CLOSE_TOO_BIG, f"Frames are limited to {self.max_size} bytes.")
            stop = start + 4 + size
            if stop > end:
                break
            payload = unmask(buffer[start + 4 : stop], buffer[start : start + 4])
            position = stop
            fin = first & 0x80
            if opcode == OP_TEXT or opcode == OP_BINARY:
                if self._fragments is not None:
                    return self._violate(CLOSE_PROTOCOL_ERROR, "A new message began inside a fragmented one.")
                if fin:
                    handler.on_message(opcode, payload)
                else:
                    self._fragments, self._fragment_op = [payload], opcode
            elif opcode == OP_CONTINUATION:
                fragments = self._fragments
                if fragments is None:
                    return self._violate(CLOSE_PROTOCOL_ERROR, "A continuation frame without a message.")
                fragments.append(payload)
                if sum(map(len, fragments)) > self.max_size:
                    return self._violate(CLOSE_TOO_BIG, f"Messages are limited to {self.max_size} bytes.")
                if fin:
                    self._fragments = None
                    handler.on_message(self._fragment_op, b"".join(fragments))
            elif opcode == OP_PING:
                handler.on_ping(payload)
            elif opcode == OP_PONG:
                handler.on_pong(payload)
            elif opcode == OP_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                self._done = True
                handler.on_close(code, payload[2:].decode(errors="replace"))
                return False, b""
            else:
                return self._violate(CLOSE_PROTOCOL_ERROR, f"Unknown opcode {opcode}.")
            if self._done:  # a handler closed the connection
                return False, b""
        self._buffer = buffer[position:] if position < end else b""
        return False, b""

    def _violate(self, code: int, reason: str) -> tuple[bool, bytes]:
        self._done = True
        self._buffer = b""
        self.handler.on_violation(code, reason)
        return False, b""

    def stop(self) -> None:
        """Ignore whatever arrives from now on (the connection is closing)."""
        self._done = True
