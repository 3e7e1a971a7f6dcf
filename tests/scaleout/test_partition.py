"""A partition between one node and Redis: process A reaches Redis through a TCP
proxy the test cuts (tests/tcp_proxy.py), process B directly.

During the partition A fails fast (a move is ``unavailable`` within a few
seconds, /healthz answers 503), A's players count as gone for B once A's
registration ran out (``--registration-ttl 1.5``): B's player sees the
opponent disconnected, then gone after ``--grace``, and claims the win; a
player of A takes their seat back on B; B's own games go on. After
``heal()`` A recovers by itself: healthy again, its bus subscribed again (it
learns the claim, and that the other seat was taken), a new game across A and
B is played to the end.

Three partitions: "refuse" (connections reset), "blackhole" (connections
dropped, new ones accepted and never answered), "freeze" (connections kept
but silent, new ones blackholed: no error ever comes, only timeouts).

Every wait is a poll or a read with a deadline; none is a bare sleep.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from client import Client
from servers import ServerProcess
from tcp_proxy import TcpProxy
from test_redis_mode import RED_WINS, TTL, health, play, start_game, until_healthy, until_presence

#: Seconds a player of A may wait for its move to be refused during the partition.
FAST = 5.0
#: Seconds an absent player has before the opponent may claim.
GRACE = "2"
#: Seconds any step of these scenarios may take before it counts as a hang.
PATIENCE = 20.0
OPTIONS = ("--registration-ttl", TTL, "--grace", GRACE)


async def within(what: str, awaitable, timeout: float = PATIENCE):
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


async def until_status(server: ServerProcess, status: int, timeout: float = PATIENCE) -> dict:
    """Poll /healthz until it answers ``status``; each answer must come within a few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        started = time.monotonic()
        code, body = await asyncio.to_thread(health, server)
        assert time.monotonic() - started < FAST, f"/healthz took {time.monotonic() - started:.1f}s"
        if code == status:
            return body
        assert time.monotonic() < deadline, (code, body)
        await asyncio.sleep(0.1)  # polling an HTTP endpoint


@pytest.fixture
def servers():
    started: list[ServerProcess] = []
    yield started.append
    for server in started:
        server.kill()


@pytest.mark.parametrize("how", ["refuse", "blackhole", "freeze"])
async def test_a_node_cut_off_from_redis_fails_fast_frees_its_seats_and_recovers_by_itself(
    how, redis_server, redis_url, servers
):
    with TcpProxy(redis_server.port) as proxy:
        a = ServerProcess("--redis", proxy.url(), *OPTIONS)
        servers(a)
        b = ServerProcess("--redis", redis_url, *OPTIONS)
        servers(b)
        # Game 1: red on A, yellow on B, two moves in. Game 2: red on A, yellow on B, not started.
        _, red1, yellow1, _, _ = await start_game(a, b)
        await play({"red": red1, "yellow": yellow1}, [], [(0, 3), (1, 3)])
        init2, red2, yellow2, red2_state, _ = await start_game(a, b)

        proxy.cut(how)

        # A fails fast: the move is refused as unavailable, /healthz says 503.
        started = time.monotonic()
        await red1.send({"type": "play", "column": 4, "ply": 2})
        refused = await within("the move's answer", red1.until("error"), FAST + 1)
        assert refused["code"] == "unavailable", refused
        assert time.monotonic() - started < FAST
        body = await until_status(a, 503)
        assert body["store_reachable"] is False
        # So does a new game asked of A.
        newcomer = await Client.open(a.ws_url)
        started = time.monotonic()
        await newcomer.send({"type": "init"})
        assert (await within("the new game's answer", newcomer.until("error"), FAST + 1))["code"] == "unavailable"
        assert time.monotonic() - started < FAST
        await newcomer.close()

        # B sees A's players disconnected once A's registration ran out...
        seen = await within("red disconnected on B", until_presence(yellow1, red="disconnected"))
        assert seen["red_claimable_in"] > 0
        # ...while B's own players go on with a game of their own.
        host3, guest3 = await Client.open(b.ws_url), await Client.open(b.ws_url)
        await host3.send({"type": "init"})
        init3 = await host3.expect("init")
        await host3.until("state")
        await guest3.send({"type": "init", "join": init3["join"]})
        await guest3.until("state")
        await within("game 3", play({"red": host3, "yellow": guest3}, [], list(enumerate(RED_WINS))))
        assert (await guest3.until("win"))["player"] == "red"
        # A's player of game 2 takes their seat back on B, and plays there.
        red2b = await Client.open(b.ws_url)
        await red2b.send({"type": "resume", "game": init2["game"], "token": red2_state["token"]})
        await red2b.expect("state", you="red")
        await within("red connected again on B", until_presence(yellow2, red="connected"))
        await play({"red": red2b, "yellow": yellow2}, [], [(0, 2)])
        # After the grace period, game 1's red is gone and yellow claims the win.
        await within("red gone on B", until_presence(yellow1, red="gone"))
        await yellow1.send({"type": "claim"})
        assert await yellow1.until("win") == {"type": "win", "player": "yellow", "reason": "claim"}

        # The partition was the one asked for: A kept trying, and met it.
        if how == "refuse":
            assert proxy.refused > 0
        else:
            assert proxy.blackholed > 0
        proxy.heal()

        # A recovers by itself: healthy (its store and its bus answer), its bus subscribed again...
        await until_healthy(a, PATIENCE)
        await asyncio.to_thread(a.wait_for_log, "bus: subscribed again", PATIENCE)
        # ...it reads back what it missed: game 1 was claimed; game 2's red seat was taken on B.
        assert await within("the claim on A", red1.until("win")) == {
            "type": "win",
            "player": "yellow",
            "reason": "claim",
        }
        replaced = await within("game 2's old seat on A", red2.until("error"))
        assert replaced["code"] == "replaced"
        await within("the old connection closed", red2.closed())
        # ...and a new game across A and B is played to the end, each move heard on both.
        _, host4, guest4, _, _ = await within("a new game", start_game(a, b))
        await within("game 4", play({"red": host4, "yellow": guest4}, [], list(enumerate(RED_WINS))))
        for each in (host4, guest4):
            assert (await each.until("win"))["player"] == "red"
        # Game 2 goes on too, its red now on B and yellow on B: A is out of it.
        await play({"red": red2b, "yellow": yellow2}, [], [(1, 3)])


# -- the proxy itself ----------------------------------------------------------------------------


def _ping(port: int, timeout: float = 1.0) -> bytes:
    """PING on a new connection through the proxy: ``_ask`` (b"" if reset as it connects)."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except ConnectionError:
        return b""
    with sock:
        return _ask(sock)


def _ask(sock: socket.socket) -> bytes:
    """PING: the answer; b"" if the connection was closed or reset; b"<silent>" if
    nothing came within the socket's timeout."""
    try:
        sock.sendall(b"PING\r\n")
        return sock.recv(64)
    except TimeoutError:
        return b"<silent>"
    except ConnectionError:
        return b""


def test_the_proxy_forwards_refuses_blackholes_freezes_and_heals(redis_server):
    with TcpProxy(redis_server.port) as proxy:
        kept = socket.create_connection(("127.0.0.1", proxy.port), timeout=1.0)
        try:
            assert _ask(kept) == b"+PONG\r\n"
            assert _ping(proxy.port) == b"+PONG\r\n"
            proxy.cut("refuse")
            assert _ask(kept) == b""  # dropped
            assert _ping(proxy.port) == b""  # reset at once
            proxy.heal()
            assert _ping(proxy.port) == b"+PONG\r\n"
        finally:
            kept.close()
        kept = socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5)
        try:
            assert _ask(kept) == b"+PONG\r\n"
            proxy.cut("blackhole")
            assert _ask(kept) == b""
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5) as hole:
                assert _ask(hole) == b"<silent>"  # accepted, never answered
                proxy.heal()
                assert _ask(hole) == b"<silent>"  # and still not, after the heal
            assert _ping(proxy.port) == b"+PONG\r\n"
        finally:
            kept.close()
        kept = socket.create_connection(("127.0.0.1", proxy.port), timeout=0.5)
        try:
            assert _ask(kept) == b"+PONG\r\n"
            assert proxy.open_connections == 1
            proxy.cut("freeze")
            assert proxy.open_connections == 0
            assert _ask(kept) == b"<silent>"  # not closed: silent
            assert _ping(proxy.port, 0.5) == b"<silent>"
            proxy.heal()
            assert _ask(kept) == b"<silent>"  # frozen for good
            assert _ping(proxy.port) == b"+PONG\r\n"
        finally:
            kept.close()
        assert proxy.refused >= 1 and proxy.blackholed >= 2
