"""Attacks on a real `connectfour serve` process (uvloop, SQLite), each from one
client on 127.0.0.1, while an honest user on 127.0.0.2 checks that the server
still answers. Sizes are small so the suite stays fast; the bounds they check
are the ones that hold at any size."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from servers import ServerProcess

ATTACKER = "127.0.0.1"
USER = "127.0.0.2"
TIMEOUT = 10.0


def rss(pid: int) -> int:
    """The process's resident memory in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def open_from(
    address: str, port: int, *, rcvbuf: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection from ``address``; a small ``rcvbuf`` makes a peer that does not read fill up at once."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((address, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The next server frame: opcode and payload."""
    first, second = await asyncio.wait_for(reader.readexactly(2), TIMEOUT)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await asyncio.wait_for(reader.readexactly(size), TIMEOUT)


async def get(
    port: int, path: str = "/healthz", *, address: str = USER, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP GET on a fresh connection: status, headers (lower-case names), body."""
    reader, writer = await open_from(address, port)
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n".encode())
        raw = await asyncio.wait_for(reader.read(-1), TIMEOUT)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


async def healthy(port: int) -> None:
    """/healthz answers the honest user."""
    status, _, body = await get(port)
    assert status == 200 and b'"ok"' in body


@pytest.fixture
def spawn() -> Iterator:
    servers: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess(*args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()
