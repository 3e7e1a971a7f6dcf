"""The lobby: who is online, and the public games waiting and being played, on every process.

No process owns the lobby, as none owns a game. Each says its own part on
the bus (``LobbyShare``: its connections, and the public games it follows), when
the part changed, at most once a tick, and at least every ``keepalive``
seconds; each keeps the latest part of every process, forgets one not
renewed for ``stale`` seconds (its process died), and merges them into the
lobby its watchers see.

A watcher gets the whole lobby each time, at most once a tick, and only
when it changed. One whose output is backed up (``lagging``) is skipped and
gets the newest lobby once it has drained: updates are coalesced, never
queued, so a reader that stalls holds at most one lobby and the transport's
bound, and never slows anyone else.

Making the part costs about 1.6 µs per public game followed here; a process
with so many that it would take more than ``BUDGET`` of a core makes it
every few ticks instead (tens of thousands of public games: every second or
two), so the lobby's cost stays bounded and its news only comes later.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import msgspec

from ..domain import Player
from ..protocol import encode
from ..protocol.server_messages import LobbyEvent, PlayingGame, WaitingGame
from .game import Game

log = logging.getLogger("connectfour.lobby")

#: Games of each list the lobby shows, and a process says of its own.
SHOWN = 20
PART_SIZE = 50
#: Waiting games one client (address) may have in a process's part: twenty public
#: games kept open from one address would otherwise fill the list for everyone.
PER_CLIENT = 2
#: Seconds between ticks: the most often a watcher is told, and a new game shows.
INTERVAL = 0.5
#: A process says its part at least this often; one not heard for STALE is gone.
KEEPALIVE = 5.0
STALE = 3 * KEEPALIVE
#: The share of a core the part's making may take: with very many public games
#: here, the part is made every few ticks instead of every one.
BUDGET = 0.05


class Watcher(Protocol):
    def send(self, payload: bytes) -> None: ...

    @property
    def lagging(self) -> bool:
        """The peer has not read what it was sent: skip it this time."""


class LobbyShare(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """What one process contributes to the lobby."""

    process: str
    online: int
    #: Players waiting for a quick match here, and public games by kind (totals, then a few).
    seeking: int
    waiting_total: int
    playing_total: int
    waiting: list[WaitingGame]
    playing: list[PlayingGame]


_encode_part = msgspec.msgpack.Encoder().encode
_decode_part = msgspec.msgpack.Decoder(LobbyShare).decode


def _playing_order(game: PlayingGame) -> tuple[int, int]:
    return (-game.spectators, -game.ply)


def _spectators(game: Game) -> int:
    """``game.spectators()``, at once for the many games nobody watches elsewhere."""
    return game.spectators() if game.presence.watching else game.spectators_here


def part_of(process: str, online: int, games: Iterable[Game]) -> LobbyShare:
    """This process's part, from the public games it follows.

    It runs every tick over every public game followed here, so each game
    costs a few attribute reads; only the games that make the part's lists
    are described in full.
    """
    waiting: list[tuple[str | None, WaitingGame]] = []
    playing: list[tuple[int, int, Game]] = []
    seeking = waiting_total = playing_total = 0
    for game in games:
        state = game.state
        if state.result is not None:
            continue
        # Totals count a game once: on the process its host's seat is held from.
        host_here = _holds(game, state.host)
        if state.invite_spent:
            playing_total += host_here
            playing.append((-_spectators(game), -state.board.ply, game))
            continue
        if state.join_key is None or game.seat_state(state.host) != "connected":
            continue  # nobody to play against: not a game to offer
        if state.match:
            seeking += host_here
            continue
        waiting_total += host_here
        control = str(state.clock.control) if state.clock is not None else None
        entry = WaitingGame(
            state.id, state.join_key, state.host, state.names.get(state.host), state.created_at, control
        )
        waiting.append((_client_of(game, state.host), entry))
    shown = []
    for minus_spectators, minus_ply, game in heapq.nsmallest(PART_SIZE, playing, key=lambda entry: entry[:2]):
        names, clock = game.state.names, game.state.clock
        shown.append(
            PlayingGame(
                game.id,
                game.state.watch_key,
                -minus_ply,
                -minus_spectators,
                names.get("red"),
                names.get("yellow"),
                str(clock.control) if clock is not None else None,
            )
        )
    return LobbyShare(
        process,
        online,
        seeking,
        waiting_total,
        playing_total,
        _fair(waiting),
        shown,
    )


def _fair(waiting: list[tuple[str | None, WaitingGame]]) -> list[WaitingGame]:
    """The waiting games a part offers: each client's ``PER_CLIENT`` longest waiting, then
    the longest waiting of those first."""
    kept: list[WaitingGame] = []
    per_client: dict[str | None, int] = {}
    for client, entry in sorted(waiting, key=lambda pair: pair[1].since):
        if client is not None:
            if per_client.get(client, 0) >= PER_CLIENT:
                continue
            per_client[client] = per_client.get(client, 0) + 1
        kept.append(entry)
        if len(kept) == PART_SIZE:
            break
    return kept


def _client_of(game: Game, color: Player) -> str | None:
    """The client whose connection here holds ``color``'s seat, if one does."""
    for member in game.holders:
        role = game.members.get(member)
        if role == color or role == "both":
            return member.client
    return None


def _holds(game: Game, color: Player) -> int:
    """1 if a connection here holds ``color``'s seat (0 if not): a count."""
    for member in game.holders:
        role = game.members.get(member)
        if role == color or role == "both":
            return 1
    return 0


def merge(parts: Iterable[LobbyShare]) -> LobbyEvent:
    """The lobby every process's part makes: each game once, the newest report of it winning."""
    online = seeking = waiting_total = playing_total = 0
    waiting: dict[str, WaitingGame] = {}
    playing: dict[str, PlayingGame] = {}
    for part in parts:
        online += part.online
        seeking += part.seeking
        waiting_total += part.waiting_total
        playing_total += part.playing_total
        for entry in part.waiting:
            waiting[entry.game] = entry
        for game in part.playing:
            known = playing.get(game.game)
            if known is None or (game.ply, game.spectators) > (known.ply, known.spectators):
                playing[game.game] = game
    for game_id in playing:
        waiting.pop(game_id, None)  # one process saw the guest arrive before another
    return LobbyEvent(
        online=online,
        seeking=seeking,
        waiting=heapq.nsmallest(SHOWN, waiting.values(), key=lambda g: g.since),
        playing=heapq.nsmallest(SHOWN, playing.values(), key=_playing_order),
        waiting_total=max(waiting_total, len(waiting)),
        playing_total=max(playing_total, len(playing)),
    )


class Lobby:
    """This process's side of the lobby: its part said, the others' heard, its watchers told."""

    def __init__(
        self,
        process: str,
        games: Callable[[], Iterable[Game]],
        say: Callable[[bytes], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = INTERVAL,
        keepalive: float = KEEPALIVE,
        stale: float = STALE,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.process = process
        self._games = games
        self._say = say
        self._clock = clock
        self.interval = interval
        self.keepalive = keepalive
        self.stale = stale
        self._timer = timer
        #: How many connections this process holds (the web layer sets it).
        self.online: Callable[[], int] = lambda: 0
        #: Every process's latest part (this one's included), and when it was heard.
        self.parts: dict[str, tuple[LobbyShare, float]] = {}
        self._said: bytes = b""
        self._said_at = float("-inf")
        #: The part is made every this many ticks (more than one past BUDGET); ticks to go.
        self.part_every = 1
        self._part_in = 0
        #: The lobby as last merged, encoded once for every watcher, and its number.
        self.view: LobbyEvent | None = None
        self._payload = b""
        self.version = 0
        #: Each watcher, with the number of the view it was last sent.
        self.watchers: dict[Watcher, int] = {}

    # -- watchers ------------------------------------------------------------------

    def watch(self, watcher: Watcher) -> None:
        """Send ``watcher`` the lobby now, and whenever it changes."""
        if self.view is None:
            self._own_part(self._clock())
            self._refresh()
        self.watchers[watcher] = self.version
        watcher.send(self._payload)

    def unwatch(self, watcher: Watcher) -> None:
        self.watchers.pop(watcher, None)

    # -- the bus -------------------------------------------------------------------

    def hear(self, message: bytes) -> None:
        """A process's part, said to every process (under the topic "lobby")."""
        try:
            part = _decode_part(message)
        except msgspec.DecodeError as exc:
            log.error("lobby: a part that does not decode: %s", exc)
            return
        self.parts[part.process] = (part, self._clock())

    # -- ticks ---------------------------------------------------------------------

    def tick(self) -> None:
        """Say this process's part if it changed (or is due), then tell the watchers what changed."""
        now = self._clock()
        self._part_in -= 1
        if self._part_in > 0:  # made a tick or more ago: the others' parts may have changed
            self._refresh()
            self._tell()
            return
        started = self._timer()
        said = _encode_part(self._own_part(now))
        cost = self._timer() - started
        # (Never so rarely that the others would take this process for dead.)
        every = min(math.ceil(cost / (BUDGET * self.interval)), int(self.keepalive / self.interval))
        self.part_every = self._part_in = max(1, every)
        if said != self._said or now - self._said_at >= self.keepalive:
            self._said, self._said_at = said, now
            self._say(said)
        self._refresh()
        self._tell()

    def _own_part(self, now: float) -> LobbyShare:
        part = part_of(self.process, self.online(), self._games())
        # Kept here at once: the bus brings it back too, but need not for this process's own lobby.
        self.parts[self.process] = (part, now)
        return part

    def _refresh(self) -> None:
        now = self._clock()
        stale = [process for process, (_, heard) in self.parts.items() if now - heard > self.stale]
        for process in stale:
            del self.parts[process]
        view = merge(part for part, _ in self.parts.values())
        if view != self.view:
            self.view = view
            self._payload = encode(view)
            self.version += 1

    def _tell(self) -> None:
        version, payload = self.version, self._payload
        watchers = self.watchers
        for watcher, seen in list(watchers.items()):
            if seen != version and not watcher.lagging:
                watcher.send(payload)
                watchers[watcher] = version

    async def run(self) -> None:
        """Ticks until cancelled."""
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("lobby: a tick failed")
            await asyncio.sleep(self.interval)
