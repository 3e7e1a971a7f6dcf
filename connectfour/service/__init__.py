"""Games, seats, keys and moves, independent of any transport."""

from .game import Game, Member
from .service import GameService
from .session import Session

__all__ = ["Game", "GameService", "Member", "Session"]
