"""What a spawned Redis spent per command (``INFO commandstats``): the calls and the
microseconds of each command the servers sent, so that a move's cost in Redis can be
read per command, not only as the process's CPU (which includes the network)."""

from __future__ import annotations

from typing import NamedTuple

#: A command's counts: calls and microseconds spent in it.
Counts = dict[str, tuple[int, int]]


class StoreProcess(NamedTuple):
    """A store the bench started: its pid (for CPU) and, for Redis, its port (for commandstats)."""

    pid: int
    port: int | None = None


def sample(port: int) -> Counts:
    """Every command's calls and microseconds so far."""
    import redis

    with redis.Redis(port=port) as client:
        stats = client.info("commandstats")
    counts: Counts = {}
    for name, value in stats.items():
        if isinstance(value, dict) and name.startswith("cmdstat_"):
            counts[name[8:]] = (int(value["calls"]), int(value["usec"]))
    return counts


def per_move(before: Counts, after: Counts, moves: int) -> dict[str, dict[str, float]]:
    """Each command's calls and microseconds per move between two samples (those called at all).
    A command a function calls counts both in itself and in the function's ``fcall``; the
    times are the server's clock, so a busy machine that pauses Redis inflates them."""
    spent: dict[str, dict[str, float]] = {}
    for name, (calls, usec) in sorted(after.items()):
        first_calls, first_usec = before.get(name, (0, 0))
        if calls > first_calls and moves:
            spent[name] = {
                "calls": round((calls - first_calls) / moves, 3),
                "us": round((usec - first_usec) / moves, 2),
            }
    return spent
