"""A process that was cut off while its game's history was lost and played on
elsewhere: when it comes back, the store holds more events than it applied,
but from a point on not the ones it applied. It must say so (``rewound``) to
its connections, not deliver the new events on top of the old ones.

Process A holds both players, process B a spectator; each reaches Valkey
through a relay of its own. Four moves are replicated; the replication link
stalls and two more are played (B applies them); B is cut off; the primary
dies and the replica, which lacks those two, takes over. A finds the loss
(its players are told ``rewound``), its players come back to the four kept
moves and play four others. B comes back: its spectator is told ``rewound``,
and a new look shows the history the store kept.
"""

from __future__ import annotations

from client import Client, until_presence
from failover import Failover
from servers import ServerProcess

#: One address is the whole crowd here: no per-address limits.
OPTIONS = ("--registration-ttl", "2", "--waiting-per-address", "0", "--connections-per-address", "0")


async def move(mover: Client, others: list[Client], ply: int, column: int) -> None:
    await mover.send({"type": "play", "column": column, "ply": ply, "id": f"m{ply}-{column}"})
    for each in (mover, *others):
        event = await each.until("play")
        assert (event["ply"], event["column"]) == (ply, column), event


async def resume(url: str, state: dict) -> tuple[Client, dict]:
    client = await Client.open(url)
    await client.send({"type": "resume", "game": state["game"], "token": state["token"]})
    return client, await client.until("state")


async def test_a_process_back_from_a_partition_says_rewound_of_a_history_played_on_without_it(cleanup):
    failover = Failover(cleanup)
    via_b = failover.relay()
    a = ServerProcess("--redis", failover.front.url(), *OPTIONS)
    cleanup.append(a.kill)
    b = ServerProcess("--redis", via_b.url(), *OPTIONS)
    cleanup.append(b.kill)

    host = await Client.open(a.ws_url)
    await host.send({"type": "init"})
    init = await host.expect("init")
    red_state = await host.until("state")
    guest = await Client.open(a.ws_url)
    await guest.send({"type": "init", "join": init["join"]})
    yellow_state = await guest.until("state")
    await until_presence(host, yellow="connected")
    spectator = await Client.open(b.ws_url)
    await spectator.send({"type": "init", "watch": init["watch"]})
    await spectator.until("state")
    players = {"red": host, "yellow": guest}

    for ply, column in enumerate([3, 3, 4, 4]):
        await move(
            players["red" if ply % 2 == 0 else "yellow"],
            [players["yellow" if ply % 2 == 0 else "red"], spectator],
            ply,
            column,
        )
    failover.stall()
    for ply, column in [(4, 5), (5, 5)]:  # on the primary only; A and B apply them
        await move(
            players["red" if ply % 2 == 0 else "yellow"],
            [players["yellow" if ply % 2 == 0 else "red"], spectator],
            ply,
            column,
        )
    via_b.cut("refuse")  # B is cut off from Valkey
    await failover.promote()

    # A learns that the store lost moves 4 and 5: its players are told, and come back.
    for player in players.values():
        error = await player.until("error")
        assert error["code"] == "rewound", error
        assert (await player.closed())[0] == 4002
    red, red_again = await resume(a.ws_url, red_state)
    yellow, yellow_again = await resume(a.ws_url, yellow_state)
    assert red_again["moves"] == yellow_again["moves"] == [3, 3, 4, 4]
    for ply, column in [(4, 0), (5, 1), (6, 0), (7, 1)]:  # another history, longer than B's
        await move(red if ply % 2 == 0 else yellow, [yellow if ply % 2 == 0 else red], ply, column)

    via_b.heal()  # B comes back, and reads what it missed
    while True:
        event = await spectator.recv()
        assert event["type"] != "play", f"a move delivered on top of a history the store lost: {event}"
        if event["type"] == "error":
            assert event["code"] == "rewound", event
            break
    assert (await spectator.closed())[0] == 4002
    again = await Client.open(b.ws_url)
    await again.send({"type": "init", "watch": init["watch"]})
    assert (await again.until("state"))["moves"] == [3, 3, 4, 4, 0, 1, 0, 1]
    for client in (red, yellow, again):
        await client.close()
