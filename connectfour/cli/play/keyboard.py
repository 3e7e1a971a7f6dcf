"""The lines typed: a column (1 to 7) is queued for the sender, every other
command (help, draw, decline, takeback, claim, resign, r, q) answered at
once. The keyboard never waits on the server; the end of input (a script)
waits for the moves typed to be played, and the game shown."""

from __future__ import annotations

import asyncio
import codecs
import os
import sys
import threading
from collections.abc import Callable

from ...rules import COLUMNS
from .terminal import Terminal

#: Quitting waits for the answer to a move on its way, as long as the server keeps
#: talking: at most this long after its last frame.
QUIT_IDLE = 3.0
#: The end of input (a script) waits for the game, and the moves typed to be played
#: and answered, as long as the server keeps talking: at most this long after its last frame.
END_IDLE = 10.0
HELP = """Commands:
  1 to 7    drop a checker in that column (typed early, it is played on your turn)
  draw      offer a draw, or accept your opponent's offer (online, between two people)
  decline   decline your opponent's offer of a draw, or request for a takeback
  takeback  take back your last move: at once against the computer or on one device,
            online ask your opponent (or accept your opponent's request)
  claim     win the game, once your opponent has been away longer than the server allows
  resign    give the game up: your opponent wins
  r         after a game: offer a rematch, or accept one
  help      this list
  q         quit (Ctrl-C or Ctrl-D too)"""
#: The commands that speak of the game in progress, and the message each sends.
IN_GAME = {"claim": "claim", "resign": "resign", "draw": "offer_draw", "takeback": "takeback"}


def typed_lines() -> asyncio.Queue[str]:
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


async def until_quiet(terminal: Terminal, done: Callable[[], bool], idle: float) -> None:
    """Wait until ``done()`` while the server keeps talking: give up after ``idle`` seconds of silence."""
    while not done():
        terminal.heard.clear()
        try:
            await asyncio.wait_for(terminal.heard.wait(), idle)
        except TimeoutError:
            return


async def read_commands(terminal: Terminal) -> None:
    """Read typed lines until the end of input or q. Never blocks on the server:
    a move is queued for the sender, every other command answered at once."""
    lines = typed_lines()
    while True:
        line = await lines.get()
        terminal.screen.typed()
        text = line.strip().lower()
        if not line:
            # The end of input (a script): the moves typed are played, the last answered, the game shown.
            await until_quiet(
                terminal,
                lambda: terminal.settled.is_set() and not terminal.pending and terminal.answered.is_set(),
                END_IDLE,
            )
            terminal.quit = True
            return
        if text in ("q", "quit", "exit"):
            terminal.pending.clear()
            terminal.queued.clear()
            await until_quiet(terminal, lambda: terminal.ws is None or terminal.answered.is_set(), QUIT_IDLE)
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
        elif text in IN_GAME or text == "decline":
            if terminal.over:
                terminal.show("The game has ended: type r for a rematch, or q to quit.")
            elif terminal.game is None:
                terminal.show("There is no game yet.")
            elif text == "decline":
                await decline(terminal)
            else:
                if text == "takeback" and (terminal.you == "both" or terminal.computer is not None):
                    terminal.offers.taking_back = True  # done at once: the shorter game is this
                await terminal.send({"type": IN_GAME[text]})
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


async def decline(terminal: Terminal) -> None:
    """Decline what the opponent has standing: an offer of a draw, a request for a takeback, or both."""
    declines = terminal.offers.to_decline(terminal.you)
    if not declines:
        terminal.show("There is no offer of a draw or request for a takeback to decline.")
    for message in declines:
        if not await terminal.send({"type": message}):
            return
