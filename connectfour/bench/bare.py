"""A bare server of the tutorial's protocol: aiohttp, uvloop and msgspec, games in memory.

The yardstick the performance targets name: what the tutorial's design costs
when written plainly on this stack, with no durability, tokens, presence,
limits or other extension. It checks turns, columns and wins as the
tutorial's ``Connect4`` does, sends each event from the connection's handler
task with ``send_str``, and replays past moves to a spectator.

Run with ``python -m connectfour.bench.bare PORT``.
"""

from __future__ import annotations

import secrets
import sys

import msgspec
from aiohttp import WSMsgType, web

ROWS, COLUMNS = 6, 7


class _Event(msgspec.Struct):
    type: str
    column: int | None = None
    join: str | None = None
    watch: str | None = None


_decoder: msgspec.json.Decoder[_Event] = msgspec.json.Decoder(_Event)  # typed: see protocol/codec.py
_decode = _decoder.decode
_encode = msgspec.json.Encoder().encode


class _Game:
    def __init__(self) -> None:
        self.grid: list[list[str]] = [[] for _ in range(COLUMNS)]
        self.moves: list[tuple[str, int, int]] = []
        self.winner: str | None = None
        self.members: list[web.WebSocketResponse] = []

    @property
    def turn(self) -> str:
        return "red" if len(self.moves) % 2 == 0 else "yellow"

    def play(self, player: str, column: int) -> int:
        if self.winner is not None:
            raise ValueError("The game is over.")
        if player != self.turn:
            raise ValueError("It isn't your turn.")
        if not 0 <= column < COLUMNS or len(self.grid[column]) >= ROWS:
            raise ValueError("This slot is full.")
        row = len(self.grid[column])
        self.grid[column].append(player)
        self.moves.append((player, column, row))
        if self._wins(player, column, row):
            self.winner = player
        return row

    def _owner(self, column: int, row: int) -> str | None:
        if 0 <= column < COLUMNS and 0 <= row < len(self.grid[column]):
            return self.grid[column][row]
        return None

    def _wins(self, player: str, column: int, row: int) -> bool:
        for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
            count = 1
            for sign in (1, -1):
                c, r = column + sign * dc, row + sign * dr
                while self._owner(c, r) == player:
                    count += 1
                    c, r = c + sign * dc, r + sign * dr
            if count >= 4:
                return True
        return False


_JOIN: dict[str, _Game] = {}
_WATCH: dict[str, _Game] = {}


def _error(message: str) -> str:
    return _encode({"type": "error", "message": message}).decode()


async def _handler(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse()
    try:
        await ws.prepare(request)
    except ConnectionResetError:  # the peer left during the handshake
        return web.Response(status=400)
    game: _Game | None = None
    player: str | None = None
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                event = _decode(message.data)
            except msgspec.DecodeError:
                await ws.send_str(_error("Invalid message."))
                continue
            if event.type == "init" and game is None:
                if event.join is not None:
                    game, player = _JOIN.pop(event.join, None), "yellow"
                elif event.watch is not None:
                    game, player = _WATCH.get(event.watch), None
                    for mover, column, row in game.moves if game else ():
                        await ws.send_str(
                            _encode({"type": "play", "player": mover, "column": column, "row": row}).decode()
                        )
                else:
                    game, player = _Game(), "red"
                    join, watch = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
                    _JOIN[join], _WATCH[watch] = game, game
                    await ws.send_str(_encode({"type": "init", "join": join, "watch": watch}).decode())
                if game is None:
                    await ws.send_str(_error("Game not found."))
                    continue
                game.members.append(ws)
            elif event.type == "play" and game is not None and player is not None and event.column is not None:
                try:
                    row = game.play(player, event.column)
                except ValueError as exc:
                    await ws.send_str(_error(str(exc)))
                    continue
                play = _encode({"type": "play", "player": player, "column": event.column, "row": row}).decode()
                for member in list(game.members):
                    await member.send_str(play)
                if game.winner is not None:
                    win = _encode({"type": "win", "player": game.winner}).decode()
                    for member in list(game.members):
                        await member.send_str(win)
            else:
                await ws.send_str(_error("Unexpected message."))
    finally:
        if game is not None and ws in game.members:
            game.members.remove(ws)
    return ws


def main(port: int) -> None:
    import gc

    import uvloop

    app = web.Application()
    app.router.add_get("/ws", _handler)
    app.router.add_get("/", _handler)
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":  # pragma: no cover - run by `connectfour bench --spawn bare`
    main(int(sys.argv[1]))
