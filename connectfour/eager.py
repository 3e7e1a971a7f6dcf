"""Running a coroutine at once, up to its first real wait, without a task.

Most requests finish without waiting (an in-memory store answers at once),
and a task costs more than the request itself; so a coroutine is started
right away, and only one that has to wait gets a task, from where it waits.
(Python 3.12's eager task factory does the same for every task; this is
for the few places that want it, on 3.11 too.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


def start_eagerly(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[None] | None:
    """Run ``coro`` until it first waits; None if it finished (its result is
    dropped, an exception it raised propagates), else the task that goes on."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return asyncio.ensure_future(_go_on(coro, waiting))


class _Yield:
    """Hands what a coroutine waits for to the task now running it."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __await__(self) -> Generator[object, None, None]:
        yield self.value


async def _go_on(coro: Coroutine[Any, Any, Any], waiting: object) -> None:
    """Run, in a task, the rest of a coroutine started outside one, from where it waits.

    The task waits on what the coroutine yielded (a future, or None for a bare
    yield), then resumes it; an exception the task gets there (the future's
    failure, a cancellation) is thrown into the coroutine, as a task running
    it from the start would have done.
    """
    while True:
        try:
            await _Yield(waiting)
        except BaseException as exc:
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
        else:
            try:
                waiting = coro.send(None)
            except StopIteration:
                return
