"""/metrics through prometheus-client: counters and latency histograms that
move with moves, the live gauges, and with ``--workers`` the sum over every
worker, whichever one answers, a worker started again not counted twice."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest
from client import Client
from prometheus_client.parser import text_string_to_metric_families
from servers import ServerProcess

from connectfour import metrics

#: Red wins with its seventh move: a game of seven moves.
RED_WINS = [0, 1, 0, 1, 0, 1, 0]
#: How long a poll waits for the workers' flushes (each flushes every metrics.FLUSH_INTERVAL).
POLL_TIMEOUT = 20.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of the exposition, by (sample name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(server: ServerProcess) -> tuple[str, str]:
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


async def play_a_game(client: Client) -> None:
    """A game on one device, won by red at its seventh move."""
    await client.send({"type": "init", "local": True})
    await client.until("state")
    for column in RED_WINS:
        await client.send({"type": "play", "column": column})
    await client.until("win")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    process = ServerProcess()
    yield process
    process.kill()


async def test_the_counters_move_with_moves_in_the_prometheus_text_format(server):
    _, before = await asyncio.to_thread(scrape, server)
    client = await Client.open(server.ws_url)
    await play_a_game(client)
    await client.send({"type": "play", "column": 3})
    await client.until("error")
    content_type, text = await asyncio.to_thread(scrape, server)
    await client.close()
    assert content_type.startswith("text/plain; version=") and "charset=utf-8" in content_type
    families = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert families["connectfour_moves"] == "counter" and families["connectfour_connections"] == "gauge"
    assert all(name.startswith("connectfour_") for name in families)
    old, new = parse(before), parse(text)
    assert value(new, "connectfour_moves_total") - value(old, "connectfour_moves_total") == 7
    assert value(new, "connectfour_games_created_total") - value(old, "connectfour_games_created_total") == 1
    ended = {"reason": "four"}
    assert (
        value(new, "connectfour_games_ended_total", **ended) - value(old, "connectfour_games_ended_total", **ended) == 1
    )
    refused = {"code": "game_over"}
    assert (
        value(new, "connectfour_refusals_total", **refused) - value(old, "connectfour_refusals_total", **refused) == 1
    )


@pytest.mark.parametrize("histogram", ["connectfour_store_append_seconds", "connectfour_move_fanout_seconds"])
async def test_the_latency_histograms_have_an_observation_for_each_move(server, histogram):
    _, before = await asyncio.to_thread(scrape, server)
    client = await Client.open(server.ws_url)
    await play_a_game(client)
    _, text = await asyncio.to_thread(scrape, server)
    await client.close()
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == histogram]
    assert family.type == "histogram" and family.documentation
    old, new = parse(before), parse(text)
    count = value(new, f"{histogram}_count")
    assert count - value(old, f"{histogram}_count") == 7
    assert value(new, f"{histogram}_sum") > value(old, f"{histogram}_sum")
    buckets = [(sample.labels["le"], sample.value) for sample in family.samples if sample.name == f"{histogram}_bucket"]
    assert [le for le, _ in buckets] == [repr(bound) for bound in metrics.BUCKETS] + ["+Inf"]
    counts = [n for _, n in buckets]
    assert counts == sorted(counts) and counts[-1] == count  # cumulative, +Inf is every observation


async def test_the_live_gauges_of_the_process_are_shown(server):
    client = await Client.open(server.ws_url)
    await client.send({"type": "init"})
    await client.until("state")
    watcher = await Client.open(server.ws_url)
    await watcher.send({"type": "lobby"})
    await watcher.until("lobby")
    _, text = await asyncio.to_thread(scrape, server)
    samples = parse(text)
    assert value(samples, "connectfour_connections") == 2
    assert value(samples, "connectfour_lobby_watchers") == 1
    assert value(samples, "connectfour_games_in_memory") == 1
    assert value(samples, "connectfour_client_addresses") >= 1
    for gauge in ("connectfour_waiting_connections", "connectfour_solver_searches", "connectfour_solver_waiting"):
        assert (gauge, ()) in samples
    await client.close()
    await watcher.close()


# -- with --workers ---------------------------------------------------------------------------


def _request(sock: socket.socket, path: str) -> bytes:
    """One HTTP/1.1 request on a kept-alive connection; the body of its answer."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 "), head
    fields = dict(line.split(":", 1) for line in head.decode("latin-1").split("\r\n")[1:])
    length = int(next(v for k, v in fields.items() if k.lower() == "content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return body


def _connect_to_a_worker(server: ServerProcess) -> tuple[int, socket.socket]:
    """A connection to whichever worker the kernel chose, and that worker's pid."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return json.loads(_request(sock, "/healthz"))["pid"], sock


def _scrape_a_worker(server: ServerProcess) -> tuple[int, Samples]:
    pid, sock = _connect_to_a_worker(server)
    with sock:
        return pid, parse(_request(sock, "/metrics").decode())


async def players_on(server: ServerProcess, pids: int, known: set[int]) -> dict[int, Client]:
    """WebSocket clients on ``pids`` workers not in ``known``, one each, by worker pid."""
    players: dict[int, Client] = {}
    deadline = time.monotonic() + POLL_TIMEOUT
    while len(players) < pids:
        assert time.monotonic() < deadline, f"connections reached only workers {set(players) | known}"
        pid, sock = await asyncio.to_thread(_connect_to_a_worker, server)
        if pid in known or pid in players:
            sock.close()
            continue
        sock.setblocking(False)
        players[pid] = await Client.open(server.ws_url, sock=sock)  # the upgrade, on the same connection
    return players


async def until_every_worker_shows(server: ServerProcess, pids: set[int], expected: dict[str, float]) -> None:
    """Poll /metrics until each worker in ``pids`` has answered with ``expected``."""
    shown: set[int] = set()
    deadline = time.monotonic() + POLL_TIMEOUT
    last: dict[int, dict[str, float]] = {}
    while shown != pids:
        assert time.monotonic() < deadline, f"expected {expected}, workers showed {last}"
        pid, samples = await asyncio.to_thread(_scrape_a_worker, server)
        last[pid] = {name: value(samples, name) for name in expected}
        if last[pid] == expected:
            shown.add(pid)
        else:
            await asyncio.sleep(0.1)  # a poll's pace: the flushes come every metrics.FLUSH_INTERVAL


def totals(games: int, connections: int) -> dict[str, float]:
    moves = 7.0 * games
    return {
        "connectfour_moves_total": moves,
        "connectfour_games_created_total": games,
        "connectfour_store_append_seconds_count": moves,
        "connectfour_move_fanout_seconds_count": moves,
        "connectfour_connections": connections,
    }


async def test_with_workers_any_worker_shows_the_sum_and_one_started_again_is_not_counted_twice(redis_url):
    server = ServerProcess("--redis", redis_url, "--workers", "2")
    try:
        server.wait_for_lines("serving on", 2)
        directory = server.wait_for_log("workers share their metrics in").rsplit(" ", 1)[1]
        assert os.path.isdir(directory)
        # A player on each worker plays a game there.
        players = await players_on(server, 2, set())
        for player in players.values():
            await play_a_game(player)
        await until_every_worker_shows(server, set(players), totals(games=2, connections=2))

        # One is killed: its counts stay in the sum, its connection leaves the gauge.
        victim, survivor = players
        subprocess.run(["kill", "-9", str(victim)], check=True)
        server.wait_for_log("starting it again")
        server.wait_for_lines("serving on", 3)
        await players[victim].close()
        ((newcomer, player),) = (await players_on(server, 1, {victim, survivor})).items()
        await play_a_game(player)
        await until_every_worker_shows(server, {survivor, newcomer}, totals(games=3, connections=2))
        await player.close()
        await players[survivor].close()
    finally:
        assert server.terminate() == 0
    assert not os.path.exists(directory)  # the supervisor removed it
