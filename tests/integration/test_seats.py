"""Seats that survive: tokens, resume, presence, claims, resignation, rematch."""

from __future__ import annotations

from test_games import play_out, start_game

RED_WINS = [3, 3, 4, 4, 5, 5, 6]


async def tokens_of(server):
    """Start a game and return the clients with the tokens their snapshots carried."""
    host = await server.connect()
    await host.send({"type": "init"})
    init = await host.expect("init")
    host_state = await host.expect("state")
    await host.expect("presence")
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"]})
    guest_state = await guest.expect("state")
    await host.until("presence")
    return init, host, guest, host_state["token"], guest_state["token"]


async def test_each_seat_gets_its_own_secret_token(server):
    init, host, guest, red_token, yellow_token = await tokens_of(server)
    assert red_token != yellow_token
    assert {red_token, yellow_token}.isdisjoint({init["join"], init["watch"], init["game"]})
    assert min(len(red_token), len(yellow_token)) >= 22


async def test_spectators_get_no_token(server):
    init, host, guest, (watcher,) = await start_game(server, spectators=1)
    late = await server.connect()
    await late.send({"type": "init", "watch": init["watch"]})
    assert "token" not in await late.expect("state")


async def test_a_player_who_reconnects_resumes_the_seat_with_the_full_state(server):
    init, host, guest, _, yellow_token = await tokens_of(server)
    await play_out([host, guest], [host, guest], [2, 3, 2])
    await guest.close()
    assert (await host.until("presence"))["yellow"] == "disconnected"
    back = await server.connect()
    await back.send({"type": "resume", "game": init["game"], "token": yellow_token})
    state = await back.expect("state", you="yellow", turn="yellow", yellow="connected")
    assert state["moves"] == [2, 3, 2]
    assert (await host.until("presence"))["yellow"] == "connected"
    await back.send({"type": "play", "column": 6, "ply": 3})
    assert (await host.until("play"))["player"] == "yellow"


async def test_a_newer_connection_with_the_same_token_takes_the_seat(server):
    init, host, guest, red_token, _ = await tokens_of(server)
    tab = await server.connect()
    await tab.send({"type": "resume", "game": init["game"], "token": red_token})
    await tab.expect("state", you="red")
    assert (await host.until("error"))["code"] == "replaced"
    code, _ = await host.closed()
    assert code == 4001
    await tab.send({"type": "play", "column": 0})
    assert (await guest.until("play"))["player"] == "red"


async def test_a_garbage_token_is_refused(server):
    init, host, guest, red_token, _ = await tokens_of(server)
    client = await server.connect()
    await client.send({"type": "resume", "game": init["game"], "token": "garbage"})
    await client.expect("error", code="invalid_token")


async def test_resuming_a_game_that_does_not_exist_says_so(server):
    client = await server.connect()
    await client.send({"type": "resume", "game": "no-such-game", "token": "whatever"})
    await client.expect("error", code="game_not_found")


async def test_both_players_are_given_the_watch_link_to_share(server):
    host = await server.connect()
    await host.send({"type": "init"})
    init = await host.expect("init")
    assert (await host.expect("state"))["watch"] == init["watch"]
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"]})
    assert (await guest.expect("state"))["watch"] == init["watch"]
    spectator = await server.connect()
    await spectator.send({"type": "init", "watch": init["watch"]})
    assert "watch" not in await spectator.until("state")  # it has it already


async def test_a_token_of_another_game_is_refused(server):
    first = await tokens_of(server)
    second = await tokens_of(server)
    client = await server.connect()
    await client.send({"type": "resume", "game": second[0]["game"], "token": first[3]})
    await client.expect("error", code="invalid_token")


async def test_a_finished_game_cannot_be_resumed(server):
    init, host, guest, red_token, _ = await tokens_of(server)
    await play_out([host, guest], [host, guest], RED_WINS)
    await host.until("win")
    await host.close()
    client = await server.connect()
    await client.send({"type": "resume", "game": init["game"], "token": red_token})
    error = await client.expect("error", code="game_over")
    assert f"/game/{init['game']}" in error["message"]


async def test_a_player_can_resign(server):
    init, host, guest, _, _ = await tokens_of(server)
    await host.send({"type": "play", "column": 3})
    await guest.until("play")
    await guest.send({"type": "resign"})
    for client in (host, guest):
        assert await client.until("win") == {"type": "win", "player": "red", "reason": "resign"}
    await host.send({"type": "play", "column": 3})
    await host.expect("error", code="game_over")


async def test_a_spectator_cannot_resign(server):
    init, host, guest, (watcher,) = await start_game(server, spectators=1)
    await watcher.send({"type": "resign"})
    await watcher.expect("error", code="not_a_player")


async def test_the_win_cannot_be_claimed_while_the_opponent_is_within_the_grace_period(make_server):
    server = await make_server(grace=30)
    init, host, guest, _, _ = await tokens_of(server)
    await guest.close()
    await host.until("presence")
    await host.send({"type": "claim"})
    await host.expect("error", code="not_claimable")


async def test_the_win_can_be_claimed_once_the_opponent_is_gone_past_the_grace_period(make_server):
    server = await make_server(grace=0.2)
    init, host, guest, _, _ = await tokens_of(server)
    await host.send({"type": "play", "column": 3})
    await guest.until("play")
    await guest.close()
    while (await host.until("presence"))["yellow"] != "gone":
        pass
    await host.send({"type": "claim"})
    assert await host.until("win") == {"type": "win", "player": "red", "reason": "claim"}


async def test_coming_back_within_the_grace_period_keeps_the_game_going(make_server):
    server = await make_server(grace=30)
    init, host, guest, _, yellow_token = await tokens_of(server)
    await guest.close()
    await host.until("presence")
    back = await server.connect()
    await back.send({"type": "resume", "game": init["game"], "token": yellow_token})
    await back.expect("state", status="playing")
    await host.send({"type": "claim"})
    assert (await host.until("error"))["code"] == "not_claimable"


async def test_both_players_agree_to_a_rematch_with_colours_swapped(server):
    init, host, guest, _, _ = await tokens_of(server)
    watcher = await server.connect()
    await watcher.send({"type": "init", "watch": init["watch"]})
    await watcher.until("state")
    await play_out([host, guest], [host, guest, watcher], RED_WINS)
    await host.send({"type": "rematch"})
    assert (await guest.until("rematch"))["player"] == "red"
    await guest.send({"type": "rematch"})
    new_init = await guest.until("init")
    assert new_init["game"] != init["game"] and "join" not in new_init
    guest_state = await guest.until("state")
    host_state = await host.until("state")
    assert (await watcher.until("init"))["watch"] == new_init["watch"]
    watcher_state = await watcher.until("state")
    assert (guest_state["you"], host_state["you"], watcher_state["you"]) == ("red", "yellow", "spectator")
    for state in (guest_state, host_state, watcher_state):
        assert state["game"] == new_init["game"] and state["moves"] == []
        assert state["rematch_of"] == init["game"] and state["status"] == "playing"
    # The old yellow now moves first.
    await guest.send({"type": "play", "column": 0})
    assert (await host.until("play"))["player"] == "red"
    assert (await watcher.until("play"))["column"] == 0


async def test_a_rematch_needs_a_finished_game(server):
    init, host, guest, _, _ = await tokens_of(server)
    await host.send({"type": "rematch"})
    await host.expect("error", code="game_not_over")


async def test_a_same_device_game_rematches_at_once(server):
    client = await server.connect()
    await client.send({"type": "init", "local": True})
    first = await client.expect("init")
    await client.until("state")
    for column in [0, 1, 0, 1, 0, 1, 0]:
        await client.send({"type": "play", "column": column})
    await client.until("win")
    await client.send({"type": "rematch"})
    second = await client.until("init")
    state = await client.until("state")
    assert second["game"] != first["game"] and state["you"] == "both" and state["moves"] == []
