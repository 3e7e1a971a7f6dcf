"""``connectfour solve``: exact scores of positions read from standard input.

One position a line, as the 1-based columns played (Pascal Pons' test-set
format; anything after a space is ignored). Prints the position and its
score: 0 for a draw; positive when the side to move wins, namely 22 minus
the number of stones that side has played when it wins; negative for a
loss, likewise. A bad line gets an error on standard error naming the line;
the other lines go on, and the exit status is 1 if any line was bad.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from ..solver.engine import SearchTimeout, analyse, solve
from ..solver.position import BadPosition, parse_position
from .arguments import positive_seconds as _budget

FULL = "-"  # a full column in --columns output


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "solve", help="print the exact score of positions read from standard input", description=__doc__
    )
    parser.add_argument(
        "--columns",
        action="store_true",
        help=f"print the score of each of the 7 moves instead ({FULL} for a full column)",
    )
    parser.add_argument("--time", action="store_true", help="add the microseconds spent on each position")
    parser.add_argument(
        "--budget",
        type=_budget,
        default=None,
        metavar="SECONDS",
        help="give up on a position after this long (an error for that line); default: no limit",
    )


def main(
    args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    if stdin is None:  # (started with standard input closed)
        print("connectfour solve: no standard input to read positions from", file=stderr or sys.stderr)
        return 2
    return run(
        stdin,
        stdout or sys.stdout,
        stderr or sys.stderr,
        columns=args.columns,
        timed=args.time,
        budget=args.budget,
    )


def run(
    lines: TextIO, out: TextIO, err: TextIO, *, columns: bool = False, timed: bool = False, budget: float | None = None
) -> int:
    """Score every line; 0 if all were good, 1 if any was bad."""
    status = 0
    for number, line in enumerate(lines, 1):
        text = line.rstrip("\r\n")
        try:
            moves = parse_position(text)
            start = time.perf_counter()
            if columns:
                fields = [FULL if score is None else str(score) for score in analyse(moves, budget)]
            else:
                fields = [str(solve(moves, budget))]
            elapsed = time.perf_counter() - start
        except (BadPosition, SearchTimeout) as exc:
            status = 1
            shown = text if len(text) <= 50 else text[:50] + "..."
            err.write(f"connectfour solve: line {number}: {shown!r}: {exc}\n")
            err.flush()
            continue
        if timed:
            fields.append(str(round(elapsed * 1e6)))
        out.write(" ".join([moves, *fields]) + "\n")
        out.flush()
    return status
