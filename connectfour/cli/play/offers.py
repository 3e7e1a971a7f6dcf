"""The offer of a draw and the request for a takeback that stand in the game on
screen, as the server's events tell them, and how each is told: the player who
made it hears it is on its way, the opponent how to answer, a spectator what
happened. A move withdraws them as the server does: a draw offer when the
offerer's opponent moves, a takeback request on any move."""

from __future__ import annotations

from .endings import colour


def _other(player: str) -> str:
    return "yellow" if player == "red" else "red"


class Offers:
    """What stands: whose offer of a draw, whose request for a takeback (None: nobody's)."""

    def __init__(self) -> None:
        self.draw: str | None = None
        self.takeback: str | None = None
        #: This terminal took a move back at once (against the computer, on one device): a
        #: shorter game from the server is that, not moves it lost.
        self.taking_back = False

    def reset(self, draw: str | None, takeback: str | None) -> None:
        """As a ``state`` tells them."""
        self.draw, self.takeback = draw, takeback

    def moved(self, player: str) -> None:
        """``player`` moved: the opponent's offer lapses, and any request for a takeback."""
        if self.draw is not None and self.draw != player:
            self.draw = None
        self.takeback = None

    def expects_fewer_moves(self) -> bool:
        """Whether a game shorter than the one shown would be a takeback."""
        return self.takeback is not None or self.taking_back

    def draw_offered(self, player: str, you: str | None) -> str:
        self.draw = player
        if player == you:
            return f"You offer a draw: waiting for {colour(_other(player))}'s answer."
        if you in ("red", "yellow"):
            return f"{colour(player)} offers a draw: type draw to accept, or decline."
        return f"{colour(player)} offers a draw."

    def draw_declined(self, player: str, you: str | None) -> str:
        self.draw = None
        if player == you:
            return "You decline the draw."
        if you in ("red", "yellow"):
            return f"{colour(player)} declines your offer of a draw."
        return f"{colour(player)} declines the draw."

    def takeback_requested(self, player: str, you: str | None) -> str:
        self.takeback = player
        if player == you:
            return f"You ask to take back your last move: waiting for {colour(_other(player))}'s answer."
        if you in ("red", "yellow"):
            return f"{colour(player)} asks to take back their last move: type takeback to accept, or decline."
        return f"{colour(player)} asks to take back their last move."

    def takeback_declined(self, player: str, you: str | None) -> str:
        self.takeback = None
        if player == you:
            return "You decline the takeback."
        if you in ("red", "yellow"):
            return f"{colour(player)} declines your takeback."
        return f"{colour(player)} declines the takeback."

    def taken_back(self, plies: int, you: str | None) -> str:
        """A shorter game came: the takeback was done. Nothing stands any more."""
        asked = self.takeback
        self.draw = self.takeback = None
        self.taking_back = False
        moves = f"{plies} move{'s' if plies != 1 else ''}"
        if asked is not None and asked == you:
            return f"{colour(_other(asked))} accepts your takeback: {moves} taken back."
        return f"Taken back: {moves}."

    def to_decline(self, you: str | None) -> list[str]:
        """The messages that decline what the opponent of ``you`` has standing."""
        if you not in ("red", "yellow"):
            return []
        opponent = _other(you)
        declines = []
        if self.draw == opponent:
            declines.append("decline_draw")
        if self.takeback == opponent:
            declines.append("decline_takeback")
        return declines
