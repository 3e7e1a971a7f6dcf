from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from client import Client

from connectfour.config import Settings
from connectfour.store import MemoryStore
from connectfour.web import create_app
from connectfour.web.front import Site
from connectfour.web.server import make_runner


class Server:
    """The application on a real port of 127.0.0.1, in the test's event loop."""

    def __init__(self, app: web.Application, port: int, close: Callable[[], Awaitable[None]]) -> None:
        self.app = app
        self.port = port
        self.close = close
        self.http = f"http://127.0.0.1:{port}"
        self.url = f"ws://127.0.0.1:{port}/ws"
        self.root_url = f"ws://127.0.0.1:{port}/"
        self.clients: list[Client] = []
        self.site: Site | None = None  # with the front door

    async def connect(self, *, v1: bool = True, path: str = "/ws", **kwargs) -> Client:
        client = await Client.open(f"ws://127.0.0.1:{self.port}{path}", v1=v1, **kwargs)
        self.clients.append(client)
        return client


async def start(
    settings: Settings, store=None, *, entry: str = "front", clock=None, bus=None, **site_options
) -> Server:
    """``entry="front"``: as `connectfour serve` runs it, upgrades answered by the front door;
    ``"aiohttp"``: aiohttp's own test server, so every upgrade goes through aiohttp.
    ``clock`` replaces the monotonic clock of keepalive and the limits per address."""
    options = {key: value for key, value in (("clock", clock), ("bus", bus)) if value is not None}
    app = create_app(settings, store, **options)
    if entry == "aiohttp":
        test_server = TestServer(app, host="127.0.0.1")
        await test_server.start_server()
        return Server(app, test_server.port, test_server.close)
    runner = make_runner(app)
    await runner.setup()
    site = Site(runner, "127.0.0.1", 0, **site_options)
    await site.start()
    server = Server(app, site.port, runner.cleanup)
    server.site = site
    return server


class Spread(Server):
    """Three services in one process sharing one store and one bus, as three
    server processes share Redis: each new connection goes to the next one,
    so the host is on A, the guest on B, spectators on C, A, B..."""

    def __init__(self, services: list[Server]) -> None:
        async def close() -> None:
            for each in services:
                await each.close()

        super().__init__(services[0].app, services[0].port, close)
        self.site = services[0].site
        self.services = services
        self._turn = 0

    async def connect(self, *, v1: bool = True, path: str = "/ws", **kwargs) -> Client:
        service = self.services[self._turn % len(self.services)]
        self._turn += 1
        client = await service.connect(v1=v1, path=path, **kwargs)
        self.clients.append(client)
        return client


async def start_spread(settings: Settings, store=None, *, clock=None, bus=None, count: int = 3) -> Spread:
    """``count`` services sharing ``store`` (by default a memory store on ``bus``)."""
    if store is None:
        store = MemoryStore(bus)
    services = [await start(settings, store, clock=clock) for _ in range(count)]
    return Spread(services)


@pytest.fixture(params=["front", "aiohttp", "spread"])
async def make_server(request) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """Servers for one test; each test runs three times: with upgrades answered
    by the front door, by aiohttp (the path a keep-alive or unusual upgrade
    takes), and spread over three services sharing one store and bus."""
    servers: list[Server] = []

    async def factory(store=None, clock=None, bus=None, **overrides) -> Server:
        if request.param == "spread":
            server: Server = await start_spread(Settings(**overrides), store, clock=clock, bus=bus)
        else:
            server = await start(Settings(**overrides), store, entry=request.param, clock=clock, bus=bus)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        for client in server.clients:
            await client.close()
        await server.close()


@pytest.fixture
async def server(make_server) -> Server:
    return await make_server()


@pytest.fixture
async def door() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """Servers as `connectfour serve` runs them: upgrades come in through the front door."""
    servers: list[Server] = []

    async def factory(handshake_timeout: float | None = None, clock=None, **overrides) -> Server:
        site_options = {} if handshake_timeout is None else {"handshake_timeout": handshake_timeout}
        server = await start(Settings(**overrides), entry="front", clock=clock, **site_options)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.close()
