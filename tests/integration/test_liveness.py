"""Dead peers are found by pings and dropped; live ones stay, however late a sweep runs.

The server's keepalive runs on a clock the tests move by hand: each test
calls the sweep itself, so nothing depends on how busy the machine is.
"""

from __future__ import annotations

import asyncio

import pytest
from rawws import OP_PING, OP_PONG, RawSocket, client_frame

from connectfour.web.app import KEEPALIVE
from connectfour.web.endpoint import CONNECTIONS

PERIOD = 30.0  # the default heartbeat: both the quiet time before a ping and the pong's deadline


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def live(make_server):
    clock = Clock()
    server = await make_server(clock=clock)
    keepalive = server.app[KEEPALIVE]

    def sweep(after: float) -> None:
        clock.now += after
        keepalive.sweep(server.app[CONNECTIONS])

    return server, sweep


async def test_a_quiet_peer_is_pinged_after_a_silent_round(live):
    server, sweep = live
    raw = await RawSocket.upgraded(server.port)
    sweep(PERIOD)  # the peer was heard at the handshake: not yet
    sweep(PERIOD)
    opcode, payload = await raw.frame()
    assert opcode == OP_PING and len(payload) == 8
    raw.close()


async def test_a_peer_that_never_answers_is_cut_once_the_ping_waited_the_whole_timeout(live):
    server, sweep = live
    raw = await RawSocket.upgraded(server.port)
    sweep(PERIOD)
    sweep(PERIOD)
    assert (await raw.frame())[0] == OP_PING
    sweep(PERIOD - 1)  # the ping has not waited long enough: still served
    assert (await raw.request()).startswith(b'{"type": "error"')
    sweep(1)
    assert await raw.ended() == b""
    raw.close()


async def test_a_late_sweep_pings_before_it_cuts(live):
    """However long since the last sweep, a peer is never cut without a ping first."""
    server, sweep = live
    raw = await RawSocket.upgraded(server.port)
    sweep(PERIOD)
    sweep(50 * PERIOD)
    assert (await raw.frame())[0] == OP_PING
    assert (await raw.request()).startswith(b'{"type": "error"')  # still served
    raw.close()


async def test_a_peer_that_answers_pings_stays_connected(live):
    server, sweep = live
    raw = await RawSocket.upgraded(server.port)
    sweep(PERIOD)
    for _ in range(3):
        sweep(PERIOD)
        payload = await raw.until(OP_PING)
        await raw.send(client_frame(payload, OP_PONG))
        await raw.request()  # the pong was read
        sweep(PERIOD)  # heard from: no ping this round, and no cut
    assert (await raw.request()).startswith(b'{"type": "error"')
    raw.close()


async def test_a_pong_that_does_not_echo_the_ping_does_not_answer_it(live):
    server, sweep = live
    raw = await RawSocket.upgraded(server.port)
    sweep(PERIOD)
    sweep(PERIOD)
    assert (await raw.frame())[0] == OP_PING
    await raw.send(client_frame(b"something else", OP_PONG))
    await raw.request()
    sweep(PERIOD)
    assert await raw.ended() == b""  # the server hung up
    raw.close()


async def test_pings_from_a_peer_are_no_sign_that_it_reads(live):
    """A peer that pings but never reads is pinged in turn, and cut when it does not answer."""
    server, sweep = live
    raw = await RawSocket.upgraded(server.port)
    sweep(PERIOD)
    await raw.send(client_frame(b"are you there", OP_PING))
    assert await raw.until(OP_PONG) == b"are you there"
    sweep(PERIOD)  # its ping was not a message: it is pinged
    assert (await raw.frame())[0] == OP_PING
    await raw.send(client_frame(b"still here", OP_PING))
    sweep(PERIOD)
    # At most the pong to its last ping (if the server read it before the sweep), then the end.
    assert await raw.ended() in (b"", bytes((0x80 | OP_PONG, 10)) + b"still here")
    raw.close()


async def test_a_client_ping_is_answered_with_a_pong(server):
    client = await server.connect()
    pong = await client.ws.ping(b"hello")
    await asyncio.wait_for(pong, 5)


async def test_a_client_close_is_answered_with_the_same_code(server):
    client = await server.connect()
    await client.ws.close(code=4321, reason="done")
    assert client.ws.close_code == 4321  # the code the server sent back


async def test_the_keepalive_of_a_served_process_pings_on_its_own(make_server):
    """Without a hand on the clock: the sweep runs by itself every heartbeat."""
    server = await make_server(heartbeat=0.05)
    raw = await RawSocket.upgraded(server.port)
    assert len(await raw.until(OP_PING)) == 8
    raw.close()
