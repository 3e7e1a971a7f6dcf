"""What the WebSocket endpoint relies on in aiohttp beyond its documented API.

The rest of the edge uses aiohttp's public API only: the front door's site
is a ``web.BaseSite`` with a listening socket of its own, and it hands a
connection to aiohttp by calling ``runner.server`` as asyncio would.

An upgrade that reaches aiohttp (one on a keep-alive connection, after a
plain request) is answered by aiohttp, then taken over (``web/endpoint.py``,
``_take_over``): bytes aiohttp read past the request go to the wire through
``RequestHandler.set_parser``, and the handler is told the connection is
gone with its ``transport`` cleared so that it does not close the socket.
These tests fail, naming the part, on the day a release of aiohttp changes
any of it; `tests/integration/test_front.py` plays a game over that path.
"""

from __future__ import annotations

import asyncio
import inspect

from aiohttp import web
from aiohttp.web_protocol import RequestHandler


def test_the_request_handler_still_takes_a_payload_parser():
    assert callable(getattr(RequestHandler, "set_parser", None)), (
        "aiohttp's RequestHandler.set_parser is gone: web/endpoint.py _take_over must change"
    )
    parameters = list(inspect.signature(RequestHandler.set_parser).parameters)
    assert parameters[:2] == ["self", "parser"], f"RequestHandler.set_parser{parameters} changed"


def test_the_request_handler_still_forgets_a_connection_whose_transport_was_cleared():
    source = inspect.getsource(RequestHandler.connection_lost) + inspect.getsource(RequestHandler.__mro__[1])
    assert "self.transport = None" in source or "self.transport=None" in source, (
        "aiohttp's handler no longer keeps its transport in .transport: web/endpoint.py _take_over must change"
    )


def test_the_low_level_server_is_still_a_protocol_factory():
    """The door hands a connection to aiohttp by calling its Server, as loop.create_server would."""

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response()

    async def make() -> asyncio.Protocol:
        server = web.Server(handler)
        return server()

    protocol = asyncio.run(make())
    assert isinstance(protocol, RequestHandler) and isinstance(protocol, asyncio.Protocol)
    for name in (
        "connection_made",
        "data_received",
        "eof_received",
        "connection_lost",
        "pause_writing",
        "resume_writing",
    ):
        assert callable(getattr(protocol, name)), name
