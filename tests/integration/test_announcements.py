"""An operator's announcement reaches every connectfour.v1 client on every process;
a restart is announced before the connections close."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from test_games import start_game

from connectfour.bus import LocalBus

TOKEN = "s3cret-admin-token"


async def post(server, body, token: str | None = TOKEN) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.http}/api/announce", json=body, headers=headers) as response:
            return response.status, await response.json() if response.content_type == "application/json" else {}


async def test_an_announcement_reaches_players_spectators_and_idle_clients(make_server):
    server = await make_server(admin_token=TOKEN)
    _, host, guest, (spectator,) = await start_game(server, spectators=1)
    idle = await server.connect()
    status, answer = await post(server, {"message": "Restart in 5 minutes", "level": "warning"})
    assert (status, answer) == (202, {"status": "sent"})
    for client in (host, guest, spectator, idle):
        event = await client.until("announcement")
        assert event == {"type": "announcement", "message": "Restart in 5 minutes", "level": "warning"}


async def test_tutorial_clients_do_not_get_announcements(make_server):
    server = await make_server(admin_token=TOKEN)
    tutorial = await server.connect(v1=False)
    v1 = await server.connect()
    assert (await post(server, {"message": "hello"}))[0] == 202
    await v1.until("announcement")
    # The tutorial client's next frame is the answer to its next request, not an announcement.
    await tutorial.send({"type": "init"})
    assert (await tutorial.recv())["type"] == "init"


async def test_an_announcement_reaches_clients_of_every_process(make_server):
    bus = LocalBus()
    first = await make_server(admin_token=TOKEN, bus=bus)
    second = await make_server(admin_token=TOKEN, bus=bus)
    here, there = await first.connect(), await second.connect()
    assert (await post(first, {"message": "everyone"}))[0] == 202
    assert (await here.until("announcement"))["message"] == "everyone"
    assert (await there.until("announcement"))["message"] == "everyone"


async def test_without_a_configured_token_the_endpoint_does_not_exist(make_server):
    server = await make_server()
    assert (await post(server, {"message": "hello"}))[0] == 404


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", ""])
async def test_a_wrong_or_missing_token_is_refused_and_logged(make_server, caplog, token):
    server = await make_server(admin_token=TOKEN)
    listener = await server.connect()
    with caplog.at_level(logging.WARNING, "connectfour.web"):
        status, answer = await post(server, {"message": "pwned"}, token=token)
    assert status == 401 and "admin token" in answer["error"]
    assert "wrong or missing admin token" in caplog.text
    await listener.send({"type": "init"})  # nothing was announced: the next event is the answer
    assert (await listener.recv())["type"] == "init"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": ""},
        {"message": "x" * 501},
        {"message": "hi", "level": "shout"},
        {"message": 5},
        [1],
        {"message": "hi", "extra": 1},
    ],
)
async def test_a_malformed_announcement_is_refused_with_a_reason(make_server, body):
    server = await make_server(admin_token=TOKEN)
    status, answer = await post(server, body)
    assert status == 400 and answer["error"]


async def test_a_body_that_is_not_json_is_refused_by_its_content_type(make_server):
    server = await make_server(admin_token=TOKEN)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.http}/api/announce", data="message=hi", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response:
            assert response.status == 415 and "application/json" in (await response.json())["error"]


async def test_an_oversized_body_is_refused(make_server):
    server = await make_server(admin_token=TOKEN)
    status, answer = await post(server, {"message": "x" * 400, "padding": "y" * 5000})
    assert status == 413


async def test_shutdown_announces_the_restart_before_closing_with_1012(make_server):
    server = await make_server()
    client = await server.connect()
    await client.send({"type": "init"})
    await client.expect("init")
    closing = asyncio.ensure_future(server.close())
    event = await client.until("announcement")
    assert event["restart"] is True and event["level"] == "warning"
    code, _ = await client.closed()
    assert code == 1012
    await closing
