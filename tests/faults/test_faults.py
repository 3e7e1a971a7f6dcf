"""Faults while many games are played: several server processes over one
Valkey, players of each game on different processes, every client recording
what it sent, what was acknowledged and every move it saw (``players``),
then every game read back and checked (``checker``).

Faults: kill -9 of a server process, kill -9 of Valkey (restarted from its
append-only file), a Valkey pause (SIGSTOP), and a failover onto a replica
whose replication link was stalled (a TCP relay the test freezes) before the
primary died. With replicas awaited (``--redis-replicas 1``) nothing
acknowledged is lost; without, history is lost, and every client that saw
it lost is told (``rewound``): nothing is lost in silence.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

from checker import Report, check
from failover import Failover
from players import V1, Player
from servers import ServerProcess
from websockets.asyncio.client import connect

#: Games played at once in each scenario.
GAMES = 24
#: Seconds every game has to finish once the fault is over.
FINISH = 30.0
# One address is the whole crowd here: no per-address limits.
OPTIONS = (
    "--registration-ttl",
    "2",
    "--games-per-minute",
    "0",
    "--waiting-per-address",
    "0",
    "--connections-per-address",
    "0",
)


async def _open_game(host_url: str, guest_url: str, index: int) -> tuple[Player, Player, str]:
    """Start a game on ``host_url``, join it on ``guest_url``; both connections close again."""
    urls = [host_url, guest_url]
    async with connect(host_url, subprotocols=[V1]) as host:
        await host.send(json.dumps({"type": "init"}))
        init = await _until(host, "init")
        red = await _until(host, "state")
        async with connect(guest_url, subprotocols=[V1]) as guest:
            await guest.send(json.dumps({"type": "init", "join": init["join"], "id": f"join-{index}"}))
            yellow = await _until(guest, "state")
    players = []
    for name, state, own in ((f"g{index}-red", red, urls), (f"g{index}-yellow", yellow, urls[::-1])):
        player = Player(name, own)
        player.seated(state["game"], state["token"], state["you"], state["moves"])
        players.append(player)
    return players[0], players[1], init["watch"]


async def _until(ws, kind: str) -> dict:
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if event["type"] == kind:
            return event
        assert event["type"] != "error", event


async def read_back(url: str, watch: str) -> dict:
    """A game's ``state`` as a new spectator gets it."""
    async with connect(url, subprotocols=[V1]) as ws:
        await ws.send(json.dumps({"type": "init", "watch": watch}))
        return await _until(ws, "state")


class Table:
    """``GAMES`` games across ``servers``, each player's other seat on the next process."""

    def __init__(self, servers: Sequence[ServerProcess]) -> None:
        self.servers = list(servers)
        self.games: list[tuple[Player, Player, str]] = []

    async def open(self) -> None:
        urls = [server.ws_url for server in self.servers]
        for index in range(GAMES):
            host, guest = urls[index % len(urls)], urls[(index + 1) % len(urls)]
            red, yellow, watch = await _open_game(host, guest, index)
            # Each may go on to any process: its own first, then the others in turn.
            for player, own in ((red, host), (yellow, guest)):
                player.urls = [own, *[url for url in urls if url != own]]
            self.games.append((red, yellow, watch))

    @property
    def players(self) -> Iterator[Player]:
        for red, yellow, _ in self.games:
            yield red
            yield yellow

    def plies(self) -> int:
        return sum(len(red._view) for red, _, _ in self.games)

    async def until_plies(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.plies() < count:
            assert time.monotonic() < deadline, f"{self.plies()} of {count} plies in {timeout}s"
            await asyncio.sleep(0.05)  # polling the players' progress

    def counts(self) -> dict[str, int]:
        """What the players went through, summed."""
        players = list(self.players)
        return {
            "told rewound": sum(p.told for p in players),
            "noticed a loss": sum(p.noticed for p in players),
            "reconnected": sum(p.reconnects for p in players),
            "sent again": sum(p.retries for p in players),
            "other errors": sum(len(p.errors) for p in players),
        }

    def _show_stalled(self) -> None:
        stalled = [p for p in self.players if not p.over]
        for player in stalled[:6]:
            print(f"stalled: {player.name} {player.game} at ply {len(player._view)}: {player.errors[-3:]}")
        games = {player.game for player in stalled}
        for server in self.servers:
            print(f"--- server on port {server.port}:")
            print("\n".join(line for line in server.log().splitlines() if any(g in line for g in games))[-4000:])

    async def play_through(self, fault: Callable[[], Awaitable[None]], *, reader: str | None = None) -> Report:
        """Play every game; strike with ``fault`` a few moves in; every game to its end; check."""
        stop = asyncio.Event()
        tasks = [asyncio.create_task(player.play(stop=stop)) for player in self.players]
        try:
            await self.until_plies(GAMES * 4)
            await fault()
            deadline = time.monotonic() + FINISH
            while not all(player.over for player in self.players):
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        raise AssertionError("a player failed") from task.exception()
                if time.monotonic() >= deadline:
                    self._show_stalled()
                    raise AssertionError(f"games not finished within {FINISH}s after the fault")
                await asyncio.sleep(0.05)  # polling the players' progress
        finally:
            stop.set()
            await asyncio.wait(tasks, timeout=10)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        url = reader or self.servers[-1].ws_url
        # Every client comes back once, as a page reloaded: what it saw against what is kept.
        await asyncio.gather(*(player.check_in(url) for player in self.players))
        logs = {}
        for red, _, watch in self.games:
            state = await read_back(url, watch)
            logs[red.game] = state["moves"]
        recorded = {red.game: {red.name: red.records, yellow.name: yellow.records} for red, yellow, _ in self.games}
        report = check(recorded, logs)
        print(report)  # shown with a failure
        print(self.counts())
        return report


def start(url: str, cleanup: list[Callable[[], None]], count: int = 3, *args: str) -> list[ServerProcess]:
    servers = []
    for _ in range(count):
        server = ServerProcess("--redis", url, *OPTIONS, *args)
        cleanup.append(server.kill)
        servers.append(server)
    return servers


async def test_kill_9_of_a_server_process_loses_nothing(redis_server, cleanup):
    servers = start(redis_server.url, cleanup)
    table = Table(servers)
    await table.open()

    async def kill() -> None:
        servers[0].kill()

    report = await table.play_through(kill)
    assert report.clean, report
    assert sum(player.reconnects for player in table.players) >= GAMES // 3 * 2  # its players moved on


async def test_kill_9_of_valkey_restarted_from_its_log_loses_nothing(redis_server, cleanup):
    table = Table(start(redis_server.url, cleanup))
    await table.open()

    async def crash() -> None:
        await asyncio.to_thread(redis_server.restart, kill=True)

    report = await table.play_through(crash)
    assert report.clean, report


async def test_a_valkey_pause_loses_and_repeats_nothing(redis_server, cleanup):
    table = Table(start(redis_server.url, cleanup))
    await table.open()
    pid = redis_server.pid
    assert pid is not None

    async def pause() -> None:
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(3)  # the fault itself: Valkey answers nothing for 3 s
        finally:
            os.kill(pid, signal.SIGCONT)

    report = await table.play_through(pause)
    assert report.clean, report
    assert sum(player.retries for player in table.players) > 0  # moves were answered `unavailable`, and sent again


async def test_a_failover_onto_a_lagging_replica_is_never_silent(cleanup):
    failover = Failover(cleanup)
    table = Table(start(failover.front.url(), cleanup))
    await table.open()
    report = await table.play_through(failover.strike)
    assert not report.silent, report


async def test_a_failover_with_replicas_awaited_loses_nothing_acknowledged(cleanup):
    failover = Failover(cleanup)
    table = Table(start(failover.front.url(), cleanup, 3, "--redis-replicas", "1"))
    await table.open()
    report = await table.play_through(failover.strike)
    assert not report.silent, report
    assert not report.told, report  # nothing acknowledged was lost, told or not
