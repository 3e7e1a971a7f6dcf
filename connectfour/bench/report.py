"""What ``connectfour bench`` shows while it runs and prints at the end: progress
lines on a terminal, a run's summary, and the results as one table (or JSON)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .games import Stats


def protocol(args: argparse.Namespace) -> str:
    name = "connectfour.v1" if args.v1 else "tutorial"
    clock = getattr(args, "clock", None)
    return f"{name}, on a {clock} clock" if clock is not None else name


def games_progress(label: str) -> Callable[[float, float, Stats], None]:
    def show(elapsed: float, duration: float, stats: Stats) -> None:
        width = 30
        done = int(width * min(1.0, elapsed / duration))
        rate = stats.moves / elapsed if elapsed else 0.0
        sys.stderr.write(
            f"\r{label:>12} [{'#' * done}{'.' * (width - done)}] {elapsed:5.1f}s {stats.moves:>9} moves {rate:>9.0f}/s"
        )
        sys.stderr.flush()

    return show


def lobby_progress(label: str) -> Callable[[float, float, Any], None]:
    shown = [-1.0]

    def show(elapsed: float, duration: float, result: Any) -> None:
        if elapsed - shown[0] < 0.25:  # asked every turn of the generator's loop
            return
        shown[0] = elapsed
        sys.stderr.write(f"\r{label}: {elapsed:.0f}/{duration:.0f} s, {result.games} games")
        sys.stderr.flush()

    return show


def count_progress(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r{label:>12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} connections")
        sys.stderr.flush()

    return show


def percentiles(samples: list[int], quantiles: tuple[float, ...] = (0.5, 0.99, 0.999)) -> dict[str, float | None]:
    names = {0.5: "p50", 0.99: "p99", 0.999: "p999", 1.0: "max"}
    if not samples:
        return {names[q]: None for q in quantiles}
    ordered = sorted(samples)
    return {names[q]: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6, 3) for q in quantiles}


def games_summary(label: str, stats: Stats, elapsed: float, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "target": label,
        "scenario": "games",
        "games": args.games,
        "spectators": args.spectators,
        "mode": f"open loop at {args.rate:g} moves/s" if args.rate else "closed loop",
        "protocol": protocol(args),
        "seconds": round(elapsed, 3),
        "warmup_seconds": args.warmup,
        "moves": stats.moves,
        "moves_per_s": round(stats.moves / elapsed, 1) if elapsed else 0.0,
        "connections_per_s": round(stats.connections / elapsed, 1) if elapsed else 0.0,
        "games_finished": stats.games,
        "errors": stats.errors,
        "error_samples": stats.error_samples,
        "ms_to_opponent": percentiles(stats.to_opponent),
        "ms_to_spectators": percentiles(stats.to_spectators),
    }


def flatten(result: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """One row per figure: a nested one's name is its keys joined by spaces."""
    rows: dict[str, str] = {}
    for key, value in result.items():
        if key in ("target", "error_samples"):
            continue
        if isinstance(value, dict):
            rows.update(flatten(value, f"{prefix}{key} "))
        else:
            rows[prefix + key] = "-" if value is None else str(value)
    return rows


def table(results: list[dict[str, Any]]) -> str:
    flat = [flatten(r) for r in results]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    header = ["", *(r["target"] for r in results)]
    body = [[key, *(f.get(key, "-") for f in flat)] for key in keys]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        for row in [header, *body]
    ]
    for r in results:
        lines += [f"error ({r['target']}): {sample}" for sample in r.get("error_samples", [])]
    return "\n".join(lines)
