"""Games by id, key and token; seats and moves. The service knows nothing of HTTP."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from .. import metrics
from ..completion import completion
from ..protocol import ProtocolError
from ..domain import Role
from ..protocol.messages import DrawEvent, ErrorEvent, InitEvent, PlayEvent, RematchEvent, WinEvent
from ..rules import PLAYERS, RED, YELLOW, IllegalMove, Player, other
from ..store import GameRecord, PlyConflict, Reason, Result, Store, StoreError
from .computer import DELAY, Computer, quick_move
from .game import COMPUTER_TIMER, Game, Member, Scheduler, send_event

log = logging.getLogger("connectfour.service")

#: Bytes of randomness in invite and watch keys and player tokens (128 bits).
KEY_BYTES = 16
GAME_ID_BYTES = 9

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
    ) -> None:
        self.store = store
        #: Plays the computer's seats; without a solver its top levels play quick moves.
        self.computer = computer or Computer(None)
        #: Seconds before the computer answers a move.
        self.computer_delay = computer_delay
        self.grace = grace
        self.expire_after = expire_after
        #: Seconds of inactivity after which a game without a move is deleted; 0 never.
        self.forget_unplayed_after = forget_unplayed_after
        self._schedule = schedule
        self._clock = clock
        #: Games with at least one member in this process; the rest live in the store only.
        self.games: dict[str, Game] = {}
        #: Which game each connection here is in.
        self._placement: dict[Member, Game] = {}
        #: Games a player left whose activity stamp is not stored yet, and how many such stamps.
        self._touching: dict[str, int] = {}
        #: What the sweep must not delete, looked up live as it goes.
        self._in_use = _InAny(self.games, self._touching)

    def where(self, member: Member) -> tuple[Game, Role] | tuple[None, None]:
        """The game a connection is in, and its role there."""
        game = self._placement.get(member)
        if game is None:
            return None, None
        return game, game.members[member]

    def _seat(self, game: Game, member: Member, role: Role) -> None:
        self._placement[member] = game
        game.seat(member, role)
        if role != "spectator":
            self._computer_turn(game)  # a game created, or resumed, with the computer to move

    def _unseat(self, game: Game, member: Member) -> Role | None:
        if self._placement.get(member) is game:
            del self._placement[member]
        return game.leave(member)

    # -- lookups ----------------------------------------------------------------

    async def _load(self, game_id: str) -> Game | None:
        game = self.games.get(game_id)
        if game is not None:
            return game
        record = await self.store.get(game_id)
        if record is None:
            return None
        game = self.games.get(game_id)  # loaded by another coroutine meanwhile?
        if game is None:
            game = self.games[game_id] = Game(record, self._schedule, self.grace, self._clock)
        return game

    async def _by_key(self, key: str, kind: str) -> Game:
        found = await self.store.find_key(key)
        game = await self._load(found[0]) if found and found[1] == kind else None
        if game is None:
            raise ProtocolError("game_not_found", "Game not found.")
        return game

    # -- entering and leaving ---------------------------------------------------

    async def create(self, member: Member, *, local: bool) -> tuple[Game, Role]:
        record = self._new_record(local=local)
        await self.store.create(record)
        return self._open(record, member)

    async def create_computer(self, member: Member, *, level: int, color: Player) -> tuple[Game, Role]:
        """Start a game against the computer at ``level``; the creator plays ``color``."""
        record = self._new_record(local=False, computer=other(color), level=level)
        await self.store.create(record)
        return self._open(record, member, color)

    def _new_record(
        self, *, local: bool, rematch_of: Game | None = None, computer: Player | None = None, level: int = 0
    ) -> GameRecord:
        red_token = _new_key()
        seated = rematch_of is not None or computer is not None  # no invite to wait for
        return GameRecord(
            id=secrets.token_urlsafe(GAME_ID_BYTES),
            watch_key=_new_key(),
            join_key=None if local or seated else _new_key(),
            red_token=red_token,
            yellow_token=red_token if local else _new_key(),
            created_at=self._clock(),
            local=local,
            invite_spent=seated,
            rematch_of=rematch_of.id if rematch_of else None,
            computer=computer,
            level=level,
        )

    def _open(self, record: GameRecord, creator: Member, color: Player = RED) -> tuple[Game, Role]:
        """Bring a stored new game to life with its creator seated as ``color`` (or both)."""
        game = self.games[record.id] = Game(record, self._schedule, self.grace, self._clock)
        metrics.count("connectfour_games_created_total")
        role: Role = "both" if record.local else color
        send_event(creator, InitEvent(game=game.id, watch=record.watch_key, join=record.join_key))
        self._seat(game, creator, role)
        kind = "same device" if record.local else f"computer level {record.level}" if record.computer else "online"
        log.info("game %s created (%s)", game.id, kind)
        return game, role

    async def join(self, member: Member, key: str) -> tuple[Game, Role]:
        game = await self._by_key(key, "join")
        if game.record.invite_spent or not await self.store.spend_invite(game.id):
            game.record.invite_spent = True
            raise ProtocolError(
                "seat_taken",
                "This invite link was already used: the seat is taken. You can watch the game.",
                watch=game.record.watch_key,
            )
        game.record.invite_spent = True
        self._seat(game, member, "yellow")
        log.info("game %s joined by yellow", game.id)
        return game, "yellow"

    async def watch(self, member: Member, key: str) -> tuple[Game, Role]:
        game = await self._by_key(key, "watch")
        self._seat(game, member, "spectator")
        log.debug("game %s has a new spectator (%d)", game.id, game.spectators)
        return game, "spectator"

    async def resume(self, member: Member, game_id: str, token: str) -> tuple[Game, Role]:
        game = await self._load(game_id)
        role = game.token_role(token) if game else None
        if game is None or role is None:
            raise ProtocolError("invalid_token", "This token does not hold a seat in this game.")
        if game.over:
            self._evict_if_idle(game)
            raise ProtocolError("game_over", f"This game has ended; its replay is at /game/{game.id}.")
        previous = game.holder(role)
        if previous is not None and previous is not member:
            self._unseat(game, previous)
            send_event(previous, ErrorEvent(message="This seat was taken over by another tab or device.", code="replaced"))
            previous.close(CLOSE_REPLACED, "Seat taken over by another connection.")
            log.info("game %s: %s seat taken over by a newer connection", game.id, role)
        self._seat(game, member, role)
        log.info("game %s: %s resumed", game.id, role)
        return game, role

    def leave(self, member: Member) -> None:
        game = self._placement.get(member)
        if game is None:
            return
        role = self._unseat(game, member)
        if role is not None and role != "spectator" and not game.over:
            self._touch(game.id)
        self._evict_if_idle(game)

    def _touch(self, game_id: str) -> None:
        """Store that a player left. Until that is stored the game counts as in
        use: the sweep would otherwise judge it by its older activity."""
        self._touching[game_id] = self._touching.get(game_id, 0) + 1

        def stored(_: object) -> None:
            left = self._touching.pop(game_id) - 1
            if left:
                self._touching[game_id] = left

        self._spawn(self.store.touch(game_id, self._clock())).add_done_callback(stored)

    def _evict_if_idle(self, game: Game) -> None:
        if game.idle and self.games.get(game.id) is game:
            game.close()
            del self.games[game.id]

    # -- moves and endings ------------------------------------------------------

    def play_nowait(
        self, game: Game, role: Role, column: int, ply: int | None, done: Callable[[ProtocolError | None], None]
    ) -> None:
        """Check a move, store it, then announce it; ``done`` hears the outcome.

        A refusal found before storing raises ProtocolError at once and
        changes nothing; one found by the store reaches ``done``.
        """
        if role == "spectator":
            raise ProtocolError("spectator", "Spectators cannot play.")
        if game.over:
            raise ProtocolError("game_over", "The game is over.")
        board = game.board
        if ply is not None and ply != board.ply:
            raise _stale(ply, board.ply)
        player = board.turn if role == "both" else role
        expected = board.ply
        try:
            board.check(player, column)  # type: ignore[arg-type]
        except IllegalMove as exc:
            raise ProtocolError(exc.code, str(exc)) from None

        def committed(error: StoreError | None) -> None:
            if error is None:
                self._announce(game, player, column)  # type: ignore[arg-type]
                done(None)
            elif isinstance(error, PlyConflict):
                done(ProtocolError("game_over", "The game is over.") if game.over else _stale(expected, board.ply))
            else:
                log.error("game %s: could not store the move at ply %d: %s", game.id, expected, error)
                done(ProtocolError("unavailable", "The move could not be saved; try again."))

        self.store.append_nowait(game.id, expected, column, self._clock(), committed)

    async def play(self, game: Game, role: Role, column: int, ply: int | None = None) -> None:
        """``play_nowait``, awaited: raises ProtocolError, and then nothing changed."""
        await completion(lambda done: self.play_nowait(game, role, column, ply, done))

    def _announce(self, game: Game, player: str, column: int) -> None:
        """Apply a stored move and tell everyone, with the result it produced."""
        board = game.board
        move = board.play(player, column)
        metrics.count("connectfour_moves_total")
        game.broadcast(PlayEvent(move.player, move.column, move.row, move.ply, board.turn))
        if board.winner:
            game.broadcast(WinEvent(board.winner, "four", [tuple(c) for c in board.cells]))  # type: ignore[misc]
            self._record_end(game, board.winner, "four")
        elif board.is_draw:
            game.broadcast(DrawEvent())
            self._record_end(game, "draw", "full")
        elif game.record.computer is not None:  # checked here: every move of every game passes by
            self._computer_turn(game)

    # -- the computer -----------------------------------------------------------

    def _computer_turn(self, game: Game) -> None:
        """If the computer is to move here, answer after the natural delay."""
        color = game.record.computer
        if color is None or game.over or game.board.turn != color or game.thinking:
            return
        game.thinking = True
        ply = game.board.ply

        def answer() -> None:
            self._spawn(self._computer_move(game, ply))

        game.add_timer(COMPUTER_TIMER, self._schedule(self.computer_delay, answer))

    async def _computer_move(self, game: Game, ply: int) -> None:
        """Search off the event loop, then play like a player. A game that left
        memory meanwhile is dropped: it is searched again once someone is back."""
        game.forget_timer(COMPUTER_TIMER)
        color, moves = game.record.computer, list(game.board.moves)
        try:
            column = await self.computer.move(moves, game.record.level)
        except Exception:
            log.exception("game %s: the computer's search failed; a quick move instead", game.id)
            column = quick_move(moves, self.computer.rng)
        game.thinking = False
        if self.games.get(game.id) is not game or game.over or game.board.ply != ply or color is None:
            return
        try:
            await self.play(game, color, column, ply)
        except ProtocolError as exc:
            log.warning("game %s: the computer's move at ply %d was refused: %s", game.id, ply, exc)
            if exc.code == "unavailable":
                self._computer_turn(game)  # the store failed: try again after the delay

    async def resign(self, game: Game, role: Role) -> None:
        player = self._player(game, role)
        await self._end(game, other(player), "resign")

    async def claim(self, game: Game, role: Role) -> None:
        player = self._player(game, role)
        if other(player) not in game.gone:
            raise ProtocolError(
                "not_claimable",
                f"You can claim the game once your opponent has been away for {self.grace:g} seconds.",
            )
        await self._end(game, player, "claim")

    def _player(self, game: Game, role: Role) -> Player:
        if role == "spectator":
            raise ProtocolError("not_a_player", "Only a player can do this.")
        if game.over:
            raise ProtocolError("game_over", "The game is over.")
        if role == "both":
            return game.board.turn  # type: ignore[return-value]
        return role

    async def _end(self, game: Game, winner: Player, reason: Reason) -> None:
        """End a game by a player's act (resign, claim): stored first, then announced."""
        try:
            ended = await self.store.finish(game.id, winner, reason, self._clock())
        except StoreError:
            log.exception("game %s: could not store its end", game.id)
            raise ProtocolError("unavailable", "The game's end could not be saved; try again.") from None
        if not ended or game.over:
            raise ProtocolError("game_over", "The game is over.")
        self._mark_ended(game, winner, reason)
        game.broadcast(WinEvent(winner, reason))

    def _record_end(self, game: Game, result: Result, reason: Reason) -> None:
        """Note the end a move produced. The move log already proves it, so the store
        is told in the background and a failure there is only logged."""
        self._mark_ended(game, result, reason)
        self._spawn(self.store.finish(game.id, result, reason, self._clock()))

    def _mark_ended(self, game: Game, result: Result, reason: Reason) -> None:
        game.record.result, game.record.reason = result, reason
        metrics.count("connectfour_games_ended_total", reason)
        game.close()
        log.info("game %s ended: %s (%s) at ply %d", game.id, result, reason, game.board.ply)

    # -- rematch ----------------------------------------------------------------

    async def rematch(self, game: Game, role: Role) -> Game | None:
        """Offer a rematch; once both players offered, move everyone to a new game.

        Colours swap: the old yellow plays red. Spectators follow.
        """
        if role == "spectator":
            raise ProtocolError("not_a_player", "Only a player can do this.")
        if not game.over:
            raise ProtocolError("game_not_over", "A rematch can only be offered once the game has ended.")
        if game.record.computer is not None:
            return await self._rematch_computer(game)
        offers = game.rematch_offers
        offers.update(PLAYERS if role == "both" else (role,))
        red, yellow = game.seats[RED], game.seats[YELLOW]
        if len(offers) < 2 or red is None or yellow is None:
            game.broadcast(RematchEvent(role))  # type: ignore[arg-type]
            return None
        offers.clear()
        record = self._new_record(local=game.local, rematch_of=game)
        await self.store.create(record)
        if game.seats[RED] is not red or game.seats[YELLOW] is not yellow:
            return None  # a player left meanwhile; the unused game will expire
        # From here on nothing awaits: no request of these members can run
        # while they are between the two games.
        spectators = [m for m, r in game.members.items() if r == "spectator"]
        for member in list(game.members):
            self._unseat(game, member)
        self._evict_if_idle(game)
        new_game, _ = self._open(record, yellow)
        watch = InitEvent(game=new_game.id, watch=record.watch_key)
        if not game.local:
            send_event(red, watch)
            self._seat(new_game, red, YELLOW)
        for member in spectators:
            send_event(member, watch)  # so a reload follows the new game
            self._seat(new_game, member, "spectator")
        log.info("game %s: rematch is game %s", game.id, new_game.id)
        return new_game

    async def _rematch_computer(self, game: Game) -> Game | None:
        """The computer accepts at once: a new game at the same level, colours swapped."""
        computer = game.record.computer
        assert computer is not None
        human = other(computer)
        member = game.seats[human]
        if member is None:
            return None
        record = self._new_record(local=False, rematch_of=game, computer=human, level=game.record.level)
        await self.store.create(record)
        if game.seats[human] is not member:
            return None  # the player left meanwhile; the unused game will be deleted
        spectators = [m for m, r in game.members.items() if r == "spectator"]
        for each in list(game.members):
            self._unseat(game, each)
        self._evict_if_idle(game)
        new_game, _ = self._open(record, member, computer)
        watch = InitEvent(game=new_game.id, watch=record.watch_key)
        for each in spectators:
            send_event(each, watch)
            self._seat(new_game, each, "spectator")
        log.info("game %s: rematch against the computer is game %s", game.id, new_game.id)
        return new_game

    # -- housekeeping -----------------------------------------------------------

    async def expire_idle(self) -> int:
        """Finish, as abandoned, stored games nobody has touched for ``expire_after``.

        First delete those nobody played (``forget_unplayed``): it is the same
        periodic sweep, and a game about to go need not be marked abandoned.
        """
        try:
            await self.forget_unplayed()
        except StoreError as exc:  # expiry can still go on
            log.error("could not delete the unplayed games: %s", exc)
        before = self._clock() - self.expire_after
        expired = 0
        for game_id in await self.store.idle_games(before):
            if game_id in self.games:  # someone is connected here
                continue
            if await self.store.finish(game_id, "abandoned", "expired", self._clock()):
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
        log.error("background store write failed: %s", task.exception())


def _stale(ply: int, current: int) -> ProtocolError:
    return ProtocolError("stale_ply", f"That move was for ply {ply}, but the game is at ply {current}.")
