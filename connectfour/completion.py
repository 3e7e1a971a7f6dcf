"""Awaiting an operation that reports its end to a callback instead of returning a future."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

Done = Callable[[BaseException | None], None]


async def completion(start: Callable[[Done], None]) -> None:
    """Run ``start(done)`` and wait until it calls ``done(None)``, or raise what it passes.

    The hot paths (a move's store, check and broadcast) run on callbacks so
    that no task is made per frame; this lets tests and rarer callers await them.
    """
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(error: BaseException | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

    start(done)
    await future
