"""The game as this terminal follows it: what the server's events say (each
read and checked by ``cli/safe.py``) taken into its state and told to the user
in plain lines: the board after each move, whose turn, the clocks of a timed
game, who is away and when the win may be claimed, offers of a draw and
requests for a takeback (a shorter game while one stands is the takeback,
not moves the server lost), the result, rematch offers. Whether a move may be
sent now (``ready``), and whether the last one was answered, are kept here
for the keyboard and the sender.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Callable

import aiohttp

from ...domain import other
from ...protocol.server_messages import (
    AnnouncementEvent,
    DrawDeclinedEvent,
    DrawEvent,
    DrawOfferEvent,
    ErrorEvent,
    InitEvent,
    PlayEvent,
    PresenceEvent,
    RematchEvent,
    ServerEvent,
    StateEvent,
    TakebackDeclinedEvent,
    TakebackRequestEvent,
    WinEvent,
)
from ..safe import clean, legal, read
from .analysis import Analyst
from .board import draw
from .clocks import ClockLine, rules_line
from .endings import abandoned_line, colour, draw_line, win_line
from .offers import Offers
from .screen import Screen

#: Errors in answer to the first frame after which there is no game to play.
FATAL = {"game_not_found", "seat_taken", "invalid_token", "not_a_player", "already_started", "invalid_message"}


#: What a client says when the server's game does not continue the moves it showed.
LOST_MOVES = "The server lost the latest moves of this game (a failover); play goes on from the moves it kept."


class Fatal(Exception):
    """The game cannot go on: the message says why."""


class Resync(Exception):
    """The server's events do not follow from one another: reconnect for a fresh snapshot."""


class Terminal:
    """One game as this terminal follows it, across connections: its state, as
    the server's events tell it, and what each event shows the user."""

    def __init__(
        self,
        base: str,
        hello: dict[str, object],
        screen: Screen | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.hello = hello
        self.game: str | None = None
        self.token: str | None = None
        self.moves: list[int] = []
        self.you: str | None = None
        self.turn: str | None = None
        self.over = False
        self.quit = False  # the user asked to leave
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.handshake = False  # the first frame is sent and not answered yet
        #: Set while a move may be sent: typed-ahead moves wait for their turn (and the connection).
        self.ready = asyncio.Event()
        #: Columns typed and not sent yet, oldest first; ``queued`` is set while there are some.
        self.pending: deque[int] = deque()
        self.queued = asyncio.Event()
        self.sent = False  # a move is on its way; its answer has not come yet
        self.answered = asyncio.Event()  # set whenever no move is on its way
        self.answered.set()
        self.settled = asyncio.Event()  # the first frame was answered once
        #: Set on every frame read: quitting waits only for a server that still talks.
        self.heard = asyncio.Event()
        #: The opponent's seat is still empty (an invite or a quick match not taken yet).
        self.waiting = False
        #: The players' names, by colour, as the server last told them (cleaned).
        self.names: dict[str, str | None] = {"red": None, "yellow": None}
        #: Seats as the server last told them, and what was said of the opponent's absence.
        self.seats: dict[str, str] = {"red": "connected", "yellow": "connected"}
        self.absence: str | None = None
        self.offered = False  # this terminal offered a rematch of the game on screen
        self.unreadable = False  # an unreadable frame was reported on this connection
        self.stated = False  # a state came on this connection
        #: Set (``--analysis``) to show each position's value.
        self.analyst: Analyst | None = None
        self.screen = screen or Screen()
        #: A timed game's clocks, as the server last told them, counted down on ``now``.
        self.clock = ClockLine(self.screen, now)
        self.offers = Offers()
        self.computer: str | None = None  # the computer's seat, in a game against it

    def my_turn(self) -> bool:
        return not self.over and self.turn is not None and self.you in (self.turn, "both")

    def is_player(self) -> bool:
        return self.you in ("red", "yellow", "both")

    def show(self, text: str) -> None:
        # Every line cleaned once more: nothing reaches the terminal raw.
        self.screen.lines("\n".join(clean(line, 2000) for line in text.split("\n")))

    def first_frame(self) -> dict[str, object]:
        if self.game and self.token:
            return {"type": "resume", "game": self.game, "token": self.token}
        return self.hello

    def prompt(self) -> None:
        if self.my_turn():
            who = f"{colour(self.turn or '')}'s" if self.you == "both" else "Your"
            self.show(f"{who} move (1-7):")

    def frame(self, data: str | bytes) -> None:
        """Handle one frame as the server sent it."""
        self.heard.set()
        event = read(data)
        if event is None:
            if not self.unreadable:
                self.unreadable = True
                self.show("(The server sent a message this client cannot read: ignored.)")
            return
        self.handle(event)

    def handle(self, event: ServerEvent) -> None:
        if isinstance(event, (StateEvent, PlayEvent, ErrorEvent)):
            self.sent = False
        if isinstance(event, (StateEvent, ErrorEvent)):
            was_handshake, self.handshake = self.handshake, False
            if isinstance(event, ErrorEvent) and was_handshake:
                self._refused(event)
            self.settled.set()
        if isinstance(event, ErrorEvent) and event.code == "replaced":
            raise Fatal("This seat was taken over by another connection.")
        self._show(event)
        if not self.sent and not (isinstance(event, PlayEvent) and self.turn is None):
            # (After a game's last move, its result follows: no quitting before it.)
            self.answered.set()
        self.update_ready()

    def update_ready(self) -> None:
        # Set when the game ends too: a move typed ahead then is dropped, not kept waiting.
        if self.over or (self.my_turn() and not self.sent and self.ws is not None and not self.handshake):
            self.ready.set()
        else:
            self.ready.clear()

    def _refused(self, event: ErrorEvent) -> None:
        if event.code == "game_over" and self.token:
            raise Fatal("The game has ended." if not self.over else "")
        if event.code in FATAL:
            raise Fatal(clean(event.message) or event.code)

    def _show(self, event: ServerEvent) -> None:
        if isinstance(event, InitEvent):
            if event.join:
                self.show(f"Invite a friend: {self.base}/?join={event.join}")
            self.show(f"Anyone can watch: {self.base}/?watch={event.watch}")
            if self.you == "spectator":  # a rematch: follow the new game after a drop too
                self.hello = {"type": "init", "watch": event.watch}
        elif isinstance(event, StateEvent):
            self._state(event)
        elif isinstance(event, PlayEvent):
            self._play(event)
        elif isinstance(event, WinEvent):
            if self.over:
                return  # (a state already told it)
            self.over = True
            self.turn = None
            self.show(draw(self.moves, event.cells))
            self.clock.stop(other(event.player) if event.reason == "time" else None)
            self.show(win_line(event.player, event.reason, self.you))
            self.offer()
        elif isinstance(event, DrawEvent):
            if self.over:
                return
            self.over = True
            self.turn = None
            self.clock.stop()
            self.show(draw_line(None))
            self.offer()
        elif isinstance(event, DrawOfferEvent):
            self.show(self.offers.draw_offered(event.player, self.you))
        elif isinstance(event, DrawDeclinedEvent):
            self.show(self.offers.draw_declined(event.player, self.you))
        elif isinstance(event, TakebackRequestEvent):
            self.show(self.offers.takeback_requested(event.player, self.you))
        elif isinstance(event, TakebackDeclinedEvent):
            self.show(self.offers.takeback_declined(event.player, self.you))
        elif isinstance(event, PresenceEvent):
            self._presence(event)
        elif isinstance(event, RematchEvent):
            if event.player == self.you or self.you == "both":
                return
            if self.offered:
                self.show(f"{colour(event.player)} accepts the rematch: a new game begins.")
            elif self.is_player():
                self.show(f"{colour(event.player)} offers a rematch: type r to accept.")
            else:
                self.show(f"{colour(event.player)} offers a rematch.")
        elif isinstance(event, ErrorEvent):
            self.offers.taking_back = False  # (a takeback refused, if one was asked)
            self.show(f"! {clean(event.message) or event.code}")
            self.prompt()
        elif isinstance(event, AnnouncementEvent):
            self.show(f"Announcement: {clean(event.message)}")
            if event.restart:
                self.show("(The server is restarting: this game carries on once it is back.)")
        # A lobby or a cancelled event: nothing this client asked for.

    def _state(self, event: StateEvent) -> None:
        self.stated = True
        previous, new_game = self.game, event.game != self.game
        self.names = {"red": name_of(event.red_name), "yellow": name_of(event.yellow_name)}
        self.game = event.game
        if event.token:
            self.token = event.token
        self.computer = event.computer
        taken_back = 0
        if not new_game and event.moves[: len(self.moves)] != self.moves:
            if self._took_back(event):
                taken_back = len(self.moves) - len(event.moves)
            else:
                # The server no longer has moves it showed here: a failover lost them.
                self.show(f"! {LOST_MOVES}")
        if taken_back:
            self.show(self.offers.taken_back(taken_back, event.you))
            self.pending.clear()  # columns typed ahead were for the game before the takeback
            self.queued.clear()
        self.offers.reset(event.draw_offer, event.takeback_request)
        self.offers.taking_back = False
        self.moves, self.you, self.turn = list(event.moves), event.you, event.turn
        self.over = event.status in ("won", "draw", "abandoned")
        self.waiting = event.status == "waiting"
        self.seats = {"red": event.red, "yellow": event.yellow}
        if new_game:
            self.offered = False
            self.absence = None
            if previous is not None:  # a rematch: moves typed for the last game are not for this one
                self.pending.clear()
                self.queued.clear()
            if self.you == "both":
                self.show("Both colours play here, red first.")
            elif self.you == "spectator":
                self.show("You are watching this game.")
            else:
                self.show(f"You are {self.you}.")
            if event.computer is not None and event.level is not None:
                self.show(f"{colour(event.computer)} is the computer, level {event.level}.")
            if event.clock is not None:
                self.show(rules_line(event.clock.control))
            if not self.waiting:
                self.show_names()
        if self.waiting:
            self.show("Looking for an opponent... (q to stop)" if event.match else "Waiting for an opponent...")
        self.show(draw(self.moves, event.cells, last=True))
        self.clock.set(event.clock, self.turn, self.you)
        if self.over:
            if event.status == "won" and event.winner:
                self.show(win_line(event.winner, event.reason, self.you))
            elif event.status == "draw":
                self.show(draw_line(event.reason))
            elif event.status == "abandoned":
                self.show(abandoned_line(event.reason))
            self.offer()
        else:
            self._absence(event.red_claimable_in, event.yellow_claimable_in)
            self.analyse()
            self.prompt()

    def _play(self, event: PlayEvent) -> None:
        if event.ply < len(self.moves):
            return  # already on the board
        board = legal(self.moves + [event.column])
        if event.ply > len(self.moves) or board is None or self.over or board.turn != event.turn:
            raise Resync
        self.moves.append(event.column)
        self.turn = event.turn
        self.offers.moved(event.player)
        self.show(f"{event.player} played column {event.column + 1}")
        self.show(draw(self.moves, last=True))
        if event.clock is not None:
            self.clock.set(event.clock, self.turn, self.you)
        if self.turn is not None:
            self.analyse()
            self.prompt()

    def _presence(self, event: PresenceEvent) -> None:
        names = {"red": name_of(event.red_name), "yellow": name_of(event.yellow_name)}
        arrived = self.waiting and "empty" not in (event.red, event.yellow)
        self.seats = {"red": event.red, "yellow": event.yellow}
        if arrived:
            self.waiting = False
            self.show("Your opponent is here.")
            if not self.moves and not self.over:
                self.clock.first_move_due(self.turn)
        if names != self.names or arrived:
            self.names = names
            self.show_names()
        if self.over:
            return  # who is connected means nothing once the game is over
        if self.you in ("red", "yellow"):
            self._absence(event.red_claimable_in, event.yellow_claimable_in)
        elif self.you == "spectator":
            watching = f", {event.spectators} watching" if event.spectators else ""
            self.show(f"Red: {event.red}, yellow: {event.yellow}{watching}")
        if arrived:
            self.prompt()

    def _absence(self, red_in: float | None, yellow_in: float | None) -> None:
        """Tell a player, once per change, that the opponent left and when the win may be claimed."""
        if self.you not in ("red", "yellow") or self.waiting:
            return
        opponent = "yellow" if self.you == "red" else "red"
        seat = self.seats[opponent]
        seconds = red_in if opponent == "red" else yellow_in
        if seat == "connected" or seat == "empty":
            said = "back" if self.absence else None
            if said:
                self.show("Your opponent is back.")
        elif seat == "gone" or (seconds is not None and seconds <= 0):
            said = "gone"
            if self.absence != said:
                self.show("Your opponent has been away too long: type claim to win, or wait for them.")
        else:
            said = "away"
            if self.absence != said:
                wait = f" in {math.ceil(seconds)} s" if seconds is not None and math.isfinite(seconds) else " soon"
                self.show(f"Your opponent left. If they are not back, you may claim the win{wait} (type claim).")
        self.absence = said if said != "back" else None

    def _took_back(self, event: StateEvent) -> bool:
        """Whether a game shorter than the one shown is a takeback: the server says so
        (``taken_back``); from a server that does not, one stood, or was done at once here, or
        (the computer's opponent takes back without asking) a spectator of a game against it."""
        if event.moves != self.moves[: len(event.moves)]:
            return False
        if event.taken_back is not None:  # the server says so
            return True
        return self.offers.expects_fewer_moves() or (event.you == "spectator" and event.computer is not None)

    def show_names(self) -> None:
        if any(self.names.values()):
            red, yellow = self.names["red"] or "anonymous", self.names["yellow"] or "anonymous"
            self.show(f"Red: {red}. Yellow: {yellow}.")

    def analyse(self) -> None:
        """Show, when asked for (``--analysis``), the value of every column in the position now on the board."""
        if self.analyst is not None:
            self.analyst.ask()

    def offer(self) -> None:
        if self.is_player():
            self.show("Type r for a rematch, or q to quit.")

    async def send(self, message: dict[str, object]) -> bool:
        """Send a command; False (and a word to the user) when not connected."""
        ws = self.ws
        if ws is None or ws.closed or self.handshake:
            self.show("Not connected: try again once the connection is back.")
            return False
        try:
            await ws.send_str(json.dumps(message))
        except (aiohttp.ClientError, ConnectionError):
            self.show("Not connected: try again once the connection is back.")
            return False
        return True


def name_of(name: str | None) -> str | None:
    """A name from the server, safe to print; None for none."""
    return clean(name, 24) or None if name else None
