"""`connectfour solve`, run as a real process: positions on stdin, scores on stdout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def solve(stdin: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "connectfour", "solve", *options],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_prints_each_position_with_its_exact_score() -> None:
    result = solve("4453\n7422341735647741166133573473242566\n")
    assert result.stdout == "4453 -2\n7422341735647741166133573473242566 1\n"
    assert result.returncode == 0


def test_ignores_anything_after_a_space() -> None:
    result = solve("7422341735647741166133573473242566 99 a comment\n")
    assert result.stdout == "7422341735647741166133573473242566 1\n"


def test_an_empty_line_is_the_empty_board() -> None:
    assert solve("\n").stdout == " 1\n"


def test_columns_prints_the_score_of_each_move_and_a_dash_for_a_full_column() -> None:
    result = solve("\n444444\n", "--columns")
    assert result.stdout.splitlines() == [" -2 -1 0 1 0 -1 -2", "444444 -1 0 1 - 1 0 -1"]


def test_time_adds_the_microseconds_spent_on_each_position() -> None:
    fields = solve("4453\n", "--time").stdout.split()
    assert fields[:2] == ["4453", "-2"]
    assert len(fields) == 3 and fields[2].isdigit()


def test_a_bad_line_is_named_on_stderr_and_the_other_lines_go_on() -> None:
    result = solve("4453\n12x\n44444444\n1212121\n8\n4453\n")
    assert result.stdout == "4453 -2\n4453 -2\n"
    errors = result.stderr.splitlines()
    assert len(errors) == 4
    assert errors[0].startswith("connectfour solve: line 2: '12x': not a position")
    assert errors[1].startswith("connectfour solve: line 3: '44444444': move 7 is into column 4, which is full")
    assert errors[2].startswith("connectfour solve: line 4: '1212121': move 7 wins the game")
    assert errors[3].startswith("connectfour solve: line 5: '8': move 1 is column 8")


def test_the_exit_status_says_whether_any_line_was_bad() -> None:
    assert solve("4453\n").returncode == 0
    assert solve("4453\n9\n").returncode == 1


def test_a_position_past_its_budget_is_an_error_for_that_line() -> None:
    # Just past the opening book, this one takes some 400,000 nodes; the clock is read every
    # 4,096, so a microsecond is always past.
    result = solve("4444473222266\n", "--budget", "0.000001")
    assert "line 1" in result.stderr and "budget" in result.stderr
    assert result.returncode == 1
