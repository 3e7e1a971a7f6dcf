"""A trivial server of the tutorial's protocol, to measure the load generator itself.

No rules, no store, no checks: ``init`` creates, joins or watches a game and
``play`` is relayed to the game as the tutorial's ``play`` event. It is a
bare asyncio Protocol, far cheaper per move than a real server, so the rate
``connectfour bench`` reaches against it bounds what the generator can drive.

Run with ``python -m connectfour.bench.echo PORT``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import socket
import sys
from typing import cast

from ..web.wire import frame as text_frame

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_PLAYERS = ("red", "yellow")


class _Game:
    def __init__(self) -> None:
        self.members: list[_Echo] = []
        self.heights = [0] * 7
        self.ply = 0
        self.history: list[bytes] = []  # every play frame, replayed to a new spectator


_JOIN: dict[str, _Game] = {}
_WATCH: dict[str, _Game] = {}


class _Echo(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.upgraded = False
        self.game: _Game | None = None
        self.transport: asyncio.Transport  # set once connected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream transport: it writes
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.game is not None and self in self.game.members:
            self.game.members.remove(self)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).decode("latin-1")
            del buffer[: end + 4]
            key = next(
                line.split(":", 1)[1].strip()
                for line in head.split("\r\n")
                if line.lower().startswith("sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            self.transport.write(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            self.upgraded = True
        while len(buffer) >= 6:
            opcode, size, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if size == 126:
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            end = start + 4 + size
            if len(buffer) < end:
                return
            mask = bytes(buffer[start : start + 4])
            payload = bytes(buffer[start + 4 : end])
            del buffer[:end]
            if mask != b"\x00\x00\x00\x00":
                payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
            if opcode == 0x8:
                self.transport.close()
                return
            if opcode == 0x1:
                self.on_text(payload)

    def on_text(self, payload: bytes) -> None:
        game = self.game
        if game is not None and b'"play"' in payload:
            column = json.loads(payload)["column"]
            row = game.heights[column]
            game.heights[column] = row + 1
            frame = text_frame(
                b'{"type": "play", "player": "%s", "column": %d, "row": %d}'
                % (_PLAYERS[game.ply & 1].encode(), column, row)
            )
            game.ply += 1
            game.history.append(frame)
            for member in game.members:
                member.transport.write(frame)
            return
        event = json.loads(payload)
        if "join" in event:
            self.game = _JOIN.pop(event["join"])
        elif "watch" in event:
            self.game = _WATCH[event["watch"]]
            for frame in self.game.history:
                self.transport.write(frame)
        else:
            self.game = _Game()
            join, watch = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            _JOIN[join] = _WATCH[watch] = self.game
            self.transport.write(text_frame(json.dumps({"type": "init", "join": join, "watch": watch}).encode()))
        self.game.members.append(self)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Echo, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":  # pragma: no cover - run by `connectfour bench --spawn echo`
    import gc

    import uvloop

    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    uvloop.run(serve(int(sys.argv[1])))
