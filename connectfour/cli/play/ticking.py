"""A timed game's clocks shown again each time their figures change (each second,
each tenth under 10 s on a terminal), while one counts down; a new clock from
the server starts the count afresh."""

from __future__ import annotations

import asyncio

from .terminal import Terminal


async def keep_time(terminal: Terminal) -> None:
    """Refresh the clock line until cancelled."""
    while True:
        await terminal.clock.changed.wait()
        terminal.clock.changed.clear()
        delay = terminal.clock.refresh()
        while delay is not None:
            try:
                await asyncio.wait_for(terminal.clock.changed.wait(), delay)
            except TimeoutError:
                delay = terminal.clock.refresh()
            else:
                break  # news from the server: counted from it
