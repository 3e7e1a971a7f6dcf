"""How a game is laid out in Redis, as the store's Python side writes and reads it: its keys,
the key index and the sweeps' indexes, its record's hash, the arguments of ``cf_append``
(``AppendArgs``), the ids of calls, times as the server keeps them, and what a function's
refusal means. ``redis.lua`` is the other side: a game's keys are described there.
"""

from __future__ import annotations

import itertools
import math
import secrets
from typing import NamedTuple, cast

from redis.exceptions import ResponseError

from ..domain import Player, Reason, Result, other
from ..domain.events import Claimed, Created, Event, Expired, Joined, Moved, Resigned, encode_event
from .base import ConditionFailed, GameRecord, StoreError, VersionConflict

#: The sweeps' candidates: unfinished games and games without a move yet, by creation time;
#: finished games, by the time they finished. The sweeps check each game and drop the
#: entries that no longer apply.
OPEN = b"cf:open"
UNPLAYED = b"cf:unplayed"
DONE = b"cf:done"

#: A game's keys: its log, record, calls and presence.
GameKeys = tuple[bytes, bytes, bytes, bytes]


def game_keys(game_id: str) -> GameKeys:
    """The log, record, calls and presence of a game: one hash tag, one slot."""
    tag = b"cf:{" + game_id.encode() + b"}:"
    return tag + b"log", tag + b"rec", tag + b"calls", tag + b"presence"


def sync_key(game_id: str) -> bytes:
    """A key of the game's slot written only to be waited for: ``RedisStore.confirm``."""
    return b"cf:{" + game_id.encode() + b"}:sync"


def index_key(key: str) -> bytes:
    """The key index's entry for a game's watch or join key: ``"<id> watch"`` or ``"<id> join"``."""
    return b"cf:key:" + key.encode()


def encode_time(value: float) -> bytes:
    """A time as the server keeps it: Python's shortest exact repr (Lua reads it as a number)."""
    if not math.isfinite(value):
        raise StoreError(f"not a time: {value!r}")
    return repr(float(value)).encode()


def exclusive(value: float) -> str:
    """A score bound that excludes ``value`` itself."""
    return "(" + encode_time(value).decode()


class CallIds:
    """Ids of calls, unique to this store: a call sent again (redis-py's retry, the appends'
    after a lost connection, a Cluster's redirection) carries its first one's id, and the
    function answers it as it answered the first."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(8).encode()
        self._numbers = itertools.count()

    def next(self) -> bytes:
        return b"%s-%d" % (self._prefix, next(self._numbers))


class AppendArgs(NamedTuple):
    """The arguments of ``cf_append`` (ARGV), in their order: ``redis.lua`` names each in the
    same order at the top of its ``append``. A new one is a field here and a name there."""

    #: The version the event is to have.
    version: bytes
    #: The call's id (``CallIds``): a retry of a stored call answers as the first did.
    call: bytes
    #: The event as ``domain/events.py`` encodes it.
    event: bytes
    #: When it happened (``encode_time``): the record's ``updated_at``, and ``finished_at`` if it ends the game.
    at: bytes
    #: The move's column as a digit, or empty.
    column: bytes
    #: The result and the reason if the event ends the game, else empty.
    result: bytes
    reason: bytes
    #: ``1`` if it spends the invite (a guest joined), else empty.
    joined: bytes
    #: Milliseconds a finished game's keys are kept.
    retention: bytes
    #: The presence's ``seq`` the decision read (a claim, an expiry), or empty: stored only while it holds.
    seq: bytes


def append_args(version: int, event: Event, call: bytes, retention_ms: bytes, seq: bytes = b"") -> AppendArgs:
    """``cf_append``'s arguments to store ``event`` as ``version``. (Given in the fields' order:
    by keyword, the record costs 0.4 µs more per append, on every move.)"""
    column, result, reason, joined = outcome(event)
    at = encode_time(event.at)
    return AppendArgs(b"%d" % version, call, encode_event(event), at, column, result, reason, joined, retention_ms, seq)


def outcome(event: Event) -> tuple[bytes, bytes, bytes, bytes]:
    """What the record takes from an event: the move's column, the result and reason
    if it ends the game, whether the invite is spent (``GameRecord.advance``)."""
    if type(event) is Moved:
        column = b"%d" % event.column
        if event.end == "four":
            return column, event.player.encode(), b"four", b""
        if event.end == "full":
            return column, b"draw", b"full", b""
        return column, b"", b"", b""
    if isinstance(event, Joined):
        return b"", b"", b"", b"1"
    if isinstance(event, Resigned):
        return b"", other(event.player).encode(), b"resign", b""
    if isinstance(event, Claimed):
        return b"", event.player.encode(), b"claim", b""
    if isinstance(event, Expired):
        return b"", b"abandoned", b"expired", b""
    return b"", b"", b"", b""  # RematchOffered, RematchStarted


def refusal(game_id: str, version: int, exc: ResponseError) -> StoreError:
    """The StoreError for a function's error answer: the log is elsewhere (``CONFLICT <last>``),
    there is no such game, the presence changed since the decision (``REFUSED``)."""
    text = str(exc)
    if text.startswith("CONFLICT "):
        return VersionConflict(game_id, version, int(text[9:]))
    if text == "NOGAME":  # none at all: for an append, a log at version 0
        return VersionConflict(game_id, version, 0)
    if text.startswith("REFUSED"):
        return ConditionFailed(f"game {game_id}: {text[8:]}")
    return StoreError(f"game {game_id}: {text}")


def created_fields(game_id: str, event: Created) -> list[bytes]:
    """The record of a new game, as the field, value pairs of its hash."""
    at = encode_time(event.at)
    fields = [
        b"id", game_id.encode(),
        b"watch_key", event.watch_key.encode(),
        b"red_token", event.red_token.encode(),
        b"yellow_token", event.yellow_token.encode(),
        b"created_at", at,
        b"updated_at", at,
        b"local", b"1" if event.local else b"0",
        b"invite_spent", b"1" if event.join_key is None else b"0",
        b"moves", b"",
        b"level", b"%d" % event.level,
        b"version", b"1",
    ]  # fmt: skip
    for name, value in (
        (b"join_key", event.join_key),
        (b"rematch_of", event.rematch_of),
        (b"computer", event.computer),
        (b"red_name", event.red_name),
        (b"yellow_name", event.yellow_name),
    ):
        if value is not None:
            fields += [name, value.encode()]
    if event.host != "red":
        fields += [b"host", event.host.encode()]
    if event.public:
        fields += [b"public", b"1"]
    if event.match:
        fields += [b"match", b"1"]
    return fields


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def stored_record(game_id: str, fields: dict[bytes, bytes]) -> GameRecord:
    """The record a game's ``cf:{<id>}:rec`` hash holds (its guest's name aside: see ``RedisStore.get``)."""
    get = fields.get
    finished = get(b"finished_at")
    return GameRecord(
        id=game_id,
        watch_key=fields[b"watch_key"].decode(),
        join_key=_text(get(b"join_key")),
        red_token=fields[b"red_token"].decode(),
        yellow_token=fields[b"yellow_token"].decode(),
        created_at=float(fields[b"created_at"]),
        local=get(b"local") == b"1",
        invite_spent=get(b"invite_spent") == b"1",
        moves=[c - 48 for c in get(b"moves", b"")],
        updated_at=float(fields[b"updated_at"]),
        result=cast("Result | None", _text(get(b"result"))),
        reason=cast("Reason | None", _text(get(b"reason"))),
        finished_at=float(finished) if finished is not None else None,
        rematch_of=_text(get(b"rematch_of")),
        computer=cast("Player | None", _text(get(b"computer"))),
        level=int(get(b"level", b"0")),
        version=int(fields[b"version"]),
        host="yellow" if get(b"host") == b"yellow" else "red",
        public=get(b"public") == b"1",
        match=get(b"match") == b"1",
        red_name=_text(get(b"red_name")),
        yellow_name=_text(get(b"yellow_name")),
    )
