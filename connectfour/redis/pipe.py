"""A connection to a Redis server of our own, for the two that carry a move: the appends'
(a batch written at once, its answers awaited together) and the bus's subscriptions
(announcements handed on as they arrive).

Why not redis-py's connections there: each ``read_response`` is a coroutine with its
own timeout machinery, awaited once per reply, and a subscriber's reader task wakes
once per announcement. Here hiredis's ``Reader`` parses whatever the socket brought in
``data_received``, and each reply goes at once to its batch (one future per batch, not
per reply) or, with no batch waiting, to ``push`` (a subscriber's announcements),
without a task switch (docs/benchmarks.md has the figures). redis-py stays the client
for everything else; what makes a connection (address, TLS, credentials, database,
name) is read from redis-py's own settings (``Endpoint.of``).

A connection opened in RESP3 (``open_pipe(..., resp3=True)``) carries both: replies
to what it sent and the server's pushes (a subscriber's announcements), told apart by
their type, so that a process's appends and its subscriptions share one connection and
the announcement of an append comes back in the same read as its answer.

Error replies come as redis-py's exceptions (``error_of``: ``MOVED``, ``ASK``,
``TRYAGAIN``, ``CLUSTERDOWN`` and the rest as the client itself would raise them), in
their reply's place, not raised.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import hiredis
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import ConnectionPool, SSLConnection
from redis.exceptions import (
    AskError,
    AuthenticationError,
    BusyLoadingError,
    ClusterCrossSlotError,
    ClusterDownError,
    MasterDownError,
    MovedError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from .client import pack

log = logging.getLogger("connectfour.redis")

#: A reply: bytes, an int, None, a list of replies, or an error (an exception, not raised).
Reply = Any

#: The error replies redis-py gives a class of its own, by their first word.
_ERRORS: dict[str, type[Exception]] = {
    "MOVED": MovedError,
    "ASK": AskError,
    "TRYAGAIN": TryAgainError,
    "CLUSTERDOWN": ClusterDownError,
    "CROSSSLOT": ClusterCrossSlotError,
    "MASTERDOWN": MasterDownError,
    "READONLY": ReadOnlyError,
    "LOADING": BusyLoadingError,
    "NOSCRIPT": NoScriptError,
    "OOM": OutOfMemoryError,
    "NOAUTH": AuthenticationError,
    "WRONGPASS": AuthenticationError,
    "NOPERM": NoPermissionError,
}


def error_of(message: str) -> Exception:
    """An error reply as redis-py raises it: the class its first word names (its text after
    that word); ``ERR`` and any other word a ResponseError (``ERR``'s text without it)."""
    code, _, rest = message.partition(" ")
    kind = _ERRORS.get(code)
    if kind is not None:
        return kind(rest)
    return ResponseError(rest if code == "ERR" else message)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a connection goes and how it introduces itself."""

    host: str = "127.0.0.1"
    port: int = 6379
    #: A Unix socket's path, instead of host and port.
    path: str | None = None
    username: str | None = None
    password: str | None = None
    db: int = 0
    #: Its name on the server (CLIENT LIST).
    name: str | None = None
    tls: ssl.SSLContext | None = None

    @classmethod
    def of(cls, source: ConnectionPool | ClusterNode, *, name: str | None = None) -> Endpoint:
        """The server a redis-py pool, or a Cluster's node, connects to, as it connects."""
        settings: dict[str, Any] = source.connection_kwargs
        tls: ssl.SSLContext | None = None
        if issubclass(source.connection_class, SSLConnection):
            # redis-py's own TLS settings (certificates, verification), as its connections use them.
            tls = source.connection_class(**settings).ssl_context.get()
        return cls(
            host=str(settings.get("host", "127.0.0.1")),
            port=int(settings.get("port", 6379)),
            path=settings.get("path"),
            username=settings.get("username"),
            password=settings.get("password"),
            db=int(settings.get("db") or 0),
            name=name if name is not None else settings.get("client_name"),
            tls=tls,
        )

    @property
    def where(self) -> str:
        return self.path if self.path is not None else f"{self.host}:{self.port}"

    def same_server(self, other: Endpoint) -> bool:
        """Whether a connection to ``other`` is one to this server, database and user."""
        return (self.where, self.db, self.username) == (other.where, other.db, other.username)

    def introduction(self, *, resp3: bool = False) -> list[tuple[bytes | str | int, ...]]:
        """The commands that make a new connection this endpoint's: the protocol (RESP3: a
        HELLO, which carries the credentials and the name), credentials, name, database."""
        commands: list[tuple[bytes | str | int, ...]] = []
        if resp3:
            hello: tuple[bytes | str | int, ...] = ("HELLO", 3)
            if self.password is not None:
                hello += ("AUTH", self.username or "default", self.password)
            if self.name:
                hello += ("SETNAME", self.name)
            commands.append(hello)
        elif self.password is not None:
            commands.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
        if self.name and not resp3:
            commands.append(("CLIENT", "SETNAME", self.name))
        if self.db:
            commands.append(("SELECT", self.db))
        return commands


#: What ``hiredis.Reader.gets`` answers while no whole reply is there (not False: in
#: RESP3, False is a reply).
_INCOMPLETE = object()


class _Batch:
    """Replies awaited together: ``count`` of them, or (``answers``) up to the ``count``-th
    that is not an error."""

    __slots__ = ("future", "count", "answers", "replies")

    def __init__(self, future: asyncio.Future[list[Reply]], count: int, answers: bool) -> None:
        self.future = future
        self.count = count
        self.answers = answers
        self.replies: list[Reply] = []

    def take(self, reply: Reply) -> bool:
        """Whether the batch is whole with ``reply``."""
        self.replies.append(reply)
        if self.answers:
            if isinstance(reply, Exception):
                return False
            self.count -= 1
            return self.count == 0
        return len(self.replies) == self.count


class Pipe(asyncio.Protocol):
    """One connection: ``send`` writes, ``replies`` awaits the next answers in order."""

    def __init__(self, push: Callable[[Reply], None] | None = None, *, resp3: bool = False) -> None:
        #: Where a push goes (RESP3), or (RESP2) a reply no batch waits for: a subscriber's
        #: announcements. Without it, such a reply is the server out of step with us, and
        #: the connection is closed.
        self.push = push
        #: Whether the connection speaks RESP3: pushes are told from replies by their type.
        self.resp3 = resp3
        self._reader = hiredis.Reader(replyError=error_of, notEnoughData=_INCOMPLETE)
        self._transport: asyncio.Transport | None = None
        #: The batches waiting, oldest first.
        self._waiting: collections.deque[_Batch] = collections.deque()
        #: Replies for ``push``, read and not yet handed on (``_hand_on``).
        self._pushed: list[Reply] = []
        self._handing_on = False
        self._loop = asyncio.get_running_loop()
        #: Why this end closed the connection, if it did: what the batches waiting hear.
        self._error: RedisError | None = None
        #: Done when the connection is lost.
        self.lost: asyncio.Future[None] = self._loop.create_future()

    # -- asyncio's Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # (uvloop's is not a subclass)

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        waiting = self._waiting
        resp3 = self.resp3
        try:
            while (reply := reader.gets()) is not _INCOMPLETE:
                if resp3 and type(reply) is hiredis.PushNotification:
                    if self.push is None:
                        self._fail(RedisConnectionError(f"the server pushed what nobody listens to: {reply!r:.80}"))
                        return
                    self._pushed.append(reply)
                elif waiting:
                    batch = waiting[0]
                    if batch.take(reply):
                        waiting.popleft()
                        if not batch.future.done():
                            batch.future.set_result(batch.replies)
                elif self.push is not None and not resp3:
                    self._pushed.append(reply)
                else:
                    self._fail(RedisConnectionError(f"the server sent a reply nobody asked for: {reply!r:.80}"))
                    return
        except hiredis.ProtocolError as exc:
            self._fail(RedisConnectionError(f"the server's reply could not be read: {exc}"))
        if self._pushed and not self._handing_on:
            self._handing_on = True
            self._loop.call_soon(self._hand_on)

    def _hand_on(self) -> None:
        """Hand the replies nobody waited for to ``push``, in order: on the loop's next turn,
        as a reader task would, so that what the code that just ran was about to do is done
        first (a reply it is waiting for may be in the same read)."""
        self._handing_on = False
        pushed, self._pushed = self._pushed, []
        push = self.push
        if push is None:
            return
        for reply in pushed:
            try:
                push(reply)
            except Exception:  # a bug of the reader's: logged, the connection goes on
                log.exception("redis: a reply's reader failed")

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        error = self._error or RedisConnectionError(
            f"the connection was lost: {exc}" if exc else "the server closed the connection"
        )
        while self._waiting:
            future = self._waiting.popleft().future
            if not future.done():
                future.set_exception(error)
        if not self.lost.done():
            self.lost.set_result(None)

    # -- ours ----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def send(self, data: bytes) -> None:
        """Write ``data`` (commands in the Redis protocol, see ``client.pack``)."""
        if self._transport is None or self._transport.is_closing():
            raise RedisConnectionError("the connection is closed")
        self._transport.write(data)

    def replies(self, count: int) -> asyncio.Future[list[Reply]]:
        """The next ``count`` replies, in order (error replies in their place), once all came.
        The caller bounds the wait; a connection lost fails it. A batch given up (its wait
        timed out) still takes its replies when they come: the next one's stay its own."""
        return self._await(count, answers=False)

    def answers(self, count: int) -> asyncio.Future[list[Reply]]:
        """The next replies up to the ``count``-th that is not an error (the errors before it
        included): for commands answered only when refused, as RESP3's subscriptions are,
        each write of them closed by a PING."""
        return self._await(count, answers=True)

    def _await(self, count: int, *, answers: bool) -> asyncio.Future[list[Reply]]:
        future: asyncio.Future[list[Reply]] = self._loop.create_future()
        if self._transport is None:
            future.set_exception(RedisConnectionError("the connection is closed"))
        elif count <= 0:
            future.set_result([])
        else:
            self._waiting.append(_Batch(future, count, answers))
        return future

    def close(self) -> None:
        """Close at once (what is on its way is lost; whoever waits hears so)."""
        self._fail(RedisConnectionError("the connection was closed"))

    def _fail(self, error: RedisError) -> None:
        """Close, the batches waiting failing with ``error`` (the first reason given)."""
        if self._error is None:
            self._error = error
        if self._transport is not None:
            self._transport.abort()


async def open_pipe(endpoint: Endpoint, *, push: Callable[[Reply], None] | None = None, resp3: bool = False) -> Pipe:
    """A connection to ``endpoint``, introduced (protocol, credentials, name, database). The
    caller bounds the wait (``asyncio.timeout``); a refusal of the introduction is raised."""
    loop = asyncio.get_running_loop()
    pipe = Pipe(resp3=resp3)
    if endpoint.path is not None:
        await loop.create_unix_connection(lambda: pipe, endpoint.path)
    else:
        await loop.create_connection(
            lambda: pipe,
            endpoint.host,
            endpoint.port,
            ssl=endpoint.tls,
            server_hostname=endpoint.host if endpoint.tls is not None else None,
        )
    try:
        commands = endpoint.introduction(resp3=resp3)
        if commands:
            pipe.send(pack(commands))
            for reply in await pipe.replies(len(commands)):
                if isinstance(reply, Exception):
                    raise reply if isinstance(reply, AuthenticationError) else RedisConnectionError(str(reply))
    except BaseException:
        pipe.close()
        raise
    pipe.push = push
    return pipe
