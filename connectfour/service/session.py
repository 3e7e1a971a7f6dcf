"""One connection's life: not in a game yet, then a seat or a spectator's chair."""

from __future__ import annotations

from ..protocol import ProtocolError
from ..protocol.messages import ClientEvent, Init, Play, Role
from .game import Game, Member
from .service import GameService


class Session:
    def __init__(self, service: GameService, member: Member) -> None:
        self.service = service
        self.member = member
        self.game: Game | None = None
        self.role: Role | None = None

    async def handle(self, event: ClientEvent) -> None:
        """Act on one decoded client event. Refusals raise ProtocolError."""
        if isinstance(event, Play):
            if self.game is None:
                # The tutorial's part 1: moves without init play both colours here.
                self.game, self.role = await self.service.create(self.member, local=True)
            assert self.game is not None and self.role is not None
            await self.service.play(self.game, self.role, event.column, event.ply)
        elif isinstance(event, Init):
            if self.game is not None:
                raise ProtocolError("already_started", "This connection is already in a game.")
            if event.join is not None:
                self.game, self.role = await self.service.join(self.member, event.join)
            elif event.watch is not None:
                self.game, self.role = await self.service.watch(self.member, event.watch)
            else:
                self.game, self.role = await self.service.create(self.member, local=event.local)

    def close(self) -> None:
        if self.game is not None:
            self.service.leave(self.game, self.member)
            self.game = None
