"""Redis mode with real processes: `connectfour serve --redis` twice, or with
--workers, against a real valkey-server; games cross processes, and survive
a process's death and a Redis restart."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from client import Client, until_presence
from redis_server import RedisServer
from servers import ROOT, ServerProcess, free_port

RED_WINS = [3, 3, 4, 4, 5, 5, 6]
#: A short registration, so that a killed process's seats free up within the test.
TTL = "1.5"


def health(server: ServerProcess) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


async def until_healthy(server: ServerProcess, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status, body = await asyncio.to_thread(health, server)
        if status == 200:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


def processes(url: str, count: int = 2, *args: str) -> list[ServerProcess]:
    return [ServerProcess("--redis", url, "--registration-ttl", TTL, *args) for _ in range(count)]


async def start_game(a: ServerProcess, b: ServerProcess) -> tuple[dict, Client, Client, dict, dict]:
    host = await Client.open(a.ws_url)
    await host.send({"type": "init"})
    init = await host.expect("init")
    red = await host.until("state")
    guest = await Client.open(b.ws_url)
    await guest.send({"type": "init", "join": init["join"]})
    yellow = await guest.until("state")
    await until_presence(host, yellow="connected")
    return init, host, guest, red, yellow


async def play(clients: dict[str, Client], watchers: list[Client], plies: list[tuple[int, int]]) -> None:
    for ply, column in plies:
        mover = clients["red" if ply % 2 == 0 else "yellow"]
        await mover.send({"type": "play", "column": column, "ply": ply})
        for each in (*clients.values(), *watchers):
            assert (await each.until("play"))["ply"] == ply


@pytest.fixture
def stop_afterwards():
    started: list[ServerProcess] = []
    yield started.extend
    for server in started:
        server.kill()


async def test_a_game_with_its_players_and_spectators_on_two_processes_is_played_to_the_end(redis_url, stop_afterwards):
    a, b = processes(redis_url)
    stop_afterwards([a, b])
    init, host, guest, _, _ = await start_game(a, b)
    watchers = []
    for server in (a, b):
        watcher = await Client.open(server.ws_url)
        await watcher.send({"type": "init", "watch": init["watch"]})
        await watcher.expect("state")
        watchers.append(watcher)
    await play({"red": host, "yellow": guest}, watchers, list(enumerate(RED_WINS)))
    for each in (host, guest, *watchers):
        assert (await each.until("win"))["player"] == "red"
    for server in (a, b):  # the replay from either process
        with urllib.request.urlopen(f"{server.url}/api/games/{init['game']}", timeout=5) as answer:
            record = json.load(answer)
        assert (record["moves"], record["result"], record["reason"]) == (RED_WINS, "red", "four")


async def test_an_invite_raced_from_two_processes_seats_one_guest(redis_url, stop_afterwards):
    a, b = processes(redis_url)
    stop_afterwards([a, b])
    for _ in range(20):
        host = await Client.open(a.ws_url)
        await host.send({"type": "init"})
        init = await host.expect("init")
        guests = [await Client.open(server.ws_url) for server in (a, b)]
        await asyncio.gather(*(g.send({"type": "init", "join": init["join"]}) for g in guests))
        answers = [await g.recv() for g in guests]
        assert sorted(answer["type"] for answer in answers) == ["error", "state"], answers
        assert [a["code"] for a in answers if a["type"] == "error"] == ["seat_taken"]
        for client in (host, *guests):
            await client.close()


async def test_after_kill_9_of_a_process_its_player_resumes_on_the_other_and_finishes(redis_url, stop_afterwards):
    a, b = processes(redis_url)
    stop_afterwards([a, b])
    init, host, guest, red, _ = await start_game(a, b)
    await play({"red": host, "yellow": guest}, [], list(enumerate(RED_WINS))[:4])
    a.kill()
    await host.closed()
    # Nobody told B: it finds out when A's registration runs out, and says so.
    await until_presence(guest, red="disconnected")
    host = await Client.open(b.ws_url)
    await host.send({"type": "resume", "game": init["game"], "token": red["token"]})
    state = await host.expect("state", you="red")
    assert state["moves"] == RED_WINS[:4]  # nothing acknowledged was lost
    await until_presence(guest, red="connected")
    await play({"red": host, "yellow": guest}, [], list(enumerate(RED_WINS))[4:])
    assert (await guest.until("win"))["player"] == "red"


async def test_redis_restarting_mid_game_loses_nothing_and_needs_no_reload(stop_afterwards):
    redis = RedisServer(fsync="always")
    try:
        a, b = processes(redis.url)
        stop_afterwards([a, b])
        init, host, guest, _, _ = await start_game(a, b)
        watcher = await Client.open(b.ws_url)
        await watcher.send({"type": "init", "watch": init["watch"]})
        await watcher.expect("state")
        await play({"red": host, "yellow": guest}, [watcher], list(enumerate(RED_WINS))[:2])
        redis.stop()
        status, body = await asyncio.to_thread(health, a)
        assert status == 503 and body["store_reachable"] is False
        await host.send({"type": "play", "column": RED_WINS[2], "ply": 2})
        assert (await host.until("error"))["code"] == "unavailable"
        redis.start()
        await until_healthy(a)
        await until_healthy(b)
        await play({"red": host, "yellow": guest}, [watcher], list(enumerate(RED_WINS))[2:])
        assert (await watcher.until("win"))["player"] == "red"
        with urllib.request.urlopen(f"{b.url}/api/games/{init['game']}", timeout=5) as answer:
            assert json.load(answer)["moves"] == RED_WINS  # no gap, no duplicate
    finally:
        redis.close()


def test_a_server_that_cannot_reach_redis_at_start_says_so_and_exits():
    dead = f"redis://127.0.0.1:{free_port()}/0"
    run = subprocess.run(
        [sys.executable, "-m", "connectfour", "serve", "--port", str(free_port()), "--redis", dead],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode != 0
    assert "cannot reach the store" in run.stderr


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("foo://127.0.0.1:6379", "scheme"),
        ("redis://127.0.0.1:port/0", "Port"),
        ("redis+cluster://127.0.0.1:7000,127.0.0.1:x", "host:port"),
    ],
)
def test_a_redis_url_that_cannot_be_read_is_refused_with_the_reason(url, reason):
    run = subprocess.run(
        [sys.executable, "-m", "connectfour", "serve", "--port", str(free_port()), "--redis", url],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 3  # it cannot start: a supervisor must not start it again
    assert run.stderr.startswith("connectfour: --redis: ") and reason in run.stderr
    assert "Traceback" not in run.stderr


def test_workers_with_a_redis_url_that_cannot_be_read_stop_at_once():
    run = subprocess.run(
        [sys.executable, "-m", "connectfour", "serve", "--port", str(free_port()), "--workers", "2",
         "--redis", "redis+cluster://127.0.0.1:7000,127.0.0.1:x"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 1
    assert "host:port" in run.stderr and "cannot run" in run.stderr and "starting it again" not in run.stderr


def test_workers_without_redis_are_refused():
    run = subprocess.run(
        [sys.executable, "-m", "connectfour", "serve", "--port", str(free_port()), "--workers", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--workers above 1 needs --redis" in run.stderr


async def test_workers_share_one_port_and_a_dead_one_is_started_again(redis_url):
    server = ServerProcess("--redis", redis_url, "--workers", "2")
    try:
        server.wait_for_lines("serving on", 2)
        pids: set[int] = set()
        deadline = time.monotonic() + 20
        while len(pids) < 2:  # the kernel spreads connections over both
            assert time.monotonic() < deadline, pids
            pids.add((await asyncio.to_thread(health, server))[1]["pid"])
        victim = pids.pop()
        subprocess.run(["kill", "-9", str(victim)], check=True)
        server.wait_for_log("starting it again")
        server.wait_for_lines("serving on", 3)
        # A game across the workers still works.
        a = b = server
        _, host, guest, _, _ = await start_game(a, b)
        await play({"red": host, "yellow": guest}, [], list(enumerate(RED_WINS)))
        assert (await guest.until("win"))["player"] == "red"
    finally:
        code = server.terminate()
    assert code == 0
    assert "all workers stopped" in server.log()


def test_the_terminal_client_resumes_on_another_process_after_kill_9_and_finishes(redis_url, stop_afterwards):
    from tcp_proxy import TcpProxy
    from terminal import Terminal

    a, b = processes(redis_url)
    stop_afterwards([a, b])
    with TcpProxy(a.port) as balancer:  # a load balancer in front of A, turned to B once A is gone
        terminal = Terminal("--url", f"ws://127.0.0.1:{balancer.port}/ws", "--local")
        try:
            terminal.wait_for("Red's move (1-7):")
            terminal.type("1")
            terminal.wait_for("Yellow's move (1-7):")
            a.kill()
            terminal.wait_for("Connection lost. Reconnecting")
            balancer.target = ("127.0.0.1", b.port)
            terminal.type("2")  # typed while no server answers: played once the seat is back, on B
            terminal.wait_for("yellow played column 2", timeout=30)
            for column in "12121":
                terminal.type(column)
            terminal.wait_for("Red wins (four).")
            code, stderr = terminal.finish()
            assert code == 0, stderr
        finally:
            terminal.kill()
    assert "resumed" in b.log()  # B served the rest of the game


def test_workers_that_cannot_reach_redis_at_start_stop_the_supervisor_instead_of_looping():
    dead = f"redis://127.0.0.1:{free_port()}/0"
    run = subprocess.run(
        [sys.executable, "-m", "connectfour", "serve", "--port", str(free_port()), "--redis", dead, "--workers", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert run.returncode == 1
    assert "cannot reach the store" in run.stderr
    assert "cannot run" in run.stderr and "starting it again" not in run.stderr


async def lobby_until(client: Client, holds, timeout: float = 10.0) -> dict:
    async def wait() -> dict:
        while True:
            event = await client.until("lobby")
            if holds(event):
                return event

    return await asyncio.wait_for(wait(), timeout)


async def test_a_public_game_on_one_process_is_in_the_lobby_of_the_other_and_joined_from_there(
    redis_url, stop_afterwards
):
    a, b = processes(redis_url, 2, "--lobby-interval", "0.05")
    stop_afterwards([a, b])
    watcher = await Client.open(b.ws_url)
    await watcher.send({"type": "lobby"})
    host = await Client.open(a.ws_url)
    await host.send({"type": "init", "public": True, "name": "Ada"})
    init = await host.expect("init")
    lobby = await lobby_until(watcher, lambda e: bool(e["waiting"]))
    (entry,) = lobby["waiting"]
    assert (entry["game"], entry["name"]) == (init["game"], "Ada")
    assert lobby["online"] == 2  # one connection on each process
    guest = await Client.open(b.ws_url)
    await guest.send({"type": "init", "join": entry["join"], "name": "Grace"})
    await guest.expect("state", status="playing", red_name="Ada", yellow_name="Grace")
    lobby = await lobby_until(watcher, lambda e: bool(e["playing"]))
    assert (lobby["playing"][0]["red"], lobby["playing"][0]["yellow"]) == ("Ada", "Grace")
    assert lobby["playing_total"] == 1 and lobby["waiting"] == []


async def test_play_someone_pairs_players_on_two_processes(redis_url, stop_afterwards):
    a, b = processes(redis_url)
    stop_afterwards([a, b])
    first = await Client.open(a.ws_url)
    await first.send({"type": "match", "name": "Ada"})
    waiting = await first.until("state")
    assert waiting["status"] == "waiting"
    second = await Client.open(b.ws_url)
    await second.send({"type": "match", "name": "Grace"})
    paired = await second.until("state")
    assert (paired["game"], paired["status"]) == (waiting["game"], "playing")
    await until_presence(first, red="connected", yellow="connected")
    clients = {waiting["you"]: first, paired["you"]: second}
    await play(clients, [], list(enumerate(RED_WINS)))
    assert (await first.until("win"))["player"] == "red"


async def test_an_announcement_posted_to_one_process_reaches_the_clients_of_the_other(redis_url, stop_afterwards):
    a, b = processes(redis_url, 2, "--admin-token", "s3cret")
    stop_afterwards([a, b])
    listeners = [await Client.open(a.ws_url), await Client.open(b.ws_url)]
    await listeners[1].send({"type": "lobby"})
    await listeners[1].expect("lobby")  # (b hears the bus by now: it answered a request after starting)
    request = urllib.request.Request(
        f"{a.url}/api/announce",
        data=json.dumps({"message": "Restart in 5 minutes", "level": "warning"}).encode(),
        headers={"Authorization": "Bearer s3cret", "Content-Type": "application/json"},
    )
    answer = await asyncio.to_thread(urllib.request.urlopen, request, timeout=5)
    assert answer.status == 202
    for listener in listeners:
        event = await listener.until("announcement")
        assert (event["message"], event["level"]) == ("Restart in 5 minutes", "warning")
