"""The benchmark tool works (figures are for docs/benchmarks.md, never asserted here)."""

from __future__ import annotations

import subprocess
import sys

from servers import ROOT


def test_bench_smoke_runs_every_scenario_without_errors():
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "bench", "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for scenario in ("smoke games", "smoke fanout", "smoke capacity", "smoke lobby"):
        assert scenario in result.stdout
    assert "error (" not in result.stdout
    assert "connectfour.v1" in result.stdout, "the v1 run (games by rematch) is part of the smoke"


def test_bench_json_output_is_machine_readable():
    import json

    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "bench", "games", "--spawn", "memory", "--games", "2",
         "--duration", "1", "--quiet", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["scenario"] == "games" and report["moves"] > 0 and report["errors"] == 0
    assert set(report["ms_to_opponent"]) == {"p50", "p99", "p999"}


def test_the_send_floor_tool_runs():
    result = subprocess.run(
        [sys.executable, "-m", "connectfour.bench.sendfloor", "--sockets", "50", "--rounds", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "50 sockets: send loop" in result.stdout and "last frame read after" in result.stdout


def test_the_bare_reference_server_plays_the_tutorial_protocol():
    result = subprocess.run(
        [sys.executable, "-m", "connectfour", "bench", "games", "--spawn", "bare", "--games", "3", "--spectators", "1",
         "--duration", "1", "--warmup", "0.2", "--quiet", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    import json

    report = json.loads(result.stdout)
    assert report["games_finished"] > 0 and report["errors"] == 0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_open_loop_game_moves_once_an_interval_from_a_point_of_the_first():
    from connectfour.bench.games import Pace

    clock = Clock()
    pace = Pace(0.4, clock=clock, phase=lambda interval: interval / 4)
    assert abs(pace.delay() - 0.1) < 1e-9  # the first move: its game's point in the first interval
    clock.now += 0.1
    for _ in range(3):  # the opponent's move came back at once: the next waits out the interval
        clock.now += 0.001
        assert abs(pace.delay() - 0.399) < 1e-9
        clock.now += 0.399


def test_an_open_loop_game_a_server_kept_waiting_moves_at_once_and_keeps_its_pace_from_there():
    from connectfour.bench.games import Pace

    clock = Clock()
    pace = Pace(0.4, clock=clock, phase=lambda interval: 0.0)
    assert pace.delay() == 0.0
    clock.now += 1.0  # the answer took longer than two intervals
    assert pace.delay() == 0.0, "late: at once, with no burst to catch up"
    clock.now += 0.05
    assert abs(pace.delay() - 0.35) < 1e-9


def test_the_in_process_drive_plays_its_games_to_the_end():
    result = subprocess.run(
        [sys.executable, "-m", "connectfour.bench.inproc", "--games", "5", "--rounds", "2", "--moves", "win"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for figure in ("set_up_us_per_game: median", "us_per_move: median", "close_us_per_game: median"):
        assert figure in result.stdout
