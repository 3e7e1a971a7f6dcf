"""connectfour play: a terminal client, for a game without a browser.

Speaks connectfour.v1 to any server: starts an online game (and prints the
invite and watch links; --public lists it in the lobby), plays someone
(--match: whoever waits longest, else the next to come), joins with an
invite link or key, watches with a watch link or key, or plays both colours
on one terminal. --name is the name the opponent sees.

Type a column number, 1 to 7, to play; the board is redrawn after each
move. Type help for every command: claim (win once an opponent has been
away too long), resign, r (a rematch, after a game) and q (quit; Ctrl-C
too). A dropped connection or a server restart is survived: the client
resumes its seat with backoff, as the web page does.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import json
import math
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import aiohttp
import msgspec

from ..protocol.messages import (
    SUBPROTOCOL_V1,
    AnnouncementEvent,
    DrawEvent,
    ErrorEvent,
    InitEvent,
    Name,
    PlayEvent,
    PresenceEvent,
    RematchEvent,
    ServerEvent,
    StateEvent,
    WinEvent,
)
from ..protocol.names import name_problem
from ..rules import COLUMNS, ROWS, Board
from .arguments import count as _count
from .safe import Analysis, analysis_error, clean, legal, read, read_analysis

SYMBOLS = {"red": "X", "yellow": "O", None: "."}
#: Errors in answer to the first frame after which there is no game to play.
FATAL = {"game_not_found", "seat_taken", "invalid_token", "not_a_player", "already_started", "invalid_message"}
#: Seconds between reconnection attempts: doubling, capped, as the page does.
BACKOFF = (0.25, 0.5, 1, 2, 4, 8)
#: Quitting waits for the answer to a move on its way, as long as the server keeps
#: talking: at most this long after its last frame.
QUIT_IDLE = 3.0
#: The end of input (a script) waits for the game, and the moves typed to be played
#: and answered, as long as the server keeps talking: at most this long after its last frame.
END_IDLE = 10.0
#: Seconds a connection's closing handshake may take before it is cut.
CLOSE_TIMEOUT = 1.0
#: Seconds a server has to accept a WebSocket connection.
CONNECT_TIMEOUT = 15.0
HELP = """Commands:
  1 to 7   drop a checker in that column (typed early, it is played on your turn)
  claim    win the game, once your opponent has been away longer than the server allows
  resign   give the game up: your opponent wins
  r        after a game: offer a rematch, or accept one
  help     this list
  q        quit (Ctrl-C or Ctrl-D too)"""


def default_url() -> str:
    """``ws://localhost:$PORT/ws``, the port ``connectfour serve`` listens on by default."""
    port = os.environ.get("PORT", "").strip()
    return f"ws://localhost:{port if port.isdigit() else 8000}/ws"


def _server_url(value: str) -> str:
    """A server's WebSocket URL; ``http(s)://`` stands for ``ws(s)://``, as a link's server does."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad one
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: {exc}") from None
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not a WebSocket URL such as ws://localhost:8000/ws")
    return parts._replace(scheme=scheme).geturl()


def _link(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("an empty link or key")
    return value


def _name(value: str) -> str:
    """A display name the server accepts, spaces made single; else a plain reason."""
    name = " ".join(value.split())
    try:
        accepted = msgspec.convert(name, type=Name)
    except msgspec.ValidationError:
        pass
    else:
        problem = name_problem(accepted)
        if problem is None:
            return accepted
        raise argparse.ArgumentTypeError(f"{clean(value, 40)!r}: {problem}")
    if not name:
        reason = "a name cannot be empty"
    elif len(name) > 24:
        reason = f"a name has at most 24 characters, this one has {len(name)}"
    else:
        reason = "a name holds only letters, digits, _ - . ' and single spaces between words"
    raise argparse.ArgumentTypeError(f"{clean(value, 40)!r}: {reason}")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    play = commands.add_parser(
        "play", help="play or watch a game in the terminal", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    play.add_argument(
        "--url", type=_server_url,
        help="the server's WebSocket URL (default: the link's server, else ws://localhost:$PORT/ws, port 8000 without $PORT)",
    )  # fmt: skip
    mode = play.add_mutually_exclusive_group()
    mode.add_argument("--join", type=_link, metavar="LINK", help="take the seat an invite link (or its key) offers")
    mode.add_argument("--watch", type=_link, metavar="LINK", help="watch a game, by its watch link (or its key)")
    mode.add_argument("--local", action="store_true", help="both colours on this terminal")
    mode.add_argument("--match", action="store_true", help="play someone: whoever waits, or the next to come")
    play.add_argument("--public", action="store_true", help="list a new online game in the lobby, with its invite")
    play.add_argument(
        "--name", type=_name,
        help="the name your opponent, spectators and the lobby see: 1 to 24 letters and digits, "
        "with _ - . ' and single spaces between words",
    )  # fmt: skip
    play.add_argument(
        "--analysis", action="store_true",
        help="after each move, show what every column is worth with perfect play (the server's /api/analysis)",
    )  # fmt: skip
    play.add_argument(
        "--retries", type=_count, default=len(BACKOFF) + 4, metavar="N",
        help="reconnection attempts before giving up (default %(default)s)",
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    # A name or a message in a script the terminal cannot show is printed with
    # replacement characters, never a UnicodeEncodeError.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    try:
        return asyncio.run(_play(args))
    except KeyboardInterrupt:
        return 130


def draw(moves: list[int], cells: list[tuple[int, int]] | list[list[int]] | None = None, last: bool = False) -> str:
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


def analysis_line(answer: Analysis) -> str:
    """One line: each column's value for the side to move (W5: wins in 5, L12, D, - full) and the best."""
    values = []
    for index, column in enumerate(answer.columns, start=1):
        if column is None:
            values.append(f"{index}:-")
        elif column.result == "draw":
            values.append(f"{index}:D")
        else:
            values.append(f"{index}:{'W' if column.result == 'win' else 'L'}{column.moves}")
    best = " or ".join(str(column + 1) for column in answer.best)
    return f"Values for {answer.turn}: {' '.join(values)}. Best: {best}."


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


class Resync(Exception):
    """The server's events do not follow from one another: reconnect for a fresh snapshot."""


def _colour(player: str) -> str:
    return player.capitalize()


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
        #: Columns typed and not sent yet, oldest first; ``queued`` is set while there are some.
        self.pending: deque[int] = deque()
        self.queued = asyncio.Event()
        self.sent = False  # a move is on its way; its answer has not come yet
        self.answered = asyncio.Event()  # set whenever no move is on its way
        self.answered.set()
        self.settled = asyncio.Event()  # the first frame was answered once
        #: Set on every frame read: quitting waits only for a server that still talks.
        self.heard = asyncio.Event()
        #: The opponent's seat is still empty (an invite or a quick match not taken yet).
        self.waiting = False
        #: The players' names, by colour, as the server last told them (cleaned).
        self.names: dict[str, str | None] = {"red": None, "yellow": None}
        #: Seats as the server last told them, and what was said of the opponent's absence.
        self.seats: dict[str, str] = {"red": "connected", "yellow": "connected"}
        self.absence: str | None = None
        self.offered = False  # this terminal offered a rematch of the game on screen
        self.unreadable = False  # an unreadable frame was reported on this connection
        self.stated = False  # a state came on this connection
        #: Set to show each position's analysis, fetched with this session.
        self.analysis: aiohttp.ClientSession | None = None
        self._analysing: set[asyncio.Task[None]] = set()

    def my_turn(self) -> bool:
        return not self.over and self.turn is not None and self.you in (self.turn, "both")

    def is_player(self) -> bool:
        return self.you in ("red", "yellow", "both")

    def show(self, text: str) -> None:
        # Every line cleaned once more: nothing reaches the terminal raw.
        print("\n".join(clean(line, 2000) for line in text.split("\n")), flush=True)

    def first_frame(self) -> dict[str, object]:
        if self.game and self.token:
            return {"type": "resume", "game": self.game, "token": self.token}
        return self.hello

    def prompt(self) -> None:
        if self.my_turn():
            who = f"{_colour(self.turn or '')}'s" if self.you == "both" else "Your"
            self.show(f"{who} move (1-7):")

    def frame(self, data: str | bytes) -> None:
        """Handle one frame as the server sent it."""
        self.heard.set()
        event = read(data)
        if event is None:
            if not self.unreadable:
                self.unreadable = True
                self.show("(The server sent a message this client cannot read: ignored.)")
            return
        self.handle(event)

    def handle(self, event: ServerEvent) -> None:
        if isinstance(event, (StateEvent, PlayEvent, ErrorEvent)):
            self.sent = False
        if isinstance(event, (StateEvent, ErrorEvent)):
            was_handshake, self.handshake = self.handshake, False
            if isinstance(event, ErrorEvent) and was_handshake:
                self._refused(event)
            self.settled.set()
        if isinstance(event, ErrorEvent) and event.code == "replaced":
            raise Fatal("This seat was taken over by another connection.")
        self._show(event)
        if not self.sent and not (isinstance(event, PlayEvent) and self.turn is None):
            # (After a game's last move, its result follows: no quitting before it.)
            self.answered.set()
        self.update_ready()

    def update_ready(self) -> None:
        # Set when the game ends too: a move typed ahead then is dropped, not kept waiting.
        if self.over or (self.my_turn() and not self.sent and self.ws is not None and not self.handshake):
            self.ready.set()
        else:
            self.ready.clear()

    def _refused(self, event: ErrorEvent) -> None:
        if event.code == "game_over" and self.token:
            raise Fatal("The game has ended." if not self.over else "")
        if event.code in FATAL:
            raise Fatal(clean(event.message) or event.code)

    def _show(self, event: ServerEvent) -> None:
        if isinstance(event, InitEvent):
            if event.join:
                self.show(f"Invite a friend: {self.base}/?join={event.join}")
            self.show(f"Anyone can watch: {self.base}/?watch={event.watch}")
            if self.you == "spectator":  # a rematch: follow the new game after a drop too
                self.hello = {"type": "init", "watch": event.watch}
        elif isinstance(event, StateEvent):
            self._state(event)
        elif isinstance(event, PlayEvent):
            self._play(event)
        elif isinstance(event, WinEvent):
            if self.over:
                return  # (a state already told it)
            self.over = True
            self.turn = None
            self.show(draw(self.moves, event.cells))
            self.show(self._result(event.player, event.reason))
            self.offer()
        elif isinstance(event, DrawEvent):
            if self.over:
                return
            self.over = True
            self.turn = None
            self.show("Draw: the board is full.")
            self.offer()
        elif isinstance(event, PresenceEvent):
            self._presence(event)
        elif isinstance(event, RematchEvent):
            if event.player == self.you or self.you == "both":
                return
            if self.offered:
                self.show(f"{_colour(event.player)} accepts the rematch: a new game begins.")
            elif self.is_player():
                self.show(f"{_colour(event.player)} offers a rematch: type r to accept.")
            else:
                self.show(f"{_colour(event.player)} offers a rematch.")
        elif isinstance(event, ErrorEvent):
            self.show(f"! {clean(event.message) or event.code}")
            self.prompt()
        elif isinstance(event, AnnouncementEvent):
            self.show(f"Announcement: {clean(event.message)}")
            if event.restart:
                self.show("(The server is restarting: this game carries on once it is back.)")
        # A lobby or a cancelled event: nothing this client asked for.

    def _state(self, event: StateEvent) -> None:
        self.stated = True
        previous, new_game = self.game, event.game != self.game
        self.names = {"red": _name_of(event.red_name), "yellow": _name_of(event.yellow_name)}
        self.game = event.game
        if event.token:
            self.token = event.token
        self.moves, self.you, self.turn = list(event.moves), event.you, event.turn
        self.over = event.status in ("won", "draw", "abandoned")
        self.waiting = event.status == "waiting"
        self.seats = {"red": event.red, "yellow": event.yellow}
        if new_game:
            self.offered = False
            self.absence = None
            if previous is not None:  # a rematch: moves typed for the last game are not for this one
                self.pending.clear()
                self.queued.clear()
            if self.you == "both":
                self.show("Both colours play here, red first.")
            elif self.you == "spectator":
                self.show("You are watching this game.")
            else:
                self.show(f"You are {self.you}.")
            if not self.waiting:
                self.show_names()
        if self.waiting:
            self.show("Looking for an opponent... (q to stop)" if event.match else "Waiting for an opponent...")
        self.show(draw(self.moves, event.cells, last=True))
        if self.over:
            if event.status == "won" and event.winner:
                self.show(self._result(event.winner, event.reason))
            elif event.status == "draw":
                self.show("Draw: the board is full.")
            elif event.status == "abandoned":
                self.show("The game was abandoned: nobody played for too long.")
            self.offer()
        else:
            self._absence(event.red_claimable_in, event.yellow_claimable_in)
            self.analyse()
            self.prompt()

    def _play(self, event: PlayEvent) -> None:
        if event.ply < len(self.moves):
            return  # already on the board
        board = legal(self.moves + [event.column])
        if event.ply > len(self.moves) or board is None or self.over or board.turn != event.turn:
            raise Resync
        self.moves.append(event.column)
        self.turn = event.turn
        self.show(f"{event.player} played column {event.column + 1}")
        self.show(draw(self.moves, last=True))
        if self.turn is not None:
            self.analyse()
            self.prompt()

    def _presence(self, event: PresenceEvent) -> None:
        names = {"red": _name_of(event.red_name), "yellow": _name_of(event.yellow_name)}
        arrived = self.waiting and "empty" not in (event.red, event.yellow)
        self.seats = {"red": event.red, "yellow": event.yellow}
        if arrived:
            self.waiting = False
            self.show("Your opponent is here.")
        if names != self.names or arrived:
            self.names = names
            self.show_names()
        if self.over:
            return  # who is connected means nothing once the game is over
        if self.you in ("red", "yellow"):
            self._absence(event.red_claimable_in, event.yellow_claimable_in)
        elif self.you == "spectator":
            watching = f", {event.spectators} watching" if event.spectators else ""
            self.show(f"Red: {event.red}, yellow: {event.yellow}{watching}")
        if arrived:
            self.prompt()

    def _absence(self, red_in: float | None, yellow_in: float | None) -> None:
        """Tell a player, once per change, that the opponent left and when the win may be claimed."""
        if self.you not in ("red", "yellow") or self.waiting:
            return
        opponent = "yellow" if self.you == "red" else "red"
        seat = self.seats[opponent]
        seconds = red_in if opponent == "red" else yellow_in
        if seat == "connected" or seat == "empty":
            said = "back" if self.absence else None
            if said:
                self.show("Your opponent is back.")
        elif seat == "gone" or (seconds is not None and seconds <= 0):
            said = "gone"
            if self.absence != said:
                self.show("Your opponent has been away too long: type claim to win, or wait for them.")
        else:
            said = "away"
            if self.absence != said:
                wait = f" in {math.ceil(seconds)} s" if seconds is not None and math.isfinite(seconds) else " soon"
                self.show(f"Your opponent left. If they are not back, you may claim the win{wait} (type claim).")
        self.absence = said if said != "back" else None

    def _result(self, winner: str, reason: str | None) -> str:
        loser = _colour("yellow" if winner == "red" else "red")
        how = {
            "resign": f"{loser} resigned",
            "claim": f"{loser} left, and the win was claimed",
            "expired": "time ran out",
        }.get(reason or "", reason or "")
        line = f"{_colour(winner)} wins ({how})."
        if self.you == winner:
            return f"{line} You win!"
        if self.you in ("red", "yellow"):
            return f"{line} You lost."
        return line

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
                body = await response.content.read(64 * 1024)
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self.show(f"(analysis unavailable: {clean(str(exc), 120)})")
            return
        answer = read_analysis(body) if status == 200 else None
        if answer is None:
            reason = analysis_error(body) if status != 200 else "the server's answer could not be read"
            self.show(f"(analysis unavailable: {reason})")
            return
        if "".join(map(str, self.moves)) != moves:
            return  # the game went on meanwhile
        self.show(analysis_line(answer))

    def offer(self) -> None:
        if self.is_player():
            self.show("Type r for a rematch, or q to quit.")

    async def send(self, message: dict[str, object]) -> bool:
        """Send a command; False (and a word to the user) when not connected."""
        ws = self.ws
        if ws is None or ws.closed or self.handshake:
            self.show("Not connected: try again once the connection is back.")
            return False
        try:
            await ws.send_str(json.dumps(message))
        except (aiohttp.ClientError, ConnectionError):
            self.show("Not connected: try again once the connection is back.")
            return False
        return True


def _name_of(name: str | None) -> str | None:
    return clean(name, 24) or None if name else None


def _lines() -> asyncio.Queue[str]:
    """Typed lines, "" at the end of input. A daemon thread reads them from the
    descriptor itself (no buffered stdin whose lock it would hold at exit), so
    that exiting never waits for a line nobody will type."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buffer = ""
        try:
            fd = sys.stdin.fileno()
        except (AttributeError, ValueError, OSError):
            fd = -1
        while True:
            try:
                chunk = os.read(fd, 4096) if fd >= 0 else b""
            except OSError:
                chunk = b""
            buffer += decoder.decode(chunk, final=not chunk)
            *complete, buffer = buffer.split("\n")
            for line in complete:
                loop.call_soon_threadsafe(lines.put_nowait, line + "\n")
            if not chunk:
                if buffer:
                    loop.call_soon_threadsafe(lines.put_nowait, buffer)
                loop.call_soon_threadsafe(lines.put_nowait, "")
                return

    threading.Thread(target=read, daemon=True).start()
    return lines


async def _until_quiet(terminal: _Terminal, done: Callable[[], bool], idle: float) -> None:
    """Wait until ``done()`` while the server keeps talking: give up after ``idle`` seconds of silence."""
    while not done():
        terminal.heard.clear()
        try:
            await asyncio.wait_for(terminal.heard.wait(), idle)
        except TimeoutError:
            return


async def _keyboard(terminal: _Terminal) -> None:
    """Read typed lines until the end of input or q. Never blocks on the server:
    a move is queued for the sender, every other command answered at once."""
    lines = _lines()
    while True:
        line = await lines.get()
        text = line.strip().lower()
        if not line:
            # The end of input (a script): the moves typed are played, the last answered, the game shown.
            await _until_quiet(
                terminal,
                lambda: terminal.settled.is_set() and not terminal.pending and terminal.answered.is_set(),
                END_IDLE,
            )
            terminal.quit = True
            return
        if text in ("q", "quit", "exit"):
            terminal.pending.clear()
            terminal.queued.clear()
            await _until_quiet(terminal, lambda: terminal.ws is None or terminal.answered.is_set(), QUIT_IDLE)
            terminal.quit = True
            return
        if text in ("help", "h", "?"):
            terminal.show(HELP)
        elif terminal.you == "spectator":
            terminal.show("You are watching: spectators cannot play. Type q to quit.")
        elif text in ("r", "rematch"):
            if not terminal.over:
                terminal.show("A rematch can be offered once the game has ended.")
            elif await terminal.send({"type": "rematch"}):
                terminal.offered = True
                if terminal.you != "both":
                    terminal.show("Rematch offered: waiting for your opponent.")
        elif text in ("claim", "resign"):
            if terminal.over:
                terminal.show("The game has ended: type r for a rematch, or q to quit.")
            elif terminal.game is None:
                terminal.show("There is no game yet.")
            else:
                await terminal.send({"type": text})
        elif text.isdigit() and 1 <= int(text) <= COLUMNS:
            if terminal.over:
                terminal.show("The game has ended: type r for a rematch, or q to quit.")
                continue
            if not terminal.my_turn() and terminal.ws is not None and not terminal.handshake and terminal.game:
                terminal.show(f"Not your turn yet: column {text} is played once it is.")
            terminal.pending.append(int(text) - 1)
            terminal.queued.set()
        elif text:
            terminal.show("Type a column number from 1 to 7, or help for every command.")


async def _sender(terminal: _Terminal) -> None:
    """Send the columns typed, oldest first, each once it is this terminal's turn and connected."""
    while True:
        await terminal.queued.wait()
        await terminal.ready.wait()
        if not terminal.pending:
            terminal.queued.clear()
            continue
        if not terminal.ready.is_set():
            continue
        if terminal.over:
            terminal.pending.clear()
            terminal.queued.clear()
            terminal.show("The game has ended: type r for a rematch, or q to quit.")
            continue
        ws = terminal.ws
        if ws is None or ws.closed:
            terminal.ready.clear()
            continue
        column = terminal.pending.popleft()
        if not terminal.pending:
            terminal.queued.clear()
        terminal.ready.clear()
        terminal.sent = True
        terminal.answered.clear()
        try:
            await ws.send_str(json.dumps({"type": "play", "column": column, "ply": len(terminal.moves)}))
        except (aiohttp.ClientError, ConnectionError):
            # Lost on the way: it is sent again once the seat is back.
            terminal.sent = False
            terminal.answered.set()
            terminal.pending.appendleft(column)
            terminal.queued.set()


async def _session(terminal: _Terminal, session: aiohttp.ClientSession, url: str) -> bool:
    """One connection: send the first frame, handle events until it closes.
    True if the server gave a game on it (a ``state``)."""
    connecting = session.ws_connect(
        url, protocols=(SUBPROTOCOL_V1,), heartbeat=20, max_msg_size=1 << 20,
        timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT),
    )  # fmt: skip
    ws = await asyncio.wait_for(connecting, CONNECT_TIMEOUT)
    terminal.stated = False
    try:
        terminal.handshake = True
        terminal.sent = False
        terminal.unreadable = False
        terminal.answered.set()
        terminal.ws = ws
        await ws.send_str(json.dumps(terminal.first_frame()))
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                terminal.frame(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                terminal.frame(b"")  # not the protocol's: reported as unreadable
            else:
                break
            if terminal.quit:
                break
    except Resync:
        terminal.show("(The server's events did not follow on: reconnecting for a fresh copy of the game.)")
    finally:
        terminal.ws = None
        terminal.ready.clear()
        await ws.close()
    return terminal.stated


async def _connect(terminal: _Terminal, url: str, retries: int, analysis: bool) -> int:
    failures = 0
    async with aiohttp.ClientSession() as session:
        if analysis:
            terminal.analysis = session
        while not terminal.quit:
            try:
                got_game = await _session(terminal, session, url)
                failures = 0 if got_game else failures + 1
            except Fatal as exc:
                if str(exc):
                    print(f"connectfour: {exc}", file=sys.stderr)
                    return 1
                return 0  # resumed a game already shown as over: nothing left to do
            except (TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
                if terminal.game is None:
                    # Never connected: nothing to resume.
                    print(f"connectfour: cannot reach {url}: {clean(str(exc))}", file=sys.stderr)
                    return 1
                failures += 1
            if terminal.quit:
                break
            if failures > retries:
                print(f"connectfour: gave up reconnecting to {url}", file=sys.stderr)
                return 1
            delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
            terminal.show(f"Connection lost. Reconnecting in {delay:g} s...")
            await asyncio.sleep(delay)
    return 0


async def _play(args: argparse.Namespace) -> int:
    hello: dict[str, object] = {"type": "init"}
    url = args.url
    for kind in ("join", "watch"):
        link = getattr(args, kind)
        if link:
            try:
                hello[kind], server = key_and_server(link, kind)
            except ValueError as exc:
                print(f"connectfour: --{kind}: {clean(str(exc))}", file=sys.stderr)
                return 2
            url = url or server
    if args.local:
        hello["local"] = True
    if args.match:
        hello = {"type": "match"}
    elif args.public and not (args.local or args.join or args.watch):
        hello["public"] = True
    if args.name is not None and not args.watch:
        hello["name"] = args.name
    url = url or default_url()
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "wss" else "http"
    terminal = _Terminal(f"{scheme}://{parts.netloc}", hello)
    typing = asyncio.ensure_future(_keyboard(terminal))
    sending = asyncio.ensure_future(_sender(terminal))
    connecting = asyncio.ensure_future(_connect(terminal, url, args.retries, args.analysis))
    try:
        await asyncio.wait({typing, connecting}, return_when=asyncio.FIRST_COMPLETED)
        if connecting.done():
            return connecting.result()
        # The user quit: whatever the connection is doing (connecting, waiting on a
        # silent server), it is given a moment to close politely, then cut.
        terminal.quit = True
        ws = terminal.ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT)
            except (TimeoutError, aiohttp.ClientError, ConnectionError):
                pass
        try:
            return await asyncio.wait_for(asyncio.shield(connecting), CLOSE_TIMEOUT)
        except TimeoutError:
            return 0
    finally:
        for task in (typing, sending, connecting):
            task.cancel()
        await asyncio.gather(typing, sending, connecting, return_exceptions=True)
