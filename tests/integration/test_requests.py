"""Request ids (v1, revision 3): each request that carries an ``id`` is answered with it,
``ack`` or ``error``; the same request sent again after its answer was lost (the same
``id``, on any connection) is answered as the first was, never applied twice."""

from __future__ import annotations

from typing import Any


async def acked(client, request: str, ply: int | None = None) -> None:
    ack = await client.until("ack")
    assert (ack["id"], ack.get("ply")) == (request, ply), ack


async def started(server) -> tuple[Any, Any, dict]:
    host = await server.connect()
    await host.send({"type": "init"})
    init = await host.expect("init")
    await host.until("state")
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"], "id": "join-1"})
    await guest.until("state")
    await acked(guest, "join-1")
    return host, guest, init


async def test_a_request_with_an_id_is_acknowledged_with_it(server):
    host, _, _ = await started(server)
    await host.send({"type": "play", "column": 3, "ply": 0, "id": "move-1"})
    assert (await host.until("play"))["column"] == 3
    await acked(host, "move-1", ply=0)


async def test_a_refused_request_echoes_its_id_and_its_ply(server):
    host, _, _ = await started(server)
    await host.send({"type": "play", "column": 3, "ply": 5, "id": "move-9"})
    error = await host.until("error")
    assert (error["code"], error["id"], error["ply"]) == ("future_ply", "move-9", 5)


async def test_a_move_sent_again_with_its_id_is_acknowledged_and_played_once(server):
    host, guest, _ = await started(server)
    move = {"type": "play", "column": 3, "ply": 0, "id": "move-1"}
    await host.send(move)
    await host.until("play")
    await acked(host, "move-1", ply=0)
    await host.send(move)  # its answer was lost, say: sent again
    await acked(host, "move-1", ply=0)
    await host.send({"type": "play", "column": 4, "ply": 0, "id": "move-2"})  # another move for that ply
    assert (await host.until("error"))["code"] == "stale_ply"
    await guest.send({"type": "play", "column": 3, "ply": 1})
    assert [(await guest.until("play"))["ply"] for _ in range(2)] == [0, 1]  # one move at ply 0, then its answer


async def test_a_join_sent_again_on_another_connection_takes_the_seat_it_took(server):
    host = await server.connect()
    await host.send({"type": "init"})
    init = await host.expect("init")
    first = await server.connect()
    await first.send({"type": "init", "join": init["join"], "id": "join-7"})
    token = (await first.until("state"))["token"]
    await first.close()  # the answer never reached its page: it tries again, elsewhere
    again = await server.connect()
    await again.send({"type": "init", "join": init["join"], "id": "join-7"})
    state = await again.until("state")
    assert (state["you"], state["token"], state["status"]) == ("yellow", token, "playing")
    await acked(again, "join-7")
    stranger = await server.connect()
    await stranger.send({"type": "init", "join": init["join"], "id": "join-8"})
    assert (await stranger.until("error"))["code"] == "seat_taken"


async def test_a_resignation_sent_again_is_acknowledged(server):
    host, _, _ = await started(server)
    await host.send({"type": "resign", "id": "bye"})
    await host.until("win")
    await host.until("ack")
    await host.send({"type": "resign", "id": "bye"})
    await acked(host, "bye")


async def test_a_tutorial_client_is_sent_no_acknowledgement(server):
    client = await server.connect(v1=False)
    await client.send({"type": "play", "column": 3, "id": "m"})
    assert (await client.recv())["type"] == "play"
    await client.send({"type": "play", "column": 9, "id": "m2"})
    assert await client.recv() == {
        "type": "error",
        "message": "Column must be an integer from 0 to 6 (Expected `int` <= 6 - at `$.column`).",
    }
