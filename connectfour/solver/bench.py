"""How long the solver takes just past the opening book, where its searches are longest.

    python -m connectfour.solver.bench [--core BUILD_DIR]... [--plies 12-16] [--positions 50]
                                       [--random 200] [--repeats 3] [--seed 1] [--sets FOLDER]

Positions of each ply, seeded, of three kinds: ``random`` (uniformly random legal
moves), ``mixed`` (each move a best one or a random one, at even odds) and
``perfect`` (a best move every time, ties broken at random: balanced games, the
hardest). Each is analysed (the computer's top level asks for the score of every
move) and solved, from an empty table, by this package's core and by every
``--core`` build given (say, an older commit's, built in another directory), one
position after another in turn, so that a busy machine weighs on each alike; then
along game lines, the table kept from one of the computer's moves to its next, as
in a game. Prints the CPU time per kind and ply: most, 99th percentile, median,
each the range over the repeats; and any score on which the cores disagree, or
that differs from Pascal Pons' test sets (``--sets``, lines of 13 to 16 plies).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Protocol, TypeVar, cast

from . import _core
from .book import BOOK_PLY, load_book
from .position import BadPosition, parse_position

KINDS = ("random", "mixed", "perfect")
T = TypeVar("T")


class Core(Protocol):
    """The part of a C core (``_core``) measured: this package's or another build's."""

    def solve(self, moves: str, budget: float = 0.0, book: bool = True) -> tuple[int, int]: ...
    def analyse(self, moves: str, budget: float = 0.0, book: bool = True) -> tuple[list[int | None], int]: ...
    def load_book(self, data: bytes) -> int: ...


def load_core(folder: Path) -> Core:
    """The core built in `folder` (its ``_core*.so``), with the opening book loaded."""
    built = sorted(folder.glob("_core*.so"))
    if not built:
        raise SystemExit(f"no _core*.so in {folder}")
    spec = importlib.util.spec_from_file_location("_core", built[0])
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {built[0]}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    core = cast(Core, module)
    core.load_book(files("bitbully_databases").joinpath("assets/book_12ply_distances.dat").read_bytes())
    return core


def clear(core: Core) -> None:
    """An empty table for the next search (a core without ``clear_table`` starts each search from one)."""
    clear_table: Callable[[], None] | None = getattr(core, "clear_table", None)
    if clear_table is not None:
        clear_table()


def _legal(moves: str) -> bool:
    try:
        parse_position(moves)
    except BadPosition:
        return False
    return True


def game(kind: str, plies: int, rng: random.Random) -> str:
    """A position of `plies` moves, none of them ending the game, played as `kind` says."""
    while True:
        moves = ""
        while len(moves) < plies:
            columns = [c for c in "1234567" if moves.count(c) < 6 and _legal(moves + c)]
            if not columns:
                break
            if kind == "random" or (kind == "mixed" and rng.random() < 0.5):
                moves += rng.choice(columns)
                continue
            scores, _nodes = _core.analyse(moves)
            best = max(s for s in scores if s is not None)
            columns = [c for c in columns if scores[int(c) - 1] == best]
            if not columns:  # every best move wins at once: this game ends too soon
                break
            moves += rng.choice(columns)
        if len(moves) == plies:
            return moves


def positions(plies: Sequence[int], counts: dict[str, int], seed: int) -> list[tuple[str, str]]:
    """(kind, moves) of every kind and ply, each position once."""
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for kind in KINDS:
        rng = random.Random(f"{seed}-{kind}")
        for ply in plies:
            for _ in range(counts[kind]):
                moves = game(kind, ply, rng)
                if moves not in seen:
                    seen.add(moves)
                    found.append((kind, moves))
    return found


@dataclass
class Timings:
    """CPU seconds per (call, kind, ply), one list per repeat."""

    runs: list[dict[tuple[str, str, int], list[float]]] = field(default_factory=list)

    def add(self, call: str, kind: str, ply: int, seconds: float) -> None:
        self.runs[-1].setdefault((call, kind, ply), []).append(seconds)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _cpu(call: Callable[[str], T], moves: str) -> tuple[T, float]:
    """What `call(moves)` returns, and the CPU seconds it took this thread."""
    start = time.thread_time()
    result = call(moves)
    return result, time.thread_time() - start


def measure(
    cores: Sequence[Core], names: Sequence[str], cases: list[tuple[str, str]], repeats: int, out: Callable[[str], None]
) -> list[Timings]:
    """Analyse and solve every case on every core, from an empty table, `repeats` times."""
    timings = [Timings() for _ in cores]
    for repeat in range(repeats):
        for timing in timings:
            timing.runs.append({})
        for kind, moves in cases:
            answers: list[object] = []
            for core, timing in zip(cores, timings):
                clear(core)
                (scores, _nodes), seconds = _cpu(core.analyse, moves)
                timing.add("analyse", kind, len(moves), seconds)
                clear(core)
                (score, _nodes), seconds = _cpu(core.solve, moves)
                timing.add("solve", kind, len(moves), seconds)
                answers.append((scores, score))
            if repeat == 0 and any(answer != answers[0] for answer in answers):
                out(f"DISAGREE {moves}: " + "; ".join(f"{n} {a}" for n, a in zip(names, answers)))
    return timings


def along_games(cores: Sequence[Core], games: list[str], first: int, repeats: int) -> list[Timings]:
    """The computer's analyses along each game line from ply `first` on, as red and as yellow,
    the table emptied at the start of each game only."""
    timings = [Timings() for _ in cores]
    for _ in range(repeats):
        for timing in timings:
            timing.runs.append({})
        for moves in games:
            for start in (first, first + 1):
                for core, timing in zip(cores, timings):
                    clear(core)
                    for ply in range(start, len(moves) + 1, 2):
                        _result, seconds = _cpu(core.analyse, moves[:ply])
                        timing.add("analyse", "game", ply, seconds)
    return timings


def report(names: Sequence[str], timings: Sequence[Timings], out: Callable[[str], None]) -> None:
    """Per call, kind and ply: most, p99 and median in ms, each as the range over the repeats."""
    keys = sorted(timings[0].runs[0], key=lambda k: (k[0], KINDS.index(k[1]) if k[1] in KINDS else -1, k[2]))
    out("| call | kind | ply | n | " + " | ".join(f"{n}: max / p99 / median, ms" for n in names) + " |")
    out("| --- | --- | ---: | ---: | " + " | ".join("---" for _ in names) + " |")
    for key in keys:
        cells = []
        for timing in timings:
            stats = [(max(run[key]), _p99(run[key]), statistics.median(run[key])) for run in timing.runs]
            cells.append(
                " / ".join(
                    _spread([s[i] for s in stats])
                    for i in range(3)  # each statistic over the repeats
                )
            )
        call, kind, ply = key
        out(f"| {call} | {kind} | {ply} | {len(timings[0].runs[0][key])} | " + " | ".join(cells) + " |")


def _spread(values: list[float]) -> str:
    """The range of `values` (seconds) in ms, or one figure if they round alike."""

    def shown(seconds: float) -> str:
        return f"{seconds * 1e3:.1f}" if seconds < 0.01 else f"{seconds * 1e3:.0f}"

    low, high = shown(min(values)), shown(max(values))
    return low if low == high else f"{low}-{high}"


def check_sets(cores: Sequence[Core], names: Sequence[str], folder: Path, out: Callable[[str], None]) -> None:
    """Every line of 13 to 16 plies in Pons' sets, solved and analysed by every core, against its score."""
    wrong = checked = 0
    for path in sorted(folder.glob("Test_*")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            moves, want = line.split()
            if not BOOK_PLY < len(moves) <= BOOK_PLY + 4:
                continue
            checked += 1
            for core, name in zip(cores, names):
                score, _nodes = core.solve(moves)
                scores, _nodes = core.analyse(moves)
                best = max(s for s in scores if s is not None)
                if score != int(want) or best != int(want):
                    wrong += 1
                    out(f"WRONG {name} {moves}: {score}, best move {best}, want {want}")
    out(f"Pons' sets, {checked} positions of {BOOK_PLY + 1} to {BOOK_PLY + 4} plies: {wrong} wrong")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connectfour.solver.bench", description="The solver's time just past the opening book."
    )
    parser.add_argument("--core", type=Path, action="append", default=[], help="a build directory to compare with")
    parser.add_argument("--plies", default=f"{BOOK_PLY}-{BOOK_PLY + 4}", help="a ply or a range (default %(default)s)")
    parser.add_argument("--positions", type=int, default=50, help="mixed and perfect positions per ply")
    parser.add_argument("--random", type=int, default=200, help="random positions per ply")
    parser.add_argument("--games", type=int, default=50, help="game lines (half mixed, half perfect)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sets", type=Path, default=None, help="the folder of Pons' test sets")
    args = parser.parse_args(argv)
    first, _, last = args.plies.partition("-")
    plies = range(int(first), int(last or first) + 1)

    def out(text: str) -> None:
        print(text, flush=True)

    load_book()
    cores: list[Core] = [cast(Core, _core), *(load_core(folder) for folder in args.core)]
    names = ["this", *(str(folder) for folder in args.core)]
    if args.sets:
        check_sets(cores, names, args.sets, out)
    counts = {"random": args.random, "mixed": args.positions, "perfect": args.positions}
    cases = positions(plies, counts, args.seed)
    out(f"{len(cases)} positions of plies {plies.start} to {plies.stop - 1}, {args.repeats} repeats, CPU time")
    report(names, measure(cores, names, cases, args.repeats, out), out)
    if args.games:
        rng = random.Random(f"{args.seed}-games")
        lines = [game(KINDS[1 + n % 2], plies.stop - 1, rng) for n in range(args.games)]
        out(f"\n{len(lines)} game lines, the computer's analyses from ply {plies.start} on, the table kept")
        report(names, along_games(cores, lines, plies.start, args.repeats), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
