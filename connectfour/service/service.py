"""The game service: a thin shell around the rulebook. It knows nothing of HTTP.

Several services (processes) can serve one game: each decides its clients'
commands with the rulebook on the game's state as it knows it and appends
the event at the next version; the store takes exactly one event per
version, and announces it on the bus. Every service with members in the
game applies each announced event in version order and tells its own
connections. A service that loses a race reads what it missed and decides
again (a stale ply, a game over, or the same event at the next version).

The parts, one concept each: ``following.py`` (the games followed here, in
version order), ``moves.py`` (commands that append, moves first),
``seating.py`` (entering and leaving, the quick match), ``creation.py`` (a
new game's keys and first event), ``fanout.py`` and ``views.py`` (what an
event means to the connections here, and what they are shown),
``computer.py`` (the computer's seat), ``sweeps.py`` (games nobody is
connected to), ``lobby.py``. This module wires them, keeps the process
alive in the registry, and moves everyone on to a rematch.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from .. import metrics
from ..domain import RED, YELLOW, Player, Role, other, rulebook
from ..domain.clock import TimeControl
from ..domain.events import Event, Moved, RematchStarted
from ..protocol import ProtocolError
from ..protocol.server_messages import InitEvent
from ..store import Store, StoreError
from ..store.base import ends
from . import fanout, lobby, tasks
from .computer import DELAY, Computer, ComputerSeat
from .creation import created, new_game_id
from .flags import Flags
from .following import CLOSE_REPLACED, Following
from .game import COMPUTER_TIMER, Game, Member, Scheduler, colors_of, send_event
from .moves import Moves
from .seating import Seating
from .sweeps import Sweeps

log = logging.getLogger("connectfour.service")


__all__ = ["CLOSE_REPLACED", "GameService"]


def _call_later(delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
    return asyncio.get_running_loop().call_later(delay, callback)


class GameService:
    def __init__(
        self,
        store: Store,
        *,
        grace: float = 60.0,
        expire_after: float = 3600.0,
        forget_unplayed_after: float = 86400.0,
        schedule: Scheduler | None = None,
        clock: Callable[[], float] = time.time,
        computer: Computer | None = None,
        computer_delay: float = DELAY,
        draw: Callable[[Sequence[Player]], Player] = secrets.choice,
        lobby_interval: float = lobby.INTERVAL,
    ) -> None:
        self.store = store
        schedule = schedule or _call_later
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
        self._renewed_at: float | None = None
        #: The games followed here.
        self.following = Following(
            store,
            process=self.process,
            grace=grace,
            schedule=schedule,
            clock=clock,
            renew=self._renew,
            after=self._after,
            detach=lambda game, member: self.seating.detach(game, member),
            spawn=self._spawn,
            soon=self._soon,
            loaded=lambda game: self.flags.watch(game),
        )
        #: Games with at least one member in this process, and those of them the lobby lists.
        self.games = self.following.games
        self.listed = self.following.listed
        #: Every command that appends, moves first.
        self.moves = Moves(store, self.following, clock=clock, spawn=self._spawn, after=self._after)
        #: The flags of the timed games followed here.
        self.flags = Flags(self.moves, clock=clock, schedule=schedule)
        #: Connections entering and leaving games; the quick match.
        self.seating = Seating(
            store,
            self.following,
            self.moves,
            process=self.process,
            clock=clock,
            schedule=schedule,
            draw=draw,
            renew=self._renew,
            computer_turn=lambda game: self.computer_seat.turn(game),
            soon=self._soon,
        )
        #: The sweeps of stored games, which must not touch those in use here (looked up live).
        self.sweeps = Sweeps(
            store,
            clock=clock,
            grace=grace,
            expire_after=expire_after,
            forget_unplayed_after=forget_unplayed_after,
            followed=self.games,
            in_use=_InAnyOf(self.games, self.seating.touching, self.following.loading),
        )
        #: The computer's seats in the games followed here.
        self.computer_seat = ComputerSeat(
            self.computer,
            delay=computer_delay,
            schedule=schedule,
            spawn=self._spawn,
            play=self.play,
            following=lambda game: self.games.get(game.id) is game,
            clock=clock,
        )
        #: This process's side of the lobby: the public games followed here, told to everyone.
        self.lobby = lobby.Lobby(
            self.process,
            self.listed.values,
            lambda part: store.bus.tell_all("lobby", part),
            clock=clock,
            interval=lobby_interval,
        )

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
            game.id
            for game in self.listed.values()
            if game.state.match and not game.state.invite_spent and game.holders
        ]
        if waiting:  # their players wait for a quick match here: their tickets stay
            await self.store.match.renew(waiting, now)
        followed = list(self.games)
        # What each game had applied when the read was sent: the store had all of it then,
        # unless it lost some; an event stored (and applied) while the read is on its way is not.
        applied = {game_id: (game, game.inbox.version) for game_id, game in self.games.items()}
        self.following.fill_behind(await self.store.versions(followed) if followed else {}, applied)
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
        game.last = event
        if game.state.clock is not None:  # a timed game: its side to move's deadline changed
            self.flags.watch(game)
        if type(event) is Moved:  # every move of every game passes here: the shortest way
            fanout.tell_move(game, event, row)
            if event.end is not None:
                self._ended(game)
            elif game.state.computer is not None:
                self.computer_seat.turn(game)
            return
        fanout.tell(game, event, row)
        if game.state.result is not None and ends(event):
            self._ended(game)

        elif isinstance(event, RematchStarted):
            game.to_rematch = self._spawn(self._move_to_rematch(game, event.game))

    def _ended(self, game: Game) -> None:
        game.cancel_timer(COMPUTER_TIMER)
        game.tell_presence()
        log.info(
            "game %s ended: %s (%s) at ply %d", game.id, game.state.result, game.state.reason, game.state.board.ply
        )

    # -- entering and leaving (seating.py) ------------------------------------------

    def where(self, member: Member) -> tuple[Game, Role] | tuple[None, None]:
        """The game a connection is in, and its role there."""
        return self.seating.where(member)

    async def create(
        self,
        member: Member,
        *,
        local: bool,
        public: bool = False,
        name: str | None = None,
        clock: TimeControl | None = None,
    ) -> tuple[Game, Role]:
        return await self.seating.create(member, local=local, public=public, name=name, clock=clock)

    async def create_computer(
        self, member: Member, *, level: int, color: Player, name: str | None = None, clock: TimeControl | None = None
    ) -> tuple[Game, Role]:
        return await self.seating.create_computer(member, level=level, color=color, name=name, clock=clock)

    async def join(
        self, member: Member, key: str, name: str | None = None, request: str | None = None
    ) -> tuple[Game, Role]:
        return await self.seating.join(member, key, name, request)

    async def watch(self, member: Member, key: str) -> tuple[Game, Role]:
        return await self.seating.watch(member, key)

    async def resume(self, member: Member, game_id: str, token: str) -> tuple[Game, Role]:
        return await self.seating.resume(member, game_id, token)

    async def match(
        self, member: Member, name: str | None = None, clock: TimeControl | None = None
    ) -> tuple[Game, Role]:
        return await self.seating.match(member, name, clock=clock)

    async def cancel(self, member: Member) -> None:
        await self.seating.cancel(member)

    def leave(self, member: Member) -> None:
        self.seating.leave(member)

    # -- moves and endings (moves.py) --------------------------------------------

    def play_nowait(
        self, game: Game, role: Role, column: int, ply: int | None, done: Callable[[ProtocolError | None], None]
    ) -> None:
        """``Moves.play_nowait``: the hot path."""
        self.moves.play_nowait(game, role, column, ply, done)

    async def play(self, game: Game, role: Role, column: int, ply: int | None = None) -> None:
        await self.moves.play(game, role, column, ply)

    async def resign(self, game: Game, role: Role) -> None:
        await self.moves.resign(game, role)

    async def claim(self, game: Game, role: Role) -> None:
        await self.moves.claim(game, role)

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
                await self.moves.commit(game, rulebook.OfferRematch(color))
        if state.rematch is not None or len(state.rematch_offers) < rulebook.rematch_offers_needed(state):
            return None
        if any(game.seat_state(color) != "connected" for color in rulebook.humans(state)):
            return None  # the other player left: the offers stand, the game does not start
        computer = other(state.computer) if state.computer is not None else None
        event = created(
            at=self._clock(),
            local=state.local,
            rematch_of=game.id,
            computer=computer,
            level=state.level,
            public=state.public,
            names={RED: state.names.get(YELLOW), YELLOW: state.names.get(RED)},  # colours swap
            clock=state.clock.control if state.clock is not None else None,
        )
        new_id = new_game_id()
        try:
            await self.store.append(new_id, 1, event)
        except StoreError as exc:
            log.error("game %s: could not store its rematch: %s", game.id, exc)
            raise ProtocolError("unavailable", "The rematch could not be created; try again.") from None
        try:
            await self.moves.commit(game, rulebook.StartRematch(new_id))
        except ProtocolError:
            return None  # another process started the rematch first; this game is never played
        metrics.count("connectfour_games_created_total")
        log.info("game %s: rematch is game %s", game.id, new_id)
        if game.to_rematch is not None:
            await game.to_rematch  # this process's members are in the new game before the next request
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
                await self.seating.seat(game, member, swapped[role])
                holder = old.holders.get(member)
                old.remove(member)
                if holder is not None:
                    self._spawn(self.seating.release(old, holder))
                elif role == "spectator":
                    self.seating.spectators_changed(old)
        finally:
            self.following.let_go(game)
            self.following.unfollow_if_idle(old)

    # -- housekeeping -----------------------------------------------------------

    async def expire_idle(self) -> int:
        """The sweep of stored games (``sweeps.Sweeps.expire_idle``); how many expired."""
        if self.seating.releasing:  # seats given back here count: a game is not held by someone who left
            await asyncio.gather(*self.seating.releasing, return_exceptions=True)
        await self._renew()
        return await self.sweeps.expire_idle()

    async def forget_unplayed(self) -> int:
        return await self.sweeps.forget_unplayed()

    def _soon(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[Any] | None:
        return tasks.soon(coro, local=self.store.in_process)

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        return tasks.spawn(coro)


class _InAnyOf:
    """Whether a key is in any of some mappings, asked anew each time (they change as a sweep goes)."""

    def __init__(self, *maps: Mapping[str, object]) -> None:
        self._maps = maps

    def __contains__(self, key: object) -> bool:
        return any(key in m for m in self._maps)
