"""The exact solver: Pons' test sets, perfect play, the opening book, bad positions."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from solver_sets import SETS, read_set

from connectfour.solver import _core
from connectfour.solver.book import BOOK_PLY, book_score, load_book
from connectfour.solver.engine import SearchTimeout, analyse, solve
from connectfour.solver.position import BadPosition, parse_position


def _mismatches(name: str) -> list[tuple[str, int, int]]:
    """The lines of a set whose score the solver gets wrong (two threads: the search releases the GIL)."""
    cases = read_set(name)
    with ThreadPoolExecutor(2) as pool:
        scores = list(pool.map(lambda case: solve(case[0]), cases))
    assert len(scores) == 1000
    return [(moves, want, got) for (moves, want), got in zip(cases, scores) if got != want]


@pytest.mark.parametrize("name", SETS)
def test_every_position_of_pons_test_sets_gets_its_exact_score(name: str) -> None:
    assert _mismatches(name) == []


def test_the_first_player_wins_the_empty_board_with_the_last_stone() -> None:
    assert solve("") == 1  # 22 - 21: the win comes with the 21st stone


def test_only_the_centre_column_wins_from_the_empty_board() -> None:
    assert analyse("") == [-2, -1, 0, 1, 0, -1, -2]


def test_perfect_play_from_the_empty_board_ends_in_a_first_player_win_with_the_last_stone() -> None:
    moves = ""
    while True:
        scores = analyse(moves)
        best = max((score, column) for column, score in enumerate(scores) if score is not None)[1]
        assert scores[best] == solve(moves), "a position's score is its best move's"
        try:
            parse_position(moves + str(best + 1))
        except BadPosition:
            break  # the best move wins
        moves += str(best + 1)
    assert len(moves) + 1 == 41  # the first player's 21st stone


@pytest.mark.parametrize("name", SETS)
def test_each_moves_score_is_the_opposite_of_the_position_it_leads_to(name: str) -> None:
    for moves, _ in read_set(name)[:25]:
        expected = []
        for column in "1234567":
            try:
                expected.append(-solve(parse_position(moves + column)))
            except BadPosition as exc:
                expected.append(None if "full" in str(exc) else (43 - len(moves)) // 2)  # full, or a win at once
        assert analyse(moves) == expected, moves


def test_a_winning_move_scores_22_minus_the_stones_it_takes() -> None:
    assert analyse("112233")[3] == 22 - 4


def test_a_full_column_has_no_score() -> None:
    assert analyse("444444")[3] is None


def test_a_full_board_without_four_is_a_draw() -> None:
    # Columns filled in pairs 1-2, 3-4, 5-6 by alternating, then column 7: no four anywhere.
    moves = "121212212121343434434343565656656565777777"
    assert solve(moves) == 0


def test_a_search_past_its_budget_stops_with_an_error() -> None:
    with pytest.raises(SearchTimeout):
        solve("", budget=0.05, book=False)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("12a4", "not a position"),
        ("1280", "columns are 1 to 7"),
        ("4444444", "full"),
        ("1212121", "wins the game"),
        ("-1", "not a position"),
    ],
)
def test_a_bad_position_is_refused_with_its_reason(line: str, reason: str) -> None:
    with pytest.raises(BadPosition, match=reason):
        solve(line)


def test_the_core_refuses_a_bad_position_even_past_the_python_checks() -> None:
    with pytest.raises(ValueError, match="wins the game"):
        _core.solve("1212121")


def test_anything_after_a_space_is_ignored() -> None:
    assert parse_position("4453 -2 whatever") == "4453"


def _random_book_position(rng: random.Random) -> str:
    """A 12-ply game in progress whose side to move cannot win at once (the book's domain)."""
    while True:
        moves = ""
        try:
            for _ in range(BOOK_PLY):
                moves += rng.choice([c for c in "1234567" if moves.count(c) < 6])
                parse_position(moves)
        except BadPosition:
            continue
        if book_score(moves) is not None:
            return moves


def test_the_book_holds_more_than_four_million_positions() -> None:
    assert load_book() == 4_200_899


def test_the_book_agrees_with_the_search_on_a_sample_of_12_ply_positions() -> None:
    rng = random.Random(12)
    positions = [_random_book_position(rng) for _ in range(12)]
    assert [book_score(moves) for moves in positions] == [solve(moves, book=False) for moves in positions]


def test_the_book_leaves_out_positions_whose_side_to_move_wins_at_once() -> None:
    moves = "112233556677"  # the first player's three in a row on the bottom, 4 open
    assert book_score(moves) is None
    assert solve(moves) == 22 - 7


def _naive_score(grid: list[list[int]], ply: int) -> int:
    """Plain negamax over the whole tree, on a grid: the definition of the score, unoptimised."""
    if ply == 42:
        return 0
    player = ply % 2 + 1
    best = -99
    for column in range(7):
        row = grid[column].index(0) if 0 in grid[column] else None
        if row is None:
            continue
        grid[column][row] = player
        if _four_through(grid, column, row, player):
            score = 21 - ply // 2  # 22 minus the mover's stones, this one included
        else:
            score = -_naive_score(grid, ply + 1)
        grid[column][row] = 0
        best = max(best, score)
    return best


def _four_through(grid: list[list[int]], column: int, row: int, player: int) -> bool:
    for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
        run = 1
        for sign in (1, -1):
            c, r = column + sign * dc, row + sign * dr
            while 0 <= c < 7 and 0 <= r < 6 and grid[c][r] == player:
                run += 1
                c, r = c + sign * dc, r + sign * dr
        if run >= 4:
            return True
    return False


def _random_late_position(rng: random.Random, ply: int) -> str:
    while True:
        moves = ""
        try:
            while len(moves) < ply:
                moves += rng.choice([c for c in "1234567" if moves.count(c) < 6])
                parse_position(moves)
        except BadPosition:
            continue
        return moves


def _grid_of(moves: str) -> list[list[int]]:
    grid = [[0] * 6 for _ in range(7)]
    for index, char in enumerate(moves):
        column = int(char) - 1
        grid[column][grid[column].index(0)] = index % 2 + 1
    return grid


def test_the_solver_agrees_with_a_plain_full_tree_search_near_the_end() -> None:
    rng = random.Random(34)
    for _ in range(40):
        moves = _random_late_position(rng, rng.randint(32, 38))
        assert solve(moves) == _naive_score(_grid_of(moves), len(moves)), moves


def test_where_every_column_has_an_even_number_of_empty_cells_the_solver_agrees_with_a_full_tree_search() -> None:
    # Where the search bounds a score by claimeven (the side not to move answering every
    # move on top of it), and looks whether either side can still make four at all.
    rng = random.Random(56)
    found = 0
    while found < 25:
        moves = _random_late_position(rng, rng.choice((32, 34)))
        if any(moves.count(column) % 2 for column in "1234567"):
            continue
        found += 1
        assert solve(moves) == _naive_score(_grid_of(moves), len(moves)), moves


def _threat_over_an_empty_cell(grid: list[list[int]]) -> bool:
    """Whether either side has a cell that would make it four with the cell under it still empty."""
    for column in range(7):
        for row in range(1, 6):
            if grid[column][row] or grid[column][row - 1]:
                continue
            for player in (1, 2):
                grid[column][row] = player
                found = _four_through(grid, column, row, player)
                grid[column][row] = 0
                if found:
                    return True
    return False


def test_where_columns_have_odd_numbers_of_empty_cells_and_threats_wait_the_solver_agrees_with_a_full_tree_search() -> (
    None
):
    # Where the search bounds a score by a follow-up with the odd columns' next cells
    # paired, or by zugzwang: a winning cell over an empty one that the other side
    # must fill at last.
    rng = random.Random(57)
    found = 0
    while found < 30:
        moves = _random_late_position(rng, rng.randint(31, 36))
        grid = _grid_of(moves)
        if all(moves.count(column) % 2 == 0 for column in "1234567") or not _threat_over_an_empty_cell(grid):
            continue
        found += 1
        assert solve(moves) == _naive_score(grid, len(moves)), moves


# Positions just past the book whose searches were the longest, with their scores
# from the solver as it was before its table, its windows and its move ordering changed.
HARDEST = [
    ("163572566211", [0, 0, 0, 0, 4, 2, 0]),
    ("444446666133", [1, 1, 1, 1, 1, 1, 0]),
    ("1237263371672", [1, 2, 2, 2, 2, 1, 2]),
    ("4444473222266", [-3, -3, -4, -3, -4, -1, -3]),
    ("1324444222666", [-1, 1, 0, 1, -2, -1, -2]),
    ("44444752222666", [-2, -2, -2, -2, -2, 1, -2]),
    ("53443315553776", [-2, -2, 0, 0, 0, -2, 0]),
    ("616726312163155", [-3, -1, -8, -12, -1, -3, -2]),
    ("444446666412222", [-1, -1, -1, None, -1, -1, -1]),
    ("4444473222275665", [0, 1, 1, 1, 1, 1, 1]),
]


@pytest.mark.parametrize(("moves", "scores"), HARDEST)
def test_the_hardest_positions_just_past_the_book_keep_their_scores(moves: str, scores: list[int | None]) -> None:
    _core.clear_table()
    assert analyse(moves) == scores
    _core.clear_table()
    assert solve(moves) == max(score for score in scores if score is not None)


def test_a_score_does_not_depend_on_what_the_table_holds_from_earlier_searches() -> None:
    rng = random.Random(78)
    positions = [_random_late_position(rng, rng.randint(13, 20)) for _ in range(12)]
    cold = []
    for moves in positions:
        _core.clear_table()
        cold.append((solve(moves), analyse(moves)))
    _core.clear_table()
    warm = [(solve(moves), analyse(moves)) for moves in reversed(positions)]  # each after all the others
    assert warm[::-1] == cold


def test_one_ply_past_the_book_the_floor_it_gives_agrees_with_the_search_alone() -> None:
    rng = random.Random(90)
    positions = [_random_late_position(rng, BOOK_PLY + 1) for _ in range(12)]
    assert [solve(moves) for moves in positions] == [solve(moves, book=False) for moves in positions]
