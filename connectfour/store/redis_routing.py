"""The appends' way to the server: each batch in one write per master, on the bus's
connection there (or one of the store's own), and a Redis Cluster followed while it
changes under them. A game's reads and its changes that are not batched go the same
way (``Router.ask``).

Standalone, a batch is one round trip on one connection. In a Cluster it is
split by the master of each command's slot, one round trip per master, in
parallel; an answer ``MOVED``, ``ASK``, ``TRYAGAIN`` or ``CLUSTERDOWN``, or a
master that cannot be reached, sends that command again where its slot is now
(``Router._follow`` says how). Each call carries its call id, so one sent
twice is stored once. A round trip, retries included, ends by the batch's
deadline.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Container, Sequence
from typing import cast

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.exceptions import AskError, ClusterDownError, MovedError, ResponseError, TryAgainError
from redis.exceptions import TimeoutError as RedisTimeout

from ..redis.client import FAILURES, pack
from ..redis.pipe import Endpoint, Pipe, open_pipe
from ..redis.slots import learn_move, node_at, read_again
from .base import StoreError
from .redis_functions import LIBRARY, Functions, missing_function
from .replication import AT_ONCE, Replication

log = logging.getLogger("connectfour.store.redis")

#: Attempts at a round trip after connection errors or timeouts, and the first pause between them.
ATTEMPTS = 3
BACKOFF = 0.0125

#: A command of the appends' batches.
Command = tuple[bytes | str | int, ...]
#: Lends the appends a connection of the bus to a server (the key: "" standalone, a node's
#: name in a Cluster), if it has one open there (``RedisBus.carrier``).
Carrier = Callable[[str, Endpoint], Pipe | None]


class Unreachable(StoreError):
    """The master of a command could not be reached (in a Cluster: its slot may have another now)."""


def _key_of(command: Command) -> bytes:
    """The key that places a command of the appends' batches: a function's first, else the first argument."""
    return cast(bytes, command[3] if command[0] == "FCALL" else command[1])


class Router:
    """Sends the appends' batches (``send``), one connection per server: the bus's (``carrier``)
    where it has one open, so that an append's announcement comes back with its answer; else
    one of its own. Each round trip ends with the wait ``replication`` asks for, if any."""

    def __init__(
        self,
        functions: Functions,
        timeout: float,
        replication: Replication = AT_ONCE,
        carrier: Carrier | None = None,
    ) -> None:
        self._functions = functions
        self.timeout = timeout
        self.replication = replication
        self._carrier = carrier
        #: The appends' own connections (one per master in a Cluster, "" standalone), whose
        #: round trips are bounded by their batch's deadline as a whole; and where each goes.
        self._pipes: dict[str, Pipe] = {}
        self._endpoints: dict[str, Endpoint] = {}

    async def send(self, commands: list[Command], deadline: float, *, wait: bool = True) -> list[object]:
        """Each command's answer (an error answer, or a StoreError, in its place), all by
        ``deadline`` (the loop's time). A server that lost the function library gets it again
        and the calls it refused for it again, with the same call ids."""
        if self._functions.cluster:
            return await self._follow(commands, deadline, wait)
        results, _ = await self._spread(commands, deadline, wait=wait)
        redo = [n for n, result in enumerate(results) if missing_function(result)]
        if redo:
            # The server lost the library (a restart without persistence): load it, then
            # call again the ones refused for it, with the same call ids.
            await self._functions.load()
            again, _ = await self._spread(
                [commands[n] for n in redo], asyncio.get_running_loop().time() + self.timeout, wait=wait
            )
            for n, result in zip(redo, again):
                results[n] = result
        return results

    async def ask(self, commands: list[Command]) -> list[object]:
        """Each command's answer in its place (an error answer, or a StoreError, as it is),
        within the store's timeout: the batches' way, for a game's reads and the changes that
        are not batched (its presence, its creation). One write per server, on the bus's
        connection where it has one open: a fifth of redis-py's CPU per round trip."""
        functions = self._functions
        try:
            if not functions.loaded() and any(command[0] == "FCALL" for command in commands):
                await functions.load()
            # No wait for the replication: a change asked so is confirmed after (``confirm``).
            return await self.send(commands, asyncio.get_running_loop().time() + self.timeout, wait=False)
        except FAILURES as exc:  # (loading the library, on redis-py's connections)
            raise functions.failed(exc) from exc

    def ready(self) -> Pipe | None:
        """The connection a batch can be written to at once, standalone, with no wait for the
        replication: the bus's, or the appends' own, if one is open and its server known; else
        None, and ``send`` makes one. (In a Cluster, each batch takes ``send``'s way.)"""
        if self._functions.cluster or self.replication.waits:
            return None
        endpoint = self._endpoints.get("")
        if endpoint is None:
            return None
        if self._carrier is not None:
            carried = self._carrier("", endpoint)
            if carried is not None:
                return carried
        pipe = self._pipes.get("")
        return pipe if pipe is not None and pipe.is_open else None

    def lost(self, pipe: Pipe) -> None:
        """A batch written to ``pipe`` (``ready``) had no answer by its deadline: the
        connection goes (the way to the server may be cut), and so do the pool's idle ones."""
        self._drop(None, pipe)
        self._functions.purge()

    async def close(self) -> None:
        for pipe in self._pipes.values():
            pipe.close()
        self._pipes.clear()

    async def _follow(self, commands: list[Command], deadline: float, wait: bool) -> list[object]:
        """Send ``commands`` to their masters (``_spread``), and follow a Cluster that changes:

        - ``MOVED`` (the slot is another master's now: resharded, or failed over to a
          replica): redis-py's map learns it (``learn_move``, as its own client does), and
          the command goes to that master;
        - ``ASK`` (the slot is being migrated, and its keys are on the target already):
          the command goes to the target, after ``ASKING``, in the same write;
        - ``TRYAGAIN`` (during a migration, a function whose keys are split, or partly
          missing), ``CLUSTERDOWN``: the same again after a short pause;
        - a master that cannot be reached (the connection dropped, or cannot be made):
          the map is read again (``read_again``), and the command goes to the slot's
          master now if that is another;
        - "function not found" (a master that never had the library, or lost it): the
          library is loaded on that master, in the same write as the call again.

        Each call carries its call id, so a call the server ran before its answer was
        lost answers again as it did: nothing is appended twice. All of it within the
        batch's ``deadline``; what is still on its way then is a StoreError (unavailable),
        never stored in part: each call is one function, all or nothing."""
        cluster = cast(RedisCluster, self._functions.client)
        loop = asyncio.get_running_loop()
        results, nodes = await self._spread(commands, deadline, wait=wait)
        pending = list(range(len(commands)))
        #: The commands sent to a node the map does not name (ASK), and sent there again.
        targets: dict[int, tuple[ClusterNode, bool]] = {}
        for attempt in itertools.count():
            load: set[str] = set()
            pause = refresh = False
            for n in pending:
                result, node = results[n], nodes[n]
                if isinstance(result, MovedError):
                    await learn_move(cluster, result)
                    targets.pop(n, None)
                elif isinstance(result, AskError):
                    targets[n] = (node_at(cluster, result.host, int(result.port)), True)
                elif isinstance(result, TryAgainError):
                    pause = True  # (to the same node again, after ASKING if it was asked)
                elif isinstance(result, ClusterDownError):
                    pause = True
                    targets.pop(n, None)
                elif isinstance(result, Unreachable):
                    refresh = pause = True
                    targets.pop(n, None)
                elif missing_function(result) and node is not None:
                    load.add(node.name)  # (to the same node again, with the library first)
            pending = [
                n for n in pending
                if isinstance(results[n], (AskError, TryAgainError, ClusterDownError, Unreachable)) or missing_function(results[n])
            ]  # fmt: skip
            if not pending:
                return results
            targets = {n: targets[n] for n in pending if n in targets}
            rest = BACKOFF * 2 ** min(attempt, 4) if pause else 0.0
            if loop.time() + rest >= deadline:
                break
            if rest:
                await asyncio.sleep(rest)
            if refresh:
                try:
                    await read_again(cluster)
                except (*FAILURES, StoreError) as exc:
                    log.warning("cannot read the map of the Cluster's slots: %s", exc)
                    break
            log.info(
                "appends: %d calls again, after %s",
                len(pending),
                ", ".join(sorted({type(results[n]).__name__ for n in pending})),
            )
            again, where = await self._spread(
                [commands[n] for n in pending], deadline, [targets.get(n) for n in pending], load, wait=wait
            )
            for n, result, node in zip(pending, again, where):
                results[n], nodes[n] = result, node
        for n in pending:
            result = results[n]
            if not isinstance(result, StoreError):
                results[n] = StoreError(f"redis: its slot is moving, or its master changing ({result}); try again")
        return results

    async def _spread(
        self,
        commands: list[Command],
        deadline: float,
        targets: Sequence[tuple[ClusterNode, bool] | None] | None = None,
        load: Container[str] = frozenset(),
        *,
        wait: bool = True,
    ) -> tuple[list[object], list[ClusterNode | None]]:
        """``_roundtrip`` to the server; in a Cluster, to each master its own commands, in
        parallel (or to the node of ``targets``, after ASKING if it says so; with the function
        library first, to the nodes named in ``load``). Each answer in its command's place,
        and the node it came from; a master that could not be reached answers ``Unreachable``
        for each of its commands."""
        if not self._functions.cluster:
            return await self._roundtrip(None, commands, deadline, wait=wait), [None] * len(commands)
        masters: dict[tuple[str, bool], tuple[ClusterNode, list[int]]] = {}
        for n, command in enumerate(commands):
            target = targets[n] if targets is not None else None
            node, asking = target if target is not None else (await self._functions.master(_key_of(command)), False)
            masters.setdefault((node.name, asking), (node, []))[1].append(n)

        async def answers(node: ClusterNode, asking: bool, places: list[int]) -> list[object]:
            """The master's answers; each an ``Unreachable`` if it could not be reached."""
            try:
                return await self._roundtrip(
                    node, [commands[n] for n in places], deadline, asking=asking, load=node.name in load, wait=wait
                )
            except Exception as exc:
                return [Unreachable(str(self._functions.failed(exc)))] * len(places)

        if len(masters) == 1:  # (the commonest: one game's commands; no gather, no extra turn)
            ((_, asking), (node, places)) = next(iter(masters.items()))
            return await answers(node, asking, places), [node] * len(commands)
        results: list[object] = [None] * len(commands)
        nodes: list[ClusterNode | None] = [None] * len(commands)
        each = await asyncio.gather(*(answers(node, asking, places) for (_, asking), (node, places) in masters.items()))
        for (node, places), answer in zip(masters.values(), each):
            for n, result in zip(places, answer):
                results[n], nodes[n] = result, node
        return results, nodes

    async def _pipe_to(self, node: ClusterNode | None) -> Pipe:
        """The appends' connection to the server, or to a Cluster's master: the bus's if it
        has one open there, else one of their own, made again if it was lost (the caller
        bounds the wait)."""
        key = node.name if node is not None else ""
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            source = node if node is not None else self._functions.client.connection_pool
            endpoint = self._endpoints[key] = Endpoint.of(source)
        if self._carrier is not None:
            carried = self._carrier(key, endpoint)
            if carried is not None:
                return carried
        pipe = self._pipes.get(key)
        if pipe is not None and pipe.is_open:
            return pipe
        pipe = self._pipes[key] = await open_pipe(endpoint)
        return pipe

    def _drop(self, node: ClusterNode | None, pipe: Pipe | None) -> None:
        """Close the connection a round trip to ``node`` failed on (what was on its way is
        lost: the next attempt makes another; the bus's, lent, is made again by the bus)."""
        key = node.name if node is not None else ""
        if pipe is None:
            pipe = self._pipes.get(key)
        if pipe is not None and self._pipes.get(key) is pipe:
            del self._pipes[key]
        if pipe is not None:
            pipe.close()

    async def _roundtrip(
        self,
        node: ClusterNode | None,
        commands: list[Command],
        deadline: float,
        *,
        asking: bool = False,
        load: bool = False,
        wait: bool = True,
    ) -> list[object]:
        """Send ``commands`` in one write and read their answers (an error answer in its
        place), on the appends' connection to ``node`` (None: the standalone server).
        After a connection error, reconnect and send them all again: an append carries
        its call id, so one the server ran before the answer was lost answers again as
        it did. All of it, retries included, before ``deadline`` (the loop's time).
        ``asking``: each command after an ASKING (a slot being migrated to ``node``);
        ``load``: the function library first; ``wait``: the replication's wait last."""
        loop = asyncio.get_running_loop()
        error: BaseException | None = None
        wire: list[Command] = [("FUNCTION", "LOAD", "REPLACE", LIBRARY)] if load else []
        for command in commands:
            if asking:
                wire.append(("ASKING",))
            wire.append(command)
        replication = self.replication
        if wait and replication.waits:
            # In the same write, on the same connection: it waits for what this connection wrote.
            wire.append(replication.command(deadline - loop.time()))
        packed = pack(wire)
        for attempt in range(ATTEMPTS):
            if attempt:
                pause = BACKOFF * 2**attempt
                if loop.time() + pause >= deadline:
                    break
                await asyncio.sleep(pause)
            pipe: Pipe | None = None
            try:
                async with asyncio.timeout_at(deadline):
                    pipe = await self._pipe_to(node)
                    pipe.send(packed)
                    answers = await pipe.replies(len(wire))
            except (*FAILURES, OSError, TimeoutError) as exc:
                error = exc
                self._drop(node, pipe)
                if isinstance(exc, (TimeoutError, RedisTimeout, RuntimeError)):
                    self._functions.purge()
                continue
            results: list[object] = []
            for command, answer in zip(wire, answers):
                if command[0] in ("ASKING", "FUNCTION"):
                    if isinstance(answer, ResponseError):
                        log.info("redis%s: %s answered %s", f" {node.name}" if node else "", command[0], answer)
                    continue
                if command[0] in ("WAIT", "WAITAOF"):
                    short = replication.short(answer, node.name if node is not None else "")
                    if short is not None:
                        # Stored (what was not refused), but not where it must be before it is
                        # acknowledged: its outcome is unknown to the caller, who asks again.
                        results = [r if isinstance(r, Exception) else short for r in results]
                    continue
                results.append(answer)
            return results
        where = f" {node.name}" if node is not None else ""
        if error is None or isinstance(error, TimeoutError) or not str(error):
            raise StoreError(f"redis{where}: no answer in {self.timeout:g}s")
        raise StoreError(f"redis{where}: {error}")
