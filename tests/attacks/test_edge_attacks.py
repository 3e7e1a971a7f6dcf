"""What one client with a laptop must not be able to do to the server."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import ATTACKER, TIMEOUT, USER, get, healthy, open_from, read_frame, rss
from rawws import OP_CLOSE, OP_PING, OP_TEXT, client_frame, upgrade_request

MiB = 1 << 20


async def upgraded_from(address: str, port: int, *, rcvbuf: int | None = None, v1: bool = True):
    extra = "Sec-WebSocket-Protocol: connectfour.v1\r\n" if v1 else ""
    reader, writer = await open_from(address, port, rcvbuf=rcvbuf)
    writer.write(upgrade_request(extra=extra))
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def close_code(reader: asyncio.StreamReader) -> int | None:
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == OP_CLOSE:
            return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None


async def cut_off(reader: asyncio.StreamReader) -> bool:
    """True once the server has ended the connection, by close frame or by reset."""
    try:
        while await asyncio.wait_for(reader.read(65536), TIMEOUT):
            pass
    except ConnectionError:
        pass
    return True


async def pump(writer: asyncio.StreamWriter, data: bytes, times: int) -> None:
    """Write ``data`` again and again, as long as the server takes it."""
    try:
        for _ in range(times):
            writer.write(data)
            await asyncio.wait_for(writer.drain(), TIMEOUT)
    except (TimeoutError, ConnectionError):
        pass


# -- 1. control frames are limited at their header -------------------------------------------


async def test_a_ping_announcing_a_gigabyte_is_refused_at_its_header(spawn):
    server = spawn()
    reader, writer = await upgraded_from(ATTACKER, server.port)
    writer.write(client_frame(b"", OP_PING, length=1 << 30))  # the header alone
    assert await close_code(reader) == 1002
    writer.close()


async def test_big_control_frames_on_many_connections_hold_no_memory(spawn):
    server = spawn()
    before = rss(server.proc.pid)
    peers = [await upgraded_from(ATTACKER, server.port) for _ in range(16)]
    chunk = client_frame(b"", OP_PING, length=32 * MiB) + bytes(256 * 1024)
    await asyncio.gather(*(pump(writer, chunk[: 256 * 1024], 8) for _, writer in peers))
    await healthy(server.port)
    assert all([await cut_off(reader) for reader, _ in peers])
    assert rss(server.proc.pid) - before < 16 * MiB


# -- 2 and 11. what a peer leaves unread is bounded in real memory ---------------------------


async def test_pongs_to_a_peer_that_never_reads_count_against_its_output_bound(spawn):
    server = spawn("--rate", "1000000", "--burst", "1000000", "--max-output", "65536")
    before = rss(server.proc.pid)
    reader, writer = await upgraded_from(ATTACKER, server.port, rcvbuf=4096)
    await pump(writer, client_frame(b"p" * 125, OP_PING) * 100, 2000)  # up to 200,000 pings, 25 MB of pongs
    await asyncio.to_thread(server.wait_for_log, "over the bound of 65536")
    await healthy(server.port)
    assert rss(server.proc.pid) - before < 16 * MiB
    writer.close()


async def test_pings_are_rate_limited_like_messages(spawn):
    server = spawn("--rate", "20", "--burst", "40")
    reader, writer = await upgraded_from(ATTACKER, server.port)
    writer.write(client_frame(b"x", OP_PING) * 200)
    events = []
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == OP_CLOSE:
            assert int.from_bytes(payload[:2], "big") == 1008
            break
        if opcode == OP_TEXT:
            events.append(json.loads(payload))
    assert [event["code"] for event in events] == ["rate_limited"]
    writer.close()


async def test_many_stuck_readers_cost_at_most_their_output_bound(spawn):
    """Each peer asks for answers it never reads; each is dropped at its bound, and the
    server's memory grows by no more than the bounds add up to."""
    server = spawn("--rate", "1000000", "--burst", "1000000", "--max-output", "262144")
    before = rss(server.proc.pid)
    peers = [await upgraded_from(ATTACKER, server.port, rcvbuf=4096) for _ in range(20)]
    request = client_frame(b'{"type":"init","watch":"no-such-key"}') * 200  # 200 error events per write
    await asyncio.gather(*(pump(writer, request, 50) for _, writer in peers))  # 1 MB of answers each
    await asyncio.to_thread(server.wait_for_lines, "over the bound of 262144", 20, TIMEOUT)
    await healthy(server.port)
    assert rss(server.proc.pid) - before < 20 * 262144 * 2 + 16 * MiB
    assert all([await cut_off(reader) for reader, _ in peers])


# -- 3. every request head has a deadline; one address holds few connections -----------------


@pytest.mark.parametrize(
    "sent", [b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le", b"", b"PUT", b"GET / HTTP/1.1\n"]
)
async def test_an_unfinished_request_head_of_any_kind_is_closed_at_the_head_timeout(spawn, sent):
    server = spawn("--head-timeout", "0.5")
    reader, writer = await open_from(ATTACKER, server.port)
    writer.write(sent)
    assert await cut_off(reader)
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed_at_the_head_timeout(spawn):
    server = spawn("--head-timeout", "0.5")
    reader, writer = await open_from(ATTACKER, server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert answer.startswith(b"HTTP/1.1 200")
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 12")  # the next request, never finished
    assert await cut_off(reader)
    writer.close()


async def test_one_address_cannot_hold_more_connections_without_a_request_than_its_bound(spawn):
    server = spawn("--waiting-per-address", "8")
    held = [await open_from(ATTACKER, server.port) for _ in range(8)]
    reader, writer = await open_from(ATTACKER, server.port)
    answer = await asyncio.wait_for(reader.read(-1), TIMEOUT)
    assert answer.startswith(b"HTTP/1.1 429 ") and b"without a request" in answer
    await healthy(server.port)  # another address is served meanwhile
    assert "refused 127.0.0.1: more than 8 connections without a request" in server.wait_for_log("refused")
    _, _, metrics = await get(server.port, "/metrics")
    assert b"connectfour_waiting_connections 8" in metrics
    for _, w in held:
        w.close()
    writer.close()


async def test_one_address_cannot_hold_more_connections_than_its_bound(spawn):
    server = spawn("--connections-per-address", "10")
    held = [await upgraded_from(ATTACKER, server.port) for _ in range(10)]
    reader, writer = await open_from(ATTACKER, server.port)
    answer = await asyncio.wait_for(reader.read(-1), TIMEOUT)
    assert answer.startswith(b"HTTP/1.1 429 ") and b"Too many connections" in answer
    # An honest user on another address plays on.
    user_reader, user_writer = await upgraded_from(USER, server.port)
    user_writer.write(client_frame(b'{"type":"init"}'))
    assert json.loads((await read_frame(user_reader))[1])["type"] == "init"
    # A connection given back makes room again.
    held.pop()[1].close()
    async with asyncio.timeout(TIMEOUT):
        while True:
            reader, writer = await open_from(ATTACKER, server.port)
            writer.write(upgrade_request())
            if (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101"):
                break
            writer.close()
    for _, w in held:
        w.close()


async def test_refusals_of_one_address_are_logged_at_most_once_a_second(spawn):
    server = spawn("--connections-per-address", "2")
    held = [await upgraded_from(ATTACKER, server.port) for _ in range(2)]
    for _ in range(50):
        reader, writer = await open_from(ATTACKER, server.port)
        assert (await asyncio.wait_for(reader.read(-1), TIMEOUT)).startswith(b"HTTP/1.1 429")
        writer.close()
    await healthy(server.port)
    lines = [line for line in server.log().splitlines() if "refused 127.0.0.1" in line]
    assert 1 <= len(lines) <= 3  # 50 refusals within a second or two
    _, _, metrics = await get(server.port, "/metrics")
    assert b'connectfour_address_refusals_total{bound="connections"} 50' in metrics
    for _, w in held:
        w.close()


async def gauge(port: int, name: str) -> int:
    _, _, metrics = await get(port, "/metrics")
    for line in metrics.decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    raise AssertionError(f"no gauge {name}")


async def test_every_count_of_an_address_goes_back_to_zero_whatever_ended_its_connections(spawn):
    """Connections of every kind, abandoned or closed by each of the server's sweeps, give
    back what they counted: afterwards the address has its whole allowance again."""
    server = spawn("--head-timeout", "0.5", "--heartbeat", "0.5", "--waiting-per-address", "8")
    peers = []
    for sent in (
        b"",
        b"GET / HTTP/1.1\r\nHost: 12",
        b"G" * 9000,
        b"NOT HTTP\r\n\r\n",
    ):  # the head sweep, aiohttp, a 400
        reader, writer = await open_from(ATTACKER, server.port)
        writer.write(sent)
        peers.append((reader, writer))
    reader, writer = await open_from(ATTACKER, server.port)  # keep-alive, then idle: aiohttp's timeout
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    peers.append((reader, writer))
    peers.append(await upgraded_from(ATTACKER, server.port))  # never answers a ping: the heartbeat
    closed_by_us = [await upgraded_from(ATTACKER, server.port), await open_from(ATTACKER, server.port)]
    refused = [await open_from(ATTACKER, server.port) for _ in range(8)]  # past the bound of 8 waiting: 429
    for _, w in closed_by_us:
        w.transport.abort()
    assert all([await cut_off(r) for r, _ in peers])
    for r, w in refused:
        await cut_off(r)
        w.close()
    async with asyncio.timeout(TIMEOUT):  # the metrics' own connection is the only one left
        while (
            await gauge(server.port, "connectfour_address_connections"),
            await gauge(server.port, "connectfour_waiting_connections"),
        ) != (1, 0):
            await asyncio.sleep(0.05)
    # The whole allowance is back: 8 connections may wait for their head again, and a 9th is refused.
    held = [await open_from(ATTACKER, server.port) for _ in range(8)]
    assert await gauge(server.port, "connectfour_waiting_connections") == 8
    _, writer = held[0]
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert (await asyncio.wait_for(held[0][0].read(-1), TIMEOUT)).startswith(b"HTTP/1.1 200")
    for _, w in held:
        w.close()


# -- 4. one address starts a bounded number of games ------------------------------------------


async def first_answer(address: str, port: int, forwarded_for: str) -> str:
    """Start a game from a client a trusted proxy names; the answer's type, or its error code."""
    extra = f"Sec-WebSocket-Protocol: connectfour.v1\r\nX-Forwarded-For: {forwarded_for}\r\n"
    reader, writer = await open_from(address, port)
    writer.write(upgrade_request(extra=extra))
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)).startswith(b"HTTP/1.1 101")
    writer.write(client_frame(b'{"type":"init"}'))
    try:
        while True:
            event = json.loads((await read_frame(reader))[1])
            if event["type"] in ("init", "error"):
                return str(event.get("code", "init"))
    finally:
        writer.close()


async def test_the_addresses_of_one_ipv6_64_share_one_allowance_of_games(spawn):
    server = spawn("--trust-forwarded-for", "--games-per-minute", "3")
    codes = [await first_answer(ATTACKER, server.port, f"2001:db8:0:1::{n:x}") for n in range(1, 11)]
    assert codes == ["init"] * 3 + ["too_many_games"] * 7
    assert await first_answer(ATTACKER, server.port, "2001:db8:0:2::1") == "init"  # another subscriber


async def test_an_address_that_starts_too_many_games_is_refused_and_others_are_not(spawn):
    server = spawn("--games-per-minute", "5")
    reader, writer = await upgraded_from(ATTACKER, server.port)
    codes = []
    for _ in range(7):
        writer.write(client_frame(b'{"type":"init"}'))
        while True:
            event = json.loads((await read_frame(reader))[1])
            if event["type"] in ("init", "error"):
                codes.append(event.get("code", "init"))
                break
        if event["type"] == "init":  # a fresh connection for the next game
            writer.close()
            reader, writer = await upgraded_from(ATTACKER, server.port)
    assert codes == ["init"] * 5 + ["too_many_games"] * 2
    user_reader, user_writer = await upgraded_from(USER, server.port)
    user_writer.write(client_frame(b'{"type":"init"}'))
    assert json.loads((await read_frame(user_reader))[1])["type"] == "init"
    writer.close()
    user_writer.close()


async def answer(reader: asyncio.StreamReader, *types: str) -> dict:
    """The next event of one of ``types``, or the next error."""
    while True:
        event = json.loads((await read_frame(reader))[1])
        if event["type"] in (*types, "error"):
            return event


async def test_quick_matches_cancelled_again_and_again_count_as_new_games(spawn):
    server = spawn("--games-per-minute", "5")
    reader, writer = await upgraded_from(ATTACKER, server.port)
    codes = []
    for _ in range(7):  # each match hosts a hidden game while it waits
        writer.write(client_frame(b'{"type":"match"}'))
        event = await answer(reader, "state")
        codes.append(event.get("code", event["type"]))
        if event["type"] == "state":
            writer.write(client_frame(b'{"type":"cancel"}'))
            assert (await answer(reader, "cancelled"))["type"] == "cancelled"
    assert codes == ["state"] * 5 + ["too_many_games"] * 2
    writer.close()


async def test_rematches_played_again_and_again_count_as_new_games(spawn):
    server = spawn("--games-per-minute", "6")
    red_reader, red = await upgraded_from(ATTACKER, server.port)
    red.write(client_frame(b'{"type":"init"}'))
    join = (await answer(red_reader, "init"))["join"]
    await answer(red_reader, "state")
    yellow_reader, yellow = await upgraded_from(ATTACKER, server.port)
    yellow.write(client_frame(json.dumps({"type": "init", "join": join}).encode()))
    await answer(yellow_reader, "state")
    codes = []
    for _ in range(4):  # resign at once, and both ask for the next game: 2 of the allowance each time
        red.write(client_frame(b'{"type":"resign"}'))
        await answer(yellow_reader, "win")
        red.write(client_frame(b'{"type":"rematch"}'))
        yellow.write(client_frame(b'{"type":"rematch"}'))
        # Both start the rematch, or the offer that comes second (either: they race) is refused.
        replies = [asyncio.ensure_future(answer(reader, "state")) for reader in (red_reader, yellow_reader)]
        done, _ = await asyncio.wait(replies, return_when=asyncio.FIRST_COMPLETED)
        refusals = [reply.result()["code"] for reply in done if reply.result()["type"] == "error"]
        if refusals:
            codes += refusals
            for reply in replies:
                reply.cancel()
            break
        assert [event["type"] for event in await asyncio.gather(*replies)] == ["state", "state"]
        codes.append("state")
    assert codes == ["state", "state", "too_many_games"]
    red.close()
    yellow.close()


# -- 5. deep JSON gets an error, and the connection lives --------------------------------------


@pytest.mark.parametrize("v1", [True, False])
async def test_deeply_nested_json_is_answered_with_an_error_and_the_connection_lives(spawn, v1):
    server = spawn()
    reader, writer = await upgraded_from(ATTACKER, server.port, v1=v1)
    deep = b'{"type":"init","x":' + b"[" * 1000 + b"]" * 1000 + b"}"
    assert len(deep) < 4096
    writer.write(client_frame(deep))
    event = json.loads((await read_frame(reader))[1])
    assert event["type"] == "error" and "nested too deeply" in event["message"]
    writer.write(client_frame(b'{"type":"init"}'))
    assert json.loads((await read_frame(reader))[1])["type"] == "init"
    assert "Traceback" not in server.log()
    writer.close()


# -- 9. the page's headers ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/game/abc", "/static/app.js", "/healthz", "/nowhere"])
async def test_every_answer_forbids_framing_sniffing_and_referrers_and_names_no_versions(spawn, path):
    server = spawn()
    _, headers, _ = await get(server.port, path)
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["server"] == "connectfour"


# -- what a stranger may learn of the server ---------------------------------------------------


async def test_a_client_elsewhere_gets_the_health_status_alone_and_no_metrics(spawn):
    server = spawn("--trust-forwarded-for")
    stranger = {"X-Forwarded-For": "198.51.100.7"}
    status, _, body = await get(server.port, "/healthz", headers=stranger)
    assert status == 200 and json.loads(body) == {"status": "ok", "store_reachable": True}
    status, _, _ = await get(server.port, "/metrics", headers=stranger)
    assert status == 404
    status, _, body = await get(server.port, "/healthz")  # the operator, on this host
    assert json.loads(body)["pid"] == server.proc.pid and "store" in json.loads(body)
    status, _, body = await get(server.port, "/metrics")
    assert status == 200 and b"connectfour_connections" in body


async def test_the_metrics_token_shows_the_operator_s_views_to_a_client_elsewhere(spawn):
    server = spawn("--trust-forwarded-for", "--metrics-token", "s3cret-metrics")
    stranger = {"X-Forwarded-For": "198.51.100.7"}
    status, headers, _ = await get(server.port, "/metrics", headers={**stranger, "Authorization": "Bearer wrong"})
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    bearer = {**stranger, "Authorization": "Bearer s3cret-metrics"}
    status, _, body = await get(server.port, "/metrics", headers=bearer)
    assert status == 200 and b"connectfour_connections" in body
    _, _, body = await get(server.port, "/healthz", headers=bearer)
    assert json.loads(body)["pid"] == server.proc.pid
