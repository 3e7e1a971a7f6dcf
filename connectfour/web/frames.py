"""WebSocket text frames built by hand, so one event is framed once for all its recipients.

Server-to-client frames are unmasked (RFC 6455, section 5.1): a header of two,
four or ten bytes, then the payload.
"""

from __future__ import annotations

_FIN_TEXT = 0x81


def text_frame(payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        return bytes((_FIN_TEXT, size)) + payload
    if size < 1 << 16:
        return bytes((_FIN_TEXT, 126)) + size.to_bytes(2, "big") + payload
    return bytes((_FIN_TEXT, 127)) + size.to_bytes(8, "big") + payload
