"""Telling everyone connected, on every process: ``POST /api/announce`` and the
restart notice on shutdown.

The operator's request goes to the bus; every process, this one included,
hears it and sends it to its own ``connectfour.v1`` connections (the
tutorial's protocol has no event for it). Each connection's output bound
applies as to any frame, so a peer that does not read cannot hold it up.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import msgspec
from aiohttp import web

from ..bus import Bus
from ..protocol import encode
from ..protocol.server_messages import AnnouncementEvent
from .connection import Connection
from .endpoint import CLIENTS, CONNECTIONS, SETTINGS, client_address

log = logging.getLogger("connectfour.web")

BUS = web.AppKey("bus", Bus)
#: The announcement a process sends its connections before it closes them to restart.
RESTARTING = AnnouncementEvent(message="The server is restarting; reconnecting shortly.", level="warning", restart=True)
#: Largest request body the endpoint reads.
MAX_BODY = 4096


class Announcement(msgspec.Struct, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    level: Literal["info", "warning"] = "info"


_decoder = msgspec.json.Decoder(Announcement)


def tell(connections: set[Connection], payload: bytes) -> int:
    """Send an encoded announcement to every v1 connection here; how many got it."""
    told = 0
    for conn in list(connections):
        if conn.speaks_v1:
            conn.send(payload)
            told += 1
    return told


async def announce(request: web.Request) -> web.Response:
    app = request.app
    token = app[SETTINGS].admin_token
    if not token:
        raise web.HTTPNotFound()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        app[CLIENTS].log_refusal(client_address(request, app[SETTINGS]), "admin", "a wrong or missing admin token")
        return web.json_response(
            {"error": "A valid admin token is needed: Authorization: Bearer TOKEN."},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="connectfour"'},
        )
    if request.content_type != "application/json":
        return web.json_response({"error": "Send the announcement as Content-Type: application/json."}, status=415)
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return web.json_response({"error": f"The body is limited to {MAX_BODY} bytes."}, status=413)
    try:
        said = _decoder.decode(body)
    except msgspec.DecodeError as exc:
        return web.json_response({"error": f'Send JSON like {{"message": "...", "level": "info"}}: {exc}.'}, status=400)
    app[BUS].tell_all("announcement", encode(AnnouncementEvent(message=said.message, level=said.level)))
    log.info("announcement (%s) sent to every process: %r", said.level, said.message)
    return web.json_response({"status": "sent"}, status=202)


async def hear_announcements(app: web.Application) -> AsyncIterator[None]:
    """Pass what the bus says to every process on to this process's connections."""
    connections = app[CONNECTIONS]

    def heard(payload: bytes) -> None:
        told = tell(connections, payload)
        log.info("announcement delivered to %d connections here", told)

    await app[BUS].listen("announcement", heard)
    yield
