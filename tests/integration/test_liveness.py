"""Dead peers are found by pings and dropped; live ones stay."""

from __future__ import annotations

import asyncio


async def raw_upgrade(server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A peer that completes the handshake and then never answers anything."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await reader.readuntil(b"\r\n\r\n")
    return reader, writer


async def test_a_peer_that_never_answers_pings_is_dropped(make_server):
    server = await make_server(heartbeat=0.1)
    reader, writer = await raw_upgrade(server)
    received = b""
    # The server pings (opcode 9), then, with no pong, cuts the connection.
    while chunk := await asyncio.wait_for(reader.read(1024), 5):
        received += chunk
    assert received[:1] == b"\x89"
    writer.close()


async def test_a_peer_that_answers_pings_stays_connected(make_server):
    server = await make_server(heartbeat=0.1)
    reader, writer = await raw_upgrade(server)
    for _ in range(3):  # three pings in a row, each answered with a pong
        header = await asyncio.wait_for(reader.readexactly(2), 5)
        assert header[0] == 0x89, header
        await reader.readexactly(header[1] & 0x7F)
        writer.write(b"\x8a\x80\x00\x00\x00\x00")
    # Still served: a request gets its answer.
    frame = b'{"type":"init"}'
    writer.write(bytes((0x81, 0x80 | len(frame))) + b"\x00\x00\x00\x00" + frame)
    while True:
        header = await asyncio.wait_for(reader.readexactly(2), 5)
        size = header[1] & 0x7F
        if size == 126:
            size = int.from_bytes(await reader.readexactly(2), "big")
        payload = await reader.readexactly(size)
        if header[0] == 0x81:  # a text frame, between any further pings
            assert payload.startswith(b'{"type": "init", "join": ')
            break
    writer.close()


async def test_a_client_ping_is_answered_with_a_pong(server):
    client = await server.connect()
    pong = await client.ws.ping(b"hello")
    await asyncio.wait_for(pong, 5)


async def test_a_client_close_is_answered_with_the_same_code(server):
    client = await server.connect()
    await client.ws.close(code=4321, reason="done")
    assert client.ws.close_code == 4321  # the code the server sent back
