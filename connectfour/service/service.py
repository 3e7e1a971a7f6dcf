"""Games by id, key and token; seats and moves. The service knows nothing of HTTP.

Several services (processes) can serve one game: each turns its clients'
requests into events, checked against the game's state as it knows it and
appended at the next version; the store takes exactly one event per
version, and announces it on the bus. Every service with members in the
game applies each announced event in version order and tells its own
connections. A service that loses a race reads what it missed, checks the
request again, and tries once more or refuses it (a stale ply, a game over).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from .. import metrics
from ..completion import completion
from ..eager import start_eagerly
from ..domain import PLAYERS, RED, YELLOW, Player, Role, other
from ..domain.events import (
    Claimed,
    Created,
    Event,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    RematchStarted,
    Resigned,
)
from ..bus import Message
from ..domain.seats import Holder, Presence
from ..domain import rulebook
from ..domain.refusal import Refused
from ..domain.rulebook import Command
from ..domain.state import GameState
from ..protocol import ProtocolError
from ..protocol.messages import CancelledEvent, DrawEvent, ErrorEvent, InitEvent, PlayEvent, RematchEvent, WinEvent
from ..store import ConditionFailed, Store, StoreError, VersionConflict
from ..store.matching import Ticket
from ..store.seats import PRESENCE
from . import lobby
from .computer import DELAY, Computer, quick_move
from .game import COMPUTER_TIMER, PRESENCE_DELAY, WATCH_TIMER, Game, Member, Scheduler, colors_of, send_event

log = logging.getLogger("connectfour.service")

#: Bytes of randomness in invite and watch keys and player tokens (128 bits).
KEY_BYTES = 16
GAME_ID_BYTES = 9
#: Attempts at a request that keeps losing races to other services before it gives up.
ATTEMPTS = 16

#: Close code for a connection whose seat another connection took over.
CLOSE_REPLACED = 4001


def _call_later(delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
    return asyncio.get_running_loop().call_later(delay, callback)


def _new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


class GameService:
    def __init__(
        self,
        store: Store,
        *,
        grace: float = 60.0,
        expire_after: float = 3600.0,
        forget_unplayed_after: float = 86400.0,
        schedule: Scheduler = _call_later,
        clock: Callable[[], float] = time.time,
        computer: Computer | None = None,
        computer_delay: float = DELAY,
        draw: Callable[[Sequence[Player]], Player] = secrets.choice,
        lobby_interval: float = lobby.INTERVAL,
    ) -> None:
        self.store = store
        #: This service's name among the processes sharing the store.
        self.process = secrets.token_hex(6)
        #: Plays the computer's seats; without a solver its top levels play quick moves.
        self.computer = computer or Computer(None)
        #: Seconds before the computer answers a move.
        self.computer_delay = computer_delay
        self.grace = grace
        self.expire_after = expire_after
        #: Seconds of inactivity after which a game without a move is deleted; 0 never.
        self.forget_unplayed_after = forget_unplayed_after
        #: Seconds this process's registration lasts: its seats are free that long after it dies.
        self.ttl = store.seats.ttl
        self._schedule = schedule
        self._clock = clock
        #: Draws a quick match's colours (a seeded one makes a test repeatable).
        self._draw = draw
        #: Games with at least one member in this process; the rest live in the store only.
        self.games: dict[str, Game] = {}
        #: Those of them the lobby lists (public games).
        self.listed: dict[str, Game] = {}
        #: Which game each connection here is in.
        self._placement: dict[Member, Game] = {}
        #: Games being loaded, with the announcements heard meanwhile.
        self._loading: dict[str, _Loading] = {}
        self._connections = 0
        self._renewed_at: float | None = None
        #: Seats being given back to the shared presence.
        self._releasing: set[asyncio.Task[Any]] = set()
        #: Games a player left whose activity stamp is not stored yet, and how many such stamps.
        self._touching: dict[str, int] = {}
        #: What the sweep must not delete, looked up live as it goes.
        self._in_use = _InAny(self.games, self._touching, self._loading)
        store.bus.on_resubscribed(self._resubscribed)
        #: This process's side of the lobby: the public games followed here, told to everyone.
        self.lobby = lobby.Lobby(
            self.process, self.listed.values, store.bus.tell_all, clock=clock, interval=lobby_interval
        )

    def where(self, member: Member) -> tuple[Game, Role] | tuple[None, None]:
        """The game a connection is in, and its role there."""
        game = self._placement.get(member)
        role = game.members.get(member) if game is not None else None
        if game is None or role is None:
            return None, None
        return game, role

    # -- being alive -------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Renew this process's registration, and look again at whether the
        processes holding seats in our games are alive (a dead one's seats turn
        disconnected). Runs every third of ``ttl``; tests call it with their clock."""
        await self._renew(force=True)
        now = self._clock()
        elsewhere: dict[Game, set[str]] = {}  # the games naming other processes: only those can change
        for game in self.games.values():
            others = game.presence.processes()
            others.discard(self.process)
            if others:
                elsewhere[game] = others
        named = set().union(*elsewhere.values())
        expiries = await self.store.seats.expiries(named) if named else {}
        for game, others in elsewhere.items():
            dead = False
            for process in others:
                expiry = game.expiries[process] = expiries.get(process, float("-inf"))
                dead = dead or expiry <= now
            if dead:  # its seats turned disconnected (told once: tell_presence says only what changed)
                game.tell_presence()
        # An event the bus lost shows as a gap when the next one comes; the last
        # one of a game (its winning move, say) shows only here.
        waiting = [
            game.id for game in self.listed.values() if game.state.match and not game.state.invite_spent and game.holders
        ]
        if waiting:  # their players wait for a quick match here: their tickets stay
            await self.store.match.renew(waiting, now)
        followed = list(self.games)
        stored = await self.store.versions(followed) if followed else {}
        for game_id, version in stored.items():
            behind = self.games.get(game_id)
            if behind is not None and version > behind.inbox.version and not behind.filling:
                behind.filling = True
                self._spawn(self._fill(behind))
        await self._keep_unplayed(now)

    async def _keep_unplayed(self, now: float) -> None:
        """Stamp the unplayed games someone here is in, every half of ``forget_unplayed_after``:
        another process's sweep cannot see our connections, only the stored activity."""
        if self.forget_unplayed_after <= 0:
            return
        for game in list(self.games.values()):
            if not game.state.board.moves and now - game.touched_at >= self.forget_unplayed_after / 2:
                game.touched_at = now
                try:
                    await self.store.touch(game.id, now)
                except StoreError as exc:
                    log.warning("game %s: could not stamp its activity: %s", game.id, exc)

    def _resubscribed(self) -> None:
        """The bus lost its connection for a while: read what every game here missed,
        events and presence both."""
        for game in list(self.games.values()):
            if not game.filling:
                game.filling = True
                self._spawn(self._fill(game))
            self._spawn(self._look_again(game))

    async def _look_again(self, game: Game) -> None:
        presence = await self.store.seats.presence(game.id, self._clock())
        if self.games.get(game.id) is game:
            self._take_presence(game, presence)

    async def run(self) -> None:
        """Heartbeats until cancelled."""
        while True:
            try:
                await self.heartbeat()
            except StoreError as exc:
                log.error("could not renew this process's registration: %s", exc)
            await asyncio.sleep(self.ttl / 3)

    async def stop(self) -> None:
        """A clean stop: the seats held here are free from now, for everyone."""
        await self.store.seats.stop(self.process, self._clock())

    async def _renew(self, force: bool = False) -> None:
        now = self._clock()
        if force or self._renewed_at is None or now - self._renewed_at >= self.ttl / 3:
            self._renewed_at = now
            await self.store.seats.renew(self.process, now)

    # -- following games -----------------------------------------------------------

    async def _follow(self, game_id: str, created: Created | None = None) -> Game | None:
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
        loading = self._loading.get(game_id)
        if loading is None:
            loading = self._loading[game_id] = _Loading()
        loading.loaders += 1
        try:
            await self.store.bus.subscribe(game_id, self._deliver)
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
                    state, presence, process=self.process, grace=self.grace, schedule=self._schedule, clock=self._clock
                )
                others = presence.processes() - {self.process}
                if others:
                    game.expiries.update(await self.store.seats.expiries(others))
        except BaseException:
            self._loaded(game_id, loading)
            if game_id not in self.games and game_id not in self._loading:
                self.store.bus.unsubscribe(game_id, self._deliver)
            raise
        self._loaded(game_id, loading)
        known = self.games.get(game_id)  # loaded by another request meanwhile?
        if known is not None:
            known.hold()
            return known
        if game is None:  # no such game
            if game_id not in self._loading:
                self.store.bus.unsubscribe(game_id, self._deliver)
            return None
        game.hold()
        self.games[game_id] = game
        if game.state.public:
            self.listed[game_id] = game
        for version, message in loading.heard:
            self._deliver(game_id, version, message)
        return game

    def _loaded(self, game_id: str, loading: _Loading) -> None:
        """One load of the game is over; what was heard meanwhile goes with the last one."""
        loading.loaders -= 1
        if not loading.loaders and self._loading.get(game_id) is loading:
            del self._loading[game_id]

    def _let_go(self, game: Game) -> None:
        """A request that held the game is done with it (its connection attached, or not)."""
        game.let_go()
        self._unfollow_if_idle(game)

    def _unfollow_if_idle(self, game: Game) -> None:
        if game.idle and self.games.get(game.id) is game:
            game.close()
            del self.games[game.id]
            self.listed.pop(game.id, None)
            self.store.bus.unsubscribe(game.id, self._deliver)
            if game.spectators_told:  # tell the shared presence this process has none left
                self._soon(self.store.seats.watch(game.id, self.process, 0, self._clock()))

    def _deliver(self, game_id: str, version: int, message: Message) -> None:
        """An announcement of one of our games, from the bus."""
        game = self.games.get(game_id)
        if game is None:
            loading = self._loading.get(game_id)
            if loading is not None:
                loading.heard.append((version, message))
            return
        if version == PRESENCE:
            # One no newer than ours is our own change coming back: taken already.
            if isinstance(message, Presence) and message.seq > game.presence.seq:
                self._take_presence(game, message)
            return
        if version <= game.inbox.version or isinstance(message, Presence):
            return  # ours, applied when it was stored, or a repeat
        self._offer(game, version, message)

    def _offer(self, game: Game, version: int, event: Event) -> None:
        """Apply the events that are now next, in order; read the store for a gap."""
        inbox = game.inbox
        if version == inbox.version + 1 and not inbox.gap:  # the usual case, and a move's
            inbox.version = version
            self._apply(game, version, event)
            return
        for number, ready in inbox.offer(version, event):
            self._apply(game, number, ready)
        if game.inbox.gap and not game.filling:
            game.filling = True
            self._spawn(self._fill(game))

    async def _fill(self, game: Game) -> None:
        try:
            await self._catch_up(game)
        finally:
            game.filling = False

    async def _catch_up(self, game: Game) -> None:
        """Read and apply whatever the store holds past what this process applied."""
        stored = await self.store.read(game.id, game.inbox.version)
        for number, event in game.inbox.fill(stored):
            self._apply(game, number, event)

    def _apply(self, game: Game, version: int, event: Event) -> None:
        """One stored event, in version order: change the state, then tell everyone here."""
        state = game.state
        try:
            state.apply(event)
        except Refused as exc:  # a log this process cannot follow: say so, and resync from the store
            log.error("game %s: event %d (%s) does not follow: %s", game.id, version, type(event).__name__, exc)
            return
        if isinstance(event, Moved):
            self._announce_move(game, event, state.board.height(event.column) - 1)
        elif isinstance(event, Resigned):
            game.broadcast(WinEvent(other(event.player), "resign"))
            self._ended(game)
        elif isinstance(event, Claimed):
            game.broadcast(WinEvent(event.player, "claim"))
            self._ended(game)
        elif isinstance(event, Expired):
            for member, role in game.members.items():
                send_event(member, game.snapshot(role))
            self._ended(game)
        elif isinstance(event, RematchOffered):
            game.broadcast(RematchEvent(event.player))
        elif isinstance(event, RematchStarted):
            game.moving = self._spawn(self._move_to_rematch(game, event.game))
        # Joined: the guest's seat, taken next, tells everyone.

    def _announce_move(self, game: Game, event: Moved, row: int) -> None:
        """Tell everyone here of a move the state has taken (to ``row``), and of the end it made."""
        state = game.state
        end = event.end
        player = event.player
        started = time.perf_counter()
        game.broadcast(
            PlayEvent(player, event.column, row, len(state.board.moves) - 1, None if end else other(player))
        )
        metrics.fanned_out(started)
        if end is None:
            if state.computer is not None:  # checked here: every move of every game passes by
                self._computer_turn(game)
        elif end == "four":
            game.broadcast(WinEvent(player, "four", [(c, r) for c, r in state.board.cells]))
            self._ended(game)
        else:
            game.broadcast(DrawEvent())
            self._ended(game)

    def _ended(self, game: Game) -> None:
        game.cancel_timer(COMPUTER_TIMER)
        game.tell_presence()
        log.info("game %s ended: %s (%s) at ply %d", game.id, game.state.result, game.state.reason, game.state.board.ply)

    def _take_presence(self, game: Game, presence: Presence) -> None:
        """A presence announced or returned by the store: act on it if it is newer."""
        if game.follow(presence):
            self._settle(game)

    def _settle(self, game: Game) -> None:
        """After a new presence: close the connections it took seats from, and tell everyone."""
        now = self._clock()
        for process in game.presence.processes() - game.expiries.keys():
            # A process not heard of before: alive, since it just took a seat or counted spectators.
            game.expiries[process] = now + self.ttl
        for member in game.replaced():
            role = game.members.get(member)
            self._detach(game, member)
            send_event(member, ErrorEvent(message="This seat was taken over by another tab or device.", code="replaced"))
            member.close(CLOSE_REPLACED, "Seat taken over by another connection.")
            log.info("game %s: %s seat taken over by another connection", game.id, role)
        game.tell_presence()
        self._unfollow_if_idle(game)  # its last connection here was the one replaced

    # -- requests: check, append, and again after a lost race -------------------------

    async def _commit(self, game: Game, command: Command) -> Event:
        """Append the event the rulebook decides ``command`` makes (ProtocolError if it refuses);
        after a lost race, catch up and decide again. A decision that read the seats
        (``needs_seats``) is appended only if the presence has not changed since: if it has,
        the presence is read again and the command decided again."""
        for _ in range(ATTEMPTS):
            seats = self._seats_of(game) if rulebook.needs_seats(command) else None
            try:
                event = rulebook.decide(game.state, command, self._clock(), seats)
            except Refused as exc:
                raise ProtocolError.of(exc) from None
            version = game.state.version + 1
            try:
                await self.store.append(
                    game.id, version, event, presence_seq=seats.presence.seq if seats is not None else None
                )
            except VersionConflict:
                await self._catch_up(game)
                continue
            except ConditionFailed:  # the presence changed meanwhile: look at it again
                await self._look_again(game)
                continue
            except StoreError as exc:
                log.error("game %s: could not store %s: %s", game.id, type(event).__name__, exc)
                raise ProtocolError("unavailable", "That could not be saved; try again.") from None
            self._offer(game, version, event)
            return event
        raise ProtocolError("unavailable", "The game is too busy right now; try again.")

    def _seats_of(self, game: Game) -> rulebook.Seats:
        """The seats as this process knows them, for a decision that reads them."""
        return game.seats()

    # -- entering and leaving ---------------------------------------------------

    def _holder(self) -> Holder:
        self._connections += 1
        return Holder(self.process, self._connections)

    async def _seat(self, game: Game, member: Member, role: Role) -> None:
        """Attach a connection: a player takes its seats in the shared presence first."""
        colors = colors_of(role)
        if not colors:
            self._placement[member] = game
            game.add(member, role, None)
            self._spectators_changed(game)
            return
        holder = self._holder()
        await self._renew()
        presence = await self.store.seats.take(game.id, colors, holder, self._clock())
        game.follow(presence)
        self._placement[member] = game
        game.add(member, role, holder)
        self._settle(game)  # closes whoever held these seats here before
        self._computer_turn(game)  # a game created, or resumed, with the computer to move

    def _detach(self, game: Game, member: Member) -> Role | None:
        if self._placement.get(member) is game:
            del self._placement[member]
        role, _ = game.remove(member)
        return role

    async def _by_key(self, key: str, kind: str) -> Game:
        found = await self.store.find_key(key)
        game = await self._follow(found[0]) if found and found[1] == kind else None
        if game is None:
            raise ProtocolError("game_not_found", "Game not found.")
        return game

    async def _attached(self, member: Member, game: Game, role: Role) -> tuple[Game, Role]:
        """Seat a connection in a game just followed; if that failed, let the game go."""
        try:
            await self._seat(game, member, role)
        finally:
            self._let_go(game)
        return game, role

    async def create(
        self, member: Member, *, local: bool, public: bool = False, name: str | None = None
    ) -> tuple[Game, Role]:
        """Start a game: on one device, or online with an invite (listed in the lobby if ``public``)."""
        public = public and not local
        game = await self._create(self._created(local=local, public=public, names={RED: name}))
        metrics.count("connectfour_games_created_total")
        log.info("game %s created (%s)", game.id, "same device" if local else "public" if public else "online")
        return await self._open(game, member, "both" if local else RED)

    async def create_computer(
        self, member: Member, *, level: int, color: Player, name: str | None = None
    ) -> tuple[Game, Role]:
        """Start a game against the computer at ``level``; the creator plays ``color``."""
        game = await self._create(
            self._created(local=False, computer=other(color), level=level, names={color: name})
        )
        metrics.count("connectfour_games_created_total")
        log.info("game %s created (computer level %d)", game.id, level)
        return await self._open(game, member, color)

    async def _create(self, created: Created) -> Game:
        try:
            game = await self._follow(secrets.token_urlsafe(GAME_ID_BYTES), created)
        except StoreError as exc:
            log.error("could not store a new game: %s", exc)
            raise ProtocolError("unavailable", "The game could not be created; try again.") from None
        assert game is not None
        return game

    def _created(
        self,
        *,
        local: bool,
        rematch_of: str | None = None,
        computer: Player | None = None,
        level: int = 0,
        host: Player = RED,
        public: bool = False,
        match: bool = False,
        names: Mapping[Player, str | None] | None = None,
    ) -> Created:
        red_token = _new_key()
        seated = rematch_of is not None or computer is not None  # no invite to wait for
        names = names or {}
        return Created(
            host=host,
            public=public,
            match=match,
            red_name=names.get(RED),
            yellow_name=names.get(YELLOW),
            at=self._clock(),
            local=local,
            watch_key=_new_key(),
            join_key=None if local or seated else _new_key(),
            red_token=red_token,
            yellow_token=red_token if local else _new_key(),
            rematch_of=rematch_of,
            computer=computer,
            level=level,
        )

    async def _open(self, game: Game, creator: Member, role: Role) -> tuple[Game, Role]:
        """Seat the creator of a game: the init event first, then the snapshot.
        A quick match's invite is the queue's, not the player's to share."""
        state = game.state
        send_event(creator, InitEvent(game=game.id, watch=state.watch_key, join=None if state.match else state.join_key))
        return await self._attached(creator, game, role)

    async def join(self, member: Member, key: str, name: str | None = None) -> tuple[Game, Role]:
        """Take the guest's seat of the game whose invite ``key`` is."""
        game = await self._by_key(key, "join")
        try:
            await self._commit(game, rulebook.Join(name))
        except BaseException:
            self._let_go(game)
            raise
        guest = game.state.guest
        log.info("game %s joined by %s", game.id, guest)
        return await self._attached(member, game, guest)

    async def watch(self, member: Member, key: str) -> tuple[Game, Role]:
        game = await self._by_key(key, "watch")
        await self._attached(member, game, "spectator")
        log.debug("game %s has a new spectator (%d here)", game.id, game.spectators_here)
        return game, "spectator"

    async def resume(self, member: Member, game_id: str, token: str) -> tuple[Game, Role]:
        game = await self._follow(game_id)
        role = game.token_role(token) if game else None
        if game is None or role is None:
            if game is not None:
                self._let_go(game)
            raise ProtocolError("invalid_token", "This token does not hold a seat in this game.")
        if game.over:
            self._let_go(game)
            raise ProtocolError("game_over", f"This game has ended; its replay is at /game/{game.id}.")
        state = game.state
        if state.match and not state.invite_spent and state.join_key is not None:
            # Back to waiting for a quick match (leaving withdrew the ticket); or,
            # if someone else waits now, to their game instead: this one is never played.
            try:
                partner = await self.store.match.offer(Ticket(game.id, state.join_key), self._clock())
            except BaseException:
                self._let_go(game)
                raise
            if partner is not None:
                self._let_go(game)
                return await self.match(member, state.names.get(state.host), partner)
        await self._attached(member, game, role)
        log.info("game %s: %s resumed", game.id, role)
        return game, role

    # -- quick match -------------------------------------------------------------------

    async def match(
        self, member: Member, name: str | None = None, ticket: Ticket | None = None
    ) -> tuple[Game, Role]:
        """Play someone: join the game of whoever has waited longest, or host one and wait
        in the queue; the colours are drawn at random. ``ticket``: one already taken."""
        queue = self.store.match
        if ticket is None:
            ticket = await queue.take(self._clock())
        for _ in range(ATTEMPTS):
            if ticket is not None:
                try:
                    return await self.join(member, ticket.join, name)
                except ProtocolError as exc:  # the game went meanwhile: the next one
                    if exc.code not in ("game_not_found", "seat_taken", "game_over"):
                        raise
                ticket = await queue.take(self._clock())
                continue
            host = self._draw(PLAYERS)
            game = await self._create(
                self._created(local=False, public=True, match=True, host=host, names={host: name})
            )
            assert game.state.join_key is not None
            try:
                ticket = await queue.offer(Ticket(game.id, game.state.join_key), self._clock())
            except BaseException:
                self._let_go(game)
                raise
            if ticket is None:
                metrics.count("connectfour_games_created_total")
                log.info("game %s created (a quick match, waiting)", game.id)
                return await self._open(game, member, host)
            self._let_go(game)  # someone came meanwhile: this game is never played
        raise ProtocolError("unavailable", "No quick match could be made; try again.")

    async def cancel(self, member: Member) -> None:
        """Stop waiting for a quick match: the ticket is withdrawn, the seat given back."""
        game, role = self.where(member)
        if game is None or not game.state.match or game.state.invite_spent or role != game.state.host:
            raise ProtocolError("not_waiting", "This connection is not waiting for a quick match.")
        if not await self.store.match.cancel(game.id):
            raise ProtocolError("not_waiting", "Too late: an opponent was just found.")
        self.leave(member)
        send_event(member, CancelledEvent())
        log.info("game %s: the quick match was cancelled", game.id)

    def leave(self, member: Member) -> None:
        game = self._placement.get(member)
        if game is None:
            return
        holder = game.holders.get(member)
        role = self._detach(game, member)
        if role == "spectator":
            self._spectators_changed(game)
        elif holder is not None:
            # Shown here at once; the store's answer, at least as new, replaces it.
            game.presence = game.presence.leave(holder, self._clock())
            game.tell_presence()
            release = self._soon(self._release(game, holder))
            if release is not None:
                self._releasing.add(release)
                release.add_done_callback(self._releasing.discard)
            if not game.over:
                self._touch(game.id)
            if game.state.match and not game.state.invite_spent:  # nobody is to take this ticket now
                self._soon(self.store.match.cancel(game.id))
        self._unfollow_if_idle(game)

    async def _release(self, game: Game, holder: Holder) -> None:
        presence = await self.store.seats.leave(game.id, holder, self._clock())
        if self.games.get(game.id) is game:
            self._take_presence(game, presence)

    def _spectators_changed(self, game: Game) -> None:
        """Tell the shared presence how many spectators are here, at most every ``PRESENCE_DELAY``."""
        if game.has_timer(WATCH_TIMER):
            return

        def flush() -> None:
            game.forget_timer(WATCH_TIMER)
            if self.games.get(game.id) is game and game.spectators_here != game.spectators_told:
                self._soon(self._tell_spectators(game))

        game.add_timer(WATCH_TIMER, self._schedule(PRESENCE_DELAY, flush))

    async def _tell_spectators(self, game: Game) -> None:
        count = game.spectators_here
        game.spectators_told = count
        presence = await self.store.seats.watch(game.id, self.process, count, self._clock())
        self._take_presence(game, presence)
        game.tell_presence()

    def _touch(self, game_id: str) -> None:
        """Store that a player left. Until that is stored the game counts as in
        use: the sweep would otherwise judge it by its older activity."""
        self._touching[game_id] = self._touching.get(game_id, 0) + 1
        self._soon(self._stamp(game_id))

    async def _stamp(self, game_id: str) -> None:
        try:
            await self.store.touch(game_id, self._clock())
        finally:
            left = self._touching.pop(game_id) - 1
            if left:
                self._touching[game_id] = left

    # -- moves and endings ------------------------------------------------------

    def play_nowait(
        self, game: Game, role: Role, column: int, ply: int | None, done: Callable[[ProtocolError | None], None]
    ) -> None:
        """Check a move, store it, then announce it; ``done`` hears the outcome.

        A refusal found before storing raises ProtocolError at once and
        changes nothing; one found after a lost race reaches ``done``.
        """
        self._play(game, role, column, ply, done, ATTEMPTS)

    def _play(
        self,
        game: Game,
        role: Role,
        column: int,
        ply: int | None,
        done: Callable[[ProtocolError | None], None],
        attempts: int,
    ) -> None:
        state = game.state
        try:
            event, row = rulebook.decide_move(state, role, column, ply, self._clock())
        except Refused as exc:
            raise ProtocolError.of(exc) from None
        version = state.version + 1
        expected = state.board.ply

        def committed(error: StoreError | None) -> None:
            metrics.store_appended(sent)
            if error is None:
                metrics.count("connectfour_moves_total")
                if event.end is not None:
                    metrics.count("connectfour_games_ended_total", event.end)
                inbox = game.inbox
                if inbox.version == version - 1 and not inbox.gap:
                    # Version N+1 is ours, so the state is the one the move was checked
                    # against: played as checked, not checked again.
                    inbox.version = version
                    state.play_checked(event, row)
                    self._announce_move(game, event, row)
                else:
                    self._offer(game, version, event)
                done(None)
            elif isinstance(error, VersionConflict) and attempts > 1:
                # Another event took this version: catch up, then check the move again,
                # for the same ply (after another move it is stale, as it would be here).
                self._spawn(self._play_again(game, role, column, expected, done, attempts - 1))
            else:
                log.error("game %s: could not store the move at ply %d: %s", game.id, expected, error)
                done(ProtocolError("unavailable", "The move could not be saved; try again."))

        sent = time.perf_counter()
        self.store.append_nowait(game.id, version, event, committed)

    async def _play_again(
        self,
        game: Game,
        role: Role,
        column: int,
        ply: int | None,
        done: Callable[[ProtocolError | None], None],
        attempts: int,
    ) -> None:
        try:
            await self._catch_up(game)
            self._play(game, role, column, ply, done, attempts)
        except ProtocolError as exc:
            done(exc)
        except StoreError as exc:
            log.error("game %s: could not read its events: %s", game.id, exc)
            done(ProtocolError("unavailable", "The move could not be saved; try again."))

    async def play(self, game: Game, role: Role, column: int, ply: int | None = None) -> None:
        """``play_nowait``, awaited: raises ProtocolError, and then nothing changed."""
        await completion(lambda done: self.play_nowait(game, role, column, ply, done))

    # -- the computer -----------------------------------------------------------

    def _computer_turn(self, game: Game) -> None:
        """If the computer is to move and its opponent is connected here, answer after the natural delay."""
        color = game.state.computer
        if color is None or game.over or game.state.board.turn != color or game.thinking:
            return
        if game.holder_of(other(color)) is None:
            return  # the player is elsewhere (or away): that process answers, or this one once they are back
        game.thinking = True
        ply = game.state.board.ply

        def answer() -> None:
            self._spawn(self._computer_move(game, ply))

        game.add_timer(COMPUTER_TIMER, self._schedule(self.computer_delay, answer))

    async def _computer_move(self, game: Game, ply: int) -> None:
        """Search off the event loop, then play like a player. A game that left
        memory meanwhile is dropped: it is searched again once someone is back."""
        game.forget_timer(COMPUTER_TIMER)
        state = game.state
        color, moves = state.computer, list(state.board.moves)
        try:
            column = await self.computer.move(moves, state.level)
        except Exception:
            log.exception("game %s: the computer's search failed; a quick move instead", game.id)
            column = quick_move(moves, self.computer.rng)
        game.thinking = False
        if self.games.get(game.id) is not game or game.over or game.state.board.ply != ply or color is None:
            return
        try:
            await self.play(game, color, column, ply)
        except ProtocolError as exc:
            log.warning("game %s: the computer's move at ply %d was refused: %s", game.id, ply, exc)
            if exc.code == "unavailable":
                self._computer_turn(game)  # the store failed: try again after the delay

    async def resign(self, game: Game, role: Role) -> None:
        await self._commit(game, rulebook.Resign(role))
        metrics.count("connectfour_games_ended_total", "resign")

    async def claim(self, game: Game, role: Role) -> None:
        await self._commit(game, rulebook.Claim(role))
        metrics.count("connectfour_games_ended_total", "claim")

    # -- rematch ----------------------------------------------------------------

    async def rematch(self, game: Game, role: Role) -> Game | None:
        """Offer a rematch; once both players offered (and are connected), everyone
        moves to a new game, in whichever process they are. Colours swap: the old
        yellow plays red. Spectators follow."""
        if role == "spectator":
            raise ProtocolError("not_a_player", "Only a player can do this.")
        if not game.over:
            raise ProtocolError("game_not_over", "A rematch can only be offered once the game has ended.")
        state = game.state
        for color in colors_of(role):
            if color not in state.rematch_offers:
                await self._commit(game, rulebook.OfferRematch(color))
        if state.rematch is not None or len(state.rematch_offers) < rulebook.rematch_offers_needed(state):
            return None
        if any(game.seat_state(color) != "connected" for color in rulebook.humans(state)):
            return None  # the other player left: the offers stand, the game does not start
        computer = other(state.computer) if state.computer is not None else None
        created = self._created(
            local=state.local,
            rematch_of=game.id,
            computer=computer,
            level=state.level,
            public=state.public,
            names={RED: state.names.get(YELLOW), YELLOW: state.names.get(RED)},  # colours swap
        )
        new_id = secrets.token_urlsafe(GAME_ID_BYTES)
        try:
            await self.store.append(new_id, 1, created)
        except StoreError as exc:
            log.error("game %s: could not store its rematch: %s", game.id, exc)
            raise ProtocolError("unavailable", "The rematch could not be created; try again.") from None
        try:
            await self._commit(game, rulebook.StartRematch(new_id))
        except ProtocolError:
            return None  # another process started the rematch first; this game is never played
        metrics.count("connectfour_games_created_total")
        log.info("game %s: rematch is game %s", game.id, new_id)
        if game.moving is not None:
            await game.moving  # this process's members are in the new game before the next request
        return self.games.get(new_id)

    async def _move_to_rematch(self, old: Game, new_id: str) -> None:
        """Move everyone here from a finished game to its rematch: players swap colours."""
        members = list(old.members.items())
        if not members:
            return
        game = await self._follow(new_id)
        if game is None:
            log.error("game %s: its rematch %s is not in the store", old.id, new_id)
            return
        try:
            swapped: dict[Role, Role] = {RED: YELLOW, YELLOW: RED, "both": "both", "spectator": "spectator"}
            state = game.state
            for member, role in members:
                if old.members.get(member) != role:
                    continue  # left meanwhile
                # Seated in the new game before leaving the old one, so that
                # in between the connection is in a game that is over.
                send_event(member, InitEvent(game=game.id, watch=state.watch_key))
                await self._seat(game, member, swapped[role])
                holder = old.holders.get(member)
                old.remove(member)
                if holder is not None:
                    self._spawn(self._release(old, holder))
                elif role == "spectator":
                    self._spectators_changed(old)
        finally:
            self._let_go(game)
            self._unfollow_if_idle(old)

    # -- housekeeping -----------------------------------------------------------

    async def expire_idle(self) -> int:
        """End, as abandoned, stored games nobody has touched for ``expire_after``
        and whose seats nobody holds, wherever they are connected.

        First delete those nobody played (``forget_unplayed``): it is the same
        periodic sweep, and a game about to go need not be marked abandoned.
        """
        try:
            await self.forget_unplayed()
        except StoreError as exc:  # expiry can still go on
            log.error("could not delete the unplayed games: %s", exc)
        if self._releasing:  # seats given back here count: a game is not held by someone who left
            await asyncio.gather(*self._releasing, return_exceptions=True)
        await self._renew()
        before = self._clock() - self.expire_after
        expired = 0
        for game_id in await self.store.idle_games(before):
            if game_id in self.games:  # someone is connected here
                continue
            events = await self.store.read(game_id)
            state = GameState.replay(game_id, (event for _, event in events))
            if not state.version or state.over:
                continue
            now = self._clock()
            presence = await self.store.seats.presence(game_id, now)
            named = presence.processes()
            expiries = await self.store.seats.expiries(named) if named else {}
            try:
                event = rulebook.decide(state, rulebook.Expire(), now, rulebook.Seats(presence, expiries, self.grace))
                await self.store.append(game_id, state.version + 1, event, presence_seq=presence.seq)
            except (Refused, VersionConflict, ConditionFailed):
                continue  # someone moved, or is connected somewhere: not idle after all
            expired += 1
            metrics.count("connectfour_games_ended_total", "expired")
            log.info("game %s expired with nobody connected", game_id)
        return expired

    async def forget_unplayed(self) -> int:
        """Delete stored games without a move that nobody has touched for
        ``forget_unplayed_after``, unless someone here is in them; how many went.

        Anyone can create games for free, so without this the database grows
        with every one of them. A game with a move is kept for its replay.
        """
        if self.forget_unplayed_after <= 0:
            return 0
        before = self._clock() - self.forget_unplayed_after
        deleted = await self.store.delete_unplayed(before, keep=self._in_use)
        if deleted:
            log.info(
                "%d unplayed game%s deleted (no activity for %gs)",
                deleted,
                "s" if deleted != 1 else "",
                self.forget_unplayed_after,
            )
        return deleted

    def _soon(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[Any] | None:
        """A step in the background, started at once: with an in-memory store
        it is over before this returns, and no task is made."""
        if not self.store.local:  # a network store's client waits inside a task only
            return self._spawn(coro)
        try:
            task = start_eagerly(coro)
        except Exception as exc:
            log.error("background task failed: %s", exc)
            return None
        if task is not None:
            task.add_done_callback(_log_failure)
        return task

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task = asyncio.ensure_future(coro)
        task.add_done_callback(_log_failure)
        return task


class _Loading:
    """The loads of one game under way, and the announcements heard meanwhile."""

    __slots__ = ("loaders", "heard")

    def __init__(self) -> None:
        self.loaders = 0
        self.heard: list[tuple[int, Message]] = []


class _InAny:
    """Whether a key is in any of some mappings, asked anew each time (they change as a sweep goes)."""

    def __init__(self, *maps: Mapping[str, object]) -> None:
        self._maps = maps

    def __contains__(self, key: object) -> bool:
        return any(key in m for m in self._maps)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed: %s", task.exception())
