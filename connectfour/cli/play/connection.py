"""The connections to the server, one after another: each sends the first frame
(the game asked for, or a resume of the seat once it is held) and hands every
frame to the terminal; a lost one is followed by the next, with backoff, as
the web page does, until the user quits or the game cannot go on."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp

from ...protocol.revisions import SUBPROTOCOL_V1
from ..safe import clean
from .analysis import Analyst
from .terminal import Fatal, Resync, Terminal

#: Seconds between reconnection attempts: doubling, capped, as the page does.
BACKOFF = (0.25, 0.5, 1, 2, 4, 8)
#: Seconds a connection's closing handshake may take before it is cut.
CLOSE_TIMEOUT = 1.0
#: Seconds a server has to accept a WebSocket connection.
CONNECT_TIMEOUT = 15.0


async def one_connection(terminal: Terminal, session: aiohttp.ClientSession, url: str) -> bool:
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


async def connect(terminal: Terminal, url: str, retries: int, analysis: bool) -> int:
    """Connect again and again, until the user quits, the game cannot go on, or ``retries``
    attempts in a row gave no game; the exit status."""
    failures = 0
    async with aiohttp.ClientSession() as session:
        if analysis:
            terminal.analyst = Analyst(session, terminal.base, terminal.show, lambda: terminal.moves)
        while not terminal.quit:
            try:
                got_game = await one_connection(terminal, session, url)
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
