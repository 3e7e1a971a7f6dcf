"""Games by id and key, seats and moves: the service knows nothing of HTTP."""

from __future__ import annotations

import logging
import secrets
import time

from ..protocol import ProtocolError
from ..protocol.messages import InitEvent, Role
from ..rules import IllegalMove
from ..store import GameRecord, PlyConflict, Store, StoreError
from .game import Game, Member, Scheduler, send_event

log = logging.getLogger("connectfour.service")

#: Bytes of randomness in invite and watch keys (128 bits, as the bars require).
KEY_BYTES = 16
GAME_ID_BYTES = 9


class GameService:
    def __init__(self, store: Store, schedule: Scheduler | None = None) -> None:
        self.store = store
        self._schedule = schedule
        #: Games with at least one member here, or not yet finished.
        self.games: dict[str, Game] = {}

    # -- lookups ----------------------------------------------------------------

    async def _load(self, game_id: str) -> Game | None:
        game = self.games.get(game_id)
        if game is not None:
            return game
        record = await self.store.get(game_id)
        if record is None:
            return None
        # Another coroutine may have loaded it while we waited.
        return self.games.setdefault(game_id, Game(record, self._schedule))

    async def _by_key(self, key: str, kind: str) -> Game:
        found = await self.store.find_key(key)
        game = await self._load(found[0]) if found and found[1] == kind else None
        if game is None:
            raise ProtocolError("game_not_found", "Game not found.")
        return game

    # -- entering a game --------------------------------------------------------

    async def create(self, member: Member, *, local: bool) -> tuple[Game, Role]:
        record = GameRecord(
            id=secrets.token_urlsafe(GAME_ID_BYTES),
            watch_key=secrets.token_urlsafe(KEY_BYTES),
            join_key=None if local else secrets.token_urlsafe(KEY_BYTES),
            created_at=time.time(),
        )
        await self.store.create(record)
        game = Game(record, self._schedule)
        self.games[game.id] = game
        role: Role = "both" if local else "red"
        send_event(member, InitEvent(game=game.id, watch=game.watch_key, join=game.join_key))
        game.seat(member, role)
        log.info("game %s created (%s)", game.id, "same device" if local else "online")
        return game, role

    async def join(self, member: Member, key: str) -> tuple[Game, Role]:
        game = await self._by_key(key, "join")
        if game.invite_spent or not await self.store.spend_invite(game.id):
            game.invite_spent = True
            raise ProtocolError(
                "seat_taken", "This invite link was already used: the seat is taken."
            )
        game.invite_spent = True
        game.seat(member, "yellow")
        log.info("game %s joined by yellow", game.id)
        return game, "yellow"

    async def watch(self, member: Member, key: str) -> tuple[Game, Role]:
        game = await self._by_key(key, "watch")
        game.seat(member, "spectator")
        log.debug("game %s has a new spectator (%d)", game.id, game.spectators)
        return game, "spectator"

    def leave(self, game: Game, member: Member) -> None:
        game.leave(member)
        if game.idle and game.board.is_over:
            self.games.pop(game.id, None)

    # -- moves ------------------------------------------------------------------

    async def play(self, game: Game, role: Role, column: int, ply: int | None = None) -> None:
        """Store a move, then announce it. Raises ProtocolError; changes nothing then."""
        if role == "spectator":
            raise ProtocolError("spectator", "Spectators cannot play.")
        board = game.board
        if ply is not None and ply != board.ply and not board.is_over:
            raise _stale(ply, board.ply)
        player = board.turn if role == "both" else role
        expected = board.ply
        try:
            board.check(player or role, column)
        except IllegalMove as exc:
            raise ProtocolError(exc.code, str(exc)) from None
        try:
            await self.store.append(game.id, expected, column)
        except PlyConflict:
            raise _stale(expected, board.ply) from None
        except StoreError:
            log.exception("game %s: could not store the move at ply %d", game.id, expected)
            raise ProtocolError("unavailable", "The move could not be saved; try again.") from None
        move = board.play(player or role, column)
        game.announce(move)


def _stale(ply: int, current: int) -> ProtocolError:
    return ProtocolError(
        "stale_ply", f"That move was for ply {ply}, but the game is at ply {current}."
    )
