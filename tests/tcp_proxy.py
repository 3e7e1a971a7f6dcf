"""A TCP proxy a test controls, to cut one process off from a server (a partition).

``TcpProxy(target_port)`` listens on 127.0.0.1 (``port``) and forwards each
connection to 127.0.0.1:``target_port``, in a thread of its own with its own
event loop (so that it keeps forwarding while the test blocks, e.g. while a
``ServerProcess`` starts and reaches the server through it).

``cut(how)`` starts a partition, ``heal()`` ends it (and ``retarget(port)``
sends new connections elsewhere, as a failover moving an address would):

- ``"refuse"``: every connection is dropped (reset), and each new one is
  reset as soon as it is accepted: the client learns at once.
- ``"blackhole"``: every connection is dropped, and each new one is
  accepted but never forwarded nor answered (what it sends is read and
  thrown away): the client learns nothing, only its timeouts save it.
- ``"freeze"``: the connections are NOT dropped: they go silent (nothing
  forwarded either way), and new ones are blackholed. The nastiest: no
  error ever comes, on old connections or new ones.

After ``heal()`` new connections are forwarded again, but a connection
blackholed or frozen during the cut stays silent until its client closes it
(as after a partition that made a firewall or a NAT forget its flows): the
client must notice by itself, with timeouts, and reconnect.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

Cut = Literal["refuse", "blackhole", "freeze"]
T = TypeVar("T")
#: Bytes read at a time.
CHUNK = 65536


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a reset (SO_LINGER 0), as a refusing or vanished peer would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class _Pipe:
    """One forwarded connection: the client's side, the server's side, a pump each way."""

    def __init__(self, proxy: TcpProxy, client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                 server: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:  # fmt: skip
        self.proxy = proxy
        self.client, self.server = client, server
        #: Silent for good: nothing is forwarded any more, either way.
        self.frozen = False
        self.tasks = [
            asyncio.ensure_future(self._pump(client[0], server[1])),
            asyncio.ensure_future(self._pump(server[0], client[1])),
        ]

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await source.read(CHUNK)
                if not data:
                    break
                if self.frozen:
                    continue  # swallowed
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self.drop(reset=False)  # one side went away: the other goes too

    def drop(self, *, reset: bool = True) -> None:
        for _, writer in (self.client, self.server):
            if reset:
                _reset(writer)
            else:
                writer.close()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self.proxy._pipes.discard(self)


class TcpProxy:
    """127.0.0.1:``port`` -> 127.0.0.1:``target_port``; see the module's docstring."""

    def __init__(self, target_port: int, *, port: int = 0, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._thread.start()
        self._cut: Cut | None = None
        self._pipes: set[_Pipe] = set()
        self._holes: set[asyncio.StreamWriter] = set()
        #: Connections accepted, forwarded, reset by a "refuse" cut, and blackholed, so far.
        self.accepted = self.forwarded = self.refused = self.blackholed = 0
        self._server = self._run(self._listen(port))
        self.port: int = self._server.sockets[0].getsockname()[1]

    # -- the test's side (any thread) -----------------------------------------------

    def url(self, scheme: str = "redis", path: str = "/0") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    @property
    def open_connections(self) -> int:
        """Connections being forwarded now."""
        return self._run(self._count())

    def cut(self, how: Cut = "refuse") -> None:
        """Start a partition (see the module's docstring); returns once it holds."""
        if how not in ("refuse", "blackhole", "freeze"):
            raise ValueError(how)
        self._run(self._do_cut(how))

    def retarget(self, target_port: int) -> None:
        """Forward new connections to ``target_port`` from now on; the open ones are reset
        (as a virtual address moving to another machine would)."""
        self._run(self._do_retarget(target_port))

    def heal(self) -> None:
        """New connections are forwarded again (old silent ones stay silent)."""
        self._run(self._do_heal())

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # -- the proxy's own loop -----------------------------------------------------------

    async def _listen(self, port: int) -> asyncio.Server:
        return await asyncio.start_server(self._accept, "127.0.0.1", port, reuse_address=True)

    async def _count(self) -> int:
        return sum(1 for pipe in self._pipes if not pipe.frozen)

    async def _do_cut(self, how: Cut) -> None:
        self._cut = how
        for pipe in list(self._pipes):
            if how == "freeze":
                pipe.frozen = True
            else:
                pipe.drop()

    async def _do_retarget(self, target_port: int) -> None:
        self.target = (self.target[0], target_port)
        for pipe in list(self._pipes):
            pipe.drop()

    async def _do_heal(self) -> None:
        self._cut = None  # the frozen pipes stay frozen

    async def _shutdown(self) -> None:
        self._server.close()
        for pipe in list(self._pipes):
            pipe.drop()
        for writer in list(self._holes):
            _reset(writer)
        await asyncio.sleep(0)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self._cut == "refuse":
            self.refused += 1
            _reset(writer)
            return
        if self._cut is not None:
            await self._swallow(reader, writer)
            return
        try:
            server = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        if self._cut is not None:  # cut while connecting
            _reset(server[1])
            if self._cut == "refuse":
                _reset(writer)
            else:
                await self._swallow(reader, writer)
            return
        self.forwarded += 1
        self._pipes.add(_Pipe(self, (reader, writer), server))

    async def _swallow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A blackhole: read and forget until the client goes away; never answer."""
        self.blackholed += 1
        self._holes.add(writer)
        try:
            while await reader.read(CHUNK):
                pass
        except OSError:
            pass
        finally:
            self._holes.discard(writer)
            writer.close()
