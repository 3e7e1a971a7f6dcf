"""The types of the command line's options: each checks one value and says plainly
what is wrong with it (argparse shows the message). Shared by every command."""

from __future__ import annotations

import argparse
import math

#: The longest duration an option takes (about 31 years): longer ones overflow the
#: solver's and Redis's clocks, and "never" is 0 where an option has it.
MAX_SECONDS = 1e9
#: The most ``--workers``: each is a whole server process.
MAX_WORKERS = 1024


def whole(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None


def port(value: str) -> int:
    given = whole(value)
    if not 0 <= given <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, not {given}")
    return given


def number(value: str) -> float:
    """A finite number: NaN and infinity would slip past every comparison, or overflow a clock."""
    try:
        given = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not math.isfinite(given):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {value}")
    return given


def seconds(value: str) -> float:
    given = number(value)
    if not 0 <= given <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be zero or more seconds, at most {MAX_SECONDS:g}, not {value}")
    return given


def positive_seconds(value: str) -> float:
    given = seconds(value)
    if given == 0:
        raise argparse.ArgumentTypeError(f"must be more than zero seconds, not {value}")
    return given


def rate(value: str) -> float:
    given = number(value)
    if given <= 0:
        raise argparse.ArgumentTypeError(f"must be more than zero, not {value}")
    return given


def count(value: str) -> int:
    given = whole(value)
    if given < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, not {value}")
    return given


def ipv6_prefix(value: str) -> int:
    bits = whole(value)
    if not 1 <= bits <= 128:
        raise argparse.ArgumentTypeError(f"must be a prefix length from 1 to 128, not {value}")
    return bits


def positive(value: str) -> int:
    given = whole(value)
    if given < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return given


def workers(value: str) -> int:
    given = positive(value)
    if given > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_WORKERS}, not {value}")
    return given
