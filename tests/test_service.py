"""The game service on a real SQLite file, without any network."""

from __future__ import annotations

import asyncio
import json

import pytest

from connectfour.protocol import ProtocolError
from connectfour.service import GameService
from connectfour.store import SQLiteStore, journal


class Inbox:
    """A member that keeps what it is sent: the service's view of a connection."""

    extended = True

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.closed: tuple[int, str] | None = None

    def send(self, payload: bytes) -> None:
        self.events.append(json.loads(payload))

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def of(self, type_: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type_]


@pytest.fixture
async def store(tmp_path):
    store = SQLiteStore(tmp_path / "games.db")
    yield store
    await store.close()


async def test_racing_moves_for_one_ply_store_and_announce_exactly_one(store):
    service = GameService(store)
    player = Inbox()
    game, role = await service.create(player, local=True)
    results = await asyncio.gather(
        service.play(game, role, 1), service.play(game, role, 2), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, ProtocolError)]
    assert len(refused) == 1 and refused[0].code == "stale_ply"
    assert len(player.of("play")) == 1
    assert (await store.get(game.id)).moves == game.board.moves and len(game.board.moves) == 1


async def test_a_move_is_stored_before_anyone_hears_of_it(store):
    heard_after_store: list[bool] = []

    class Listener(Inbox):
        def send(self, payload: bytes) -> None:
            event = json.loads(payload)
            if event["type"] == "play":
                # The store's journal, as the file on disk reads, must already hold it.
                logged = [entry for _, path in store._journal.segments() for entry in journal.read(path)]
                heard_after_store.append(logged[-1].split(" ")[3] == str(event["column"]))
            super().send(payload)

    service = GameService(store)
    game, role = await service.create(Listener(), local=True)
    for column in (0, 1, 2):
        await service.play(game, role, column)
    assert heard_after_store == [True, True, True]


async def test_an_abandoned_game_expires_once_nobody_is_connected(store):
    now = [1000.0]
    service = GameService(store, expire_after=60, clock=lambda: now[0])
    host = Inbox()
    game, _ = await service.create(host, local=False)
    now[0] += 120
    assert await service.expire_idle() == 0, "the host is still connected"
    service.leave(host)
    await asyncio.sleep(0)  # let the leave's activity stamp reach the store
    now[0] += 30
    assert await service.expire_idle() == 0, "not idle long enough"
    now[0] += 60
    assert await service.expire_idle() == 1
    record = await store.get(game.id)
    assert (record.result, record.reason) == ("abandoned", "expired")


async def test_finished_and_empty_games_leave_memory(store):
    service = GameService(store)
    player = Inbox()
    game, role = await service.create(player, local=True)
    for column in [0, 1, 0, 1, 0, 1, 0]:
        await service.play(game, role, column)
    service.leave(player)
    assert service.games == {}
    assert (await store.get(game.id)).result == "red"


async def test_a_game_reloads_from_the_store_for_a_returning_player(tmp_path):
    path = tmp_path / "games.db"
    first = SQLiteStore(path)
    service = GameService(first)
    player = Inbox()
    game, role = await service.create(player, local=False)
    await service.play(game, role, 4)
    token = player.of("state")[0]["token"]
    await first.close()

    second = SQLiteStore(path)
    restarted = GameService(second)
    back = Inbox()
    await restarted.resume(back, game.id, token)
    state = back.of("state")[0]
    assert state["moves"] == [4] and state["you"] == "red" and state["turn"] == "yellow"
    await second.close()
