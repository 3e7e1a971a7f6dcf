"""The tutorial's clients work unmodified, frame for frame.

The frames sent are those the tutorial's main.js sends (JSON.stringify, so no
spaces); the frames expected are those of the tutorial's reference server
(json.dumps, so ", " and ": ").
"""

from __future__ import annotations

import re

import pytest

# Red wins on the bottom row; yellow stacks on top.
RED_WINS = [0, 0, 1, 1, 2, 2, 3]
ROWS = [0, 1, 0, 1, 0, 1, 0]


def play(column: int) -> str:
    return '{"type":"play","column":%d}' % column


def played(player: str, column: int, row: int) -> str:
    return '{"type": "play", "player": "%s", "column": %d, "row": %d}' % (player, column, row)


INIT = re.compile(r'^\{"type": "init", "join": "([\w-]{22,})", "watch": "([\w-]{22,})"\}$')


@pytest.mark.parametrize("path", ["/", "/ws"])
async def test_part_one_client_plays_both_colours_in_one_browser(server, path):
    client = await server.connect(v1=False, path=path)
    for ply, (column, row) in enumerate(zip(RED_WINS, ROWS)):
        await client.send(play(column))
        player = "red" if ply % 2 == 0 else "yellow"
        assert await client.recv_raw() == played(player, column, row)
    assert await client.recv_raw() == '{"type": "win", "player": "red"}'


async def test_part_one_errors_use_the_tutorial_messages(server):
    client = await server.connect(v1=False, path="/")
    for _ply in range(6):
        await client.send(play(4))
        await client.recv_raw()
    await client.send(play(4))
    assert await client.recv_raw() == '{"type": "error", "message": "This slot is full."}'


async def test_part_one_game_refuses_moves_after_the_win(server):
    client = await server.connect(v1=False)
    for column in RED_WINS:
        await client.send(play(column))
        await client.recv_raw()
    assert (await client.recv())["type"] == "win"
    await client.send(play(5))
    assert await client.recv_raw() == '{"type": "error", "message": "The game is over."}'


async def test_part_two_host_gets_init_with_join_and_watch_keys(server):
    host = await server.connect(v1=False, path="/")
    await host.send('{"type":"init"}')
    match = INIT.match(await host.recv_raw())
    assert match, "init frame differs from the tutorial's"
    join, watch = match.groups()
    assert join != watch


async def test_part_two_full_game_with_join_and_watch(server):
    host = await server.connect(v1=False, path="/")
    await host.send('{"type":"init"}')
    join, watch = INIT.match(await host.recv_raw()).groups()

    # The host may move before anyone joins; the joiner gets it replayed.
    await host.send(play(0))
    assert await host.recv_raw() == played("red", 0, 0)

    guest = await server.connect(v1=False, path="/")
    await guest.send('{"type":"init","join":"%s"}' % join)
    assert await guest.recv_raw() == played("red", 0, 0)

    spectator = await server.connect(v1=False, path="/")
    await spectator.send('{"type":"init","watch":"%s"}' % watch)
    assert await spectator.recv_raw() == played("red", 0, 0)

    players = {0: host, 1: guest}
    for ply, (column, row) in list(enumerate(zip(RED_WINS, ROWS)))[1:]:
        await players[ply % 2].send(play(column))
        expected = played("red" if ply % 2 == 0 else "yellow", column, row)
        for client in (host, guest, spectator):
            assert await client.recv_raw() == expected
    for client in (host, guest, spectator):
        assert await client.recv_raw() == '{"type": "win", "player": "red"}'


async def test_part_two_spectator_arriving_late_sees_every_past_move_and_the_win(server):
    host = await server.connect(v1=False)
    await host.send('{"type":"init"}')
    join, watch = INIT.match(await host.recv_raw()).groups()
    guest = await server.connect(v1=False)
    await guest.send('{"type":"init","join":"%s"}' % join)
    for ply, column in enumerate(RED_WINS):
        await (host if ply % 2 == 0 else guest).send(play(column))
        await host.recv_raw()
        await guest.recv_raw()

    spectator = await server.connect(v1=False)
    await spectator.send('{"type":"init","watch":"%s"}' % watch)
    for ply, (column, row) in enumerate(zip(RED_WINS, ROWS)):
        assert await spectator.recv_raw() == played("red" if ply % 2 == 0 else "yellow", column, row)
    assert await spectator.recv_raw() == '{"type": "win", "player": "red"}'


async def test_part_two_turn_errors_use_the_tutorial_messages(server):
    host = await server.connect(v1=False)
    await host.send('{"type":"init"}')
    join, _ = INIT.match(await host.recv_raw()).groups()
    guest = await server.connect(v1=False)
    await guest.send('{"type":"init","join":"%s"}' % join)
    await guest.send(play(3))
    assert await guest.recv_raw() == '{"type": "error", "message": "It isn\'t your turn."}'


async def test_part_two_unknown_key_is_game_not_found(server):
    client = await server.connect(v1=False)
    await client.send('{"type":"init","join":"no-such-key"}')
    assert await client.recv_raw() == '{"type": "error", "message": "Game not found."}'
    await client.send('{"type":"init","watch":"no-such-key"}')
    assert await client.recv_raw() == '{"type": "error", "message": "Game not found."}'


async def test_tutorial_clients_receive_only_tutorial_events(server):
    """No presence, state or draw events: a second spectator and a join leave them silent."""
    host = await server.connect(v1=False)
    await host.send('{"type":"init"}')
    join, watch = INIT.match(await host.recv_raw()).groups()
    guest = await server.connect(v1=False)
    await guest.send('{"type":"init","join":"%s"}' % join)
    spectator = await server.connect(v1=True)
    await spectator.send({"type": "init", "watch": watch})
    await spectator.until("state")
    # The next frame the host receives must be the answer to its own move.
    await host.send(play(2))
    assert await host.recv_raw() == played("red", 2, 0)
    assert await guest.recv_raw() == played("red", 2, 0)
