"""Timed games, draw offers and takebacks over the v1 protocol, on real servers (one process,
behind the front door, or spread over three)."""

from __future__ import annotations

import aiohttp
from client import until_presence


async def timed_game(server, control: str = "3+2"):
    host = await server.connect()
    await host.send({"type": "init", "clock": control})
    init = await host.expect("init")
    state = await host.expect("state", you="red", status="waiting")
    assert state["clock"]["control"] == control and "runs" not in state["clock"]
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"]})
    state = await guest.expect("state", you="yellow", status="playing")
    assert state["clock"]["first_move_in"] <= 30.0
    started = await until_presence(host, yellow="connected")  # the first move's countdown began
    assert started["clock"]["first_move_in"] <= 30.0 and started["clock"]["control"] == control
    return init, host, guest


async def test_a_timed_game_tells_both_clocks_with_every_move_and_its_record_the_times(server):
    init, host, guest = await timed_game(server)
    for ply, (player, column) in enumerate([(host, 3), (guest, 3), (host, 4)]):
        await player.send({"type": "play", "column": column, "ply": ply})
        for client in (host, guest):
            play = await client.until("play")
            assert play["clock"]["control"] == "3+2"
    assert play["clock"]["runs"] == "yellow" and play["clock"]["red"] <= 182.0
    await guest.send({"type": "resign"})
    await host.until("win")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.http}/api/games/{init['game']}") as response:
            record = await response.json()
    assert record["clock"] == "3+2" and record["moves"] == [3, 3, 4]
    assert len(record["times"]) == 3 and record["times"] == sorted(record["times"])


async def test_a_clock_that_is_not_a_time_control_is_refused(server):
    client = await server.connect()
    for clock in ("3", "0+0", "999+1", "3+99"):
        await client.send({"type": "init", "clock": clock})
        error = await client.until("error")
        assert error["code"] == "invalid_message", clock


async def test_a_draw_offered_and_accepted(server):
    init, host, guest = await timed_game(server)
    await host.send({"type": "play", "column": 3, "ply": 0})
    await guest.until("play")
    await host.send({"type": "offer_draw"})
    assert (await guest.until("draw_offer"))["player"] == "red"
    await guest.send({"type": "offer_draw"})
    for client in (host, guest):
        state = await client.until("state")
        assert (state["status"], state["reason"]) == ("draw", "agreement")


async def test_a_takeback_asked_declined_then_accepted(server):
    init, host, guest = await timed_game(server)
    await host.send({"type": "play", "column": 3, "ply": 0})
    await guest.until("play")
    await host.send({"type": "takeback"})
    assert (await guest.until("takeback_request"))["player"] == "red"
    await guest.send({"type": "decline_takeback"})
    assert (await host.until("takeback_declined"))["player"] == "yellow"
    await host.send({"type": "takeback"})
    await guest.until("takeback_request")
    await guest.send({"type": "takeback"})
    for client in (host, guest):
        state = await client.until("state")
        assert state["moves"] == [] and state["turn"] == "red" and state["taken_back"] == 1


async def test_a_game_on_one_device_is_untimed(server):
    client = await server.connect()
    await client.send({"type": "init", "local": True, "clock": "3+2"})
    assert (await client.until("error"))["code"] == "invalid_message"


async def test_a_takeback_against_the_computer_is_at_once(server):
    client = await server.connect()
    await client.send({"type": "init", "computer": 1, "clock": "5+3"})
    await client.expect("init")
    await client.until("state")
    await client.send({"type": "play", "column": 3, "ply": 0})
    await client.until("play")  # the player's move
    await client.until("play")  # the computer's reply
    await client.send({"type": "takeback"})
    state = await client.until("state")
    assert state["moves"] == [] and state["turn"] == "red" and state["clock"]["control"] == "5+3"
    assert state["taken_back"] == 2


async def test_a_player_hears_when_it_may_offer_a_draw_again_also_after_a_reconnect(server):
    host = await server.connect()
    await host.send({"type": "init"})
    init = await host.expect("init")
    token = (await host.expect("state", you="red"))["token"]
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"]})
    await guest.expect("state", you="yellow", status="playing")
    for ply, (player, column) in enumerate([(host, 3), (guest, 3)]):
        await player.send({"type": "play", "column": column, "ply": ply})
        await guest.until("play")
    await host.send({"type": "offer_draw"})
    for client in (host, guest):
        assert (await client.until("draw_offer"))["draw_again_at"] == {"red": 4}
    await guest.send({"type": "decline_draw"})
    await host.until("draw_declined")

    back = await server.connect()  # a reload: the page knows only what the state says
    await back.send({"type": "resume", "game": init["game"], "token": token})
    state = await back.expect("state", you="red")
    assert state["ply"] == 2 and "draw_offer" not in state and state["draw_again_at"] == {"red": 4}
    await back.send({"type": "offer_draw"})
    assert (await back.until("error"))["code"] == "not_available"  # as the state said

    for ply, (player, column) in enumerate([(back, 4), (guest, 4)], start=2):
        await player.send({"type": "play", "column": column, "ply": ply})
        await guest.until("play")
    again = await server.connect()
    await again.send({"type": "resume", "game": init["game"], "token": token})
    state = await again.expect("state", you="red")
    assert state["ply"] == 4 and "draw_again_at" not in state  # nothing holds red back now
    await again.send({"type": "offer_draw"})
    assert (await guest.until("draw_offer")) == {"type": "draw_offer", "player": "red", "draw_again_at": {"red": 6}}
