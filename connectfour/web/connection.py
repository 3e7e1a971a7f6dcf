"""One WebSocket connection as the service sees it: a member that can be sent frames."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

from aiohttp import web

from .frames import text_frame

log = logging.getLogger("connectfour.web")

#: A peer that leaves this much unread is stuck; it is dropped rather than
#: letting one slow reader hold memory or slow a broadcast.
MAX_WRITE_BUFFER = 1 << 20

_ids = itertools.count(1)
_closing: set[asyncio.Future[bool]] = set()  # strong references to closing tasks
_last_payload: bytes = b""
_last_frame: bytes = text_frame(b"")


class Connection:
    """Writes frames straight to the transport: a broadcast never waits on a reader."""

    __slots__ = ("id", "ws", "peer", "extended", "_transport", "_rate", "_burst", "_tokens", "_stamp")

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        peer: str,
        *,
        extended: bool,
        rate: float,
        burst: int,
    ) -> None:
        self.id = next(_ids)
        self.ws = ws
        self.peer = peer
        self.extended = extended
        self._transport = transport
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = time.monotonic()

    def send(self, payload: bytes) -> None:
        global _last_payload, _last_frame
        transport = self._transport
        if transport.is_closing():
            return
        if transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.warning("conn %d: peer %s reads too slowly; dropping it", self.id, self.peer)
            transport.abort()
            return
        # A broadcast hands every member the same payload object: frame it once.
        if payload is not _last_payload:
            _last_payload, _last_frame = payload, text_frame(payload)
        transport.write(_last_frame)

    def close(self, code: int, reason: str) -> None:
        """Close after what is already queued; the endpoint's loop then ends."""
        task = asyncio.ensure_future(self.ws.close(code=code, message=reason.encode()))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    def admit(self) -> bool:
        """Token bucket: False when this frame exceeds the allowed rate."""
        now = time.monotonic()
        tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if tokens < 1.0:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1.0
        return True

    def __repr__(self) -> str:
        return f"<Connection {self.id} {self.peer}>"
