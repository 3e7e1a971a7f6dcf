"""``connectfour play``: a terminal client, for a game without a browser.

Speaks ``connectfour.v1`` to any server: starts an online game (and prints
the invite and watch links; ``--public`` lists it in the lobby), plays
someone (``--match``: whoever waits longest, else the next to come), joins
with an invite link or key, watches with a watch link or key, or plays both
colours on one terminal. ``--name`` is the name the opponent sees. Moves are typed as
column numbers 1 to 7; the board is redrawn after each move. A dropped
connection or a server restart is survived: the client resumes its seat with
backoff, as the web page does. After a game, type r for a rematch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

from ..protocol.messages import SUBPROTOCOL_V1
from ..rules import COLUMNS, ROWS, Board
from .main import _count

SYMBOLS = {"red": "X", "yellow": "O", None: "."}
DEFAULT_URL = "ws://localhost:8000/ws"
#: Errors in answer to the first frame after which there is no game to play.
FATAL = {"game_not_found", "seat_taken", "invalid_token", "not_a_player", "already_started", "invalid_message"}
#: Seconds between reconnection attempts: doubling, capped, as the page does.
BACKOFF = (0.25, 0.5, 1, 2, 4, 8)


def _server_url(value: str) -> str:
    """A server's WebSocket URL; ``http(s)://`` stands for ``ws(s)://``, as a link's server does."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad one
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: {exc}") from None
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not a WebSocket URL such as {DEFAULT_URL}")
    return parts._replace(scheme=scheme).geturl()


def _link(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("an empty link or key")
    return value


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    play = commands.add_parser(
        "play", help="play or watch a game in the terminal", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    play.add_argument("--url", type=_server_url, help=f"the server's WebSocket URL (default {DEFAULT_URL}, or the link's server)")
    mode = play.add_mutually_exclusive_group()
    mode.add_argument("--join", type=_link, metavar="LINK", help="take the seat an invite link (or its key) offers")
    mode.add_argument("--watch", type=_link, metavar="LINK", help="watch a game, by its watch link (or its key)")
    mode.add_argument("--local", action="store_true", help="both colours on this terminal")
    mode.add_argument("--match", action="store_true", help="play someone: whoever waits, or the next to come")
    play.add_argument("--public", action="store_true", help="list a new online game in the lobby, with its invite")
    play.add_argument("--name", help="the name your opponent, spectators and the lobby see (1 to 24 letters and digits)")
    play.add_argument(
        "--analysis", action="store_true",
        help="after each move, show what every column is worth with perfect play (the server's /api/analysis)",
    )  # fmt: skip
    play.add_argument(
        "--retries", type=_count, default=len(BACKOFF) + 4, metavar="N",
        help="reconnection attempts before giving up (default %(default)s)",
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_play(args))
    except KeyboardInterrupt:
        return 130


def draw(moves: list[int], cells: list[list[int]] | None = None, last: bool = False) -> str:
    """The board as text, row 5 on top; winning cells in brackets, the last move (if ``last``) in parentheses."""
    board = Board.from_moves(moves)
    winning = {tuple(cell) for cell in cells or []}
    latest = None
    if last and moves:
        latest = (moves[-1], Board.from_moves(moves[:-1]).height(moves[-1]))
    lines = []
    for row in reversed(range(ROWS)):
        marks = []
        for column in range(COLUMNS):
            mark = SYMBOLS[board.owner(column, row)]
            if (column, row) in winning:
                marks.append(f"[{mark}]")
            elif (column, row) == latest:
                marks.append(f"({mark})")
            else:
                marks.append(f" {mark} ")
        lines.append("|" + "".join(marks) + "|")
    lines.append(" " + "".join(f" {c + 1} " for c in range(COLUMNS)))
    return "\n".join(lines)


def analysis_line(answer: dict[str, Any]) -> str:
    """One line: each column's value for the side to move (W5: wins in 5, L12, D, - full) and the best."""
    values = []
    for index, column in enumerate(answer["columns"], start=1):
        if column is None:
            values.append(f"{index}:-")
        elif column["result"] == "draw":
            values.append(f"{index}:D")
        else:
            values.append(f"{index}:{'W' if column['result'] == 'win' else 'L'}{column['in']}")
    best = " or ".join(str(column + 1) for column in answer["best"])
    return f"Values for {answer['turn']}: {' '.join(values)}. Best: {best}."


def key_and_server(link: str, kind: str) -> tuple[str, str | None]:
    """``http://host/?join=KEY`` -> ("KEY", "ws://host/ws"); a bare key -> (key, None)."""
    parts = urlsplit(link)
    if not parts.scheme or not parts.netloc:
        return link, None
    keys = parse_qs(parts.query).get(kind)
    if not keys:
        raise ValueError(f"{link} is not {'a watch' if kind == 'watch' else 'an invite'} link")
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    return keys[0], f"{scheme}://{parts.netloc}/ws"


class Fatal(Exception):
    """The game cannot go on: the message says why."""


class _Terminal:
    def __init__(self, base: str, hello: dict[str, object]) -> None:
        self.base = base
        self.hello = hello
        self.game: str | None = None
        self.token: str | None = None
        self.moves: list[int] = []
        self.you: str | None = None
        self.turn: str | None = None
        self.over = False
        self.quit = False  # the user asked to leave
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.handshake = False  # the first frame is sent and not answered yet
        #: Set while a move may be sent: typed-ahead moves wait for their turn (and the connection).
        self.ready = asyncio.Event()
        self.sent = False  # a move is on its way; its answer has not come yet
        self.answered = asyncio.Event()  # set whenever no move is on its way
        self.answered.set()
        self.settled = asyncio.Event()  # the first frame was answered once
        #: The opponent's seat is still empty (an invite or a quick match not taken yet).
        self.waiting = False
        #: The players' names, by colour, as the server last told them.
        self.names: dict[str, str | None] = {"red": None, "yellow": None}
        #: Set to show each position's analysis, fetched with this session.
        self.analysis: aiohttp.ClientSession | None = None
        self._analysing: set[asyncio.Task[None]] = set()

    def my_turn(self) -> bool:
        return not self.over and self.turn is not None and self.you in (self.turn, "both")

    def show(self, text: str) -> None:
        print(text, flush=True)

    def first_frame(self) -> dict[str, object]:
        if self.game and self.token:
            return {"type": "resume", "game": self.game, "token": self.token}
        return self.hello

    def prompt(self) -> None:
        if self.my_turn():
            who = f"{(self.turn or '').capitalize()}'s" if self.you == "both" else "Your"
            self.show(f"{who} move (1-7):")

    def handle(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind in ("state", "play", "error"):
            self.sent = False
        if kind in ("state", "error"):
            was_handshake, self.handshake = self.handshake, False
            if kind == "error" and was_handshake:
                self._refused(event)
            self.settled.set()
        if kind == "error" and event.get("code") == "replaced":
            raise Fatal("This seat was taken over by another connection.")
        self._show(event, kind)
        if not self.sent and not (kind == "play" and self.turn is None):
            # (After a game's last move, its result follows: no quitting before it.)
            self.answered.set()
        self._update_ready()

    def _update_ready(self) -> None:
        # Set when the game ends too: a move typed ahead then is dropped, not kept waiting.
        if self.over or (self.my_turn() and not self.sent and self.ws is not None and not self.handshake):
            self.ready.set()
        else:
            self.ready.clear()

    def _refused(self, event: dict[str, Any]) -> None:
        code = event.get("code")
        if code == "game_over" and self.token:
            raise Fatal("The game has ended." if not self.over else "")
        if code in FATAL:
            raise Fatal(event.get("message") or code)

    def _show(self, event: dict[str, Any], kind: str) -> None:
        if kind == "init":
            if event.get("join"):
                self.show(f"Invite a friend: {self.base}/?join={event['join']}")
            self.show(f"Anyone can watch: {self.base}/?watch={event['watch']}")
            if self.you == "spectator":  # a rematch: follow the new game after a drop too
                self.hello = {"type": "init", "watch": event["watch"]}
        elif kind == "state":
            new_game = event["game"] != self.game
            self.names = {color: event.get(f"{color}_name") for color in ("red", "yellow")}
            self.game = event["game"]
            if event.get("token"):
                self.token = event["token"]
            self.moves, self.you, self.turn = event["moves"], event["you"], event["turn"]
            self.over = event["status"] in ("won", "draw", "abandoned")
            self.waiting = event["status"] == "waiting"
            if new_game:
                self.show(f"You are {self.you}." if self.you != "both" else "Both colours play here, red first.")
                if not self.waiting:
                    self.show_names()
            if self.waiting:
                self.show("Looking for an opponent... (q to stop)" if event.get("match") else "Waiting for an opponent...")
            self.show(draw(self.moves, event.get("cells"), last=True))
            if self.over:
                self.offer()
            else:
                self.analyse()
                self.prompt()
        elif kind == "play":
            self.moves.append(event["column"])
            self.turn = event["turn"]
            self.show(f"{event['player']} played column {event['column'] + 1}")
            self.show(draw(self.moves, last=True))
            if self.turn is not None:
                self.analyse()
                self.prompt()
        elif kind == "win":
            self.over = True
            self.show(draw(self.moves, event.get("cells")))
            self.show(f"{event['player'].capitalize()} wins ({event['reason']}).")
            self.offer()
        elif kind == "draw":
            self.over = True
            self.show("Draw: the board is full.")
            self.offer()
        elif kind == "presence":
            names = {color: event.get(f"{color}_name") for color in ("red", "yellow")}
            arrived = self.waiting and "empty" not in (event["red"], event["yellow"])
            if arrived:
                self.waiting = False
                self.show("Your opponent is here.")
            if names != self.names or arrived:
                self.names = names
                self.show_names()
            self.show(f"red: {event['red']}, yellow: {event['yellow']}, {event['spectators']} watching")
            if arrived:
                self.prompt()
        elif kind == "rematch":
            if event["player"] != self.you:
                self.show(f"{event['player'].capitalize()} offers a rematch: type r to accept.")
        elif kind == "error":
            self.show(f"! {event['message']}")
            self.prompt()

    def show_names(self) -> None:
        if any(self.names.values()):
            red, yellow = self.names["red"] or "anonymous", self.names["yellow"] or "anonymous"
            self.show(f"Red: {red}. Yellow: {yellow}.")

    def analyse(self) -> None:
        """Show, when asked for, the value of every column in the position now on the board."""
        if self.analysis is None:
            return
        task = asyncio.ensure_future(self._analyse(self.analysis, "".join(map(str, self.moves))))
        self._analysing.add(task)
        task.add_done_callback(self._analysing.discard)

    async def _analyse(self, session: aiohttp.ClientSession, moves: str) -> None:
        try:
            async with session.get(f"{self.base}/api/analysis", params={"moves": moves}) as response:
                answer = await response.json()
                if response.status != 200:
                    raise ValueError(answer.get("error", f"status {response.status}"))
        except (aiohttp.ClientError, ValueError, asyncio.TimeoutError) as exc:
            self.show(f"(analysis unavailable: {exc})")
            return
        if "".join(map(str, self.moves)) != moves:
            return  # the game went on meanwhile
        self.show(analysis_line(answer))

    def offer(self) -> None:
        if self.you in ("red", "yellow", "both"):
            self.show("Type r for a rematch, or q to quit.")


def _lines() -> asyncio.Queue[str]:
    """Typed lines, "" at the end of input. A daemon thread reads them, so that
    exiting never waits for a line nobody will type."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, daemon=True).start()
    return lines


async def _keyboard(terminal: _Terminal) -> None:
    """Read typed lines until the end of input or q; moves wait for their turn."""
    lines = _lines()
    while True:
        line = await lines.get()
        text = line.strip().lower()
        if not line or text == "q":
            # Quit once the game is on screen and the last move is answered (and its result shown).
            await terminal.settled.wait()
            await terminal.answered.wait()
            terminal.quit = True
            if terminal.ws is not None:
                await terminal.ws.close()
            return
        if terminal.you == "spectator":
            terminal.show("Spectators cannot play.")
        elif text == "r" and terminal.over:
            if terminal.ws is not None:
                await terminal.ws.send_str(json.dumps({"type": "rematch"}))
                if terminal.you != "both":
                    terminal.show("Rematch offered: waiting for your opponent.")
            else:
                terminal.show("Not connected: try again once the connection is back.")
        elif text.isdigit() and 1 <= int(text) <= COLUMNS:
            while True:
                await terminal.ready.wait()
                if terminal.over:
                    terminal.show("The game has ended: type r for a rematch, or q to quit.")
                    break
                ws = terminal.ws
                if ws is None or ws.closed:
                    terminal.ready.clear()
                    continue
                terminal.ready.clear()
                terminal.sent = True
                terminal.answered.clear()
                move = {"type": "play", "column": int(text) - 1, "ply": len(terminal.moves)}
                try:
                    await ws.send_str(json.dumps(move))
                except (aiohttp.ClientError, ConnectionError):
                    # Lost on the way: it is sent again once the seat is back.
                    terminal.sent = False
                    continue
                break
        elif text:
            terminal.show("Type a column number from 1 to 7.")


async def _session(terminal: _Terminal, session: aiohttp.ClientSession, url: str) -> None:
    """One connection: send the first frame, handle events until it closes."""
    async with session.ws_connect(url, protocols=(SUBPROTOCOL_V1,), heartbeat=20) as ws:
        terminal.handshake = True
        terminal.sent = False
        terminal.answered.set()
        terminal.ws = ws
        try:
            await ws.send_str(json.dumps(terminal.first_frame()))
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                terminal.handle(json.loads(message.data))
        finally:
            terminal.ws = None
            terminal.ready.clear()


async def _play(args: argparse.Namespace) -> int:
    hello: dict[str, object] = {"type": "init"}
    url = args.url
    for kind in ("join", "watch"):
        link = getattr(args, kind)
        if link:
            try:
                hello[kind], server = key_and_server(link, kind)
            except ValueError as exc:
                print(f"connectfour: --{kind}: {exc}", file=sys.stderr)
                return 2
            url = url or server
    if args.local:
        hello["local"] = True
    if args.match:
        hello = {"type": "match"}
    elif args.public and not (args.local or args.join or args.watch):
        hello["public"] = True
    if args.name is not None and not args.watch:  # (an empty one too: the server says why not)
        hello["name"] = " ".join(args.name.split())
    url = url or DEFAULT_URL
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "wss" else "http"
    terminal = _Terminal(f"{scheme}://{parts.netloc}", hello)
    typing = asyncio.ensure_future(_keyboard(terminal))
    failures = 0
    try:
        async with aiohttp.ClientSession() as session:
            if args.analysis:
                terminal.analysis = session
            while not terminal.quit:
                try:
                    await _session(terminal, session, url)
                    failures = 0 if terminal.game else failures + 1
                except Fatal as exc:
                    if str(exc):
                        print(f"connectfour: {exc}", file=sys.stderr)
                        return 1
                    return 0  # resumed a game already shown as over: nothing left to do
                except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError) as exc:
                    if terminal.game is None:
                        # Never connected: nothing to resume.
                        print(f"connectfour: cannot reach {url}: {exc}", file=sys.stderr)
                        return 1
                    failures += 1
                if terminal.quit or typing.done():
                    break
                if failures > args.retries:
                    print(f"connectfour: gave up reconnecting to {url}", file=sys.stderr)
                    return 1
                delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                terminal.show(f"Connection lost. Reconnecting in {delay:g} s...")
                await asyncio.sleep(delay)
    finally:
        typing.cancel()
    return 0
