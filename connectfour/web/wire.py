"""WebSocket framing (RFC 6455), sans I/O: bytes in, callbacks out; frames built once.

Once the guard at the front (``web/front.py``) or aiohttp has answered the HTTP
handshake, every byte of the connection goes to a ``Wire``, which cuts it
into frames and calls its ``Handler`` synchronously from ``data_received``:
no queue, no future, no task per message, and only a few small objects per
connection.

Every rule a server must enforce on what it receives (RFC 6455 5.1-5.6, 7.4,
8.1) is checked as soon as the bytes that break it are in, and every limit at
the frame's header, before its payload is waited for: a peer can make a
connection hold at most one partial frame (``max_size`` plus a 14-byte header,
or a 131-byte control frame) and one message being reassembled.
"""

from __future__ import annotations

from typing import Protocol

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_RESTART = 1012

#: RFC 6455 5.5: a control frame's payload.
MAX_CONTROL_PAYLOAD = 125
#: The longest header: two bytes, a 64-bit length and the masking key.
MAX_HEADER = 14

_ZERO_MASK = b"\x00\x00\x00\x00"
_from_bytes = int.from_bytes


def close_code_valid(code: int) -> bool:
    """Whether a peer may send ``code`` in a close frame (RFC 6455 7.4; the IANA registry).

    1004 is reserved, 1005, 1006 and 1015 only ever report a closure and are
    never sent, 1016-2999 are the protocol's to assign; 3000-4999 belong to
    libraries and applications.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


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
    """A close frame that is always valid: the reason is cut to fit 125 bytes, never inside a character."""
    data = reason.encode(errors="replace")
    if len(data) > MAX_CONTROL_PAYLOAD - 2:
        data = data[: MAX_CONTROL_PAYLOAD - 2].decode(errors="ignore").encode()
    return frame(code.to_bytes(2, "big") + data, OP_CLOSE)


def unmask(payload: bytes, mask: bytes) -> bytes:
    size = len(payload)
    if not size or mask == _ZERO_MASK:
        return payload
    key = (mask * ((size + 3) >> 2))[:size]
    # Big-endian by default (3.11): naming the byte order costs more than the XOR.
    return (_from_bytes(payload) ^ _from_bytes(key)).to_bytes(size)


def _utf8(payload: bytes) -> bool:
    try:
        payload.decode()
    except UnicodeDecodeError:
        return False
    return True


def _header_fault(first: int, second: int) -> str:
    """Why a frame's first two bytes alone fail the connection."""
    opcode = first & 0x0F
    if 2 < opcode < 8 or opcode > 10:
        return f"Unknown opcode {opcode}."
    if not second & 0x80:
        return "Client frames must be masked."
    if second & 0x7F > MAX_CONTROL_PAYLOAD:
        return f"Control frames are limited to {MAX_CONTROL_PAYLOAD} bytes."
    if first & 0x70:
        return "No extension was negotiated."
    return "Control frames must not be fragmented."


class Handler(Protocol):
    def on_message(self, opcode: int, payload: bytes) -> None:
        """A whole text or binary message; a text one is valid UTF-8."""

    def on_ping(self, payload: bytes) -> None: ...

    def on_pong(self, payload: bytes) -> None:
        """The payload tells which ping this answers, if any."""

    def on_close(self, code: int | None, reason: str) -> None:
        """The peer sent a valid close frame (``code`` None if it had no payload); nothing more is parsed."""

    def on_violation(self, code: int, reason: str) -> None:
        """The peer broke the protocol or a limit; the connection must close with ``code``."""

    def on_eof(self) -> None:
        """The connection is gone."""


class Wire:
    """The parser half of a server connection, in the shape aiohttp's ``set_parser`` expects."""

    __slots__ = ("handler", "max_size", "_buffer", "_need", "_fragments", "_opcode", "_room", "_done", "_eof")

    def __init__(self, handler: Handler, max_size: int) -> None:
        self.handler = handler
        self.max_size = max_size
        # None rather than empty: thousands of idle connections hold neither.
        self._buffer: bytearray | None = None  # the start of a frame, kept until its next part is in
        self._need = 0  # the length the buffer must reach for parsing to go on
        self._fragments: list[bytes] | None = None  # the message being reassembled, if any
        self._opcode = OP_TEXT  # its opcode
        self._room = max_size  # what it may still take
        self._done = False  # no more frames are parsed
        self._eof = False

    @property
    def buffered(self) -> int:
        """Bytes of a partial frame held until the rest of it arrives."""
        return len(self._buffer) if self._buffer else 0

    def feed_eof(self) -> None:
        self._finish()
        if not self._eof:
            self._eof = True
            self.handler.on_eof()

    def stop(self) -> None:
        """Ignore whatever arrives from now on (the connection is closing)."""
        self._finish()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        # Frames are parsed straight from ``data``; only a frame cut by the end
        # of a read is copied, and kept until its next part is in.
        if self._done:
            return False, b""
        size = len(data) - 6
        if size >= 0 and data[0] == 0x81 and data[1] - 0x80 == size < 126 and not self._buffer:
            # The commonest read by far: one whole, final, masked text frame of at most 125
            # bytes (its second byte is 0x80 plus that size), and nothing else; the checks
            # below, those it can fail, in as few steps.
            payload = data[6:]
            if self._fragments:
                return self._violate(CLOSE_PROTOCOL_ERROR, "A new message began inside a fragmented one.")
            if size > self._room:
                return self._violate(CLOSE_TOO_BIG, f"Messages are limited to {self.max_size} bytes.")
            if size and data[2:6] != _ZERO_MASK:
                payload = (_from_bytes(payload) ^ _from_bytes((data[2:6] * ((size + 3) >> 2))[:size])).to_bytes(size)
            if not payload.isascii() and not _utf8(payload):
                return self._violate(CLOSE_INVALID_DATA, "A text message must be UTF-8.")
            self.handler.on_message(OP_TEXT, payload)
            return False, b""
        position = 0
        if self._buffer:
            position = self._resume(data)
            if position < 0:
                return False, b""
        handler = self.handler
        end = len(data)
        while True:
            if end - position < 2:
                need = 2
                break
            first = data[position]
            second = data[position + 1]
            opcode = first & 0x0F
            if opcode < 3 and second & 0x80:  # a masked data frame
                size = second & 0x7F
                if size < 126:
                    start = position + 6
                    if start > end:
                        need = 6
                        break
                elif size == 126:
                    start = position + 8
                    if start > end:
                        need = 8
                        break
                    size = data[position + 2] << 8 | data[position + 3]
                else:
                    start = position + 14
                    if start > end:
                        need = 14
                        break
                    size = _from_bytes(data[position + 2 : position + 10])
                    if size >> 63:
                        return self._violate(CLOSE_PROTOCOL_ERROR, "A frame length's most significant bit must be 0.")
                # The checks' order is websockets': the size, then the header, then the sequence.
                if size > self._room:
                    return self._violate(CLOSE_TOO_BIG, f"Messages are limited to {self.max_size} bytes.")
                if first & 0x70:
                    return self._violate(CLOSE_PROTOCOL_ERROR, "No extension was negotiated.")
                if opcode:
                    if self._fragments:
                        return self._violate(CLOSE_PROTOCOL_ERROR, "A new message began inside a fragmented one.")
                elif not self._fragments:
                    return self._violate(CLOSE_PROTOCOL_ERROR, "A continuation frame without a message.")
                stop = start + size
                if stop > end:
                    need = stop - position
                    break
                payload = data[start:stop]
                mask = data[start - 4 : start]
                if size and mask != _ZERO_MASK:  # unmask(), inlined: this is the hot path
                    payload = (_from_bytes(payload) ^ _from_bytes((mask * ((size + 3) >> 2))[:size])).to_bytes(size)
                position = stop
                if first & 0x80:
                    if not opcode:
                        fragments = self._fragments
                        assert fragments is not None
                        fragments.append(payload)
                        payload = b"".join(fragments)
                        opcode = self._opcode
                        self._fragments = None
                        self._room = self.max_size
                    if opcode == 1 and not payload.isascii() and not _utf8(payload):
                        return self._violate(CLOSE_INVALID_DATA, "A text message must be UTF-8.")
                    handler.on_message(opcode, payload)
                elif opcode:
                    self._fragments = [payload]
                    self._opcode = opcode
                    self._room = self.max_size - size
                else:
                    fragments = self._fragments
                    assert fragments is not None
                    fragments.append(payload)
                    self._room -= size
            elif 0x88 <= first <= 0x8A and 0x80 <= second <= 0xFD:  # 0x80 | MAX_CONTROL_PAYLOAD
                # A masked, final control frame of at most 125 bytes: nothing else
                # is, so anything else fails from its first two bytes.
                start = position + 6
                stop = start + (second & 0x7F)
                if stop > end:
                    need = stop - position
                    break
                payload = unmask(data[start:stop], data[position + 2 : start])
                position = stop
                if first == 0x89:
                    handler.on_ping(payload)
                elif first == 0x8A:
                    handler.on_pong(payload)
                else:
                    return self._close(payload)
            else:
                return self._violate(CLOSE_PROTOCOL_ERROR, _header_fault(first, second))
            if self._done:  # a handler closed the connection
                return False, b""
        if position < end:
            self._buffer = bytearray(memoryview(data)[position:])
            self._need = need
        return False, b""

    def _resume(self, data: bytes) -> int:
        """Take from ``data`` what the buffered frame lacks, parse it; where ``data``'s frames begin, or -1."""
        buffer = self._buffer
        assert buffer is not None
        taken = 0
        while True:
            wanted = self._need - len(buffer)
            if len(data) - taken < wanted:
                buffer += memoryview(data)[taken:]
                return -1
            buffer += memoryview(data)[taken : taken + wanted]
            taken += wanted
            chunk = bytes(buffer)
            self._buffer = None  # the frame is held once, in ``chunk``
            self.feed_data(chunk)  # a whole frame, or a header that now asks for its payload
            if self._done or self._buffer is None:
                return -1 if self._done else taken
            buffer = self._buffer

    def _close(self, payload: bytes) -> tuple[bool, bytes]:
        code: int | None = None
        reason = ""
        if payload:
            if len(payload) < 2:
                return self._violate(CLOSE_PROTOCOL_ERROR, "A close code takes two bytes.")
            try:
                reason = payload[2:].decode()
            except UnicodeDecodeError:
                return self._violate(CLOSE_INVALID_DATA, "A close reason must be UTF-8.")
            code = int.from_bytes(payload[:2], "big")
            if not close_code_valid(code):
                return self._violate(CLOSE_PROTOCOL_ERROR, f"Invalid close code {code}.")
        # In websockets' order: the reason's UTF-8, then the code. RFC 6455 5.4 lets a close
        # frame come inside a fragmented message: the message is dropped.
        self._finish()
        self.handler.on_close(code, reason)
        return False, b""

    def _violate(self, code: int, reason: str) -> tuple[bool, bytes]:
        self._finish()
        self.handler.on_violation(code, reason)
        return False, b""

    def _finish(self) -> None:
        self._done = True
        self._buffer = None
        self._fragments = None
        self._room = self.max_size
