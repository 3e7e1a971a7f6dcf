"""The server side of the WebSocket opening handshake (RFC 6455, section 4.2)."""

from __future__ import annotations

import base64
import binascii
import hashlib

from aiohttp import web

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


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
    key = headers.get("Sec-WebSocket-Key", "")
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise web.HTTPBadRequest(text="Sec-WebSocket-Key must be 16 bytes in base64.\n")
    offered = [p.strip() for p in headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    chosen = next((p for p in offered if p in subprotocols), None)
    accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
    answer = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept}
    if chosen:
        answer["Sec-WebSocket-Protocol"] = chosen
    return answer, chosen
