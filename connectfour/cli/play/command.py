"""connectfour play: a terminal client, for a game without a browser.

Speaks connectfour.v1 to any server: starts an online game (and prints the
invite and watch links; --public lists it in the lobby), plays someone
(--match: whoever waits longest, else the next to come), plays the computer
(--computer 1 to 4), joins with an invite link or key, watches with a watch
link or key, or plays both colours on one terminal. --name is the name the
opponent sees. --clock 3+2 plays a new game on a clock: 3 minutes each, 2
seconds more after each move; both clocks are shown, counting down.

Type a column number, 1 to 7, to play; the board is redrawn after each
move. Type help for every command: draw (offer or accept a draw), decline,
takeback, claim (win once an opponent has been away too long), resign, r
(a rematch, after a game) and q (quit; Ctrl-C too). A dropped connection or
a server restart is survived: the client resumes its seat with backoff, as
the web page does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp
import msgspec

from ...domain.clock import TimeControl
from ...protocol.client_messages import Name
from ...protocol.names import name_problem
from ..arguments import count
from ..safe import clean
from .connection import BACKOFF, CLOSE_TIMEOUT, connect
from .keyboard import read_commands
from .links import default_url, key_and_server, link, page_base, server_url
from .sending import send_moves
from .terminal import Terminal
from .ticking import keep_time

#: The computer's levels, as the server names them.
LEVELS = {1: "beginner", 2: "casual", 3: "strong", 4: "perfect"}


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


def _control(value: str) -> str:
    """A time control, ``3+2``, as the server takes it; else the reason in plain words."""
    try:
        control = TimeControl.parse(value)
    except ValueError as exc:
        reason = str(exc)
        raise argparse.ArgumentTypeError(reason if repr(value.strip()) in reason else f"{value!r}: {reason}") from None
    return str(control)


def _level(value: str) -> int:
    if value.strip() not in ("1", "2", "3", "4"):
        raise argparse.ArgumentTypeError(f"{value!r}: a level is 1 (beginner) to 4 (perfect play)")
    return int(value)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    play = commands.add_parser(
        "play", help="play or watch a game in the terminal", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    play.add_argument(
        "--url", type=server_url,
        help="the server's WebSocket URL (default: the link's server, else ws://localhost:$PORT/ws, port 8000 without $PORT)",
    )  # fmt: skip
    mode = play.add_mutually_exclusive_group()
    mode.add_argument("--join", type=link, metavar="LINK", help="take the seat an invite link (or its key) offers")
    mode.add_argument("--watch", type=link, metavar="LINK", help="watch a game, by its watch link (or its key)")
    mode.add_argument("--local", action="store_true", help="both colours on this terminal")
    mode.add_argument("--match", action="store_true", help="play someone: whoever waits, or the next to come")
    mode.add_argument(
        "--computer", type=_level, metavar="LEVEL",
        help="play the computer: " + ", ".join(f"{level} {name}" for level, name in LEVELS.items()),
    )  # fmt: skip
    play.add_argument(
        "--color", choices=("red", "yellow"),
        help="with --computer: the colour you play (default red, who moves first)",
    )  # fmt: skip
    play.add_argument(
        "--clock", type=_control, metavar="M+S",
        help="a new game on a clock: M minutes each, S seconds more after each move (3+2, 5+3, 10+5...); "
        "with --computer, --match or a new online game",
    )  # fmt: skip
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
        "--retries", type=count, default=len(BACKOFF) + 4, metavar="N",
        help="reconnection attempts before giving up (default %(default)s)",
    )  # fmt: skip


def main(args: argparse.Namespace) -> int:
    """Play or watch until the game ends or the user quits; the exit status."""
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


async def _play(args: argparse.Namespace) -> int:
    """The game the options ask for: the keyboard, the sender and the connections, until one of them ends it."""
    problem = _conflict(args)
    if problem:
        print(f"connectfour play: {problem}", file=sys.stderr)
        return 2
    hello: dict[str, object] = {"type": "init"}
    url = args.url
    for kind in ("join", "watch"):
        given = getattr(args, kind)
        if given:
            try:
                hello[kind], server = key_and_server(given, kind)
            except ValueError as exc:
                print(f"connectfour: --{kind}: {clean(str(exc))}", file=sys.stderr)
                return 2
            url = url or server
    if args.local:
        hello["local"] = True
    if args.match:
        hello = {"type": "match"}
    elif args.computer is not None:
        hello["computer"] = args.computer
        hello["color"] = args.color or "red"
    elif args.public and not (args.local or args.join or args.watch):
        hello["public"] = True
    if args.name is not None and not args.watch:
        hello["name"] = args.name
    if args.clock is not None:
        hello["clock"] = args.clock
    url = url or default_url()
    terminal = Terminal(page_base(url), hello)
    typing = asyncio.ensure_future(read_commands(terminal))
    sending = asyncio.ensure_future(send_moves(terminal))
    ticking = asyncio.ensure_future(keep_time(terminal))
    connecting = asyncio.ensure_future(connect(terminal, url, args.retries, args.analysis))
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
        for task in (typing, sending, ticking, connecting):
            task.cancel()
        await asyncio.gather(typing, sending, ticking, connecting, return_exceptions=True)


def _conflict(args: argparse.Namespace) -> str | None:
    """Options that cannot go together, said plainly (argparse knows the exclusive ones)."""
    if args.clock is not None and (args.join or args.watch):
        given = "--join" if args.join else "--watch"
        return f"--clock starts a new game on a clock: not with {given}, whose game is on the clock it was created with"
    if args.clock is not None and args.local:
        return "--clock: a game on one device is not timed; play --computer, --match or online"
    if args.color is not None and args.computer is None:
        return "--color is the colour you play against the computer: it goes with --computer"
    return None
