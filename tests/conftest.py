from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import ServerProcess


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """A real `connectfour serve` process for the whole session; yields its base URL.

    Every page of every test comes from 127.0.0.1: as one address, the suite
    starts more games a minute than a person would.
    """
    server = ServerProcess("--games-per-minute", "0")
    try:
        yield server.url
    finally:
        server.terminate()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop
    running in the main thread while its browser is open, and asyncio tests
    cannot start another one there."""
    items.sort(key=lambda item: "/e2e/" in str(item.path).replace("\\", "/"))


# -- Redis (Valkey): a real server, tests/redis_server.py ---------------------------------

from redis_server import RedisServer  # noqa: E402


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real valkey-server (tests/redis_server.py) for the whole session, with its AOF on."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's valkey-server, emptied (FLUSHALL) for this test; its URL."""
    import redis

    with redis.Redis.from_url(redis_server.url, socket_timeout=5) as client:
        client.flushall()
    return redis_server.url
