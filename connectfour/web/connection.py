"""One WebSocket connection: frames in from the wire, events out to the transport.

A move arriving in ``data_received`` is checked, handed to the store and,
once stored, announced, all from callbacks: no task, queue or future per
frame. Rarer requests (start, join, watch, resume...) run as a coroutine,
started at once; only one that has to wait (for a store on disk, say) goes on
in a task. Frames arriving meanwhile wait their turn, so one connection's
requests are always handled in order.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .. import metrics
from ..config import Settings
from ..eager import start_eagerly
from ..protocol import ProtocolError, decode
from ..protocol.client_messages import ClientEvent, Init, Match, Play, Rematch
from ..protocol.server_messages import AckEvent, ErrorEvent
from ..service import GameService, Session
from ..service.game import send_event
from ..store import StoreError
from . import wire
from .keepalive import answers
from .limits import ClientTable, address_key

log = logging.getLogger("connectfour.web")

#: Frames that may wait while an earlier request of the same connection runs.
MAX_WAITING = 64
#: Frames dropped in a row by the rate limit before the connection is closed.
FLOOD_LIMIT = 100
#: The transport queues at most about this much before it asks us to pause;
#: past it, frames are copied into one buffer of our own, whose size is the
#: memory it takes (thousands of small writes queued one by one cost several
#: times their bytes).
HIGH_WATER = 16 * 1024
LOW_WATER = 4 * 1024

_ids = itertools.count(1)
_tasks: set[asyncio.Task[Any]] = set()  # strong references to running requests
_last_payload: bytes = b""
_last_frame: bytes = wire.frame(b"")


class Connection:
    __slots__ = (
        "id", "peer", "client", "speaks_v1", "session", "wire", "transport", "_closed", "_gone", "close_code", "heard",
        "pinged_at", "_settings", "_clients", "_on_close", "_rate", "_burst", "_tokens", "_stamp", "_dropped",
        "_busy", "_waiting", "_pending", "_local", "_request",
    )  # fmt: skip

    def __init__(
        self,
        transport: asyncio.Transport,
        peer: str,
        service: GameService,
        settings: Settings,
        clients: ClientTable | None,
        *,
        speaks_v1: bool,
        on_close: Callable[[Connection], None],
    ) -> None:
        self.id = next(_ids)
        #: The client's address (as a trusted proxy gave it, if any), and whose connection
        #: it counts as (an IPv6 client's network): what the lobby keeps fair between.
        self.peer = peer
        self.client = address_key(peer, settings.ipv6_prefix)
        self.speaks_v1 = speaks_v1
        self.transport = transport
        self.session = Session(service, self)
        #: Requests may start outside a task (connectfour/eager.py): the store is in this process.
        self._local = service.store.in_process
        self.wire = wire.Wire(self, settings.max_frame)
        self._closed: asyncio.Future[None] | None = None
        self._gone = False
        self.close_code: int | None = None
        self.heard = True
        self.pinged_at: float | None = None
        self._settings = settings
        self._clients = clients
        self._on_close = on_close
        #: The rate limit's bucket: frames per second, and as many at once.
        self._rate = settings.rate
        self._burst = float(settings.burst)
        self._tokens = self._burst
        self._stamp = time.monotonic()
        self._dropped = 0
        self._busy = False
        #: The request being answered (one at a time): its answer carries its ``id``.
        self._request: ClientEvent | None = None
        self._waiting: deque[bytes] | None = None
        #: Output held while the transport is paused (the peer is not reading).
        self._pending: bytearray | None = None
        transport.set_write_buffer_limits(HIGH_WATER, LOW_WATER)

    @property
    def closed(self) -> asyncio.Future[None]:
        """Done once the connection is gone (made on demand: only shutdown waits for it)."""
        closed = self._closed
        if closed is None:
            closed = self._closed = asyncio.get_running_loop().create_future()
            if self._gone:
                closed.set_result(None)
        return closed

    # -- output --------------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        """Send one text frame (the service's member interface)."""
        global _last_payload, _last_frame
        if self.transport.is_closing():
            return
        # A broadcast hands every member the same payload object: frame it once.
        if payload is not _last_payload:
            _last_payload, _last_frame = payload, wire.frame(payload)
        if self._pending is None:  # _write(), inlined: a broadcast calls this per member
            self.transport.write(_last_frame)
        else:
            self._write(_last_frame)

    @property
    def backlog(self) -> int:
        """Bytes queued for the peer in this process (the kernel's buffer aside)."""
        pending = self._pending
        return self.transport.get_write_buffer_size() + (len(pending) if pending is not None else 0)

    @property
    def lagging(self) -> bool:
        """The transport holds more than its high-water mark: the peer is not keeping up."""
        return self._pending is not None

    def _write(self, data: bytes) -> None:
        pending = self._pending
        if pending is None:
            self.transport.write(data)
            return
        pending += data
        unread = len(pending) + self.transport.get_write_buffer_size()
        if unread > self._settings.max_output:
            self.abort(f"{unread} bytes unread, over the bound of {self._settings.max_output}")

    def pause_writing(self) -> None:
        """The transport holds more than it should: keep what follows ourselves."""
        if self._pending is None:
            self._pending = bytearray()

    def resume_writing(self) -> None:
        pending = self._pending
        self._pending = None
        if pending and not self.transport.is_closing():
            self.transport.write(pending)

    def close(self, code: int, reason: str) -> None:
        """Send a close frame after what is queued, then close the socket."""
        self.wire.stop()
        transport = self.transport
        if self.close_code is None:
            self.close_code = code
        if not transport.is_closing():
            pending, self._pending = self._pending, None
            closing = wire.close_frame(code, reason)
            transport.write(pending + closing if pending else closing)
            transport.close()

    def abort(self, reason: str) -> None:
        """Cut the connection at once, dropping what it has not read."""
        if not self.transport.is_closing():
            log.warning("conn %d: peer %s dropped: %s", self.id, self.peer, reason)
        self.wire.stop()
        self._pending = None
        self.transport.abort()

    def ping(self, payload: bytes) -> None:
        if not self.transport.is_closing():
            self._write(wire.frame(payload, wire.OP_PING))

    # -- the wire's handler --------------------------------------------------------

    def _admit(self) -> bool:
        """The rate limit, one token per frame: False when this frame is dropped."""
        now = time.monotonic()
        tokens = self._tokens + (now - self._stamp) * self._rate
        if tokens > self._burst:
            tokens = self._burst
        self._stamp = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            self._dropped = 0
            return True
        self._tokens = tokens
        self._dropped += 1
        if self._dropped == 1:
            self._refuse(ProtocolError("rate_limited", "Too many messages; slow down."))
        elif self._dropped >= FLOOD_LIMIT:
            log.warning("conn %d: flooding, closed", self.id)
            self.close(wire.CLOSE_POLICY, "Too many messages.")
        return False

    def on_message(self, opcode: int, payload: bytes) -> None:
        self.heard = True
        if not self._admit():
            return
        if opcode != wire.OP_TEXT:
            self._refuse(ProtocolError("binary_frame", "Binary frames are not supported; send JSON text."))
        elif self._busy:
            waiting = self._waiting
            if waiting is None:
                waiting = self._waiting = deque()
            if len(waiting) >= MAX_WAITING:
                log.warning("conn %d: too many requests waiting, closed", self.id)
                self.close(wire.CLOSE_POLICY, "Too many requests at once.")
            else:
                waiting.append(payload)
        else:
            self._handle(payload)

    def on_ping(self, payload: bytes) -> None:
        # Not a sign of life: a peer that pings but never reads must still be found out.
        if self._admit() and not self.transport.is_closing():
            self._write(wire.frame(payload, wire.OP_PONG))

    def on_pong(self, payload: bytes) -> None:
        if answers(self.pinged_at, payload):
            self.pinged_at = None
            self.heard = True

    def on_close(self, code: int | None, reason: str) -> None:
        # Answer the closing handshake with the same code, then hang up.
        self.close_code = code or 1005
        self.close(code or wire.CLOSE_NORMAL, "")

    def on_violation(self, code: int, reason: str) -> None:
        log.warning("conn %d: closed with %d: %s", self.id, code, reason)
        self.close(code, reason)

    def on_eof(self) -> None:
        self.session.close()
        self._on_close(self)
        log.info("conn %d: closed (code %s)", self.id, self.close_code or 1006)
        self._gone = True
        self._pending = None
        closed = self._closed
        if closed is not None and not closed.done():
            closed.set_result(None)

    # -- requests --------------------------------------------------------------------

    def _handle(self, payload: bytes) -> None:
        try:
            event = decode(payload)
        except ProtocolError as exc:
            self._refuse(exc)
            return
        self._busy = True
        self._request = event
        if isinstance(event, Play):
            try:
                if self.session.play_nowait(event, self._done):
                    return
            except ProtocolError as exc:
                self._done(exc)
                return
        if self._clients is not None and self._starts_game(event) and not self._clients.new_game(self.peer):
            self._done(ProtocolError("too_many_games", "Too many new games from your address; wait a minute."))
            return
        coro = self._handle_async(event)
        task = start_eagerly(coro) if self._local else asyncio.ensure_future(coro)
        if task is not None:  # it waits: a task goes on with it
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)

    def _starts_game(self, event: object) -> bool:
        """Whether the event may make a new game: an ``init`` to start one, the tutorial's
        first ``play`` with no game, a quick match (it hosts one while it waits, and a
        ``cancel`` leaves it stored), or a rematch offer (the second one makes the next
        game): else a loop of any of them would store games as fast as it can send."""
        if isinstance(event, Init):
            return event.join is None and event.watch is None and self.session.game is None
        if isinstance(event, (Play, Match)):
            return self.session.game is None
        return isinstance(event, Rematch)

    async def _handle_async(self, event: ClientEvent) -> None:
        session = self.session
        was_in_game = session.game is not None
        error: ProtocolError | None = None
        try:
            await session.handle(event)
        except ProtocolError as exc:
            error = exc
        except StoreError as exc:
            log.error("conn %d: the store failed: %s", self.id, exc)
            error = ProtocolError(
                "unavailable",
                "The server could not save this in time; it may or may not have been saved: send it again.",
            )
        except Exception:
            log.exception("conn %d: failed to handle %r", self.id, event)
            send_event(
                self,
                ErrorEvent(
                    message="Internal error; the request's outcome is unknown.", code="internal_error", id=event.id
                ),
            )
        if not was_in_game and log.isEnabledFor(logging.INFO):
            game, role = session.service.where(self)
            if game is not None:
                log.info("conn %d: %s in game %s", self.id, role, game.id)
        self._done(error)

    def _done(self, error: ProtocolError | None) -> None:
        """The current request is over: answer it (a refusal, or ``ack`` if it gave an id),
        then take the next waiting frame."""
        request, self._request = self._request, None
        if error is not None:
            self._refuse(error, request)
        elif request is not None and request.id is not None:
            send_event(self, AckEvent(request.id, request.ply if isinstance(request, Play) else None))
        self._busy = False
        waiting = self._waiting
        while waiting and not self._busy and not self.transport.is_closing():
            self._handle(waiting.popleft())

    def _refuse(self, exc: ProtocolError, request: ClientEvent | None = None) -> None:
        metrics.count("connectfour_refusals_total", exc.code)
        game = self.session.game
        log.info("conn %d (game %s): refused %s: %s", self.id, game.id if game else "-", exc.code, exc.message)
        event = ErrorEvent(message=exc.message, code=exc.code, watch=exc.watch)
        if request is not None and request.id is not None:
            ply = request.ply if isinstance(request, Play) else None
            event = ErrorEvent(message=exc.message, code=exc.code, watch=exc.watch, id=request.id, ply=ply)
        send_event(self, event)

    def __repr__(self) -> str:
        return f"<Connection {self.id} {self.peer}>"
