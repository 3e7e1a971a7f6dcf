"""Games over the v1 protocol: seats, spectators, results, presence."""

from __future__ import annotations

import asyncio

from test_rules import DRAW

RED_WINS = [3, 3, 4, 4, 5, 5, 6]


async def start_game(server, *, spectators: int = 0):
    """A host, a seated guest and ``spectators`` watchers, all past their snapshots."""
    host = await server.connect()
    await host.send({"type": "init"})
    init = await host.expect("init")
    await host.expect("state", you="red", status="waiting", yellow="empty")
    await host.expect("presence", red="connected", yellow="empty")
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"]})
    await guest.expect("state", you="yellow", status="playing", red="connected", yellow="connected")
    await host.expect("presence", red="connected", yellow="connected")
    await guest.expect("presence")
    watchers = []
    for _ in range(spectators):
        watcher = await server.connect()
        await watcher.send({"type": "init", "watch": init["watch"]})
        await watcher.expect("state", you="spectator")
        watchers.append(watcher)
    return init, host, guest, watchers


async def play_out(players, everyone, columns, start_ply=0):
    """Play ``columns`` alternately, checking every client sees each move in order."""
    for index, column in enumerate(columns):
        ply = start_ply + index
        await players[ply % 2].send({"type": "play", "column": column, "ply": ply})
        for client in everyone:
            event = await client.until("play")
            assert (event["column"], event["ply"]) == (column, ply)
            assert event["player"] == ("red" if ply % 2 == 0 else "yellow")


async def test_two_players_and_two_spectators_play_to_a_win(server):
    init, host, guest, watchers = await start_game(server, spectators=2)
    everyone = [host, guest, *watchers]
    await play_out([host, guest], everyone, RED_WINS)
    for client in everyone:
        win = await client.expect("win", player="red")
        assert win["cells"] == [[3, 0], [4, 0], [5, 0], [6, 0]]


async def test_two_players_and_two_spectators_play_to_a_draw(server):
    init, host, guest, watchers = await start_game(server, spectators=2)
    everyone = [host, guest, *watchers]
    await play_out([host, guest], everyone, DRAW)
    for client in everyone:
        await client.expect("draw")


async def test_a_move_event_carries_ply_row_and_whose_turn(server):
    init, host, guest, _ = await start_game(server)
    await host.send({"type": "play", "column": 2})
    event = await guest.expect("play")
    assert event == {"type": "play", "player": "red", "column": 2, "row": 0, "ply": 0, "turn": "yellow"}


async def test_the_last_move_says_nobody_plays_next(server):
    init, host, guest, _ = await start_game(server)
    await play_out([host, guest], [host], RED_WINS[:-1])
    await host.send({"type": "play", "column": RED_WINS[-1]})
    assert (await host.until("play"))["turn"] is None


async def test_a_late_spectator_gets_one_snapshot_of_the_whole_game(server):
    init, host, guest, _ = await start_game(server)
    await play_out([host, guest], [host, guest], RED_WINS)
    watcher = await server.connect()
    await watcher.send({"type": "init", "watch": init["watch"]})
    state = await watcher.expect("state", you="spectator", status="won", winner="red", turn=None)
    assert state["moves"] == RED_WINS and state["ply"] == len(RED_WINS)
    assert state["cells"] == [[3, 0], [4, 0], [5, 0], [6, 0]]


async def test_keys_are_distinct_and_carry_128_bits(server):
    hosts = []
    for _ in range(3):
        host = await server.connect()
        await host.send({"type": "init"})
        hosts.append(await host.expect("init"))
    keys = [init[k] for init in hosts for k in ("join", "watch")]
    assert len(set(keys)) == len(keys)
    # token_urlsafe: 6 bits per character, so 22 characters hold 128 bits.
    assert all(len(key) >= 22 for key in keys)


async def test_an_invite_seats_only_one_guest(server):
    init, host, guest, _ = await start_game(server)
    late = await server.connect()
    await late.send({"type": "init", "join": init["join"]})
    error = await late.expect("error", code="seat_taken")
    assert "already used" in error["message"]


async def test_a_watch_key_cannot_take_a_seat(server):
    host = await server.connect()
    await host.send({"type": "init"})
    init = await host.expect("init")
    intruder = await server.connect()
    await intruder.send({"type": "init", "join": init["watch"]})
    await intruder.expect("error", code="game_not_found")


async def test_a_spectator_cannot_play(server):
    init, host, guest, (watcher,) = await start_game(server, spectators=1)
    await watcher.send({"type": "play", "column": 3})
    await watcher.expect("error", code="spectator", message="Spectators cannot play.")
    await host.send({"type": "play", "column": 1})
    assert (await guest.expect("play"))["ply"] == 0


async def test_the_host_leaving_keeps_the_game_for_the_others(server):
    init, host, guest, (watcher,) = await start_game(server, spectators=1)
    await play_out([host, guest], [host, guest, watcher], [0, 1])
    await host.close()
    while (await guest.until("presence"))["red"] != "disconnected":
        pass
    late = await server.connect()
    await late.send({"type": "init", "watch": init["watch"]})
    state = await late.expect("state", red="disconnected", yellow="connected")
    assert state["moves"] == [0, 1]


async def test_spectators_are_counted_for_everyone(server):
    init, host, guest, watchers = await start_game(server, spectators=3)
    while (await host.until("presence"))["spectators"] != 3:
        pass
    await watchers[0].close()
    while (await guest.until("presence"))["spectators"] != 2:
        pass


async def test_same_device_game_plays_both_colours(server):
    client = await server.connect()
    await client.send({"type": "init", "local": True})
    init = await client.expect("init")
    assert "join" not in init
    await client.expect("state", you="both", status="playing")
    for ply, column in enumerate([0, 1, 0, 1, 0, 1, 0]):
        await client.send({"type": "play", "column": column, "ply": ply})
        await client.until("play")
    await client.expect("win", player="red")


async def test_a_same_device_game_can_be_watched(server):
    client = await server.connect()
    await client.send({"type": "init", "local": True})
    init = await client.expect("init")
    watcher = await server.connect()
    await watcher.send({"type": "init", "watch": init["watch"]})
    await watcher.expect("state", you="spectator")
    await client.send({"type": "play", "column": 6})
    assert (await watcher.until("play"))["column"] == 6


async def test_a_repeated_ply_plays_once(server):
    init, host, guest, _ = await start_game(server)
    await host.send({"type": "play", "column": 3, "ply": 0})
    await host.send({"type": "play", "column": 3, "ply": 0})
    await host.until("play")
    await host.expect("error", code="stale_ply")
    assert (await guest.until("play"))["ply"] == 0
    await guest.send({"type": "play", "column": 3, "ply": 1})
    assert (await guest.until("play"))["ply"] == 1


async def test_a_move_for_a_ply_not_reached_is_refused_as_ahead_of_the_game(server):
    init, host, guest, _ = await start_game(server)
    await host.send({"type": "play", "column": 3, "ply": 2})
    await host.expect("error", code="future_ply")
    await host.send({"type": "play", "column": 3, "ply": 0})
    assert (await guest.until("play"))["ply"] == 0


async def test_a_first_move_without_init_for_a_later_ply_is_refused_and_starts_no_game(server):
    client = await server.connect()
    await client.send({"type": "play", "column": 3, "ply": 5})
    await client.expect("error", code="future_ply")
    await client.send({"type": "init"})  # still free to start one: the refusal started nothing
    await client.expect("init")


async def test_two_frames_for_one_ply_in_one_burst_produce_exactly_one_move(server):
    """A double click on a same-device game: one move, one refusal, no gap."""
    client = await server.connect()
    await client.send({"type": "init", "local": True})
    init = await client.expect("init")
    await client.until("state")
    watcher = await server.connect()
    await watcher.send({"type": "init", "watch": init["watch"]})
    await watcher.until("state")
    await asyncio.gather(
        client.send({"type": "play", "column": 1, "ply": 0}),
        client.send({"type": "play", "column": 2, "ply": 0}),
    )
    first = await client.until("play")
    await client.expect("error", code="stale_ply")
    await client.send({"type": "play", "column": 4})
    second = await client.until("play")
    assert (first["ply"], second["ply"]) == (0, 1)
    late = await server.connect()
    await late.send({"type": "init", "watch": init["watch"]})
    state = await late.until("state")
    assert state["moves"] == [first["column"], 4]
