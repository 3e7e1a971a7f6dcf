"""The server side of the WebSocket opening handshake (RFC 6455, section 4.2).

The checks and the answer are plain functions of header values, shared by
the two ways a connection reaches us: the front door (``web/front.py``),
which reads the raw request, and aiohttp's request (``accept_headers``).
"""

from __future__ import annotations

import binascii
import hashlib

from aiohttp import web

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def key_valid(key: bytes) -> bool:
    """Sec-WebSocket-Key must be 16 bytes in base64 (24 characters)."""
    if len(key) != 24:
        return False
    try:
        return len(binascii.a2b_base64(key, strict_mode=True)) == 16
    except (binascii.Error, ValueError):
        return False


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a (valid) Sec-WebSocket-Key."""
    return binascii.b2a_base64(hashlib.sha1(key + _GUID).digest(), newline=False)


def choose_subprotocol(offered: str, supported: tuple[str, ...]) -> str | None:
    """The first subprotocol of the client's list that we speak, or None."""
    for name in offered.split(","):
        name = name.strip()
        if name and name in supported:
            return name
    return None


def accept_headers(request: web.Request, subprotocols: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    """Headers of the 101 answer and the chosen subprotocol; HTTPBadRequest if it is no valid upgrade."""
    headers = request.headers
    if headers.get("Upgrade", "").lower() != "websocket":
        raise web.HTTPBadRequest(text="This is a WebSocket endpoint: send an Upgrade: websocket request.\n")
    if "upgrade" not in headers.get("Connection", "").lower():
        raise web.HTTPBadRequest(text="The Connection header must include Upgrade.\n")
    if headers.get("Sec-WebSocket-Version") != "13":
        raise web.HTTPBadRequest(
            text="Only WebSocket version 13 is supported.\n", headers={"Sec-WebSocket-Version": "13"}
        )
    try:
        key = headers.get("Sec-WebSocket-Key", "").encode("ascii")
    except UnicodeEncodeError:
        key = b""
    if not key_valid(key):
        raise web.HTTPBadRequest(text="Sec-WebSocket-Key must be 16 bytes in base64.\n")
    chosen = choose_subprotocol(headers.get("Sec-WebSocket-Protocol", ""), subprotocols)
    answer = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept_key(key).decode()}
    if chosen:
        answer["Sec-WebSocket-Protocol"] = chosen
    return answer, chosen
