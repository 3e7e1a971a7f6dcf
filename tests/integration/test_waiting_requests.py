"""Requests that have to wait for the store: started at once, finished in a task, in order."""

from __future__ import annotations

import asyncio

from connectfour.domain.events import Created, Event
from connectfour.store import MemoryStore, StoreError


class GatedStore(MemoryStore):
    """A real in-memory store whose game creation waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()
        self.fail = False

    async def append(self, game_id: str, version: int, event: Event) -> None:
        if isinstance(event, Created):
            self.waiting.set()
            await self.gate.wait()
            if self.fail:
                raise StoreError("disk full")
        await super().append(game_id, version, event)


async def test_frames_wait_for_a_request_that_waits_and_are_answered_in_order(make_server):
    store = GatedStore()
    server = await make_server(store=store)
    client = await server.connect()
    await client.send({"type": "init", "local": True})
    await client.send({"type": "play", "column": 3})
    await client.send({"type": "play", "column": 4})
    await asyncio.wait_for(store.waiting.wait(), 5)
    store.gate.set()
    await client.expect("init")
    await client.expect("state")
    plays = []
    while len(plays) < 2:
        event = await client.recv()
        if event["type"] == "play":
            plays.append((event["column"], event["ply"]))
    assert plays == [(3, 0), (4, 1)]


async def test_a_store_failure_after_waiting_is_answered(make_server):
    store = GatedStore()
    store.fail = True
    server = await make_server(store=store)
    client = await server.connect()
    await client.send({"type": "init"})
    await asyncio.wait_for(store.waiting.wait(), 5)
    store.gate.set()
    await client.expect("error", code="unavailable")
    # The connection is still served: the next request is handled.
    store.fail = False
    await client.send({"type": "init"})
    await client.expect("init")


async def test_shutdown_with_a_request_still_waiting_closes_cleanly(make_server, caplog):
    store = GatedStore()
    server = await make_server(store=store)
    client = await server.connect()
    await client.send({"type": "init"})
    await asyncio.wait_for(store.waiting.wait(), 5)
    await server.close()
    code, _ = await client.closed()
    assert code == 1012
    assert "Traceback" not in caplog.text and "never retrieved" not in caplog.text
