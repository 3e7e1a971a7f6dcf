"""The columns typed, sent one at a time: each once it is this terminal's turn
and the connection is up, sent again if the connection is lost on its way."""

from __future__ import annotations

import json

import aiohttp

from .terminal import Terminal


async def send_moves(terminal: Terminal) -> None:
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
