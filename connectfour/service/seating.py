"""Seating: connections entering and leaving games, and the quick match.

A game is created (its keys made here, at random), joined with its invite,
watched with its watch key, or resumed with a player's token; a player's
connection takes its seat in the shared presence (``Seats.take``), a
spectator is counted per process. Leaving gives the seat back and stamps
the game's activity. Quick match pairs whoever waits longest with whoever
comes next, through the store's queue, wherever each is connected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from .. import metrics
from ..domain import PLAYERS, RED, Player, Role, other, rulebook
from ..domain.clock import TimeControl
from ..domain.events import Created
from ..domain.seats import Holder
from ..domain.state import GameState
from ..protocol import ProtocolError
from ..protocol.server_messages import CancelledEvent, InitEvent
from ..store import Store, StoreError
from ..store.matching import Ticket
from .creation import created, new_game_id
from .following import Following
from .game import (
    PRESENCE_DELAY,
    WATCH_TIMER,
    Game,
    Member,
    Scheduler,
    colors_of,
    send_event,
)
from .moves import ATTEMPTS, Moves

log = logging.getLogger("connectfour.service")


class Seating:
    def __init__(
        self,
        store: Store,
        following: Following,
        moves: Moves,
        *,
        process: str,
        clock: Callable[[], float],
        schedule: Scheduler,
        draw: Callable[[Sequence[Player]], Player],
        renew: Callable[[], Awaitable[None]],
        computer_turn: Callable[[Game], None],
        soon: Callable[[Coroutine[Any, Any, object]], asyncio.Task[Any] | None],
    ) -> None:
        self.store = store
        self.following = following
        self.moves = moves
        self.process = process
        self._clock = clock
        self._schedule = schedule
        #: Draws a quick match's colours (a seeded one makes a test repeatable).
        self._draw = draw
        self._renew = renew
        self._computer_turn = computer_turn
        self._soon = soon
        #: Which game each connection here is in.
        self._placement: dict[Member, Game] = {}
        self._connections = 0
        #: Seats being given back to the shared presence.
        self.releasing: set[asyncio.Task[Any]] = set()
        #: Games a player left whose activity stamp is not stored yet, and how many such stamps.
        self.touching: dict[str, int] = {}

    def where(self, member: Member) -> tuple[Game, Role] | tuple[None, None]:
        """The game a connection is in, and its role there."""
        game = self._placement.get(member)
        role = game.members.get(member) if game is not None else None
        if game is None or role is None:
            return None, None
        return game, role

    def _holder(self) -> Holder:
        self._connections += 1
        return Holder(self.process, self._connections)

    async def seat(self, game: Game, member: Member, role: Role) -> None:
        """Attach a connection: a player takes its seats in the shared presence first."""
        colors = colors_of(role)
        if not colors:
            self._placement[member] = game
            game.add(member, role, None)
            self.spectators_changed(game)
            return
        holder = self._holder()
        await self._renew()
        presence = await self.store.seats.take(game.id, colors, holder, self._clock())
        game.follow(presence)
        self._placement[member] = game
        game.add(member, role, holder)
        self.following.settle(game)  # closes whoever held these seats here before
        self._computer_turn(game)  # a game created, or resumed, with the computer to move

    def detach(self, game: Game, member: Member) -> Role | None:
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
            await self.seat(game, member, role)
        finally:
            self.following.let_go(game)
        return game, role

    async def create(
        self,
        member: Member,
        *,
        local: bool,
        public: bool = False,
        name: str | None = None,
        clock: TimeControl | None = None,
    ) -> tuple[Game, Role]:
        """Start a game: on one device, or online with an invite (listed in the lobby if ``public``);
        on ``clock``, or untimed."""
        public = public and not local
        game = await self._create(created(at=self._clock(), local=local, public=public, names={RED: name}, clock=clock))
        metrics.count("connectfour_games_created_total")
        log.info("game %s created (%s)", game.id, "same device" if local else "public" if public else "online")
        return await self._open(game, member, "both" if local else RED)

    async def create_computer(
        self, member: Member, *, level: int, color: Player, name: str | None = None, clock: TimeControl | None = None
    ) -> tuple[Game, Role]:
        """Start a game against the computer at ``level``; the creator plays ``color``."""
        game = await self._create(
            created(at=self._clock(), local=False, computer=other(color), level=level, names={color: name}, clock=clock)
        )
        metrics.count("connectfour_games_created_total")
        log.info("game %s created (computer level %d)", game.id, level)
        return await self._open(game, member, color)

    async def _create(self, event: Created) -> Game:
        try:
            game = await self.following.follow(new_game_id(), event)
        except StoreError as exc:
            log.error("could not store a new game: %s", exc)
            raise ProtocolError("unavailable", "The game could not be created; try again.") from None
        assert game is not None
        return game

    async def _open(self, game: Game, creator: Member, role: Role) -> tuple[Game, Role]:
        """Seat the creator of a game: the init event first, then the snapshot.
        A quick match's invite is the queue's, not the player's to share."""
        state = game.state
        send_event(
            creator, InitEvent(game=game.id, watch=state.watch_key, join=None if state.match else state.join_key)
        )
        return await self._attached(creator, game, role)

    async def join(
        self, member: Member, key: str, name: str | None = None, request: str | None = None
    ) -> tuple[Game, Role]:
        """Take the guest's seat of the game whose invite ``key`` is. The same request sent again
        (``request``, its id: its answer was lost) takes the seat it took."""
        game = await self._by_key(key, "join")
        command = rulebook.Join(name, request)
        try:
            await self.moves.commit(game, command)
        except ProtocolError as exc:
            if exc.code != "seat_taken" or not rulebook.already(game.state, command):
                self.following.let_go(game)
                raise
            try:  # the same join sent again: seated as the first was, once that is safe
                await self.moves.confirm(game)
            except BaseException:
                self.following.let_go(game)
                raise
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

    async def resume(self, member: Member, game_id: str, token: str, looked: bool = False) -> tuple[Game, Role]:
        game = await self.following.follow(game_id)
        if game is None:
            raise ProtocolError("game_not_found", "There is no such game: it never existed, or it was deleted.")
        role = game.token_role(token)
        if role is None:
            self.following.let_go(game)
            raise ProtocolError("invalid_token", "This token does not hold a seat in this game.")
        if game.over and not looked and not self.store.in_process:
            # Its end may be one the store lost (a failover onto a replica that lagged):
            # look before turning the player away from a game that goes on.
            try:
                await self.following.catch_up(game)
            except StoreError as exc:
                log.warning("game %s: could not read it back before a resume: %s", game.id, exc)
            if game.lost:  # resume what the store kept
                self.following.let_go(game)
                return await self.resume(member, game_id, token, looked=True)
        if game.over:
            self.following.let_go(game)
            raise ProtocolError("game_over", f"This game has ended; its replay is at /game/{game.id}.")
        state = game.state
        if state.match and not state.invite_spent and state.join_key is not None:
            # Back to waiting for a quick match (leaving withdrew the ticket); or,
            # if someone else waits now, to their game instead: this one is never played.
            try:
                partner = await self.store.match.offer(Ticket(game.id, state.join_key, pool_of(state)), self._clock())
            except BaseException:
                self.following.let_go(game)
                raise
            if partner is not None:
                self.following.let_go(game)
                return await self.match(member, state.names.get(state.host), partner, control_of(state))
        await self._attached(member, game, role)
        log.info("game %s: %s resumed", game.id, role)
        return game, role

    # -- quick match ---------------------------------------------------------------

    async def match(
        self,
        member: Member,
        name: str | None = None,
        ticket: Ticket | None = None,
        clock: TimeControl | None = None,
    ) -> tuple[Game, Role]:
        """Play someone who chose the same time control (``clock``, or untimed): join the game of
        whoever has waited longest, or host one and wait in the queue; the colours are drawn at
        random. ``ticket``: one already taken."""
        queue = self.store.match
        pool = str(clock) if clock is not None else ""
        if ticket is None:
            ticket = await queue.take(self._clock(), pool)
        for _ in range(ATTEMPTS):
            if ticket is not None:
                try:
                    return await self.join(member, ticket.join, name)
                except ProtocolError as exc:  # the game went meanwhile: the next one
                    if exc.code not in ("game_not_found", "seat_taken", "game_over"):
                        raise
                ticket = await queue.take(self._clock(), pool)
                continue
            host = self._draw(PLAYERS)
            game = await self._create(
                created(
                    at=self._clock(), local=False, public=True, match=True, host=host, names={host: name}, clock=clock
                )
            )
            assert game.state.join_key is not None
            try:
                ticket = await queue.offer(Ticket(game.id, game.state.join_key, pool), self._clock())
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
        if not await self.store.match.cancel(game.id, pool_of(game.state)):
            raise ProtocolError("not_waiting", "Too late: an opponent was just found.")
        self.leave(member)
        send_event(member, CancelledEvent())
        log.info("game %s: the quick match was cancelled", game.id)

    def leave(self, member: Member) -> None:
        game = self._placement.get(member)
        if game is None:
            return
        holder = game.holders.get(member)
        role = self.detach(game, member)
        if role == "spectator":
            self.spectators_changed(game)
        elif holder is not None:
            # Shown here at once; the store's answer, at least as new, replaces it.
            game.presence = game.presence.leave(holder, self._clock())
            game.tell_presence()
            release = self._soon(self.release(game, holder))
            if release is not None:
                self.releasing.add(release)
                release.add_done_callback(self.releasing.discard)
            if not game.over:
                self._touch(game.id)
            if game.state.match and not game.state.invite_spent:  # nobody is to take this ticket now
                self._soon(self.store.match.cancel(game.id, pool_of(game.state)))
        self.following.unfollow_if_idle(game)

    async def release(self, game: Game, holder: Holder) -> None:
        presence = await self.store.seats.leave(game.id, holder, self._clock())
        if self.following.games.get(game.id) is game:
            self.following.take_presence(game, presence)

    def spectators_changed(self, game: Game) -> None:
        """Tell the shared presence how many spectators are here, at most every ``PRESENCE_DELAY``."""
        if game.has_timer(WATCH_TIMER):
            return

        def flush() -> None:
            game.forget_timer(WATCH_TIMER)
            if self.following.games.get(game.id) is game and game.spectators_here != game.spectators_told:
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
        self.touching[game_id] = self.touching.get(game_id, 0) + 1
        self._soon(self._stamp(game_id))

    async def _stamp(self, game_id: str) -> None:
        try:
            await self.store.touch(game_id, self._clock())
        finally:
            left = self.touching.pop(game_id) - 1
            if left:
                self.touching[game_id] = left


def control_of(state: GameState) -> TimeControl | None:
    return state.clock.control if state.clock is not None else None


def pool_of(state: GameState) -> str:
    """The quick match's pool of a game: its time control, empty if untimed."""
    return str(state.clock.control) if state.clock is not None else ""
