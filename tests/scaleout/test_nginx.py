"""docs/nginx.md, for real: Debian's nginx, ending TLS, in front of two
`connectfour serve --redis URL --trust-forwarded-for` processes, with the
configuration the doc shows (tests/scaleout/nginx_config.py writes both).

nginx's round-robin sends consecutive requests to the two processes in turn;
a test that wants a connection on a given process makes the other one answer
a /healthz first (`Nginx.steer_away_from`), and checks the processes' logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from client import Client
from scaleout.nginx_config import DOC, Nginx, behind_nginx, doc_block, logged, site
from servers import ServerProcess
from websockets.exceptions import InvalidStatus

RED_WINS = [3, 3, 4, 4, 5, 5, 6]
HOST_ADDRESS, GUEST_ADDRESS = "127.0.0.3", "127.0.0.2"


@pytest.fixture
def proxied(redis_url: str) -> Iterator[tuple[list[ServerProcess], Nginx]]:
    servers, nginx = behind_nginx(redis_url)
    try:
        yield servers, nginx
    finally:
        nginx.stop()
        for server in servers:
            server.kill()


async def open_via(nginx: Nginx, address: str, **options) -> Client:
    """A WebSocket through nginx from ``address``, as a page of nginx's own origin would open it."""
    options.setdefault("origin", nginx.origin)
    return await Client.open(nginx.ws_url, ssl=nginx.ssl, local_addr=(address, 0), **options)


async def start_on_two_processes(
    servers: list[ServerProcess], nginx: Nginx
) -> tuple[dict, Client, Client, dict, ServerProcess, ServerProcess]:
    """Host and guest of a new game through nginx, each on its own process; the
    init and red's state, the two clients, and the host's and guest's process."""
    host = await open_via(nginx, HOST_ADDRESS)
    await host.send({"type": "init"})
    init = await host.expect("init")
    red = await host.until("state")
    host_server = logged(servers, f"game {init['game']} created")
    await asyncio.to_thread(nginx.steer_away_from, host_server.proc.pid)
    guest = await open_via(nginx, GUEST_ADDRESS)
    await guest.send({"type": "init", "join": init["join"]})
    await guest.expect("state", you="yellow")
    guest_server = logged(servers, f"game {init['game']} joined by yellow")
    assert guest_server is not host_server
    # Each process saw its own client's address, from X-Forwarded-For.
    host_server.wait_for_log(f"connected from {HOST_ADDRESS}")
    guest_server.wait_for_log(f"connected from {GUEST_ADDRESS}")
    return init, host, guest, red, host_server, guest_server


async def play(players: dict[str, Client], plies: list[tuple[int, int]]) -> None:
    for ply, column in plies:
        await players["red" if ply % 2 == 0 else "yellow"].send({"type": "play", "column": column, "ply": ply})
        for each in players.values():
            assert (await each.until("play"))["ply"] == ply


def test_the_doc_shows_the_configuration_these_tests_run():
    assert doc_block() == site(**DOC)


def test_round_robin_sends_consecutive_requests_to_each_process_in_turn(proxied):
    servers, nginx = proxied
    pids = [nginx.health()["pid"] for _ in range(6)]
    assert set(pids) == {server.proc.pid for server in servers}
    assert all(first != second for first, second in zip(pids, pids[1:])), pids


def test_plain_http_is_sent_to_https(proxied):
    _, nginx = proxied
    status, headers, _ = nginx.get("/game/abc?x=1", https=False)
    assert status == 301
    assert headers["location"] == f"{nginx.url}/game/abc?x=1"


async def test_a_game_through_nginx_with_its_players_on_two_processes_is_played_to_the_end(proxied):
    servers, nginx = proxied
    init, host, guest, _, _, _ = await start_on_two_processes(servers, nginx)
    await play({"red": host, "yellow": guest}, list(enumerate(RED_WINS)))
    for each in (host, guest):
        assert (await each.until("win"))["player"] == "red"
    for _ in servers:  # the replay, from each process in turn
        status, _, body = await asyncio.to_thread(nginx.get, f"/api/games/{init['game']}")
        record = json.loads(body)
        assert (status, record["moves"], record["result"]) == (200, RED_WINS, "red")


async def test_the_origin_check_through_nginx_allows_its_own_https_origin_only(proxied):
    servers, nginx = proxied
    own = f"127.0.0.1:{nginx.port}"
    # What a client says of itself does not count: nginx replaces X-Forwarded-Proto,
    # and appends the address it sees to X-Forwarded-For, whose last entry the server takes.
    forged = {"X-Forwarded-Proto": "http", "X-Forwarded-For": "10.9.9.9"}
    for _ in servers:  # each process in turn
        client = await open_via(nginx, GUEST_ADDRESS, origin=f"https://{own}", additional_headers=forged)
        await client.send({"type": "init"})
        await client.expect("init")
        await client.close()
    for server in servers:
        server.wait_for_log(f"connected from {GUEST_ADDRESS}")
        assert "10.9.9.9" not in server.log()
    refused = [f"http://{own}", "https://evil.example", f"https://127.0.0.1:{nginx.http_port}"]
    for origin in refused:
        for _ in servers:
            with pytest.raises(InvalidStatus) as caught:
                await open_via(nginx, GUEST_ADDRESS, origin=origin)
            assert caught.value.response.status_code == 403, origin
    for server in servers:  # each process refused each one itself
        for origin in refused:
            server.wait_for_log(f"origin {origin!r} not allowed")


async def test_when_a_process_stops_nginx_sends_its_player_to_the_other_and_the_game_goes_on(proxied):
    servers, nginx = proxied
    init, host, guest, red, host_server, guest_server = await start_on_two_processes(servers, nginx)
    await play({"red": host, "yellow": guest}, list(enumerate(RED_WINS))[:3])
    assert await asyncio.to_thread(host_server.terminate) == 0
    assert (await host.closed())[0] == 1012  # service restart: come back
    # nginx finds the stopped process refusing and passes every request to the other.
    assert {(await asyncio.to_thread(nginx.health))["pid"] for _ in range(4)} == {guest_server.proc.pid}
    host = await open_via(nginx, HOST_ADDRESS)
    await host.send({"type": "resume", "game": init["game"], "token": red["token"]})
    state = await host.expect("state", you="red")
    assert state["moves"] == RED_WINS[:3]
    guest_server.wait_for_log(f"game {init['game']}: red resumed")
    await play({"red": host, "yellow": guest}, list(enumerate(RED_WINS))[3:])
    assert (await guest.until("win"))["player"] == "red"
