"""Figures for docs/solver.md: the solver on Pons' sets, the computer's moves, and pure Python for comparison.

    python scripts/solver_figures.py sets [SETS_FOLDER]   # mean and worst time per set, wall and CPU
    python scripts/solver_figures.py moves                # analyse() along random and perfect games
    python scripts/solver_figures.py python [SETS_FOLDER] # the same algorithm in pure Python, on samples

Run it on an idle machine: wall times include whatever else the cores are doing.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

from connectfour.solver.engine import analyse, solve_counted
from connectfour.solver.position import BadPosition, parse_position

SETS = ("Test_L3_R1", "Test_L2_R1", "Test_L2_R2")
DEFAULT_FOLDER = Path(__file__).resolve().parent.parent.parent / "shared" / "solver-sets"


def read(folder: Path, name: str) -> list[tuple[str, int]]:
    return [(m, int(s)) for m, s in (line.split() for line in (folder / name).read_text().splitlines() if line)]


def sets(folder: Path) -> None:
    solve_counted("")  # load the book and the thread's table first: a one-time cost, reported apart
    for name in SETS:
        walls, cpus, nodes, wrong = [], [], [], 0
        for moves, want in read(folder, name):
            wall, cpu = time.perf_counter(), time.thread_time()
            score, count = solve_counted(moves)
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
            nodes.append(count)
            wrong += score != want
        print(
            f"{name}: {len(walls)} positions, {wrong} wrong; wall mean {statistics.mean(walls) * 1e3:.3f} ms, "
            f"worst {max(walls) * 1e3:.1f} ms; CPU mean {statistics.mean(cpus) * 1e3:.3f} ms, "
            f"worst {max(cpus) * 1e3:.1f} ms; nodes mean {statistics.mean(nodes):.0f}, worst {max(nodes)}"
        )


def _timed_analyse(moves: str) -> tuple[list[int | None], float]:
    cpu = time.thread_time()
    scores = analyse(moves)
    return scores, time.thread_time() - cpu


def moves() -> None:
    """The top level's cost: one analyse() (the 7 moves' exact scores) per computer move."""
    analyse("")
    per_ply: dict[int, list[float]] = {}
    rng = random.Random(4)
    games = 20
    for _ in range(games):
        line = ""
        while True:
            scores, cpu = _timed_analyse(line)
            per_ply.setdefault(len(line), []).append(cpu)
            column = rng.choice([c for c, s in enumerate(scores) if s is not None])
            try:
                line = parse_position(line + str(column + 1))
            except BadPosition:
                break
            if len(line) == 42:
                break
    everything = [cpu for cpus in per_ply.values() for cpu in cpus]
    print(f"random games: {games}, {len(everything)} positions; CPU per analyse mean {statistics.mean(everything) * 1e3:.1f} ms, "
          f"worst {max(everything) * 1e3:.0f} ms; moves/s on one core {len(everything) / sum(everything):.0f}")
    for ply in sorted(per_ply):
        cpus = per_ply[ply]
        if max(cpus) > 0.05:
            print(f"  ply {ply}: mean {statistics.mean(cpus) * 1e3:.0f} ms, worst {max(cpus) * 1e3:.0f} ms ({len(cpus)} positions)")
    line, total, worst, count = "", 0.0, 0.0, 0
    while True:
        scores, cpu = _timed_analyse(line)
        total, worst, count = total + cpu, max(worst, cpu), count + 1
        best = max((s, c) for c, s in enumerate(scores) if s is not None)[1]
        try:
            line = parse_position(line + str(best + 1))
        except BadPosition:
            break
    print(f"perfect self-play: {count} analyses, CPU total {total:.2f} s, worst {worst * 1e3:.0f} ms")


# ---- the same algorithm in pure Python, to show why the core is C ----

W, H = 7, 6
BOTTOM = sum(1 << (c * 7) for c in range(W))
BOARD = BOTTOM * ((1 << H) - 1)


def _wins(p: int, mask: int) -> int:
    r = (p << 1) & (p << 2) & (p << 3)
    for s in (7, 6, 8):
        pair = (p << s) & (p << 2 * s)
        r |= pair & (p << 3 * s) | pair & (p >> s)
        pair = (p >> s) & (p >> 2 * s)
        r |= pair & (p >> 3 * s) | pair & (p << s)
    return r & (BOARD ^ mask)


def py_solve(moves: str) -> int:
    cur = mask = 0
    for ch in moves:
        c = int(ch) - 1
        cur ^= mask
        mask |= mask + (1 << (c * 7))
    n = len(moves)
    table: dict[int, tuple[int, int]] = {}
    order = [3, 2, 4, 1, 5, 0, 6]
    cols = [((1 << H) - 1) << (c * 7) for c in order]

    def negamax(cur: int, mask: int, n: int, alpha: int, beta: int) -> int:
        possible = (mask + BOTTOM) & BOARD
        opp = _wins(cur ^ mask, mask)
        forced = possible & opp
        if forced:
            if forced & (forced - 1):
                return -((42 - n) // 2)
            possible = forced
        nxt = possible & ~(opp >> 1)
        if not nxt:
            return -((42 - n) // 2)
        if n >= 40:
            return 0
        lo = -((40 - n) // 2)
        if alpha < lo:
            alpha = lo
            if alpha >= beta:
                return alpha
        hi = (41 - n) // 2
        key = cur + mask
        if key in table:
            kind, v = table[key]
            if kind and v > alpha:
                alpha = v
            if not kind and v < hi:
                hi = v
        if beta > hi:
            beta = hi
            if alpha >= beta:
                return beta
        if alpha >= beta:
            return alpha
        moves = sorted(
            ((bin(_wins(cur | m, mask | m)).count("1"), i, m) for i, col in enumerate(cols) if (m := nxt & col)),
            key=lambda t: (-t[0], t[1]),
        )
        for _, _, m in moves:
            score = -negamax(cur ^ mask, mask | m, n + 1, -beta, -alpha)
            if score >= beta:
                table[key] = (1, score)
                return score
            if score > alpha:
                alpha = score
        table[key] = (0, alpha)
        return alpha

    if _wins(cur, mask) & (mask + BOTTOM) & BOARD:
        return (43 - n) // 2
    lo, hi = -((42 - n) // 2), (43 - n) // 2
    while lo < hi:
        med = lo + (hi - lo) // 2  # lo <= hi: floor and truncation agree
        if med <= 0 and int(lo / 2) < med:  # halves rounded towards zero, as in C
            med = int(lo / 2)
        elif med >= 0 and hi // 2 > med:
            med = hi // 2
        r = negamax(cur, mask, n, med, med + 1)
        if r <= med:
            hi = r
        else:
            lo = r
    return lo


def python(folder: Path, sample: int = 100) -> None:
    for name in SETS:
        cases = read(folder, name)[:sample]
        times, wrong = [], 0
        for moves_, want in cases:
            start = time.thread_time()
            wrong += py_solve(moves_) != want
            times.append(time.thread_time() - start)
        print(f"pure Python, {name}, first {len(cases)}: {wrong} wrong; CPU mean {statistics.mean(times) * 1e3:.1f} ms, "
              f"worst {max(times) * 1e3:.0f} ms")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "sets"
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_FOLDER
    {"sets": lambda: sets(folder), "moves": moves, "python": lambda: python(folder)}[what]()
