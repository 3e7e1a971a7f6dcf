"""A flag across real processes: a timed game whose players are on two server processes over
one Valkey, the host's process killed (-9) while the side to move's clock runs. The other
process's timer ends the game on time, once, at the deadline: the stored log holds exactly
one end."""

from __future__ import annotations

import asyncio
import json

from players import V1
from servers import ServerProcess
from test_faults import OPTIONS
from websockets.asyncio.client import connect

from connectfour.domain.events import TimedOut, decode_event

#: Six seconds each: long enough to play the opening, short enough for a test.
CONTROL = "0.1+0"


async def _until(ws, kind: str, timeout: float = 15.0) -> dict:
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if event["type"] == kind:
            return event
        assert event["type"] != "error", event


async def test_the_flag_falls_once_when_the_process_of_one_player_is_killed(redis_server, cleanup):
    import redis

    host_server, guest_server = (ServerProcess("--redis", redis_server.url, *OPTIONS) for _ in range(2))
    cleanup += [host_server.kill, guest_server.kill]
    async with connect(host_server.ws_url, subprotocols=[V1]) as host:
        await host.send(json.dumps({"type": "init", "clock": CONTROL}))
        init = await _until(host, "init")
        async with connect(guest_server.ws_url, subprotocols=[V1]) as guest:
            await guest.send(json.dumps({"type": "init", "join": init["join"]}))
            state = await _until(guest, "state")
            await host.send(json.dumps({"type": "play", "column": 3, "ply": 0}))
            await _until(guest, "play")
            await guest.send(json.dumps({"type": "play", "column": 3, "ply": 1}))
            played = await _until(host, "play")
            if played["ply"] == 0:  # its own move first
                played = await _until(host, "play")
            assert played["clock"]["runs"] == "red"
            host_server.kill()  # red's process dies while red's clock runs
            win = await _until(guest, "win", timeout=20.0)
    assert (win["player"], win["reason"]) == ("yellow", "time")
    with redis.Redis.from_url(redis_server.url) as client:
        log = [decode_event(entry) for entry in client.lrange(f"cf:{{{state['game']}}}:log", 0, -1)]
    ends = [event for event in log if isinstance(event, TimedOut)]
    assert len(ends) == 1 and ends[0].player == "red" and log[-1] == ends[0]
