"""Steps the service takes in the background, with their failures logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from ..eager import start_eagerly

log = logging.getLogger("connectfour.service")


def spawn(coro: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
    """Run ``coro`` in a task of its own."""
    task = asyncio.ensure_future(coro)
    task.add_done_callback(_log_failure)
    return task


def soon(coro: Coroutine[Any, Any, object], *, local: bool) -> asyncio.Task[Any] | None:
    """A step started at once: with a store in this process (``local``) it is over before
    this returns, and no task is made; a network store's client waits inside a task only."""
    if not local:
        return spawn(coro)
    try:
        task = start_eagerly(coro)
    except Exception as exc:
        log.error("background task failed: %s", exc)
        return None
    if task is not None:
        task.add_done_callback(_log_failure)
    return task


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed: %s", task.exception())
