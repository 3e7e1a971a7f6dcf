"""Players for the fault tests: each plays one seat of a game over the v1
protocol with request ids, on any of several server processes, and records
what it learnt (``checker.Record``).

A player moves when it is its turn (after a short pause, so that games last
while faults strike), a column drawn at random among the open ones (so that
a move lost and played again most likely differs from the first), sends every move with its ``ply`` and an ``id``, and
sends it again with the same ``id`` when the answer is ``unavailable`` or
``internal_error`` (outcome unknown) or when the connection drops before
the answer. Whatever ends its connection (a process killed, a refusal, the
server saying ``rewound``), it connects to the next process and resumes its
seat with its token. It stops once the game is over, or when told to.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Sequence
from typing import Any

from checker import Record
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

V1 = "connectfour.v1"
COLUMNS, ROWS = 7, 6
#: Seconds an answer may take before the connection is given up and resumed elsewhere.
PATIENCE = 6.0
#: Seconds between looks at whether to stop, once the game is over.
LISTEN = 0.2
#: Seconds between a failed attempt and the next.
BACKOFF = 0.2
OUTCOME_UNKNOWN = ("unavailable", "internal_error")


class Player:
    """One seat: ``urls`` the processes it may use (the first is its own)."""

    def __init__(self, name: str, urls: Sequence[str], *, pause: float = 0.05) -> None:
        self.name = name
        self.urls = list(urls)
        self.pause = pause
        self.records: list[Record] = []
        self.game = ""
        self.token = ""
        self.seat = ""
        self.over = False
        self.errors: list[str] = []
        self.reconnects = 0
        #: Snapshots that did not extend what this client had seen.
        self.noticed = 0
        #: ``rewound`` errors: the server telling it history was lost.
        self.told = 0
        #: Requests sent again after an answer of unknown outcome.
        self.retries = 0
        self._turn = itertools.cycle(range(len(self.urls)))
        next(self._turn)
        self._view: list[int] = []
        self._random = random.Random(name)
        #: The column each request id asked for (an id is used again only for the same move).
        self._asked: dict[str, int] = {}
        self._moves = itertools.count()

    def seated(self, game: str, token: str, seat: str, moves: Sequence[int]) -> None:
        self.game, self.token, self.seat = game, token, seat
        self._snapshot(moves)

    def _snapshot(self, moves: Sequence[int]) -> None:
        if list(moves[: len(self._view)]) != self._view:
            # What the server has now does not extend what it showed: history was lost.
            # A client sees it by itself (the page says so), told or not.
            self.noticed += 1
            self.records.append(Record("noticed"))
        self._view = list(moves)
        self.records.append(Record("snapshot", moves=tuple(moves)))

    def _seen(self, ply: int, column: int) -> None:
        self.records.append(Record("seen", ply, column))
        if ply == len(self._view):
            self._view.append(column)

    def _mine(self) -> bool:
        return (len(self._view) % 2 == 0) == (self.seat == "red")

    def _move(self) -> dict[str, Any]:
        ply = len(self._view)
        open_columns = [c for c in range(COLUMNS) if self._view.count(c) < ROWS]
        column = self._random.choice(open_columns)
        request = f"{self.name}-{next(self._moves)}"
        self._asked[request] = column
        return {"type": "play", "column": column, "ply": ply, "id": request}

    async def check_in(self, url: str) -> None:
        """Come back once (as a page reloaded): resume, and compare what the server has
        with what this client saw."""
        async with connect(url, subprotocols=[V1], open_timeout=PATIENCE, close_timeout=1) as ws:
            await ws.send(json.dumps({"type": "resume", "game": self.game, "token": self.token}))
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), PATIENCE))
                if event["type"] == "state":
                    self._snapshot(event["moves"])
                    return
                if event["type"] == "error" and event.get("code") == "game_over":
                    return  # finished: the spectator's read (the checker's) shows its moves

    async def play(self, url: str | None = None, stop: asyncio.Event | None = None) -> None:
        """Play the game, and stay until ``stop`` is set, across drops and processes."""
        stop = stop or asyncio.Event()
        url = url or self.urls[0]
        while not stop.is_set():
            try:
                await self._session(url, stop)
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            if stop.is_set():
                return
            self.reconnects += 1
            url = self.urls[next(self._turn)]
            await asyncio.sleep(BACKOFF)

    async def _session(self, url: str, stop: asyncio.Event) -> None:
        async with connect(url, subprotocols=[V1], open_timeout=PATIENCE, close_timeout=1) as ws:
            await ws.send(json.dumps({"type": "resume", "game": self.game, "token": self.token}))
            pending: dict[str, Any] | None = None  # the move sent and not yet answered
            while not stop.is_set():
                if pending is None and self._mine() and not self.over and len(self._view) < COLUMNS * ROWS:
                    await asyncio.sleep(self.pause)
                    pending = self._move()
                    await ws.send(json.dumps(pending))
                try:
                    event = json.loads(await asyncio.wait_for(ws.recv(), LISTEN if self.over else PATIENCE))
                except TimeoutError:
                    if self.over or (pending is None and not self._mine()):
                        continue  # the game is over, or the opponent slow: keep listening
                    raise
                kind = event["type"]
                if kind == "state":
                    self._snapshot(event["moves"])
                    self.over = event["status"] not in ("waiting", "playing")
                    if pending is not None and pending["ply"] < len(self._view):
                        pending = None  # answered by the snapshot (its ack may follow)
                elif kind == "play":
                    self._seen(event["ply"], event["column"])
                elif kind == "ack":
                    if "ply" in event and event.get("id") in self._asked:
                        self.records.append(Record("acked", event["ply"], self._asked[event["id"]]))
                    if pending is not None and event.get("id") == pending["id"]:
                        pending = None
                elif kind == "error":
                    code = event.get("code", "")
                    if code == "rewound":
                        self.told += 1
                        self.over = False  # it may be a game again, from what the store kept
                        self.records.append(Record("rewound"))
                        return  # the server closes (4002): resume
                    if code == "game_over":
                        self.over = True  # a move sent as the game ended, or a resume after
                        pending = None
                        continue
                    if pending is not None and event.get("id") == pending["id"]:
                        if code in OUTCOME_UNKNOWN:
                            self.retries += 1
                            await asyncio.sleep(BACKOFF)
                            await ws.send(json.dumps(pending))  # the same id: answered as the first
                        else:
                            self.errors.append(json.dumps(event))
                            return  # out of step (e.g. the ply was played meanwhile): resume
                    elif code not in ("replaced",):
                        self.errors.append(json.dumps(event))
                elif kind in ("win", "draw"):
                    self.over = True  # and stays, as a page does, until told to stop
