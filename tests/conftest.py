from __future__ import annotations

from collections.abc import Iterator

import pytest

from servers import ServerProcess


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """A real `connectfour serve` process for the whole session; yields its base URL."""
    server = ServerProcess()
    try:
        yield server.url
    finally:
        server.terminate()
