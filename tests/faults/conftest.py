"""What the fault tests start, stopped in reverse order however a test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def cleanup() -> Iterator[list[Callable[[], None]]]:
    """A list of steps to undo: each test appends the stop of what it starts."""
    undo: list[Callable[[], None]] = []
    yield undo
    for step in reversed(undo):
        step()
