"""The games this process follows: loaded, subscribed to, and applied in version order.

A process owns no game. It follows each game it has members in: subscribed
to the game's channel before it reads the game's events (so that nothing
stored afterwards is missed), it applies each announced event once it is
the next version (``Inbox``), reads a gap back from the store, and takes
each newer presence. What an applied event means to the connections here,
and what follows from it, is the service's (``after``); a connection whose
seat another one took is the service's to let go (``detach``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ..bus import Message
from ..domain.events import Created, Event, Moved
from ..domain.refusal import Refused
from ..domain.seats import Presence
from ..domain.state import GameState
from ..protocol.server_messages import ErrorEvent
from ..store import Store
from ..store.seats import PRESENCE
from .game import Game, Member, Scheduler, send_event

log = logging.getLogger("connectfour.service")

#: Close code for a connection whose seat another connection took over.
CLOSE_REPLACED = 4001
#: Close code for a connection whose game the store has lost the latest events of.
CLOSE_REWOUND = 4002
REWOUND = (
    "The server lost this game's latest moves (its database failed over to a copy that lagged). "
    "Reconnect to carry on from what was kept."
)


class Following:
    def __init__(
        self,
        store: Store,
        *,
        process: str,
        grace: float,
        schedule: Scheduler,
        clock: Callable[[], float],
        renew: Callable[[], Awaitable[None]],
        after: Callable[[Game, Event, int], None],
        detach: Callable[[Game, Member], object],
        spawn: Callable[[Coroutine[Any, Any, object]], asyncio.Task[object]],
        soon: Callable[[Coroutine[Any, Any, object]], object],
        loaded: Callable[[Game], None] = lambda game: None,
    ) -> None:
        self.store = store
        self.process = process
        self.grace = grace
        self.ttl = store.seats.ttl
        self._schedule = schedule
        self._clock = clock
        self._renew = renew
        self._after = after
        self._detach = detach
        self._spawn = spawn
        self._soon = soon
        #: What the service does with a game it starts following (its flag timer, say).
        self._loaded_hook = loaded
        #: Games with at least one member in this process; the rest live in the store only.
        self.games: dict[str, Game] = {}
        #: Those of them the lobby lists (public games).
        self.listed: dict[str, Game] = {}
        #: Games being loaded, with the announcements heard meanwhile.
        self.loading: dict[str, _Loading] = {}
        store.bus.on_resubscribed(self.resubscribed)
        store.bus.knows(self.deliver, self.applied)

    def fill_behind(self, stored: dict[str, int], applied: dict[str, tuple[Game, int]]) -> None:
        """Read back what the games whose stored version is past ours missed (the last
        event of a game shows as a gap only here: no later one comes); and say so of
        those the store holds fewer events of than we had ``applied`` when we asked
        (``rewound``): what was applied after may have been stored after the read."""
        for game_id, version in stored.items():
            game = self.games.get(game_id)
            if game is None:
                continue
            if version > game.inbox.version:
                self._start_reading_back(game)
            asked = applied.get(game_id)
            if asked is not None and asked[0] is game and version < asked[1]:
                self.rewound(game, version)

    def rewound(self, game: Game, stored: int | None = None) -> None:
        """The store lost some of the events this process applied (a failover onto a
        replica that lagged): it holds fewer (``stored``, when known), or others from
        some point on. Never played on in silence: everyone here is told, and closed,
        and comes back (resume, watch) to what the store kept."""
        if self.games.get(game.id) is not game:
            return
        log.error(
            "game %s: the store %s of the %d events applied here: its latest events were lost",
            game.id,
            "does not hold the last" if stored is None else f"is at version {stored},",
            game.inbox.version,
        )
        game.lose()
        for member in list(game.members):
            self._detach(game, member)
            send_event(member, ErrorEvent(message=REWOUND, code="rewound"))
            member.close(CLOSE_REWOUND, "The game's latest moves were lost: reconnect.")
        self.unfollow_if_idle(game)

    def _start_reading_back(self, game: Game) -> None:
        if game.start_reading_back():
            self._spawn(self.fill(game))

    async def follow(self, game_id: str, created: Created | None = None) -> Game | None:
        """The game as this process follows it, subscribed to its announcements, and held
        for the caller until it calls ``_let_go``; None if there is no such game.
        ``created``: a game this process is creating.

        The hold is taken before anything heard during the load is delivered: a presence
        newer than the one read (a seat taken elsewhere meanwhile) must not find the game
        idle and make this process let go of the game its caller is about to join."""
        game = self.games.get(game_id)
        if game is not None:
            game.hold()
            return game
        loading = self.loading.get(game_id)
        if loading is None:
            loading = self.loading[game_id] = _Loading()
        loading.loaders += 1
        try:
            await self.store.bus.subscribe(game_id, self.deliver)
            # Read after subscribing: whatever is stored later is announced to us.
            if created is not None:
                await self.store.append(game_id, 1, created)
                events: list[tuple[int, Event]] = [(1, created)]
            else:
                events = await self.store.read(game_id)
            # No presence is looked up (and so made) for a game that does not exist:
            # a name a client made up leaves nothing behind.
            presence = await self.store.seats.presence(game_id, self._clock()) if events else None
            await self._renew()
            if presence is not None and game_id not in self.games:
                state = GameState.replay(game_id, (event for _, event in events))
                game = Game(
                    state,
                    presence,
                    process=self.process,
                    grace=self.grace,
                    schedule=self._schedule,
                    clock=self._clock,
                    last=events[-1][1],
                )
                others = presence.processes() - {self.process}
                if others:
                    game.expiries.update(await self.store.seats.expiries(others))
        except BaseException:
            self._loaded(game_id, loading)
            if game_id not in self.games and game_id not in self.loading:
                self.store.bus.unsubscribe(game_id, self.deliver)
            raise
        self._loaded(game_id, loading)
        known = self.games.get(game_id)  # loaded by another request meanwhile?
        if known is not None:
            known.hold()
            return known
        if game is None:  # no such game
            if game_id not in self.loading:
                self.store.bus.unsubscribe(game_id, self.deliver)
            return None
        game.hold()
        self.games[game_id] = game
        if game.state.public:
            self.listed[game_id] = game
        self._loaded_hook(game)
        for version, message in loading.heard:
            self.deliver(game_id, version, message)
        return game

    def _loaded(self, game_id: str, loading: _Loading) -> None:
        """One load of the game is over; what was heard meanwhile goes with the last one."""
        loading.loaders -= 1
        if not loading.loaders and self.loading.get(game_id) is loading:
            del self.loading[game_id]

    def let_go(self, game: Game) -> None:
        """A request that held the game is done with it (its connection attached, or not)."""
        game.let_go()
        self.unfollow_if_idle(game)

    def unfollow_if_idle(self, game: Game) -> None:
        if game.idle and self.games.get(game.id) is game:
            game.close()
            del self.games[game.id]
            self.listed.pop(game.id, None)
            self.store.bus.unsubscribe(game.id, self.deliver)
            if game.spectators_told:  # tell the shared presence this process has none left
                self._soon(self.store.seats.watch(game.id, self.process, 0, self._clock()))

    def applied(self, game_id: str, version: int) -> bool:
        """Whether the game's event at ``version`` is applied here already (``deliver``
        would drop it): the bus need not decode it."""
        game = self.games.get(game_id)
        return game is not None and version <= game.inbox.version

    def deliver(self, game_id: str, version: int, message: Message) -> None:
        """An announcement of one of our games, from the bus."""
        game = self.games.get(game_id)
        if game is None:
            loading = self.loading.get(game_id)
            if loading is not None:
                loading.heard.append((version, message))
            return
        if version == PRESENCE:
            # One no newer than ours is our own change coming back: taken already.
            if isinstance(message, Presence) and message.seq > game.presence.seq:
                self.take_presence(game, message)
            return
        if version <= game.inbox.version or isinstance(message, Presence):
            return  # ours, applied when it was stored, or a repeat
        self.offer(game, version, message)

    def offer(self, game: Game, version: int, event: Event) -> None:
        """Apply the events that are now next, in order; read the store for a gap."""
        inbox = game.inbox
        if inbox.take_next(version):  # the usual case, and a move's
            self.apply(game, version, event)
            return
        for number, ready in inbox.offer(version, event):
            self.apply(game, number, ready)
        if game.inbox.gap:
            self._start_reading_back(game)

    async def fill(self, game: Game) -> None:
        try:
            await self.catch_up(game)
        finally:
            game.done_reading_back()

    async def catch_up(self, game: Game) -> None:
        """Read and apply whatever the store holds past what this process applied.

        The read starts one event early, at the last one applied here: if the store
        holds another event there, or none, it lost what this process saw (a failover
        onto a replica that lagged, maybe played on since): ``rewound``, never a
        history continued in silence from a point it does not share."""
        version = game.inbox.version
        # A store in this process loses nothing it acknowledged: nothing to check.
        last = None if self.store.in_process else game.last
        stored = await self.store.read(game.id, version - 1 if last is not None else version)
        if last is not None:
            if not stored or stored[0][0] != version or not _same(stored[0][1], last):
                self.rewound(game)
                return
            stored = stored[1:]
        for number, event in game.inbox.fill(stored):
            self.apply(game, number, event)

    def apply(self, game: Game, version: int, event: Event) -> None:
        """One stored event, in version order: change the state, then tell everyone here."""
        state = game.state
        try:
            state.apply(event)
        except Refused as exc:  # a log this process cannot follow: say so, and resync from the store
            log.error("game %s: event %d (%s) does not follow: %s", game.id, version, type(event).__name__, exc)
            return
        self._after(game, event, state.board.height(event.column) - 1 if type(event) is Moved else -1)

    def take_presence(self, game: Game, presence: Presence) -> None:
        """A presence announced or returned by the store: act on it if it is newer."""
        if game.follow(presence):
            self.settle(game)

    def settle(self, game: Game) -> None:
        """After a new presence: close the connections it took seats from, and tell everyone."""
        now = self._clock()
        for process in game.presence.processes() - game.expiries.keys():
            # A process not heard of before: alive, since it just took a seat or counted spectators.
            game.expiries[process] = now + self.ttl
        for member in game.replaced():
            role = game.members.get(member)
            self._detach(game, member)
            send_event(
                member, ErrorEvent(message="This seat was taken over by another tab or device.", code="replaced")
            )
            member.close(CLOSE_REPLACED, "Seat taken over by another connection.")
            log.info("game %s: %s seat taken over by another connection", game.id, role)
        game.tell_presence()
        self.unfollow_if_idle(game)  # its last connection here was the one replaced

    def resubscribed(self) -> None:
        """The bus lost its connection for a while: read what every game here missed,
        events and presence both."""
        for game in list(self.games.values()):
            self._start_reading_back(game)
            self._spawn(self.look_again(game))

    async def look_again(self, game: Game) -> None:
        presence = await self.store.seats.presence(game.id, self._clock())
        if self.games.get(game.id) is game:
            self.take_presence(game, presence)


def _same(stored: Event, applied: Event) -> bool:
    """Whether the store's event is the one applied here: its kind, its time (decided
    once, by the process that made it, and stored as it is) and a move's column."""
    return (
        type(stored) is type(applied)
        and stored.at == applied.at
        and getattr(stored, "column", None) == getattr(applied, "column", None)
    )


class _Loading:
    """The loads of one game under way, and the announcements heard meanwhile."""

    __slots__ = ("loaders", "heard")

    def __init__(self) -> None:
        self.loaders = 0
        self.heard: list[tuple[int, Message]] = []
