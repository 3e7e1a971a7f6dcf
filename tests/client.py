"""A small test client over a real socket, speaking either protocol flavour."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

V1 = "connectfour.v1"
TIMEOUT = 5.0


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, *, v1: bool = True, **kwargs: Any) -> Client:
        ws = await connect(url, subprotocols=[V1] if v1 else None, open_timeout=TIMEOUT, **kwargs)
        return cls(ws)

    async def send(self, event: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(event if isinstance(event, (str, bytes)) else json.dumps(event))

    async def recv_raw(self) -> str:
        frame = await asyncio.wait_for(self.ws.recv(), TIMEOUT)
        assert isinstance(frame, str), f"expected a text frame, got {frame!r}"
        return frame

    async def recv(self) -> dict[str, Any]:
        return json.loads(await self.recv_raw())

    async def expect(self, type_: str, **fields: Any) -> dict[str, Any]:
        """The next event, which must be of ``type_`` and carry ``fields``."""
        event = await self.recv()
        assert event["type"] == type_, event
        for key, value in fields.items():
            assert event[key] == value, (key, event)
        return event

    async def until(self, type_: str) -> dict[str, Any]:
        """Skip events until one of ``type_`` arrives."""
        while True:
            event = await self.recv()
            if event["type"] == type_:
                return event

    async def closed(self) -> tuple[int | None, str]:
        """Wait for the server to close; its close code and reason."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), TIMEOUT)
        except Exception:
            pass
        await asyncio.wait_for(self.ws.wait_closed(), TIMEOUT)
        return self.ws.close_code, self.ws.close_reason or ""

    async def close(self) -> None:
        await self.ws.close()


async def until_presence(client: Client, **fields: str) -> dict[str, Any]:
    """Skip events until a ``presence`` with ``fields`` arrives."""
    while True:
        event = await client.until("presence")
        if all(event.get(key) == value for key, value in fields.items()):
            return event
