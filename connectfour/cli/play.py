"""``connectfour play``: a terminal client, for a game without a browser.

Speaks ``connectfour.v1`` to any server: starts an online game (and prints
the invite and watch links), joins with an invite key, watches with a watch
key, or plays both colours on one terminal. Moves are typed as column
numbers 1 to 7; the board is redrawn after each move.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..protocol.messages import SUBPROTOCOL_V1
from ..rules import COLUMNS, ROWS, Board

SYMBOLS = {"red": "X", "yellow": "O", None: "."}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    play = commands.add_parser("play", help="play or watch a game in the terminal", description=__doc__)
    play.add_argument("--url", default="ws://localhost:8000/ws", help="the server's WebSocket URL (default %(default)s)")
    mode = play.add_mutually_exclusive_group()
    mode.add_argument("--join", metavar="KEY", help="take the seat an invite key offers")
    mode.add_argument("--watch", metavar="KEY", help="watch a game")
    mode.add_argument("--local", action="store_true", help="both colours on this terminal")


def main(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_play(args))
    except KeyboardInterrupt:
        return 130


def draw(moves: list[int], cells: list[list[int]] | None = None) -> str:
    """The board as text, row 5 on top; winning cells in brackets."""
    board = Board.from_moves(moves)
    winning = {tuple(cell) for cell in cells or []}
    lines = []
    for row in reversed(range(ROWS)):
        marks = []
        for column in range(COLUMNS):
            mark = SYMBOLS[board.owner(column, row)]
            marks.append(f"[{mark}]" if (column, row) in winning else f" {mark} ")
        lines.append("|" + "".join(marks) + "|")
    lines.append(" " + "".join(f" {c + 1} " for c in range(COLUMNS)))
    return "\n".join(lines)


class _Terminal:
    def __init__(self, base: str) -> None:
        self.base = base
        self.moves: list[int] = []
        self.you: str | None = None
        self.turn: str | None = None
        self.over = False
        #: Set while a move may be sent: typed-ahead moves wait for their turn.
        self.ready = asyncio.Event()
        self.sent = False  # a move is on its way; its answer has not come yet
        self.answered = asyncio.Event()  # set whenever no move is on its way
        self.answered.set()

    def my_turn(self) -> bool:
        return not self.over and self.turn is not None and self.you in (self.turn, "both")

    def show(self, text: str) -> None:
        print(text, flush=True)

    def prompt(self) -> None:
        if self.my_turn():
            who = f"{self.turn} " if self.you == "both" else ""
            self.show(f"Your move, {who}(1-7):")

    def handle(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind in ("state", "play", "error"):
            self.sent = False
        self._show(event, kind)
        if not self.sent and not (kind == "play" and self.turn is None):
            # (After a game's last move, its result follows: no quitting before it.)
            self.answered.set()
        if self.my_turn() and not self.sent:
            self.ready.set()
        else:
            self.ready.clear()

    def _show(self, event: dict[str, Any], kind: str) -> None:
        if kind == "init":
            if event.get("join"):
                self.show(f"Invite a friend: {self.base}/?join={event['join']}")
            self.show(f"Anyone can watch: {self.base}/?watch={event['watch']}")
        elif kind == "state":
            self.moves, self.you, self.turn = event["moves"], event["you"], event["turn"]
            self.over = event["status"] in ("won", "draw", "abandoned")
            self.show(f"You are {self.you}." if self.you != "both" else "Both colours play here, red first.")
            if event["status"] == "waiting":
                self.show("Waiting for an opponent...")
            self.show(draw(self.moves, event.get("cells")))
            self.prompt()
        elif kind == "play":
            self.moves.append(event["column"])
            self.turn = event["turn"]
            self.show(f"{event['player']} played column {event['column'] + 1}")
            self.show(draw(self.moves))
            if self.turn is not None:
                self.prompt()
        elif kind == "win":
            self.over = True
            self.show(draw(self.moves, event.get("cells")))
            self.show(f"{event['player'].capitalize()} wins ({event['reason']}).")
        elif kind == "draw":
            self.over = True
            self.show("Draw: the board is full.")
        elif kind == "presence":
            self.show(f"red: {event['red']}, yellow: {event['yellow']}, {event['spectators']} watching")
        elif kind == "error":
            self.show(f"! {event['message']}")
            self.prompt()


async def _play(args: argparse.Namespace) -> int:
    parts = urlsplit(args.url)
    scheme = "https" if parts.scheme == "wss" else "http"
    terminal = _Terminal(f"{scheme}://{parts.netloc}")
    hello: dict[str, object] = {"type": "init"}
    if args.join:
        hello["join"] = args.join
    elif args.watch:
        hello["watch"] = args.watch
    elif args.local:
        hello["local"] = True
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as session, session.ws_connect(args.url, protocols=(SUBPROTOCOL_V1,)) as ws:
            await ws.send_str(json.dumps(hello))

            async def keyboard() -> None:
                while True:
                    line = await loop.run_in_executor(None, sys.stdin.readline)
                    if not line:  # end of input: quit once the last move is answered
                        await terminal.answered.wait()
                        await ws.close()
                        return
                    text = line.strip()
                    if terminal.you == "spectator":
                        terminal.show("Spectators cannot play.")
                    elif text.isdigit() and 1 <= int(text) <= COLUMNS:
                        await terminal.ready.wait()
                        terminal.ready.clear()
                        terminal.sent = True
                        terminal.answered.clear()
                        await ws.send_str(json.dumps({"type": "play", "column": int(text) - 1, "ply": len(terminal.moves)}))
                    elif text:
                        terminal.show("Type a column number from 1 to 7.")

            typing = asyncio.ensure_future(keyboard())
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                terminal.handle(json.loads(message.data))
                if terminal.over:
                    break
            typing.cancel()
    except aiohttp.ClientError as exc:
        print(f"connectfour: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    return 0
