"""The store interface: each game is a log of versioned events (docs/architecture.md, "The layers").

Appending event N succeeds exactly once, from any caller or process; any
other version raises ``VersionConflict``, and the caller reads what it
lacks and checks its command again. Once an event is stored the store
announces it on its bus with its version, never before: every process with
members in the game applies it from there. A game's end travels in the
event that causes it (a winning ``Moved`` carries ``end``), so nothing can
be stored between the two.

A store decides nothing: the rulebook (``domain/rulebook.py``) did. An append
whose decision read the game's presence (a claim, an expiry) carries that
presence's ``seq``, and the store appends only if the presence is still at
it; so a claim racing the opponent's return is refused by the comparison,
whichever process makes it, and no process owns a timer.

Besides the log, a store keeps what its queries need: a record per game
(``GameRecord``, for the replay page and the sweeps) and the key index.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from ..bus import Bus
from ..completion import completion
from ..domain import Player, Reason, Result, other
from ..domain.clock import TimeControl
from ..domain.events import (
    Aborted,
    Claimed,
    Created,
    DrawAgreed,
    Event,
    Expired,
    Joined,
    Moved,
    Resigned,
    TimedOut,
    TookBack,
    ends,
)
from .matching import MatchQueue
from .seats import Seats

__all__ = ["ConditionFailed", "GameRecord", "KeyKind", "Store", "StoreError", "VersionConflict", "append", "ends"]

KeyKind = Literal["join", "watch"]
#: Called once an event is stored and announced (None) or refused (the StoreError).
Committed = Callable[["StoreError | None"], None]


class StoreError(Exception):
    """The store could not do what was asked; after a timeout it may have done it all the same."""


class VersionConflict(StoreError):
    """Another event holds this version, or the one before it is missing."""

    def __init__(self, game_id: str, version: int, last: int) -> None:
        super().__init__(f"game {game_id}: version {version} is not next (the log is at {last})")
        self.last = last


class ConditionFailed(StoreError):
    """The game's presence changed since the decision that read it (a claim, an expiry):
    decide again on the presence as it is now."""


@dataclass(slots=True)
class GameRecord:
    """What the store keeps of one game besides its log: what queries and the replay page read."""

    id: str
    watch_key: str
    join_key: str | None  # None once no invite is needed (same device, rematch)
    red_token: str
    yellow_token: str  # the same as red_token when one device plays both
    created_at: float
    local: bool = False
    invite_spent: bool = False
    moves: list[int] = field(default_factory=list)
    updated_at: float = 0.0
    result: Result | None = None
    reason: Reason | None = None
    finished_at: float | None = None
    rematch_of: str | None = None
    #: The seat the computer holds, in a game against it; its level (1 to 4).
    computer: Player | None = None
    level: int = 0
    #: How many events the game's log holds.
    version: int = 0
    #: The creator's seat; whether the lobby lists the game; whether a quick match made it.
    host: Player = "red"
    public: bool = False
    match: bool = False
    red_name: str | None = None
    yellow_name: str | None = None
    #: The game's time control; None for an untimed game.
    clock: TimeControl | None = None

    @classmethod
    def created(cls, game_id: str, event: Created) -> GameRecord:
        return cls(
            id=game_id,
            watch_key=event.watch_key,
            join_key=event.join_key,
            red_token=event.red_token,
            yellow_token=event.yellow_token,
            created_at=event.at,
            local=event.local,
            invite_spent=event.join_key is None,
            updated_at=event.at,
            rematch_of=event.rematch_of,
            computer=event.computer,
            level=event.level,
            version=1,
            host=event.host,
            public=event.public,
            match=event.match,
            red_name=event.red_name,
            yellow_name=event.yellow_name,
            clock=event.clock,
        )

    @classmethod
    def folded(cls, game_id: str, events: Iterable[Event]) -> GameRecord | None:
        """The record of a game's whole log, folded from its ``Created``; None for an empty log."""
        it = iter(events)
        first = next(it, None)
        if first is None:
            return None
        if not isinstance(first, Created):
            raise StoreError(f"game {game_id}: its log does not begin with its creation")
        record = cls.created(game_id, first)
        for event in it:
            record.advance(event)
        return record

    def created_event(self) -> Created:
        """The event this record's game began with."""
        return Created(
            at=self.created_at,
            local=self.local,
            watch_key=self.watch_key,
            join_key=self.join_key,
            red_token=self.red_token,
            yellow_token=self.yellow_token,
            rematch_of=self.rematch_of,
            computer=self.computer,
            level=self.level,
            host=self.host,
            public=self.public,
            match=self.match,
            # The guest's name came with its Joined: the creation knew only the host's.
            red_name=self.red_name if self.host == "red" or self.join_key is None else None,
            yellow_name=self.yellow_name if self.host == "yellow" or self.join_key is None else None,
            clock=self.clock,
        )

    def joined_event(self, at: float, name: str | None = None, request: str | None = None) -> Joined:
        """The guest's arrival, as this record knows it (or under ``name``), by ``request``."""
        return Joined(at=at, name=name or (self.yellow_name if self.host == "red" else self.red_name), request=request)

    def advance_name(self, event: Joined) -> None:
        """Take the guest's name from its arrival."""
        if event.name is not None:
            if self.host == "red":
                self.yellow_name = event.name
            else:
                self.red_name = event.name

    def advance(self, event: Event) -> None:
        """Follow one more stored event (never ``Created``): the record's side of ``GameState.apply``."""
        self.version += 1
        self.updated_at = max(self.updated_at, event.at)
        if isinstance(event, Moved):
            self.moves.append(event.column)
            if event.end == "four":
                self._end(event.player, "four", event.at)
            elif event.end == "full":
                self._end("draw", "full", event.at)
        elif isinstance(event, Joined):
            self.invite_spent = True
            self.advance_name(event)
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
        elif isinstance(event, DrawAgreed):
            self._end("draw", "agreement", event.at)
        elif isinstance(event, TookBack):
            del self.moves[-event.plies :]
        # Offers, requests and their answers: nothing a query reads. RematchOffered and RematchStarted change nothing a query reads.

    def _end(self, result: Result, reason: Reason, at: float) -> None:
        if self.result is None:
            self.result, self.reason, self.finished_at = result, reason, at


def move_times(events: Iterable[Event]) -> list[float]:
    """When each move on the board was made, in order (those taken back left out): the replay's
    time per move, with the creation's time before the first."""
    times: list[float] = []
    for event in events:
        if type(event) is Moved:
            times.append(event.at)
        elif type(event) is TookBack:
            del times[-event.plies :]
    return times


class Store(Protocol):
    @property
    def bus(self) -> Bus:
        """Where stored events and seat changes are announced."""

    @property
    def seats(self) -> Seats:
        """Who holds each game's seats, from any process."""

    @property
    def match(self) -> MatchQueue:
        """The players waiting for a quick match, from any process."""

    def append_nowait(
        self, game_id: str, version: int, event: Event, committed: Committed, presence_seq: int | None = None
    ) -> None:
        """Store ``event`` as the game's ``version`` (1 for its ``Created``), then announce it;
        ``committed`` hears once it is durable, or the StoreError (``VersionConflict``
        unless ``version`` was next). It may be called before this returns.
        ``presence_seq``: store it only if the game's presence is still at this ``seq``
        (``ConditionFailed`` if not): the decision read it (a claim, an expiry)."""

    async def append(self, game_id: str, version: int, event: Event, presence_seq: int | None = None) -> None:
        """``append_nowait``, awaited."""

    async def confirm(self, game_id: str) -> None:
        """Return once what is stored of the game is as safe as an acknowledged change is
        (in Redis, with replicas to wait for: on them): how a request sent again is
        answered from what is stored already. StoreError if not in time."""

    async def read(self, game_id: str, after: int = 0) -> list[tuple[int, Event]]:
        """The game's durable events after version ``after``, in order; empty for an unknown game."""

    async def versions(self, game_ids: list[str]) -> dict[str, int]:
        """Each game's newest durable version (0 for an unknown game): how a process
        finds an announcement the bus lost when no later one shows the gap."""

    async def get(self, game_id: str) -> GameRecord | None:
        """A copy of the game's record, or None."""

    async def find_key(self, key: str) -> tuple[str, KeyKind] | None:
        """The game an invite or watch key belongs to, and which key it is."""

    async def touch(self, game_id: str, at: float) -> None:
        """Note activity (someone left, say), which postpones expiry."""

    async def idle_games(self, before: float) -> list[str]:
        """Unfinished games with no activity since ``before``."""

    async def prune(self, before: float) -> int:
        """Delete games with no activity since ``before``; how many went."""

    async def delete_unplayed(self, before: float, keep: Container[str] = frozenset()) -> int:
        """Delete games without a single move and without activity since ``before``,
        finished or not, with their keys, except those in ``keep``; how many went.

        Creating a game is cheap and nothing else ever deletes it, so without
        this the database grows with every game nobody played. A game with a
        move stays: its replay is worth keeping (``prune`` is for those).
        """

    async def close(self) -> None:
        """Flush and release files and connections."""

    @property
    def location(self) -> str:
        """Where the games are, for /healthz and the log: "memory", a file, a URL without its password."""

    async def ping(self) -> None:
        """Raise StoreError unless the store answers now (for /healthz and the start)."""

    @property
    def in_process(self) -> bool:
        """Whether the store lives in this process (memory, a file): its calls then
        wait for no network, and a request may start outside a task
        (connectfour/eager.py). A network client (Redis) waits on timeouts that
        asyncio only allows inside a task."""


async def append(store: Store, game_id: str, version: int, event: Event, presence_seq: int | None = None) -> None:
    """Await ``store.append_nowait``: the shared body of every store's ``append``."""
    await completion(lambda done: store.append_nowait(game_id, version, event, done, presence_seq))
