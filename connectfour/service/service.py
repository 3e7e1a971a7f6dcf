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
    Created,
    Event,
    Moved,
    RematchStarted,
)
from ..domain.seats import Holder
from ..domain import rulebook
from ..domain.refusal import Refused
from ..domain.rulebook import Command
from ..protocol import ProtocolError
from ..protocol.messages import CancelledEvent, InitEvent
from ..store import ConditionFailed, Store, StoreError, VersionConflict
from ..store.base import ends
from ..store.matching import Ticket
from . import fanout, lobby
from .following import CLOSE_REPLACED, Following
from .sweeps import Sweeps
from .computer import DELAY, Computer, ComputerSeat
from .game import COMPUTER_TIMER, PRESENCE_DELAY, WATCH_TIMER, Game, Member, Scheduler, colors_of, send_event

log = logging.getLogger("connectfour.service")

#: Bytes of randomness in invite and watch keys and player tokens (128 bits).
KEY_BYTES = 16
GAME_ID_BYTES = 9
#: Attempts at a request that keeps losing races to other services before it gives up.
ATTEMPTS = 16

__all__ = ["CLOSE_REPLACED", "GameService"]


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
        #: Which game each connection here is in.
        self._placement: dict[Member, Game] = {}
        self._connections = 0
        self._renewed_at: float | None = None
        #: Seats being given back to the shared presence.
        self._releasing: set[asyncio.Task[Any]] = set()
        #: Games a player left whose activity stamp is not stored yet, and how many such stamps.
        self._touching: dict[str, int] = {}
        #: The games followed here.
        self.following = Following(
            store,
            process=self.process,
            grace=grace,
            schedule=schedule,
            clock=clock,
            renew=self._renew,
            after=self._after,
            detach=self._detach,
            spawn=self._spawn,
            soon=self._soon,
        )
        #: Games with at least one member in this process, and those of them the lobby lists.
        self.games = self.following.games
        self.listed = self.following.listed
        #: The sweeps of stored games, which must not touch those in use here (looked up live).
        self.sweeps = Sweeps(
            store,
            clock=clock,
            grace=grace,
            expire_after=expire_after,
            forget_unplayed_after=forget_unplayed_after,
            followed=self.games,
            in_use=_InAny(self.games, self._touching, self.following.loading),
        )
        #: The computer's seats in the games followed here.
        self.computer_seat = ComputerSeat(
            self.computer,
            delay=computer_delay,
            schedule=schedule,
            spawn=self._spawn,
            play=self.play,
            following=lambda game: self.games.get(game.id) is game,
        )
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
        self.following.fill_behind(await self.store.versions(followed) if followed else {})
        await self.sweeps.keep_unplayed(list(self.games.values()), now)

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

    # -- what follows an event ---------------------------------------------------

    def _after(self, game: Game, event: Event, row: int) -> None:
        """An event the game's state has taken: tell everyone here, then what follows from it
        (the end, the computer's turn, everyone moving on to the rematch)."""
        fanout.tell(game, event, row)
        if game.state.result is not None and ends(event):
            self._ended(game)
        elif type(event) is Moved:
            if game.state.computer is not None:  # checked here: every move of every game passes by
                self.computer_seat.turn(game)
        elif isinstance(event, RematchStarted):
            game.moving = self._spawn(self._move_to_rematch(game, event.game))

    def _ended(self, game: Game) -> None:
        game.cancel_timer(COMPUTER_TIMER)
        game.tell_presence()
        log.info("game %s ended: %s (%s) at ply %d", game.id, game.state.result, game.state.reason, game.state.board.ply)

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
                await self.following.catch_up(game)
                continue
            except ConditionFailed:  # the presence changed meanwhile: look at it again
                await self.following.look_again(game)
                continue
            except StoreError as exc:
                log.error("game %s: could not store %s: %s", game.id, type(event).__name__, exc)
                raise ProtocolError("unavailable", "That could not be saved; try again.") from None
            self.following.offer(game, version, event)
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
        self.following.settle(game)  # closes whoever held these seats here before
        self.computer_seat.turn(game)  # a game created, or resumed, with the computer to move

    def _detach(self, game: Game, member: Member) -> Role | None:
        if self._placement.get(member) is game:
            del self._placement[member]
        role, _ = game.remove(member)
        return role

    async def _by_key(self, key: str, kind: str) -> Game:
        found = await self.store.find_key(key)
        game = await self.following.follow(found[0]) if found and found[1] == kind else None
        if game is None:
            raise ProtocolError("game_not_found", "Game not found.")
        return game

    async def _attached(self, member: Member, game: Game, role: Role) -> tuple[Game, Role]:
        """Seat a connection in a game just followed; if that failed, let the game go."""
        try:
            await self._seat(game, member, role)
        finally:
            self.following.let_go(game)
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
            game = await self.following.follow(secrets.token_urlsafe(GAME_ID_BYTES), created)
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
            self.following.let_go(game)
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
        game = await self.following.follow(game_id)
        role = game.token_role(token) if game else None
        if game is None or role is None:
            if game is not None:
                self.following.let_go(game)
            raise ProtocolError("invalid_token", "This token does not hold a seat in this game.")
        if game.over:
            self.following.let_go(game)
            raise ProtocolError("game_over", f"This game has ended; its replay is at /game/{game.id}.")
        state = game.state
        if state.match and not state.invite_spent and state.join_key is not None:
            # Back to waiting for a quick match (leaving withdrew the ticket); or,
            # if someone else waits now, to their game instead: this one is never played.
            try:
                partner = await self.store.match.offer(Ticket(game.id, state.join_key), self._clock())
            except BaseException:
                self.following.let_go(game)
                raise
            if partner is not None:
                self.following.let_go(game)
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
                self.following.let_go(game)
                raise
            if ticket is None:
                metrics.count("connectfour_games_created_total")
                log.info("game %s created (a quick match, waiting)", game.id)
                return await self._open(game, member, host)
            self.following.let_go(game)  # someone came meanwhile: this game is never played
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
        self.following.unfollow_if_idle(game)

    async def _release(self, game: Game, holder: Holder) -> None:
        presence = await self.store.seats.leave(game.id, holder, self._clock())
        if self.games.get(game.id) is game:
            self.following.take_presence(game, presence)

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
        self.following.take_presence(game, presence)
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
                    inbox.take(version)
                    state.play_checked(event, row)
                    self._after(game, event, row)
                else:
                    self.following.offer(game, version, event)
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
            await self.following.catch_up(game)
            self._play(game, role, column, ply, done, attempts)
        except ProtocolError as exc:
            done(exc)
        except StoreError as exc:
            log.error("game %s: could not read its events: %s", game.id, exc)
            done(ProtocolError("unavailable", "The move could not be saved; try again."))

    async def play(self, game: Game, role: Role, column: int, ply: int | None = None) -> None:
        """``play_nowait``, awaited: raises ProtocolError, and then nothing changed."""
        await completion(lambda done: self.play_nowait(game, role, column, ply, done))

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
        game = await self.following.follow(new_id)
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
            self.following.let_go(game)
            self.following.unfollow_if_idle(old)

    # -- housekeeping -----------------------------------------------------------

    async def expire_idle(self) -> int:
        """The sweep of stored games (``sweeps.Sweeps.expire_idle``); how many expired."""
        if self._releasing:  # seats given back here count: a game is not held by someone who left
            await asyncio.gather(*self._releasing, return_exceptions=True)
        await self._renew()
        return await self.sweeps.expire_idle()

    async def forget_unplayed(self) -> int:
        return await self.sweeps.forget_unplayed()

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


class _InAny:
    """Whether a key is in any of some mappings, asked anew each time (they change as a sweep goes)."""

    def __init__(self, *maps: Mapping[str, object]) -> None:
        self._maps = maps

    def __contains__(self, key: object) -> bool:
        return any(key in m for m in self._maps)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed: %s", task.exception())
