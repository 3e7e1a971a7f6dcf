"""The lobby, quick match and names over real sockets, in one service and spread over three."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from test_games import play_out

#: Lobby updates in these tests come this often (seconds), not the default 0.5.
FAST = {"lobby_interval": 0.02}


async def lobby_until(client, holds: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
    """The first lobby event for which ``holds`` is true (each has the whole lobby)."""

    async def wait() -> dict[str, Any]:
        while True:
            event = await client.until("lobby")
            if holds(event):
                return event

    return await asyncio.wait_for(wait(), timeout)


async def watch_lobby(server):
    client = await server.connect()
    await client.send({"type": "lobby"})
    return client


async def host_public(server, name: str | None = None, address: str = "127.0.0.1"):
    """A public game waiting for its guest, hosted from ``address`` (the lobby shows at most
    two waiting games of one address)."""
    host = await server.connect(local_addr=(address, 0))
    event: dict[str, Any] = {"type": "init", "public": True}
    if name is not None:
        event["name"] = name
    await host.send(event)
    init = await host.expect("init")
    await host.expect("state", you="red", status="waiting", public=True)
    return host, init


def ids(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["game"] for entry in entries}


async def test_a_lobby_watcher_gets_the_lobby_at_once(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    event = await watcher.expect("lobby")
    assert event["waiting"] == [] and event["playing"] == []
    assert event["seeking"] == 0 and event["waiting_total"] == 0 and event["playing_total"] == 0
    # (The lobby as of the last tick, which may be before this connection.)
    await lobby_until(watcher, lambda e: e["online"] >= 1)


async def test_a_public_game_is_listed_with_its_invite_and_host_name(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    _, init = await host_public(server, name="Ada")
    event = await lobby_until(watcher, lambda e: bool(e["waiting"]))
    (entry,) = event["waiting"]
    assert entry["game"] == init["game"] and entry["join"] == init["join"]
    assert (entry["name"], entry["color"]) == ("Ada", "red")
    assert event["waiting_total"] == 1


async def test_a_private_game_is_never_listed(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    private = await server.connect()
    await private.send({"type": "init"})
    await private.expect("init")
    await host_public(server)  # listed: the private one, created first, would be too by now
    event = await lobby_until(watcher, lambda e: bool(e["waiting"]))
    assert len(event["waiting"]) == 1 and event["waiting_total"] == 1


async def test_a_joined_public_game_moves_to_the_games_being_played(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    host, init = await host_public(server, name="Ada")
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"], "name": "Grace"})
    await guest.expect("state", you="yellow", status="playing", red_name="Ada", yellow_name="Grace")
    event = await lobby_until(watcher, lambda e: bool(e["playing"]))
    assert event["waiting"] == []
    (entry,) = event["playing"]
    assert entry == {
        "game": init["game"],
        "watch": init["watch"],
        "ply": 0,
        "spectators": 0,
        "red": "Ada",
        "yellow": "Grace",
    }


async def test_the_lobby_shows_moves_and_spectators_then_drops_a_finished_game(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    host, init = await host_public(server)
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"]})
    await guest.expect("state", status="playing")
    spectator = await server.connect()
    await spectator.send({"type": "init", "watch": init["watch"]})
    await spectator.expect("state", you="spectator")
    await play_out([host, guest], [host, guest], [3, 3])
    await lobby_until(watcher, lambda e: [(g["ply"], g["spectators"]) for g in e["playing"]] == [(2, 1)])
    await play_out([host, guest], [host, guest], [4, 4, 5, 5, 6], start_ply=2)  # red's four
    await lobby_until(watcher, lambda e: e["playing"] == [] and e["playing_total"] == 0)


async def test_a_host_who_leaves_takes_the_game_out_of_the_lobby(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    host, _ = await host_public(server)
    await lobby_until(watcher, lambda e: bool(e["waiting"]))
    await host.close()
    await lobby_until(watcher, lambda e: e["waiting"] == [])


async def test_online_counts_every_connection(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    await lobby_until(watcher, lambda e: e["online"] == 1)
    others = [await server.connect() for _ in range(3)]
    await lobby_until(watcher, lambda e: e["online"] == 4)
    await others[0].close()
    await lobby_until(watcher, lambda e: e["online"] == 3)


async def test_starting_a_game_stops_the_lobby_updates(make_server):
    server = await make_server(**FAST)
    client = await watch_lobby(server)
    await client.expect("lobby")
    await client.send({"type": "init", "public": True})
    await client.until("state")
    # Another public game changes the lobby, as a watcher sees; the player is not told.
    watcher = await watch_lobby(server)
    await host_public(server)
    await lobby_until(watcher, lambda e: len(e["waiting"]) == 2)
    await client.send({"type": "play", "column": 9})
    heard = []
    while not heard or heard[-1]["type"] != "error":
        heard.append(await client.recv())
    assert "lobby" not in {event["type"] for event in heard}, heard


async def test_a_connection_in_a_game_cannot_follow_the_lobby(make_server):
    server = await make_server(**FAST)
    host, _ = await host_public(server)
    await host.expect("presence")
    await host.send({"type": "lobby"})
    await host.expect("error", code="already_started")


@pytest.mark.parametrize("request_type", ["lobby", "match"])
async def test_a_tutorial_client_has_no_lobby_nor_quick_match(make_server, request_type):
    server = await make_server(**FAST)
    tutorial = await server.connect(v1=False)
    await tutorial.send({"type": request_type})
    event = await tutorial.recv()
    assert event["type"] == "error" and "connectfour.v1" in event["message"]
    await tutorial.send({"type": "init"})  # nothing was started: the connection is free
    assert (await tutorial.recv())["type"] == "init"


# -- quick match ----------------------------------------------------------------------


async def test_two_players_pressing_play_someone_are_paired(make_server):
    server = await make_server(**FAST)
    first = await server.connect()
    await first.send({"type": "match", "name": "Ada"})
    init = await first.expect("init")
    assert "join" not in init  # the queue's invite, not the player's to share
    waiting = await first.expect("state", status="waiting", match=True, public=True)
    second = await server.connect()
    await second.send({"type": "match", "name": "Grace"})
    state = await second.expect("state", status="playing", game=init["game"], match=True)
    assert {state["you"], waiting["you"]} == {"red", "yellow"}
    names = {waiting["you"]: "Ada", state["you"]: "Grace"}
    assert (state["red_name"], state["yellow_name"]) == (names["red"], names["yellow"])
    presence = await first.until("presence")
    while presence[f"{state['you']}"] != "connected":
        presence = await first.until("presence")
    assert (presence["red_name"], presence["yellow_name"]) == (names["red"], names["yellow"])
    by_color = {waiting["you"]: first, state["you"]: second}
    await play_out([by_color["red"], by_color["yellow"]], [first, second], [0, 1, 0, 1, 0, 1, 0])
    await first.until("win")


async def test_colours_are_drawn_at_random(make_server):
    server = await make_server(**FAST)
    seen = set()
    for _ in range(24):  # both colours turn up (a failure once in 2**23 runs)
        waiting = await server.connect()
        await waiting.send({"type": "match"})
        state = await waiting.until("state")
        seen.add(state["you"])
        await waiting.send({"type": "cancel"})
        await waiting.until("cancelled")
        if len(seen) == 2:
            break
    assert seen == {"red", "yellow"}


async def test_the_longest_waiting_player_is_paired_first(make_server):
    server = await make_server(**FAST)
    # Two wait at once only when each came while the other's ticket was not yet queued;
    # here they queue one after the other through cancel-free tickets of their own.
    first = await server.connect()
    await first.send({"type": "match"})
    first_state = await first.until("state")
    second = await server.connect()
    await second.send({"type": "match"})
    paired = await second.until("state")
    assert paired["game"] == first_state["game"]
    third = await server.connect()
    await third.send({"type": "match"})
    third_state = await third.until("state")
    assert third_state["status"] == "waiting" and third_state["game"] != first_state["game"]


async def test_a_waiting_player_can_cancel_and_start_over(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    player = await server.connect()
    await player.send({"type": "match"})
    await player.until("state")
    await lobby_until(watcher, lambda e: e["seeking"] == 1)
    await player.send({"type": "cancel"})
    await player.until("cancelled")
    await lobby_until(watcher, lambda e: e["seeking"] == 0)
    # Nobody is paired with a player who cancelled.
    other = await server.connect()
    await other.send({"type": "match"})
    await other.until("state")
    assert (await lobby_until(watcher, lambda e: e["seeking"] == 1))["seeking"] == 1
    # The connection is free again.
    await player.send({"type": "lobby"})
    await player.expect("lobby")


async def test_cancel_with_nothing_to_cancel_is_refused(make_server):
    server = await make_server(**FAST)
    client = await server.connect()
    await client.send({"type": "cancel"})
    await client.expect("error", code="not_waiting")


async def test_a_paired_player_cannot_cancel(make_server):
    server = await make_server(**FAST)
    first = await server.connect()
    await first.send({"type": "match"})
    await first.until("state")
    second = await server.connect()
    await second.send({"type": "match"})
    await second.expect("state", status="playing")
    await second.send({"type": "cancel"})
    assert (await second.until("error"))["code"] == "not_waiting"


async def test_a_waiting_player_who_disconnects_is_not_paired(make_server):
    server = await make_server(**FAST)
    gone = await server.connect()
    await gone.send({"type": "match"})
    await gone.until("state")
    await gone.close()
    watcher = await watch_lobby(server)
    await lobby_until(watcher, lambda e: e["seeking"] == 0)
    newcomer = await server.connect()
    await newcomer.send({"type": "match"})
    await newcomer.expect("init")
    await newcomer.expect("state", status="waiting")


async def test_a_waiting_player_who_reloads_waits_again(make_server):
    server = await make_server(**FAST)
    first = await server.connect()
    await first.send({"type": "match"})
    state = await first.until("state")
    await first.close()
    back = await server.connect()
    await back.send({"type": "resume", "game": state["game"], "token": state["token"]})
    await back.expect("state", game=state["game"], status="waiting")
    second = await server.connect()
    await second.send({"type": "match"})
    await second.expect("state", game=state["game"], status="playing")


async def test_the_quick_match_game_is_listed_once_it_is_played(make_server):
    server = await make_server(**FAST)
    watcher = await watch_lobby(server)
    first = await server.connect()
    await first.send({"type": "match", "name": "Ada"})
    state = await first.until("state")
    second = await server.connect()
    await second.send({"type": "match", "name": "Grace"})
    await second.until("state")
    event = await lobby_until(watcher, lambda e: bool(e["playing"]))
    assert event["playing"][0]["game"] == state["game"] and event["waiting"] == []
    assert {event["playing"][0]["red"], event["playing"][0]["yellow"]} == {"Ada", "Grace"}


# -- names ------------------------------------------------------------------------------


async def test_names_reach_the_opponent_and_spectators(make_server):
    server = await make_server(**FAST)
    host = await server.connect()
    await host.send({"type": "init", "name": "Zoë Ødegård"})
    init = await host.expect("init")
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"], "name": "O'Brien-Smith Jr."})
    await guest.expect("state", red_name="Zoë Ødegård", yellow_name="O'Brien-Smith Jr.")
    presence = await host.until("presence")
    while presence["yellow"] != "connected":
        presence = await host.until("presence")
    assert presence["yellow_name"] == "O'Brien-Smith Jr."
    spectator = await server.connect()
    await spectator.send({"type": "init", "watch": init["watch"]})
    await spectator.expect("state", you="spectator", red_name="Zoë Ødegård", yellow_name="O'Brien-Smith Jr.")


async def test_a_game_without_names_says_none(make_server):
    server = await make_server(**FAST)
    host = await server.connect()
    await host.send({"type": "init"})
    await host.expect("init")
    state = await host.expect("state")
    assert "red_name" not in state and "yellow_name" not in state


async def test_names_follow_the_players_into_the_rematch_with_colours_swapped(make_server):
    server = await make_server(**FAST)
    host = await server.connect()
    await host.send({"type": "init", "name": "Ada"})
    init = await host.expect("init")
    guest = await server.connect()
    await guest.send({"type": "init", "join": init["join"], "name": "Grace"})
    await guest.until("state")
    await host.send({"type": "resign"})
    await host.until("win")
    await guest.until("win")
    await host.send({"type": "rematch"})
    await guest.send({"type": "rematch"})
    state = await host.until("state")
    while state["game"] == init["game"]:
        state = await host.until("state")
    assert (state["you"], state["red_name"], state["yellow_name"]) == ("yellow", "Grace", "Ada")


async def test_the_computer_game_keeps_the_players_name(make_server):
    server = await make_server(**FAST)
    client = await server.connect()
    await client.send({"type": "init", "computer": 1, "color": "yellow", "name": "Ada"})
    state = await client.until("state")
    assert state["yellow_name"] == "Ada" and "red_name" not in state


# -- slow readers ---------------------------------------------------------------------------


async def test_a_lobby_watcher_that_stops_reading_is_coalesced_never_queued_nor_dropped(door):
    import socket

    from rawws import OP_TEXT, RawSocket, client_frame, upgrade_request

    from connectfour.web.connection import HIGH_WATER
    from connectfour.web.endpoint import CONNECTIONS, SERVICE

    server = await door(lobby_interval=0.005, games_per_minute=1000, connections_per_address=1000)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills at once
    sock.connect(("127.0.0.1", server.port))
    raw = RawSocket(*await asyncio.open_connection(sock=sock))
    await raw.send(upgrade_request(extra="Sec-WebSocket-Protocol: connectfour.v1\r\n"))
    await asyncio.wait_for(raw.reader.readuntil(b"\r\n\r\n"), 5)
    await raw.send(client_frame(b'{"type":"lobby"}'))
    assert (await raw.until(OP_TEXT)).startswith(b'{"type":"lobby"')
    lobby = server.app[SERVICE].lobby
    [watcher] = [conn for conn in server.app[CONNECTIONS] if conn in lobby.watchers]
    hosts = []
    for n in range(120):  # each game a change of a lobby of about 2.5 KiB: 300 KiB if all were queued
        host, _ = await host_public(server, name=f"A rather long name {n:04d}", address=f"127.0.1.{n + 1}")
        hosts.append(host)
        while lobby.view is None or lobby.view.waiting_total <= n:  # a tick took this game in
            await asyncio.sleep(lobby.interval)
    assert watcher.lagging, "the peer stopped reading: its output should be backed up by now"
    assert watcher.backlog < HIGH_WATER + 4 * 1024
    assert watcher in server.app[CONNECTIONS]  # not dropped
    # Players are not held up: a game plays on.
    guest = await server.connect()
    await guest.send({"type": "init", "join": (await host_public(server))[1]["join"]})
    await guest.expect("state", status="playing")
    # Once it reads again, the watcher gets the newest lobby, not the history.
    frames = 0
    while True:
        event = json.loads(await raw.until(OP_TEXT))
        frames += 1
        if (event["waiting_total"], event["playing_total"]) == (120, 1):
            break
    # What the kernel's buffers held (about 140 KiB, some 60 lobbies), then the newest:
    # far fewer than the lobby's changes.
    assert frames < lobby.version - 20, (frames, lobby.version)
    raw.close()


# -- bad names ----------------------------------------------------------------------------

BAD_NAMES = [
    "<b>Ada</b>",
    "<img src=x onerror=alert(1)>",
    "",
    " ",
    " Ada",
    "Ada ",
    "Ada  Lovelace",
    "Ada\nLovelace",
    "Ada\n",
    "x" * 25,
    "Ada\u200bLovelace",
    "Ada & Grace",
    'Ada "the first"',
    7,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=range(len(BAD_NAMES)))
async def test_a_bad_name_is_refused_and_nothing_is_created(server, name):
    client = await server.connect()
    await client.send({"type": "init", "public": True, "name": name})
    error = await client.expect("error", code="invalid_message")
    assert "name" in error["message"]
    await client.send({"type": "match", "name": name})
    await client.expect("error", code="invalid_message")
    watcher = await watch_lobby(server)
    event = await watcher.expect("lobby")
    assert event["waiting"] == [] and event["seeking"] == 0
    await client.send({"type": "init"})  # the connection is still free
    await client.expect("init")


async def test_a_name_of_24_characters_is_accepted(server):
    client = await server.connect()
    await client.send({"type": "init", "name": "x" * 24})
    await client.expect("init")
    await client.expect("state", red_name="x" * 24)


async def test_a_waiting_player_who_resumes_while_another_waits_is_paired_with_them(make_server):
    server = await make_server(**FAST)
    first = await server.connect()
    await first.send({"type": "match", "name": "Ada"})
    mine = await first.until("state")
    await first.close()  # reloading: out of the queue meanwhile
    watcher = await watch_lobby(server)
    await lobby_until(watcher, lambda e: e["seeking"] == 0)
    second = await server.connect()
    await second.send({"type": "match", "name": "Grace"})
    theirs = await second.until("state")
    assert theirs["status"] == "waiting"
    back = await server.connect()
    await back.send({"type": "resume", "game": mine["game"], "token": mine["token"]})
    state = await back.until("state")
    assert (state["game"], state["status"]) == (theirs["game"], "playing")
    assert {state["red_name"], state["yellow_name"]} == {"Ada", "Grace"}
