"""Every bad input gets a clear error or the proper close code, and changes nothing."""

from __future__ import annotations

import resource
import signal

import aiohttp
import pytest
from client import Client
from test_games import start_game
from websockets.exceptions import InvalidStatus

from connectfour.store import SQLiteStore


async def snapshot(server, watch_key):
    watcher = await server.connect()
    await watcher.send({"type": "init", "watch": watch_key})
    return await watcher.until("state")


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "invalid_json"),
        ("{", "invalid_json"),
        ("[1, 2]", "invalid_message"),
        ("42", "invalid_message"),
        ('"play"', "invalid_message"),
        ('{"column": 3}', "invalid_message"),
        ('{"type": "resign-now"}', "unknown_type"),
        ('{"type": 3}', "invalid_message"),
        ('{"type": "play"}', "invalid_message"),
        ('{"type": "play", "column": 7}', "invalid_column"),
        ('{"type": "play", "column": -1}', "invalid_column"),
        ('{"type": "play", "column": "3"}', "invalid_column"),
        ('{"type": "play", "column": 3.5}', "invalid_column"),
        ('{"type": "play", "column": true}', "invalid_column"),
        ('{"type": "play", "column": null}', "invalid_column"),
        ('{"type": "play", "column": 3, "ply": "x"}', "invalid_message"),
        ('{"type": "init", "join": 5}', "invalid_message"),
        ('{"type": "init", "watch": ""}', "invalid_message"),
    ],
)
async def test_a_malformed_frame_is_answered_and_the_game_is_unchanged(server, frame, code):
    init, host, guest, _ = await start_game(server)
    await host.send({"type": "play", "column": 3})
    await guest.until("play")
    await guest.send(frame)
    error = await guest.expect("error", code=code)
    assert error["message"]
    state = await snapshot(server, init["watch"])
    assert state["moves"] == [3] and state["turn"] == "yellow"
    # And the connection still plays.
    await guest.send({"type": "play", "column": 4})
    assert (await guest.until("play"))["ply"] == 1


async def test_an_error_names_the_offending_field(server):
    client = await server.connect()
    await client.send('{"type": "play", "column": 7}')
    error = await client.expect("error", code="invalid_column")
    assert "$.column" in error["message"] and "0 to 6" in error["message"]


async def test_a_move_out_of_turn_is_refused(server):
    init, host, guest, _ = await start_game(server)
    await guest.send({"type": "play", "column": 0})
    await guest.expect("error", code="not_your_turn", message="It isn't your turn.")
    assert (await snapshot(server, init["watch"]))["moves"] == []


async def test_a_move_in_a_full_column_is_refused(server):
    init, host, guest, _ = await start_game(server)
    for ply in range(6):
        await (host if ply % 2 == 0 else guest).send({"type": "play", "column": 5})
        await host.until("play")
    await host.send({"type": "play", "column": 5})
    await host.expect("error", code="column_full", message="This slot is full.")
    assert (await snapshot(server, init["watch"]))["moves"] == [5] * 6


async def test_a_move_after_the_end_is_refused(server):
    init, host, guest, _ = await start_game(server)
    for ply, column in enumerate([0, 1, 0, 1, 0, 1, 0]):
        await (host if ply % 2 == 0 else guest).send({"type": "play", "column": column})
        await guest.until("play")
    await guest.until("win")
    await guest.send({"type": "play", "column": 2})
    await guest.expect("error", code="game_over")
    assert len((await snapshot(server, init["watch"]))["moves"]) == 7


async def test_a_second_init_on_one_connection_is_refused(server):
    host = await server.connect()
    await host.send({"type": "init"})
    await host.until("presence")
    await host.send({"type": "init"})
    await host.expect("error", code="already_started")


async def test_an_unknown_key_is_game_not_found(server):
    client = await server.connect()
    await client.send({"type": "init", "join": "A" * 22})
    await client.expect("error", code="game_not_found", message="Game not found.")


async def test_a_binary_frame_is_refused_and_the_connection_stays(server):
    client = await server.connect()
    await client.send(b'{"type": "init"}')
    await client.expect("error", code="binary_frame")
    await client.send({"type": "init"})
    await client.expect("init")


async def test_an_oversized_frame_closes_with_1009(make_server):
    server = await make_server(max_frame=1024)
    client = await server.connect()
    await client.send('{"type": "init", "join": "%s"}' % ("x" * 2000))
    code, _ = await client.closed()
    assert code == 1009


async def test_a_flood_is_rate_limited_then_closed_with_1008(make_server):
    server = await make_server(rate=5, burst=5)
    client = await server.connect()
    for _ in range(5):
        await client.send('{"type": "play", "column": 9}')
    for _ in range(200):
        await client.send('{"type": "play", "column": 9}')
    codes = []
    while (event := await client.recv())["code"] != "rate_limited":
        codes.append(event["code"])
    assert codes == ["invalid_column"] * 5
    code, _ = await client.closed()
    assert code == 1008


async def test_bad_input_in_one_game_leaves_other_games_untouched(server):
    init_a, host_a, guest_a, _ = await start_game(server)
    init_b, host_b, guest_b, _ = await start_game(server)
    await host_a.send({"type": "play", "column": 2})
    for frame in ["nope", '{"type":"play","column":99}', b"\x00\x01"]:
        await guest_b.send(frame)
        await guest_b.expect("error")
    await guest_a.send({"type": "play", "column": 2})
    assert (await host_a.until("play"))["ply"] == 0
    assert (await host_a.until("play"))["ply"] == 1
    assert (await snapshot(server, init_b["watch"]))["moves"] == []


async def test_a_foreign_origin_is_refused(server):
    with pytest.raises(InvalidStatus) as refused:
        await Client.open(server.url, origin="http://evil.example")
    assert refused.value.response.status_code == 403


async def test_the_servers_own_origin_is_allowed(server):
    host = server.http.removeprefix("http://")
    client = await Client.open(server.url, origin=f"http://{host}")
    await client.send({"type": "init"})
    await client.expect("init")
    await client.close()


async def test_an_allowed_origin_may_connect_besides_the_servers_own(make_server):
    server = await make_server(allowed_origins=("https://play.example",))
    for origin in ("https://play.example", server.http):
        client = await Client.open(server.url, origin=origin)
        await client.send({"type": "init"})
        await client.expect("init")
        await client.close()
    with pytest.raises(InvalidStatus):
        await Client.open(server.url, origin="https://other.example")


async def test_any_origin_may_connect_with_a_star(make_server):
    server = await make_server(allowed_origins=("*",))
    client = await Client.open(server.url, origin="http://anywhere.example")
    await client.close()


async def test_plain_http_to_the_websocket_path_is_a_clear_error(server):
    async with aiohttp.ClientSession() as session:
        async with session.get(server.http + "/ws") as response:
            assert response.status == 400
            assert "websocket" in (await response.text()).lower()


async def test_a_full_disk_refuses_with_unavailable_and_loses_nothing(make_server, tmp_path):
    """A full disk, as the file-size limit makes it for the store's journal."""
    store = SQLiteStore(tmp_path / "games.db")
    server = await make_server(store=store)
    init, host, guest, _ = await start_game(server)
    await host.send({"type": "play", "column": 3})
    await guest.until("play")
    [segment] = tmp_path.glob("games.db-journal.*")
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (segment.stat().st_size + 10, hard))
    try:
        await guest.send({"type": "play", "column": 4})
        await guest.expect("error", code="unavailable")
        client = await server.connect()
        await client.send({"type": "init"})
        await client.expect("error", code="unavailable")
        await client.close()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert (await snapshot(server, init["watch"]))["moves"] == [3]
    await guest.send({"type": "play", "column": 4})  # once there is room again
    assert (await guest.until("play"))["column"] == 4
    await store.close()


async def test_a_spent_invite_is_refused_with_the_games_watch_key(server):
    init, _, _, _ = await start_game(server)
    latecomer = await server.connect()
    await latecomer.send({"type": "init", "join": init["join"]})
    error = await latecomer.expect("error", code="seat_taken")
    assert error["watch"] == init["watch"]
    await latecomer.send({"type": "init", "watch": error["watch"]})  # a fresh request on the same connection
    await latecomer.expect("state", you="spectator")


async def test_a_tutorial_client_with_a_spent_invite_gets_the_tutorials_error_only(server):
    init, _, _, _ = await start_game(server)
    latecomer = await server.connect(v1=False)
    await latecomer.send({"type": "init", "join": init["join"]})
    assert set(await latecomer.recv()) == {"type", "message"}
