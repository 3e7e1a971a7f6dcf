"""The front door: upgrades read from the raw bytes; every other request still aiohttp's.

Requests here are written byte for byte on a raw socket. The front door's
101 answer carries no ``Server`` header and aiohttp's does, which tells
which of the two answered.
"""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest
from client import Client

from connectfour.web.endpoint import CLIENTS, CONNECTIONS
from connectfour.web.handshake import accept_key, choose_subprotocol, key_valid

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's own example
TIMEOUT = 5.0
INIT = b'{"type":"init"}'


def upgrade_request(
    path: str = "/ws", *, extra: str = "", key: str = KEY, version: str = "13", first: str = "GET"
) -> bytes:
    return (
        f"{first} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n{extra}\r\n"
    ).encode("latin-1")


def text_frame(payload: bytes) -> bytes:
    return bytes((0x81, 0x80 | len(payload))) + b"\0\0\0\0" + payload


class Raw:
    """One raw connection to the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, server) -> Raw:
        return cls(*await asyncio.open_connection("127.0.0.1", server.port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body (by Content-Length) of one HTTP answer."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        size = int(headers.get("content-length", 0))
        body = await asyncio.wait_for(self.reader.readexactly(size), TIMEOUT) if size else b""
        return status, headers, body

    async def frame(self) -> tuple[int, bytes]:
        first, second = await asyncio.wait_for(self.reader.readexactly(2), TIMEOUT)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await self.reader.readexactly(2), "big")
        return first & 0x0F, await asyncio.wait_for(self.reader.readexactly(size), TIMEOUT)

    async def closed_by_server(self) -> bool:
        """True once the server closed the connection (whatever it sent before)."""
        while await asyncio.wait_for(self.reader.read(65536), TIMEOUT):
            pass
        return True

    def close(self) -> None:
        self.writer.close()


async def upgraded(server, request: bytes) -> tuple[Raw, dict[str, str]]:
    raw = await Raw.open(server)
    await raw.send(request)
    status, headers, _ = await raw.answer()
    assert status == 101, headers
    return raw, headers


# -- the handshake's pieces --------------------------------------------------------


def test_the_accept_key_is_rfc_6455s():
    assert accept_key(KEY.encode()) == ACCEPT.encode()
    assert accept_key(b"x3JJHMbDL1EzLkh9GBhXDw==") == b"HSmrc0sMlYUkAGmm5OPpG2HaGWk="


@pytest.mark.parametrize(
    "key, valid",
    [
        (KEY, True),
        (base64.b64encode(bytes(16)).decode(), True),
        ("dGhlIHNhbXBsZSBub25jZQ", False),  # no padding
        (base64.b64encode(bytes(15)).decode(), False),
        (base64.b64encode(bytes(17)).decode(), False),
        ("dGhlIHNhbXBsZSBub25j*Q==", False),
        ("dGhlIHNhbXBsZSBub2 5jZQ=", False),
        ("", False),
    ],
)
def test_only_a_16_byte_base64_key_is_valid(key, valid):
    assert key_valid(key.encode()) is valid


def test_the_first_offered_subprotocol_we_speak_is_chosen():
    assert choose_subprotocol("connectfour.v1", ("connectfour.v1",)) == "connectfour.v1"
    assert choose_subprotocol(" chat ,  connectfour.v1 ", ("connectfour.v1",)) == "connectfour.v1"
    assert choose_subprotocol("chat, superchat", ("connectfour.v1",)) is None
    assert choose_subprotocol(",,", ("connectfour.v1",)) is None


# -- upgrades the door answers -----------------------------------------------------


@pytest.mark.parametrize("path", ["/ws", "/"])
async def test_an_upgrade_is_answered_by_the_door_and_plays(door, path):
    server = await door()
    raw, headers = await upgraded(server, upgrade_request(path))
    assert headers["sec-websocket-accept"] == ACCEPT
    assert headers["upgrade"].lower() == "websocket" and "server" not in headers
    assert "sec-websocket-protocol" not in headers
    await raw.send(text_frame(INIT))
    opcode, payload = await raw.frame()
    assert opcode == 1 and payload.startswith(b'{"type": "init", "join": ')  # the tutorial's own spacing
    raw.close()


async def test_the_subprotocol_is_negotiated_by_the_door(door):
    server = await door()
    raw, headers = await upgraded(server, upgrade_request(extra="Sec-WebSocket-Protocol: chat, connectfour.v1\r\n"))
    assert headers["sec-websocket-protocol"] == "connectfour.v1" and "server" not in headers
    await raw.send(text_frame(INIT))
    _, payload = await raw.frame()
    assert payload.startswith(b'{"type":"init","game":')  # v1's compact encoding
    raw.close()
    raw, headers = await upgraded(server, upgrade_request(extra="Sec-WebSocket-Protocol: chat\r\n"))
    assert "sec-websocket-protocol" not in headers
    raw.close()


async def test_header_names_and_values_are_read_as_http_says(door):
    server = await door()
    request = (
        b"GET /ws HTTP/1.1\r\nhost:127.0.0.1\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
        b"sec-websocket-key:\t" + KEY.encode() + b" \r\nSEC-WEBSOCKET-VERSION: 13\r\nUser-Agent: t\xe9st\r\n\r\n"
    )
    raw, headers = await upgraded(server, request)
    assert headers["sec-websocket-accept"] == ACCEPT and "server" not in headers
    raw.close()


@pytest.mark.parametrize("cut", [1, 3, 4, 20, 60, -3, -2, -1])
async def test_a_request_in_pieces_is_put_together(door, cut):
    server = await door()
    request = upgrade_request()
    raw = await Raw.open(server)
    await raw.send(request[:cut])
    await asyncio.sleep(0.01)  # let the first piece arrive on its own
    await raw.send(request[cut:])
    status, headers, _ = await raw.answer()
    assert status == 101 and "server" not in headers
    raw.close()


async def test_a_request_one_byte_at_a_time_is_answered(door):
    server = await door()
    raw = await Raw.open(server)
    for byte in upgrade_request():
        await raw.send(bytes((byte,)))
    status, headers, _ = await raw.answer()
    assert status == 101 and headers["sec-websocket-accept"] == ACCEPT
    raw.close()


async def test_frames_sent_with_the_request_are_answered(door):
    server = await door()
    raw = await Raw.open(server)
    await raw.send(upgrade_request() + text_frame(INIT) + text_frame(b'{"type":"play","column":9}'))
    status, _, _ = await raw.answer()
    assert status == 101
    assert (await raw.frame())[1].startswith(b'{"type": "init"')
    assert (await raw.frame())[1].startswith(b'{"type": "error"')
    raw.close()


async def test_an_allowed_origin_passes_the_door(door):
    server = await door(allowed_origins=("https://play.example",))
    raw, headers = await upgraded(server, upgrade_request(extra="Origin: https://play.example\r\n"))
    assert "server" not in headers
    raw.close()
    server = await door()
    raw, headers = await upgraded(server, upgrade_request(extra="Origin: http://127.0.0.1\r\n"))
    assert "server" not in headers
    raw.close()


# -- what the door leaves to aiohttp -----------------------------------------------


async def test_a_foreign_origin_is_refused_with_403_and_logged(door, caplog):
    server = await door()
    raw = await Raw.open(server)
    with caplog.at_level(logging.WARNING, "connectfour.web"):
        await raw.send(upgrade_request(extra="Origin: http://evil.example\r\n"))
        status, _, body = await raw.answer()
    assert status == 403 and b"evil.example" in body
    assert "origin 'http://evil.example' not allowed" in caplog.text
    raw.close()


async def test_a_non_ascii_origin_is_refused(door):
    server = await door()
    raw = await Raw.open(server)
    await raw.send(upgrade_request(extra="Origin: http://\xe9vil.example\r\n"))
    status, _, _ = await raw.answer()
    assert status == 403
    raw.close()


@pytest.mark.parametrize(
    "request_bytes, status, words",
    [
        (upgrade_request(key="dGhlIHNhbXBsZSBub25jZQ"), 400, "16 bytes in base64"),
        (upgrade_request(key="not a key at all, clearly"), 400, "16 bytes in base64"),
        (upgrade_request(key=""), 400, "16 bytes in base64"),
        (upgrade_request(version="8"), 400, "version 13"),
        (upgrade_request().replace(b"Upgrade: websocket", b"Upgrade: h2c"), 400, "websocket"),
        (upgrade_request().replace(b"Connection: Upgrade", b"Connection: close"), 400, "Connection header"),
        (upgrade_request(first="POST"), 405, ""),
        (upgrade_request("/nowhere"), 404, ""),
    ],
)
async def test_a_bad_upgrade_gets_aiohttps_clear_answer(door, request_bytes, status, words):
    server = await door()
    raw = await Raw.open(server)
    await raw.send(request_bytes)
    got, headers, body = await raw.answer()
    assert got == status, body
    assert words.lower() in body.decode().lower()
    if words == "version 13":
        assert headers["sec-websocket-version"] == "13"
    raw.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",  # a header line with no colon
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40),  # a TLS hello
        b"GET / HTTP/1.1\nHost: 127.0.0.1\n\n",  # bare LF line ends
        b"get / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\x01b\r\n\r\n",  # a control character in a value
    ],
)
async def test_what_is_not_http_gets_400_at_once_naming_no_versions(door, request_bytes):
    server = await door()
    raw = await Raw.open(server)
    await raw.send(request_bytes)
    status, headers, body = await raw.answer()
    assert status == 400 and headers["server"] == "connectfour" and body
    assert await raw.closed_by_server()
    raw.close()


async def test_an_oversized_head_is_aiohttps_to_refuse(door):
    server = await door()
    raw = await Raw.open(server)
    await raw.send(upgrade_request(extra="X-Padding: " + "a" * 9000 + "\r\n"))
    status, _, _ = await raw.answer()
    assert status == 400
    raw.close()


async def test_a_long_but_legal_head_is_upgraded_by_aiohttp(door):
    """Past the door's limit, still within aiohttp's: aiohttp answers, then the wire takes over."""
    server = await door()
    padding = "".join(f"X-Padding-{i}: {'b' * 1000}\r\n" for i in range(10))
    raw, headers = await upgraded(server, upgrade_request(extra=padding))
    assert headers["sec-websocket-accept"] == ACCEPT and "server" in headers
    await raw.send(text_frame(INIT))
    assert (await raw.frame())[1].startswith(b'{"type": "init"')
    raw.close()


async def test_a_query_string_is_left_to_aiohttp(door):
    server = await door()
    raw, headers = await upgraded(server, upgrade_request("/ws?from=test"))
    assert "server" in headers
    raw.close()


async def test_the_page_and_keep_alive_are_aiohttps_then_an_upgrade_on_the_same_connection(door):
    server = await door()
    raw = await Raw.open(server)
    await raw.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, headers, body = await raw.answer()
    assert status == 200 and headers["content-type"].startswith("text/html") and b"<html" in body.lower()
    await raw.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, _, body = await raw.answer()
    assert status == 200 and b'"status":"ok"' in body.replace(b" ", b"")
    await raw.send(upgrade_request())
    status, headers, _ = await raw.answer()
    assert status == 101 and headers["sec-websocket-accept"] == ACCEPT
    await raw.send(text_frame(INIT))
    assert (await raw.frame())[1].startswith(b'{"type": "init"')
    raw.close()


async def test_pipelined_requests_are_all_answered(door):
    server = await door()
    raw = await Raw.open(server)
    await raw.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2)
    assert (await raw.answer())[0] == 200
    assert (await raw.answer())[0] == 200
    raw.close()


# -- time limits and shutdown ------------------------------------------------------


@pytest.mark.parametrize("sent", [b"", b"GET /ws HTTP/1.1\r\nHost: 127"])
async def test_a_peer_that_never_finishes_its_request_is_closed(door, sent):
    server = await door(handshake_timeout=0.05)
    raw = await Raw.open(server)
    await raw.send(sent)
    assert await raw.closed_by_server()
    raw.close()


async def test_shutdown_closes_waiting_doors_and_tells_connections(door):
    server = await door()
    waiting = await Raw.open(server)
    await waiting.send(b"GET /ws HTTP/1.1\r\n")
    player, _ = await upgraded(server, upgrade_request(extra="Sec-WebSocket-Protocol: connectfour.v1\r\n"))
    await player.send(text_frame(INIT))
    await player.frame()
    await server.close()
    assert await waiting.closed_by_server()
    frames = []
    while True:
        opcode, payload = await player.frame()
        frames.append(opcode)
        if opcode == 0x8:
            assert payload[:2] == (1012).to_bytes(2, "big")
            break
    waiting.close()
    player.close()


async def test_a_vanished_peer_leaves_nothing_behind(door):
    server = await door()
    guards = server.site.factory
    for request in (b"", upgrade_request()[:10], upgrade_request()):
        raw = await Raw.open(server)
        await raw.send(request)
        raw.writer.transport.abort()
    async with asyncio.timeout(TIMEOUT):
        while guards._young or guards._old or server.app[CONNECTIONS] or len(server.app[CLIENTS]):
            await asyncio.sleep(0.001)
    raw = await Raw.open(server)
    await raw.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert (await raw.answer())[0] == 200
    raw.close()


async def test_a_websockets_library_client_is_answered_by_the_door(door):
    server = await door()
    client = await Client.open(server.url, v1=True)
    assert client.ws.subprotocol == "connectfour.v1"
    assert "Server" not in client.ws.response.headers
    await client.send({"type": "init"})
    await client.expect("init")
    await client.close()
