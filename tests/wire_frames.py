"""Client frames, built byte by byte, and a handler that records what a ``Wire`` reports."""

from __future__ import annotations

import os

from connectfour.web import wire


class Recorder:
    """A ``Handler`` that keeps its calls; a violation's reason is kept apart (tests compare codes)."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []
        self.reasons: list[str] = []

    def on_message(self, opcode: int, payload: bytes) -> None:
        assert type(payload) is bytes
        self.calls.append(("message", opcode, payload))

    def on_ping(self, payload: bytes) -> None:
        assert type(payload) is bytes
        self.calls.append(("ping", payload))

    def on_pong(self, payload: bytes) -> None:
        assert type(payload) is bytes
        self.calls.append(("pong", payload))

    def on_close(self, code: int | None, reason: str) -> None:
        self.calls.append(("close", code, reason))

    def on_violation(self, code: int, reason: str) -> None:
        self.calls.append(("violation", code))
        self.reasons.append(reason)

    def on_eof(self) -> None:
        self.calls.append(("eof",))


def client_frame(
    payload: bytes = b"",
    opcode: int = wire.OP_TEXT,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    mask: bytes | None = None,
    length: str = "minimal",
    announce: int | None = None,
) -> bytes:
    """A frame as a client sends it, or breaks it.

    ``length`` is how the length is written: "minimal" (as RFC 6455 5.2
    requires), "16" or "64" (wider than needed when the payload is short);
    ``announce`` overrides the length written, to build a header alone.
    """
    mask = os.urandom(4) if mask is None else mask
    size = len(payload) if announce is None else announce
    head = bytes(((0x80 if fin else 0) | rsv << 4 | opcode,))
    bit = 0x80 if masked else 0
    if length == "minimal":
        length = "7" if size < 126 else "16" if size < 1 << 16 else "64"
    if length == "7":
        head += bytes((bit | size,))
    elif length == "16":
        head += bytes((bit | 126,)) + size.to_bytes(2, "big")
    else:
        head += bytes((bit | 127,)) + size.to_bytes(8, "big")
    if not masked:
        return head + payload
    key = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return head + mask + (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(len(payload), "big")


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


def feed(data: bytes, *, max_size: int = 1024, bytewise: bool = False) -> tuple[wire.Wire, Recorder]:
    """A new wire fed ``data`` in one read, or one byte a read."""
    recorder = Recorder()
    parser = wire.Wire(recorder, max_size)
    if bytewise:
        for i in range(len(data)):
            parser.feed_data(data[i : i + 1])
    else:
        parser.feed_data(data)
    return parser, recorder
