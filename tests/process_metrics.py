"""This process's counters as /metrics shows them, and a wait on a condition of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from connectfour import metrics


def counted(name: str) -> float:
    """The sample ``name`` of this process's /metrics (0 before anything was counted)."""
    for family in text_string_to_metric_families(metrics.render({}).decode()):
        for sample in family.samples:
            if sample.name == name:
                return sample.value
    return 0.0


async def until(condition: Callable[[], bool]) -> None:
    """Return once ``condition()`` holds, looking every 5 ms (the caller bounds the wait)."""
    while not condition():
        await asyncio.sleep(0.005)
