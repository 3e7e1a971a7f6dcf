"""`python -m connectfour.solver.bench`: the solver's time just past the opening book, measured."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from solver_sets import sets_folder

from connectfour.solver import _core, bench
from connectfour.solver.position import parse_position


@pytest.mark.parametrize("kind", bench.KINDS)
def test_a_position_of_each_kind_has_the_plies_asked_for_and_no_move_that_ends_the_game(kind: str) -> None:
    rng = random.Random(3)
    for plies in (12, 14):
        moves = bench.game(kind, plies, rng)
        assert len(moves) == plies and parse_position(moves) == moves


def test_a_perfect_game_plays_a_best_move_every_time() -> None:
    moves = bench.game("perfect", 8, random.Random(5))
    for ply in range(8):
        scores, _nodes = _core.analyse(moves[:ply])
        assert scores[int(moves[ply]) - 1] == max(s for s in scores if s is not None)


def test_a_short_run_prints_a_row_per_call_kind_and_ply(capsys: pytest.CaptureFixture[str]) -> None:
    folder = sets_folder()
    args = ["--plies", "13", "--positions", "1", "--random", "2", "--games", "1", "--repeats", "2"]
    assert bench.main([*args, *(["--sets", str(folder)] if Path(folder).exists() else [])]) == 0
    out = capsys.readouterr().out
    for call in ("analyse", "solve"):
        for kind in bench.KINDS:
            assert f"| {call} | {kind} | 13 |" in out
    assert "| analyse | game | 13 |" in out
    assert "DISAGREE" not in out and "WRONG" not in out
