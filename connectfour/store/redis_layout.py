"""How a game is laid out in Redis, as the store's Python side writes and reads it: its keys,
the key index and the sweeps' indexes, its record's hash, the log's entries, the arguments of
``cf_move`` and ``cf_append`` (``MoveArgs``, ``AppendArgs``), the ids of calls, times as the server keeps them, and what a function's
refusal means. ``redis.lua`` is the other side: a game's keys are described there.
"""

from __future__ import annotations

import itertools
import math
import secrets
from typing import NamedTuple, TypeGuard, cast

from redis.exceptions import ResponseError

from ..domain.events import Created, Event, Moved, decode_event, encode_event, ends
from .base import ConditionFailed, StoreError, VersionConflict

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


def log_key(game_id: str) -> bytes:
    """A game's log alone (``cf_move``'s one key)."""
    return b"cf:{" + game_id.encode() + b"}:log"


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


class MoveArgs(NamedTuple):
    """The arguments of ``cf_move`` (ARGV): a move that does not end the game, the whole of
    the hot path. ``redis.lua`` names each in the same order at the top of its ``move``."""

    #: The version the event is to have.
    version: bytes
    #: The log's entry: the event as ``domain/events.py`` encodes it, its call id (``CallIds``)
    #: as one more field, so that a retry of a stored call answers as the first did.
    entry: bytes


class AppendArgs(NamedTuple):
    """The arguments of ``cf_append`` (ARGV), in their order: ``redis.lua`` names each in the
    same order at the top of its ``append``. A new one is a field here and a name there."""

    #: The version the event is to have.
    version: bytes
    #: The log's entry, as ``MoveArgs``'s.
    entry: bytes
    #: ``1`` if the event ends the game (its keys then expire after the retention), else empty.
    ends: bytes
    #: Milliseconds a finished game's keys are kept.
    retention: bytes
    #: The presence's ``seq`` the decision read (a claim, an expiry), or empty: stored only while it holds.
    seq: bytes


def entry(event: Event, call: bytes) -> bytes:
    """The log's entry of an event stored by the call ``call``: its JSON with the call id as
    its last field (the decoder ignores it)."""
    return encode_event(event)[:-1] + b',"call":"' + call + b'"}'


def move_args(version: int, event: Moved, call: bytes) -> MoveArgs:
    """``cf_move``'s arguments to store ``event`` (a move the game goes on after) as ``version``."""
    return MoveArgs(b"%d" % version, entry(event, call))


def append_args(version: int, event: Event, call: bytes, retention_ms: bytes, seq: bytes = b"") -> AppendArgs:
    """``cf_append``'s arguments to store ``event`` as ``version``. (Given in the fields' order:
    by keyword, the record costs 0.4 µs more per append.)"""
    return AppendArgs(b"%d" % version, entry(event, call), b"1" if ends(event) else b"", retention_ms, seq)


def goes_on(event: Event) -> TypeGuard[Moved]:
    """Whether an event is a move the game goes on after: ``cf_move``'s, the hot path."""
    return type(event) is Moved and event.end is None


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


def created_fields(event: Created) -> list[bytes]:
    """A new game's record (``cf:{<id>}:rec``), as the field, value pairs of its hash: what the
    functions and the sweeps read without the log (the game itself is the log)."""
    at = encode_time(event.at)
    fields = [b"watch_key", event.watch_key.encode(), b"created_at", at, b"updated_at", at]
    if event.join_key is not None:
        fields += [b"join_key", event.join_key.encode()]
    return fields


def last_time(entry: bytes | None) -> float:
    """When the event of a log's entry happened (0.0 for none)."""
    return decode_event(entry).at if entry is not None else 0.0


def answered(result: object, what: str = "redis") -> object:
    """A command's answer; an error answer raised as a StoreError about ``what``."""
    if isinstance(result, StoreError):
        raise result
    if isinstance(result, Exception):
        raise StoreError(f"{what}: {result}")
    return result


def fields(reply: object, what: str = "redis") -> dict[bytes, bytes]:
    """A hash's fields as ``HGETALL`` answers them: a map (RESP3), or a flat list (RESP2)."""
    if isinstance(reply, dict):
        return reply
    items = cast("list[bytes]", answered(reply, what))
    return dict(zip(items[::2], items[1::2]))
