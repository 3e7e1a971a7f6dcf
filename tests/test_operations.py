"""The server as an operator runs it: a real process, its log, its signals."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.request

import pytest
from client import Client
from servers import ROOT, ServerProcess, free_port


@pytest.fixture
def server():
    process = ServerProcess()
    yield process
    process.kill()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        return json.load(response)


def test_healthz_reports_ok(server):
    body = get_json(server.url + "/healthz")
    assert body["status"] == "ok" and body["connections"] == 0


def test_the_page_and_its_assets_are_served(server):
    with urllib.request.urlopen(server.url + "/", timeout=5) as response:
        page = response.read().decode()
    assert "<html" in page.lower() and "/static/app.js" in page
    with urllib.request.urlopen(server.url + "/static/app.js", timeout=5) as response:
        assert "javascript" in response.headers["Content-Type"]


async def test_sigterm_closes_connections_with_1012_and_exits_cleanly(server):
    client = await Client.open(server.ws_url)
    await client.send({"type": "init"})
    await client.expect("init")
    server.proc.terminate()
    code, reason = await client.closed()
    assert code == 1012
    assert server.proc.wait(15) == 0
    assert "stopped" in server.log()


async def test_the_log_tells_who_joined_which_game_and_every_refusal(server):
    host = await Client.open(server.ws_url)
    await host.send({"type": "init"})
    init = await host.expect("init")
    guest = await Client.open(server.ws_url)
    await guest.send({"type": "init", "join": init["join"]})
    await guest.until("state")
    await guest.send({"type": "play", "column": 1})
    await guest.until("error")
    game = server.wait_for_log("in game").split()[-1]
    assert game == init["game"]
    server.wait_for_log("yellow in game " + init["game"])
    refusal = server.wait_for_log("refused not_your_turn")
    assert init["game"] in refusal
    # Secrets stay out of the log.
    assert init["join"] not in server.log() and init["watch"] not in server.log()
    await host.close()
    await guest.close()


async def test_bad_input_leaves_no_traceback_in_the_log(server):
    client = await Client.open(server.ws_url)
    for frame in ["nope", "[]", '{"type":"x"}', '{"type":"play","column":"3"}', b"\x01", "{" * 5000]:
        await client.send(frame)
    await client.closed()  # the last frame is over the size limit
    server.wait_for_log("closed (code")
    log = server.log()
    assert "Traceback" not in log and " ERROR " not in log


def test_port_comes_from_the_environment():
    port = free_port()
    process = ServerProcess(port=port, env={"PORT": str(port)})
    try:
        assert get_json(f"http://127.0.0.1:{port}/healthz")["status"] == "ok"
    finally:
        process.kill()


def test_allowed_origins_come_from_the_environment():
    process = ServerProcess(env={"CONNECTFOUR_ALLOWED_ORIGINS": "https://a.example, https://b.example"})
    try:
        # http.client, not urllib, which would replace Connection: Upgrade with close.
        connection = http.client.HTTPConnection("127.0.0.1", process.port, timeout=5)
        connection.request(
            "GET",
            "/ws",
            headers={
                "Origin": "https://c.example",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            },
        )
        assert connection.getresponse().status == 403
        connection.close()
        process.wait_for_log("origin 'https://c.example' not allowed")
    finally:
        process.kill()


def test_the_console_script_and_module_agree():
    module = subprocess.run(
        [sys.executable, "-m", "connectfour", "--version"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    script = os.path.join(os.path.dirname(sys.executable), "connectfour")
    console = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert module.stdout == console.stdout and module.stdout.startswith("connectfour ")


def test_clients_vanishing_during_the_handshake_leave_no_traceback(server):
    """Each client sends its upgrade request and resets the connection at once."""
    import socket
    import struct

    request = (
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(request)
        sock.close()
    assert get_json(server.url + "/healthz")["status"] == "ok"
    server.terminate()
    log = server.log()
    assert "Traceback" not in log and " ERROR " not in log


def _raw_client(port: int, first: bytes):
    """A socket that has done the handshake and sent one masked text frame."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Protocol: connectfour.v1\r\n\r\n"
    )
    sock.sendall(bytes((0x81, 0x80 | len(first))) + b"\0\0\0\0" + first)
    return sock


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """Split what a server sent after its handshake answer into (opcode, payload)."""
    data = data[data.index(b"\r\n\r\n") + 4 :]
    frames = []
    while data:
        size, start = data[1] & 0x7F, 2
        if size == 126:
            size, start = int.from_bytes(data[2:4], "big"), 4
        frames.append((data[0] & 0x0F, data[start : start + size]))
        data = data[start + size :]
    return frames


def test_on_sigterm_nothing_is_sent_after_the_close_frame(server):
    """Closing one member must not send presence to others already closed."""
    import json

    host = _raw_client(server.port, b'{"type":"init"}')
    received = b""
    while b'"join"' not in received:
        received += host.recv(65536)
    body = received[received.index(b"\r\n\r\n") + 4 :]
    join = json.loads(body[2 : 2 + body[1]])["join"]
    guest = _raw_client(server.port, json.dumps({"type": "init", "join": join}).encode())
    server.wait_for_log("yellow in game")
    server.terminate()
    for sock, start in ((host, received), (guest, b"")):
        data = start
        while chunk := sock.recv(65536):
            data += chunk
        frames = _frames(data)
        assert frames[-1][0] == 0x8 and frames[-1][1][:2] == (1012).to_bytes(2, "big")
        assert [op for op, _ in frames].count(0x8) == 1


def test_a_frame_sent_along_with_the_handshake_is_answered(server):
    """The first frame may arrive in the same packet as the upgrade request."""
    import socket

    request = (
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    frame = b'{"type":"play","column":3}'
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(request + bytes((0x81, 0x80 | len(frame))) + b"\0\0\0\0" + frame)
    data = b""
    while b'"row": 0}' not in data:
        data += sock.recv(65536)
    assert b"101 Switching Protocols" in data
    assert _frames(data)[0] == (0x1, b'{"type": "play", "player": "red", "column": 3, "row": 0}')
    sock.close()


async def test_metrics_count_moves_games_and_refusals(server):
    def metric(text: str, line: str) -> float:  # prometheus-client writes every value as a float: "7.0"
        return next((float(row.rsplit(" ", 1)[1]) for row in text.splitlines() if row.startswith(line + " ")), 0)

    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        before = response.read().decode()
    client = await Client.open(server.ws_url)
    await client.send({"type": "init", "local": True})
    await client.until("state")
    for column in [0, 1, 0, 1, 0, 1, 0]:
        await client.send({"type": "play", "column": column})
    await client.until("win")
    await client.send({"type": "play", "column": 3})
    await client.until("error")
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        after = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/plain")
    assert metric(after, "connectfour_moves_total") - metric(before, "connectfour_moves_total") == 7
    assert metric(after, "connectfour_games_created_total") - metric(before, "connectfour_games_created_total") == 1
    assert metric(after, 'connectfour_games_ended_total{reason="four"}') == 1
    assert metric(after, 'connectfour_refusals_total{code="game_over"}') == 1
    assert metric(after, "connectfour_connections") == 1
    await client.close()


async def test_a_server_deletes_a_game_nobody_played_after_forget_unplayed_after():
    process = ServerProcess("--expire-after", "0.2", "--forget-unplayed-after", "0.1")  # a sweep every 0.05 s
    try:
        client = await Client.open(process.ws_url)
        await client.send({"type": "init"})
        game = (await client.expect("init"))["game"]
        await client.close()
        process.wait_for_log("1 unplayed game deleted")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{process.url}/api/games/{game}", timeout=5)
        assert json.load(missing.value) == {"error": "Game not found.", "code": "game_not_found"}
    finally:
        process.kill()


def test_a_negative_forget_unplayed_after_is_refused(capsys):
    from connectfour.cli.main import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--forget-unplayed-after", "-1"])
    assert "zero or more seconds" in capsys.readouterr().err
