"""One subscriptions' connection of the Redis bus (to the server, or to one master of a
Cluster): the channels wanted on it, and the connection, made again whenever it is lost.

Each link has one task that connects (again, with backoff), subscribes to every
channel wanted there, then serves the connection with two tasks of its own: a
writer (commands, each write closed by a PING) and a watchdog (a connection silent
while a PING waits longer than ``timeout`` is dead; one silent longer than ``health``
is asked). The connection speaks RESP3: what the server pushes (announcements, what
is said to all, confirmations) is handed on as it is read, and the answers to a
write (its PINGs', and refusals) come to it together. What it reads goes where its
``Wiring`` says: to the bus, and in a Cluster to its topology follower (a slot moved,
a master lost).

The same connection carries the appends of the store beside the bus (``pipe``,
which ``RedisBus.carrier`` lends to it): the announcement of an append this process
made comes back in the same read as the append's answer, not on a connection of its
own.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.crc import key_slot
from redis.exceptions import AskError

from ..redis.client import pack
from ..redis.pipe import Endpoint, Pipe, Reply, open_pipe
from ..store.base import StoreError

log = logging.getLogger("connectfour.bus.redis")

#: The plain channel every process listens on.
ALL = b"cf:all"
#: Channels per SSUBSCRIBE when subscribing again to everything.
CHUNK = 500

Command = tuple[bytes, ...]


class Moved(StoreError):
    """A subscription waited for went away from its master: the bus makes it on the new one."""


@dataclass(eq=False, slots=True)
class Wiring:
    """What a bus's links share: its bounds, and where what they read goes."""

    #: Seconds a subscription, a flush or a PING waits for the server.
    timeout: float
    #: Seconds without a byte from the server before asking it (PING).
    health: float
    #: Seconds between attempts to reconnect: doubling from the first to the last.
    backoff: tuple[float, float]
    #: Whether the server is a Cluster (the links are its masters').
    cluster: bool
    #: A game's announcement: its channel, and what it carries.
    announce: Callable[[bytes, bytes], None]
    #: What was said to every process (``cf:all``).
    hear: Callable[[bytes], None]
    #: A link came back, and every subscription on it holds again.
    resubscribed: Callable[[Link], None]
    #: A channel is gone from its link's master (its slot moved): to be made on the new one.
    moved: Callable[[bytes], None]
    #: A link's connection was lost, or cannot be made (Cluster): its master may be no master any more.
    suspect: Callable[[Link], None]
    #: Set once the bus is closed.
    closed: bool = False


class Link:
    """One subscriptions' connection: the channels wanted on it, the current connection, its task."""

    def __init__(self, wiring: Wiring, key: str, endpoint: Endpoint) -> None:
        self._wiring = wiring
        self._tokens = itertools.count()  # (the payloads of PINGs someone waits on)
        self._loop = asyncio.get_running_loop()
        #: The master's name ("host:port") in a Cluster, "" standalone.
        self.key = key
        #: Where its connections go, and the name they bear there.
        self.endpoint = endpoint
        #: The sharded channels wanted on this connection; and whether ``cf:all`` is.
        self.channels: set[bytes] = set()
        self.all = False
        #: Closed by the bus, with nothing left to carry: a flush waiting on it has nothing to wait for.
        self.retired = False
        # -- the state of the current connection --
        self.connected = False
        #: The current connection, while it serves.
        self.pipe: Pipe | None = None
        self._up = asyncio.Event()
        self._outbox: list[Command] = []
        self._wake = asyncio.Event()
        #: Per channel, the last command sent on this connection: True subscribe, False unsubscribe.
        self._sent: dict[bytes, bool] = {}
        #: Per channel, the confirmations still due for the commands sent.
        self._due: dict[bytes, int] = {}
        #: Subscribers waiting for the server to confirm their channel.
        self._waiters: dict[bytes, list[asyncio.Future[None]]] = {}
        #: PINGs sent with a payload someone waits on: answered once everything sent before has been read.
        self._pongs: dict[bytes, asyncio.Future[None] | Callable[[], None]] = {}
        #: When each PING still unanswered was sent, oldest first.
        self._pings: collections.deque[float] = collections.deque()
        #: When the server was last heard from on the current connection (loop time).
        self._heard = 0.0
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"cf-redis-bus {key}".rstrip())

    @property
    def settled(self) -> bool:
        """Whether every write of this connection was answered (no PING of ours unanswered):
        only then may a store's requests share it. A PING refused (a server loading its
        data refuses it, as an ACL can) leaves its write's answers taking the next reply:
        never a lent request's, so only ours; the watch then finds the PING unanswered and
        connects again."""
        return not self._pings

    # -- what the bus asks --------------------------------------------------------------

    async def subscribe(self, name: bytes) -> None:
        self.channels.add(name)
        if self.connected:
            if not self._sent.get(name):
                self._command(b"SSUBSCRIBE", name)
                self._sent[name] = True
                self._due[name] = self._due.get(name, 0) + 1
            elif not self._due.get(name):
                return  # confirmed, and nothing sent since
        # Not connected: the reconnection subscribes to every channel wanted, and confirms it.
        await self._confirmed(name)

    def unsubscribe(self, name: bytes) -> None:
        self.channels.discard(name)
        if self.connected and self._sent.get(name):
            self._command(b"SUNSUBSCRIBE", name)
            self._sent[name] = False
            self._due[name] = self._due.get(name, 0) + 1

    async def listen(self) -> None:
        self.all = True
        if self.connected:
            self._command(b"SUBSCRIBE", ALL)
            self._sent[ALL] = True
            self._due[ALL] = self._due.get(ALL, 0) + 1
        await self._confirmed(ALL)

    def lose(self, names: list[bytes]) -> None:
        """These channels are no longer subscribed here (their slot went to another master):
        the bus makes them on the new one; whoever waits for them here waits for that."""
        for name in names:
            if name not in self.channels:
                continue
            self.channels.discard(name)
            self._sent.pop(name, None)
            self._due.pop(name, None)
            for waiter in self._waiters.pop(name, ()):
                if not waiter.done():
                    waiter.set_exception(Moved(f"{name.decode()} moved"))
            self._wiring.moved(name)

    def lose_slot(self, slot: int) -> None:
        self.lose([name for name in self.channels if key_slot(name) == slot])

    async def flush(self) -> None:
        timeout = self._wiring.timeout
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            raise StoreError(f"the bus is not connected{self._where()}") from None
        if self.retired:
            return
        token = b"flush-%d" % next(self._tokens)
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pongs[token] = answered
        self._command(b"PING", token)
        try:
            await asyncio.wait_for(answered, timeout)
        except TimeoutError:
            raise StoreError(f"the bus did not answer{self._where()}") from None
        finally:
            self._pongs.pop(token, None)

    async def stop(self) -> None:
        await stop_task(self._task)
        if self.retired:  # a flush waiting on it has nothing to wait for
            for answer in self._pongs.values():
                if isinstance(answer, asyncio.Future) and not answer.done():
                    answer.set_result(None)
            self._up.set()

    # -- the connection -------------------------------------------------------------------

    def _where(self) -> str:
        return f" ({self.key})" if self.key else ""

    def _command(self, *args: bytes) -> None:
        self._outbox.append(args)
        self._wake.set()

    async def _confirmed(self, name: bytes) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, self._wiring.timeout)
        except TimeoutError:
            raise StoreError(
                f"the subscription to {name.decode()} was not confirmed in {self._wiring.timeout:g}s"
            ) from None

    async def _run(self) -> None:
        wiring = self._wiring
        first, pause = True, wiring.backoff[0]
        loop = asyncio.get_running_loop()
        while not wiring.closed:
            try:
                async with asyncio.timeout(wiring.timeout):
                    pipe = await open_pipe(self.endpoint, push=self._read, resp3=True)
            except Exception as exc:  # RedisError, OSError, a timeout; any: the task lives on
                log.warning("bus: cannot connect%s (%s); again in %.2fs", self._where(), exc or "no answer", pause)
                if wiring.cluster:
                    wiring.suspect(self)
                await asyncio.sleep(pause)
                pause = min(pause * 2, wiring.backoff[1])
                continue
            self.pipe = pipe
            self._resubscribe(again=not first)
            first = False
            started = loop.time()
            try:
                await self._serve(pipe)
            except Exception as exc:  # RedisError, OSError, uvloop's RuntimeError on a reset transport...
                log.warning("bus: connection lost%s (%s); reconnecting", self._where(), exc)
                if wiring.cluster and not wiring.closed:
                    wiring.suspect(self)
            finally:
                self.connected = False
                self.pipe = None
                self._up.clear()
                for answer in self._pongs.values():
                    if isinstance(answer, asyncio.Future) and not answer.done():
                        if self.retired:
                            answer.set_result(None)
                        else:
                            answer.set_exception(StoreError("the bus lost its connection"))
                self._pongs = {k: v for k, v in self._pongs.items() if not isinstance(v, asyncio.Future)}
                pipe.close()
            if loop.time() - started < 1.0:  # lost at once: not in a tight loop
                await asyncio.sleep(pause)
                pause = min(pause * 2, wiring.backoff[1])
            else:
                pause = wiring.backoff[0]

    def _resubscribe(self, *, again: bool) -> None:
        """A new connection: subscribe to everything wanted, in one write, then a PING
        (whose answer says that every subscription holds)."""
        self._outbox, self._sent, self._due = [], {}, {}
        self._pings.clear()
        self._pongs = {k: v for k, v in self._pongs.items() if isinstance(v, asyncio.Future)}
        channels = list(self.channels)
        if self.all:
            self._outbox.append((b"SUBSCRIBE", ALL))
            self._sent[ALL], self._due[ALL] = True, 1
        if self._wiring.cluster:  # one slot per SSUBSCRIBE: a Cluster refuses several (CROSSSLOT)
            slots: dict[int, list[bytes]] = {}
            for name in channels:
                slots.setdefault(key_slot(name), []).append(name)
            groups = list(slots.values())
        else:
            groups = [channels]
        for group in groups:
            for start in range(0, len(group), CHUNK):
                chunk = group[start : start + CHUNK]
                self._outbox.append((b"SSUBSCRIBE", *chunk))
                for name in chunk:
                    self._sent[name], self._due[name] = True, 1
        # Waiters for channels no longer wanted have nothing to wait for.
        for name in [name for name in self._waiters if name not in self._due]:
            for waiter in self._waiters.pop(name):
                if not waiter.done():
                    waiter.set_result(None)
        token = b"resubscribed-%d" % next(self._tokens)
        if again:
            self._pongs[token] = lambda: self._wiring.resubscribed(self)
        self._outbox.append((b"PING", token))
        self.connected = True
        self._up.set()

    async def _serve(self, pipe: Pipe) -> None:
        """Write and watch the connection, each in a task of its own, for as long as it lasts
        (what it brings is read as it comes, ``_read``); the first to end (the connection
        lost, the watchdog finding it dead, an error) ends it."""
        serving = [True]
        loop = asyncio.get_running_loop()
        self._heard = loop.time()
        tasks = [
            loop.create_task(self._write(pipe, serving), name="cf-redis-bus-writer"),
            loop.create_task(self._watch(), name="cf-redis-bus-watchdog"),
        ]
        try:
            done, _ = await asyncio.wait([*tasks, pipe.lost], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # its error: the connection is gone
            if pipe.lost.done():
                raise ConnectionError("the server closed the connection")
        finally:
            serving[0] = False
            self._wake.set()
            for task in tasks:
                await stop_task(task)

    async def _write(self, pipe: Pipe, serving: list[bool]) -> None:
        wake = self._wake
        loop = asyncio.get_running_loop()
        while serving[0]:
            if not self._outbox:
                wake.clear()
                await wake.wait()
                continue
            commands, self._outbox = self._outbox, []
            pings = sum(1 for command in commands if command[0] == b"PING")
            if not pings:  # every write is followed by a PING: its answer shows the connection lives
                commands.append((b"PING", b"sync"))
                pings = 1
            self._pings.extend(itertools.repeat(loop.time(), pings))
            pipe.send(pack(commands))
            # Subscriptions answer only when refused: the write's answers end with its PINGs'.
            pipe.answers(pings).add_done_callback(self._answered)

    def _read(self, reply: Reply) -> None:
        """What the server pushed, as it comes."""
        self._heard = self._loop.time()
        self._handle(reply)

    def _answered(self, answers: asyncio.Future[list[Reply]]) -> None:
        """A write's answers: its PINGs', and the refusals of its commands."""
        if answers.cancelled() or answers.exception() is not None:
            return  # the connection is lost: the link makes another
        self._heard = self._loop.time()
        for reply in answers.result():
            if not isinstance(reply, Exception):
                self._pong(reply)
            elif isinstance(reply, AskError) and self._wiring.cluster:
                # MOVED (a subclass): an SSUBSCRIBE of a slot gone elsewhere
                log.info("bus: the slot %d is not on %s any more", reply.slot_id, self.key)
                self.lose_slot(reply.slot_id)
            else:
                log.error("bus: the server refused a command%s: %s", self._where(), reply)

    async def _watch(self) -> None:
        """Every tick: a connection silent while a PING waits longer than ``timeout`` is dead;
        one silent longer than ``health`` is asked (PING)."""
        wiring = self._wiring
        loop = asyncio.get_running_loop()
        tick = min(wiring.health, wiring.timeout) / 4
        while True:
            await asyncio.sleep(tick)
            now = loop.time()
            if now - self._heard < tick:
                continue
            if self._pings:
                if now - self._pings[0] > wiring.timeout:
                    raise ConnectionError(f"the server did not answer a PING in {wiring.timeout:g}s")
            elif now - self._heard > wiring.health:
                self._command(b"PING", b"health")

    def _handle(self, response: Any) -> None:
        kind = response[0]
        if kind == b"smessage":
            self._wiring.announce(response[1], response[2])
        elif kind == b"message":
            self._wiring.hear(response[2])
        elif kind == b"sunsubscribe" and not self._due.get(response[1]) and self._sent.get(response[1]):
            # Not asked for: the server dropped the subscription, its slot is on another master now.
            log.info("bus: %s was unsubscribed by %s (its slot moved)", response[1].decode(), self.key)
            self.lose([response[1]])
        elif kind in (b"ssubscribe", b"sunsubscribe", b"subscribe", b"unsubscribe"):
            self._confirm(response[1])

    def _confirm(self, name: bytes) -> None:
        due = self._due.get(name, 0) - 1
        if due > 0:
            self._due[name] = due
            return
        self._due.pop(name, None)
        if not self._sent.get(name, True):
            self._sent.pop(name, None)  # unsubscribed, and confirmed
        for waiter in self._waiters.pop(name, ()):
            if not waiter.done():
                waiter.set_result(None)

    def _pong(self, token: bytes) -> None:
        if self._pings:
            self._pings.popleft()
        answer = self._pongs.pop(token, None)
        if answer is None:
            return
        if isinstance(answer, asyncio.Future):
            if not answer.done():
                answer.set_result(None)
        else:
            answer()


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it is over. Again if need be: on Python 3.11,
    ``asyncio.wait_for`` (inside redis-py's writes) swallows a cancellation that
    arrives as what it waits for completes."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.debug("bus: a task ended with %r", task.exception())
