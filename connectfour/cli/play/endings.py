"""How a game's end is told: who won and why, in the words of the player who reads it."""

from __future__ import annotations


def colour(player: str) -> str:
    """red -> Red."""
    return player.capitalize()


def win_line(winner: str, reason: str | None, you: str | None) -> str:
    """``Red wins (four). You win!``; on time, ``You lost on time: your clock ran out.``"""
    loser = colour("yellow" if winner == "red" else "red")
    if reason == "time":
        if you == winner:
            return f"You won on time: {loser}'s clock ran out."
        if you in ("red", "yellow"):
            return "You lost on time: your clock ran out."
        return f"{colour(winner)} wins on time: {loser}'s clock ran out."
    how = {
        "resign": f"{loser} resigned",
        "claim": f"{loser} left, and the win was claimed",
        "expired": "time ran out",
    }.get(reason or "", reason or "")
    line = f"{colour(winner)} wins ({how})."
    if you == winner:
        return f"{line} You win!"
    if you in ("red", "yellow"):
        return f"{line} You lost."
    return line


def draw_line(reason: str | None) -> str:
    return "Draw by agreement." if reason == "agreement" else "Draw: the board is full."


def abandoned_line(reason: str | None) -> str:
    if reason == "aborted":
        return "Aborted: the first move did not come in time."
    return "The game was abandoned: nobody played for too long."
