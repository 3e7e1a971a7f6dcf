"""One connection's requests, routed to the service by where the connection stands."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..domain import RED, Role, offers, rulebook
from ..domain.clock import TimeControl
from ..protocol import ProtocolError
from ..protocol.client_messages import (
    Cancel,
    Claim,
    ClientEvent,
    DeclineDraw,
    DeclineTakeback,
    Init,
    Lobby,
    Match,
    OfferDraw,
    Play,
    Rematch,
    Resign,
    Resume,
    Takeback,
)
from ..rules import Board, IllegalMove
from . import tasks
from .game import Game, Member
from .service import GameService

log = logging.getLogger("connectfour.service")


class Session:
    __slots__ = ("service", "member", "closed")

    def __init__(self, service: GameService, member: Member) -> None:
        self.service = service
        self.member = member
        #: The connection is gone; a request still waiting on the store must not seat it.
        self.closed = False

    @property
    def game(self) -> Game | None:
        return self.service.where(self.member)[0]

    @property
    def role(self) -> Role | None:
        return self.service.where(self.member)[1]

    def play_nowait(self, event: Play, done: Callable[[ProtocolError | None], None]) -> bool:
        """The hot path: a move in a game this connection is in, with no task.

        False when the move needs the general path (no game yet). Refusals
        found at once raise ProtocolError; later ones reach ``done``.
        """
        game, role = self.service.seating.where(self.member)
        if game is None or role is None:
            return False
        if event.id is None:
            self.service.moves.play_nowait(game, role, event.column, event.ply, done)
            return True

        def answered(error: ProtocolError | None) -> None:
            if error is not None and self.excused(event, error):
                self._confirm(game, done)
            else:
                done(error)

        try:
            self.service.moves.play_nowait(game, role, event.column, event.ply, answered)
        except ProtocolError as exc:
            if not self.excused(event, exc):
                raise
            self._confirm(game, done)
        return True

    def _confirm(self, game: Game, done: Callable[[ProtocolError | None], None]) -> None:
        """Answer a request its game took already once that is as safe as a new request's
        acknowledgement (``Moves.confirm``)."""

        async def confirm() -> None:
            try:
                await self.service.moves.confirm(game)
            except ProtocolError as exc:
                done(exc)
            else:
                done(None)

        tasks.spawn(confirm())

    async def handle(self, event: ClientEvent) -> None:
        """Act on one decoded client event. Refusals raise ProtocolError."""
        try:
            await self._handle(event)
        except ProtocolError as exc:
            if not self.excused(event, exc):
                raise
            game = self.game
            if game is not None:
                await self.service.moves.confirm(game)
        finally:
            if self.closed:  # the connection went while the request waited: leave what it joined
                self.close()

    def excused(self, event: ClientEvent, error: ProtocolError) -> bool:
        """Whether a refused request that carried an ``id`` is one its game took already: the
        same request sent again after its answer was lost, answered as the first was."""
        if event.id is None or error.code in ("unavailable", "internal_error"):
            return False
        game, role = self.service.where(self.member)
        if game is None or role is None:
            return False
        command: rulebook.Command
        if isinstance(event, Play):
            command = rulebook.Move(role, event.column, event.ply)
        elif isinstance(event, Resign):
            command = rulebook.Resign(role)
        elif isinstance(event, Claim):
            command = rulebook.Claim(role)
        else:
            return False
        return rulebook.already(game.state, command)

    async def _handle(self, event: ClientEvent) -> None:
        service, member = self.service, self.member
        game, role = service.where(member)
        if isinstance(event, Play):
            if game is None or role is None:
                # The tutorial's part 1: moves without init play both colours here;
                # a game started so stops the lobby's updates, as any other start does.
                _check_first_move(event)
                service.lobby.unwatch(member)
                game, role = await service.create(member, local=True)
            await service.play(game, role, event.column, event.ply)
            return
        if isinstance(event, (Init, Resume, Match, Lobby)):
            if game is not None:
                raise ProtocolError("already_started", "This connection is already in a game.")
            if isinstance(event, (Lobby, Match)) and not member.speaks_v1:
                raise ProtocolError("unknown_type", "The lobby and quick match need the connectfour.v1 subprotocol.")
            if isinstance(event, Lobby):
                service.lobby.watch(member)
                return
            service.lobby.unwatch(member)  # a connection in a game gets no lobby updates
            if isinstance(event, Resume):
                await service.resume(member, event.game, event.token)
            elif isinstance(event, Match):
                await service.match(member, event.name, time_control(event.clock))
            elif event.computer is not None:
                if event.local or event.join is not None or event.watch is not None:
                    raise ProtocolError(
                        "invalid_message", "A game against the computer takes no join or watch key and is not local."
                    )
                await service.create_computer(
                    member, level=event.computer, color=event.color, name=event.name, clock=time_control(event.clock)
                )
            elif event.join is not None:
                await service.join(member, event.join, event.name, event.id)
            elif event.watch is not None:
                await service.watch(member, event.watch)
            else:
                if event.local and event.clock is not None:
                    raise ProtocolError("invalid_message", "A game on one device is untimed: leave out the clock.")
                await service.create(
                    member, local=event.local, public=event.public, name=event.name, clock=time_control(event.clock)
                )
            return
        if isinstance(event, Cancel):
            await service.cancel(member)
            return
        if game is None or role is None:
            raise ProtocolError("not_a_player", "Start, join or resume a game first.")
        if isinstance(event, Resign):
            await service.resign(game, role)
        elif isinstance(event, Claim):
            await service.claim(game, role)
        elif isinstance(event, Rematch):
            await service.rematch(game, role)
        elif isinstance(event, OfferDraw):
            await service.moves.commit(game, offers.OfferDraw(role))
        elif isinstance(event, DeclineDraw):
            await service.moves.commit(game, offers.DeclineDraw(role))
        elif isinstance(event, Takeback):
            await service.moves.commit(game, offers.TakeBack(role))
        elif isinstance(event, DeclineTakeback):
            await service.moves.commit(game, offers.DeclineTakeback(role))

    def close(self) -> None:
        self.closed = True
        self.service.lobby.unwatch(self.member)
        self.service.leave(self.member)


def _check_first_move(event: Play) -> None:
    """The tutorial's first move, checked before a game is made for it: a refusal makes none."""
    if event.ply:
        raise ProtocolError("future_ply", f"That move was for ply {event.ply}, but no game is started.")
    try:
        Board().check(RED, event.column)
    except IllegalMove as exc:
        raise ProtocolError(exc.code, str(exc)) from None


def time_control(text: str | None) -> TimeControl | None:
    """A request's time control (the protocol checked its form), or None: untimed."""
    if text is None:
        return None
    try:
        return TimeControl.parse(text)
    except ValueError as exc:
        raise ProtocolError("invalid_message", str(exc)) from None
