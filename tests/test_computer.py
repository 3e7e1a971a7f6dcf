"""The computer's levels, played to the end against each other and a random player, with the real solver."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence

import pytest

from connectfour.rules import Board
from connectfour.service.computer import Computer, best_moves, needs_scores, pick, position_text, quick_move
from connectfour.solver.engine import SearchTimeout, analyse
from connectfour.solver.service import Solver

Strategy = Callable[[Sequence[int]], int]
RANDOM = 0


def player(level: int, rng: random.Random, seen: list[int] | None = None) -> Strategy:
    """A level's moves (0: a random player); ``seen`` collects the exact value of
    each position this player faced, when its level searches."""

    def move(moves: Sequence[int]) -> int:
        if level == RANDOM:
            return rng.choice(Board.from_moves(moves).legal_columns())
        scores = analyse(position_text(moves)) if needs_scores(level) else None
        if scores is not None and seen is not None:
            seen.append(max(s for s in scores if s is not None))
        return pick(level, moves, scores, rng)

    return move


def play(red: Strategy, yellow: Strategy) -> Board:
    board = Board()
    while not board.is_over:
        board.play(board.turn or "red", (red if board.turn == "red" else yellow)(board.moves))
    return board


def results(level: int, color: str, games: int) -> dict[str, int]:
    """Wins, draws and losses of ``level`` against a random player, playing ``color``."""
    counts = {"win": 0, "draw": 0, "loss": 0}
    for seed in range(games):
        rng = random.Random(seed)
        me, them = player(level, rng), player(RANDOM, rng)
        board = play(me, them) if color == "red" else play(them, me)
        counts["draw" if board.winner is None else "win" if board.winner == color else "loss"] += 1
    return counts


@pytest.mark.parametrize("color", ["red", "yellow"])
def test_level_1_mostly_beats_a_random_player_yet_loses_some(color):
    counts = results(1, color, games=20)
    assert counts["win"] > counts["loss"] > 0, counts


@pytest.mark.parametrize("color", ["red", "yellow"])
def test_level_2_beats_a_random_player_nearly_always(color):
    counts = results(2, color, games=20)
    assert counts["win"] >= 18, counts


@pytest.mark.parametrize("color", ["red", "yellow"])
def test_level_3_beats_a_random_player(color):
    assert results(3, color, games=3) == {"win": 3, "draw": 0, "loss": 0}


@pytest.mark.parametrize("color", ["red", "yellow"])
def test_level_4_beats_a_random_player(color):
    assert results(4, color, games=2) == {"win": 2, "draw": 0, "loss": 0}


@pytest.mark.parametrize("opponent", [RANDOM, 1, 2, 3])
@pytest.mark.parametrize("color", ["red", "yellow"])
def test_level_4_never_loses_a_position_it_can_hold(opponent, color):
    """Its first position decides: a win it wins, a draw it at least draws."""
    rng = random.Random(opponent * 2 + (color == "red"))
    values: list[int] = []
    me, them = player(4, rng, values), player(opponent, rng)
    board = play(me, them) if color == "red" else play(them, me)
    outcome = "draw" if board.winner is None else "win" if board.winner == color else "loss"
    # Perfect play never lets its value drop, so the best value it ever saw is what it gets.
    best = max(values)
    assert outcome == ("win" if best > 0 else "draw" if best == 0 else outcome), (values, board.moves)


def test_level_4_against_itself_from_the_empty_board_first_player_wins_with_the_last_stone():
    rng = random.Random(1)
    board = play(player(4, rng), player(4, rng))
    assert board.winner == "red" and board.ply == 41


def test_level_4_takes_the_fastest_win():
    assert pick(4, [], [3, 10, 0, None, -2, 10, 1], random.Random(0)) in (1, 5)


def test_level_4_in_a_lost_position_holds_out_longest():
    assert pick(4, [], [-9, -3, -12, -3, None, -20, -4], random.Random(0)) in (1, 3)


def test_level_4_draws_rather_than_loses():
    assert best_moves([-1, 0, -5, None, -2, -3, -4]) == [1]


def test_every_level_takes_a_win_on_offer():
    moves = [0, 0, 1, 1, 2, 2]  # red has three in a row along the bottom
    for level in (1, 2):
        assert quick_move(moves, random.Random(level), careful=level > 1) == 3


def test_level_2_blocks_a_threat():
    moves = [0, 6, 1, 6, 2]  # red threatens column 3; yellow to move
    assert quick_move(moves, random.Random(0)) == 3


def test_level_2_does_not_hand_over_a_win_on_top_of_its_move():
    # Red holds row 1 of columns 1 to 3: a yellow stone in column 0 or 4 lets red finish the row.
    moves = [2, 1, 2, 3, 1, 6, 3]
    assert {quick_move(moves, random.Random(seed)) for seed in range(40)}.isdisjoint({0, 4})


async def test_a_busy_solver_gets_a_quick_move_at_once_not_a_wait():
    solver = Solver(max_searches=1, max_waiting=0, budget=0.2)
    try:
        blocker = asyncio.ensure_future(solver.solve("", book=False))  # minutes without the book
        await asyncio.sleep(0)  # it takes the one worker
        assert solver.running == 1
        column = await Computer(solver, rng=random.Random(0)).move([0, 0, 1, 1, 2, 2], 4)
        assert column == 3  # the quick move still takes the win
        with pytest.raises(SearchTimeout):
            await blocker
    finally:
        solver.close()
