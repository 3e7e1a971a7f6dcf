from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from client import Client
from connectfour.config import Settings
from connectfour.web import create_app


class Server:
    """The application on a real port of 127.0.0.1, in the test's event loop."""

    def __init__(self, test_server: TestServer) -> None:
        self.test_server = test_server
        self.app = test_server.app
        self.http = f"http://127.0.0.1:{test_server.port}"
        self.url = f"ws://127.0.0.1:{test_server.port}/ws"
        self.root_url = f"ws://127.0.0.1:{test_server.port}/"
        self.clients: list[Client] = []

    async def connect(self, *, v1: bool = True, path: str = "/ws", **kwargs) -> Client:
        client = await Client.open(f"ws://127.0.0.1:{self.test_server.port}{path}", v1=v1, **kwargs)
        self.clients.append(client)
        return client


async def start(settings: Settings, store=None) -> Server:  # type: ignore[no-untyped-def]
    test_server = TestServer(create_app(settings, store), host="127.0.0.1")
    await test_server.start_server()
    return Server(test_server)


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    servers: list[Server] = []

    async def factory(store=None, **overrides) -> Server:  # type: ignore[no-untyped-def]
        server = await start(Settings(**overrides), store)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        for client in server.clients:
            await client.close()
        await server.test_server.close()


@pytest.fixture
async def server(make_server) -> Server:
    return await make_server()
