"""A game's state is a pure function of its events.

Any process can rebuild a game by replaying its log, and follow it by
applying each announced event in version order: ``GameState.apply`` is the
only way a game changes, with no I/O and no clock of its own.

A game's end is part of the event that causes it: the move that makes four
carries the win, so nothing can be stored between the two, and a
resignation racing that move is refused by ``check`` against the state it
would follow, whichever process makes it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..rules import Board, IllegalMove
from . import RED, YELLOW, Player, Reason, Result, Status, other
from .clock import Clock
from .events import (
    Aborted,
    Claimed,
    Created,
    DrawAgreed,
    DrawDeclined,
    DrawOffered,
    Event,
    Expired,
    Joined,
    Moved,
    RematchOffered,
    RematchStarted,
    Resigned,
    TakebackDeclined,
    TakebackRequested,
    TimedOut,
    TookBack,
)
from .refusal import Refused

__all__ = ["GameState", "Refused"]


class GameState:
    """A game as its events so far have made it. ``version`` is how many were applied."""

    __slots__ = (
        "id", "version", "local", "watch_key", "join_key", "red_token", "yellow_token", "rematch_of",
        "created_at", "updated_at", "invite_spent", "board", "result", "reason", "finished_at",
        "rematch_offers", "rematch", "computer", "level", "host", "public", "match", "names", "joined_by",
        "clock", "draw_offer", "draw_offered_at", "takeback_request",
    )  # fmt: skip

    def __init__(self, game_id: str) -> None:
        self.id = game_id
        self.version = 0
        self.local = False
        self.watch_key = ""
        self.join_key: str | None = None
        self.red_token = ""
        self.yellow_token = ""
        self.rematch_of: str | None = None
        self.created_at = 0.0
        self.updated_at = 0.0
        self.invite_spent = False
        self.board = Board()
        self.result: Result | None = None
        self.reason: Reason | None = None
        self.finished_at: float | None = None
        self.rematch_offers: frozenset[Player] = frozenset()
        #: The game the rematch is, once both players offered.
        self.rematch: str | None = None
        #: The computer's seat, in a game against it, and its level.
        self.computer: Player | None = None
        self.level = 0
        #: The creator's seat (the guest takes the other), and how the game is found.
        self.host: Player = RED
        self.public = False
        self.match = False
        #: The players' display names, by colour.
        self.names: dict[Player, str] = {}
        #: The id of the request that spent the invite, if it gave one.
        self.joined_by: str | None = None
        #: Both sides' time, in a game with a time control (``domain/clock.py``).
        self.clock: Clock | None = None
        #: The player whose offer of a draw stands, and the ply at which each last offered one.
        self.draw_offer: Player | None = None
        self.draw_offered_at: dict[Player, int] = {}
        #: The player whose request for a takeback stands.
        self.takeback_request: Player | None = None

    @property
    def guest(self) -> Player:
        return other(self.host)

    @classmethod
    def replay(cls, game_id: str, events: Iterable[Event]) -> GameState:
        """The state after ``events``, versions 1, 2, ... in order."""
        state = cls(game_id)
        for event in events:
            state.apply(event)
        return state

    # -- how the game stands ------------------------------------------------------

    @property
    def over(self) -> bool:
        return self.result is not None

    @property
    def status(self) -> Status:
        result = self.result
        if result is None:
            return "playing" if self.local or self.invite_spent else "waiting"
        if result == "draw" or result == "abandoned":
            return result
        return "won"

    @property
    def turn(self) -> Player | None:
        return None if self.result is not None else self.board.turn

    # -- events -------------------------------------------------------------------

    def check(self, event: Event) -> None:
        """Raise Refused unless ``event`` may come next; nothing changes either way."""
        if isinstance(event, Moved):
            self._check_move(event)
        elif isinstance(event, Created):
            if self.version:
                raise Refused("already_started", "This game already exists.")
        elif not self.version:
            raise Refused("game_not_found", "Game not found.")
        elif isinstance(event, Joined):
            if self.local or self.join_key is None or self.invite_spent:
                raise Refused("seat_taken", "This invite link was already used: the seat is taken.")
        elif isinstance(event, (Resigned, Claimed, Expired)):
            self._check_open()
        elif isinstance(event, (TimedOut, Aborted)):
            self._check_flag(event)
        elif isinstance(event, (DrawOffered, DrawDeclined, DrawAgreed, TakebackRequested, TakebackDeclined)):
            self._check_open()
            self._check_offer(event)
        elif isinstance(event, TookBack):
            self._check_open()
            if event.plies not in (1, 2) or event.plies > len(self.board.moves):
                raise Refused("invalid_event", "No such moves to take back.")
        elif isinstance(event, RematchOffered):
            if event.player == self.computer:
                raise Refused("not_a_player", "The computer does not offer rematches: it accepts them.")
            if not self.over:
                raise Refused("game_not_over", "A rematch can only be offered once the game has ended.")
            if self.rematch is not None:
                raise Refused("game_over", "The rematch has already started.")
        elif isinstance(event, RematchStarted):
            # Against the computer the player's offer is enough: it accepts at once.
            needed = 1 if self.computer is not None else 2
            if not self.over or self.rematch is not None or len(self.rematch_offers) < needed:
                raise Refused("game_not_over", "A rematch starts once both players offered it.")

    def _check_move(self, event: Moved) -> int:
        """Raise Refused unless the move may come next, ``end`` included; the row it lands on."""
        if self.result is not None or not self.version:
            self._check_open()
        try:
            row = self.board.check(event.player, event.column)
        except IllegalMove as exc:
            raise Refused(exc.code, str(exc)) from None
        if event.end != self.board.outcome(event.column, row):
            raise Refused("invalid_event", "The move's stated end is not the one it makes.")
        clock = self.clock
        if clock is not None and clock.expired(event.at):
            raise Refused("out_of_time", "Your time ran out before the move arrived.")
        return row

    def _check_offer(
        self, event: DrawOffered | DrawDeclined | DrawAgreed | TakebackRequested | TakebackDeclined
    ) -> None:
        """An offer is made while none of the player's stands; an answer needs the opponent's."""
        if isinstance(event, DrawOffered):
            if self.draw_offer is not None:
                raise Refused("invalid_event", "An offer of a draw stands already.")
        elif isinstance(event, DrawDeclined):
            if self.draw_offer != other(event.player):
                raise Refused("invalid_event", "No offer of a draw to decline.")
        elif isinstance(event, DrawAgreed):
            if self.draw_offer is None:
                raise Refused("invalid_event", "No offer of a draw to accept.")
        elif isinstance(event, TakebackRequested):
            if self.takeback_request is not None:
                raise Refused("invalid_event", "A request for a takeback stands already.")
        elif self.takeback_request != other(event.player):
            raise Refused("invalid_event", "No request for a takeback to decline.")

    def _check_flag(self, event: TimedOut | Aborted) -> None:
        """A flag falls only in a timed game, for the side to move, once its deadline passed:
        on its clock (``TimedOut``), or in its first move's window (``Aborted``)."""
        self._check_open()
        clock = self.clock
        if clock is None or not clock.expired(event.at):
            raise Refused("clock_running", "No clock has run out.")
        if isinstance(event, TimedOut) != clock.running or (
            isinstance(event, TimedOut) and event.player != self.board.turn
        ):
            raise Refused("invalid_event", "The flag names another side, or another way to end.")

    def _check_open(self) -> None:
        if not self.version:
            raise Refused("game_not_found", "Game not found.")
        if self.over:
            raise Refused("game_over", "The game is over.")

    def apply(self, event: Event) -> None:
        """Take ``event`` as version ``version + 1``; raises Refused (changing nothing) if it may not come next."""
        if type(event) is Moved:  # every move of every game passes here: checked once, then placed
            self.play_checked(event, self._check_move(event))
            return
        self.check(event)
        self.version += 1
        self.updated_at = max(self.updated_at, event.at)
        if isinstance(event, Created):
            self.local = event.local
            self.watch_key = event.watch_key
            self.join_key = event.join_key
            self.red_token = event.red_token
            self.yellow_token = event.yellow_token
            self.rematch_of = event.rematch_of
            self.created_at = event.at
            self.computer = event.computer
            self.level = event.level
            self.host = event.host
            self.public = event.public
            self.match = event.match
            if event.red_name is not None:
                self.names[RED] = event.red_name
            if event.yellow_name is not None:
                self.names[YELLOW] = event.yellow_name
            # A game with no invite to spend has both seats from the start.
            self.invite_spent = event.join_key is None
            if event.clock is not None:
                self.clock = Clock(event.clock)
                if self.invite_spent:
                    self.clock.start(event.at)
        elif isinstance(event, Joined):
            self.invite_spent = True
            self.joined_by = event.request
            if event.name is not None:
                self.names[self.guest] = event.name
            if self.clock is not None:
                self.clock.start(event.at)
        elif isinstance(event, Resigned):
            self._end(other(event.player), "resign", event.at)
        elif isinstance(event, Claimed):
            self._end(event.player, "claim", event.at)
        elif isinstance(event, Expired):
            self._end("abandoned", "expired", event.at)
        elif isinstance(event, TimedOut):
            self._end(other(event.player), "time", event.at)
        elif isinstance(event, Aborted):
            self._end("abandoned", "aborted", event.at)
        elif isinstance(event, DrawOffered):
            self.draw_offer = event.player
            self.draw_offered_at[event.player] = self.board.ply
        elif isinstance(event, DrawDeclined):
            self.draw_offer = None
        elif isinstance(event, DrawAgreed):
            self.draw_offer = None
            self._end("draw", "agreement", event.at)
        elif isinstance(event, TakebackRequested):
            self.takeback_request = event.player
        elif isinstance(event, TakebackDeclined):
            self.takeback_request = None
        elif isinstance(event, TookBack):
            self.takeback_request = self.draw_offer = None
            self.board = Board.from_moves(self.board.moves[: -event.plies])
            if self.clock is not None:
                self.clock.took_back(event.plies, event.at)
        elif isinstance(event, RematchOffered):
            self.rematch_offers = self.rematch_offers | {event.player}
        elif isinstance(event, RematchStarted):
            self.rematch = event.game

    def play_checked(self, event: Moved, row: int) -> None:
        """Take a move checked against this very state (``row`` from that check):
        the process that stored it need not check it again."""
        self.board.place(event.column, row, event.end)
        if self.clock is not None:
            self.clock.moved(event.player, event.at)
        if self.draw_offer is not None and self.draw_offer != event.player:  # the opponent played on
            self.draw_offer = None
        self.takeback_request = None
        self.version += 1
        if event.at > self.updated_at:
            self.updated_at = event.at
        end = event.end
        if end == "four":
            self._end(event.player, "four", event.at)
        elif end == "full":
            self._end("draw", "full", event.at)

    def _end(self, result: Result, reason: Reason, at: float) -> None:
        self.result, self.reason, self.finished_at = result, reason, at
