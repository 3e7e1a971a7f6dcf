"""The rules engine, checked by hand-made positions and against a naive reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectfour.rules import (
    RED,
    YELLOW,
    Board,
    ColumnFull,
    ColumnOutOfRange,
    GameOver,
    NotYourTurn,
)


class Reference:
    """A deliberately plain grid implementation to compare the bitboards with."""

    def __init__(self) -> None:
        self.grid: list[list[str | None]] = [[None] * 6 for _ in range(7)]
        self.count = 0
        self.winner: str | None = None

    def turn(self) -> str | None:
        if self.winner or self.count == 42:
            return None
        return RED if self.count % 2 == 0 else YELLOW

    def legal(self) -> list[int]:
        if self.turn() is None:
            return []
        return [c for c in range(7) if self.grid[c][5] is None]

    def play(self, column: int) -> int:
        player = self.turn()
        row = self.grid[column].index(None)
        self.grid[column][row] = player
        self.count += 1
        if self.winning_cells():
            self.winner = player
        return row

    def winning_cells(self) -> set[tuple[int, int]]:
        cells: set[tuple[int, int]] = set()
        for c in range(7):
            for r in range(6):
                for dc, dr in ((0, 1), (1, 0), (1, 1), (1, -1)):
                    line = [(c + i * dc, r + i * dr) for i in range(4)]
                    if all(0 <= x < 7 and 0 <= y < 6 for x, y in line):
                        owners = {self.grid[x][y] for x, y in line}
                        if len(owners) == 1 and None not in owners:
                            cells.update(line)
        return cells


def play_all(columns: list[int]) -> Board:
    board = Board()
    for column in columns:
        board.play(board.turn, column)
    return board


# A full board with no four anywhere: columns filled in pairs so that colours
# alternate in threes, a classic drawn pattern.
DRAW = [0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0,
        2, 3, 2, 3, 2, 3, 3, 2, 3, 2, 3, 2,
        4, 5, 4, 5, 4, 5, 5, 4, 5, 4, 5, 4,
        6, 6, 6, 6, 6, 6]  # fmt: skip


def test_red_moves_first_and_turns_alternate():
    board = Board()
    assert board.turn == RED
    board.play(RED, 3)
    assert board.turn == YELLOW
    board.play(YELLOW, 3)
    assert board.turn == RED


def test_checkers_stack_from_row_zero_at_the_bottom():
    board = Board()
    rows = [board.play(board.turn, 2).row for _ in range(6)]
    assert rows == [0, 1, 2, 3, 4, 5]


def test_a_move_reports_player_column_row_and_ply():
    board = Board()
    board.play(RED, 3)
    move = board.play(YELLOW, 3)
    assert (move.player, move.column, move.row, move.ply) == (YELLOW, 3, 1, 1)


def test_a_full_column_is_refused_without_change():
    board = play_all([4] * 6)
    with pytest.raises(ColumnFull, match="This slot is full."):
        board.play(RED, 4)
    assert board.moves == [4] * 6 and board.turn == RED


@pytest.mark.parametrize("column", [7, -1, "3", 3.5, True, None, 3.0])
def test_a_column_that_is_not_an_integer_from_0_to_6_is_refused(column):
    board = Board()
    with pytest.raises(ColumnOutOfRange):
        board.play(RED, column)
    assert board.moves == []


def test_a_move_out_of_turn_is_refused_without_change():
    board = play_all([0])
    with pytest.raises(NotYourTurn, match="It isn't your turn."):
        board.play(RED, 1)
    assert board.moves == [0] and board.turn == YELLOW


@pytest.mark.parametrize(
    "columns, cells",
    [
        ([0, 1, 0, 1, 0, 1, 0], [(0, 0), (0, 1), (0, 2), (0, 3)]),
        ([0, 0, 1, 1, 2, 2, 3], [(0, 0), (1, 0), (2, 0), (3, 0)]),
        ([0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], [(0, 0), (1, 1), (2, 2), (3, 3)]),
        ([6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3], [(3, 3), (4, 2), (5, 1), (6, 0)]),
    ],
    ids=["vertical", "horizontal", "rising-diagonal", "falling-diagonal"],
)
def test_four_in_a_row_wins_in_every_direction(columns, cells):
    board = play_all(columns)
    assert board.winner == RED
    assert list(board.cells) == cells
    assert board.turn is None and board.is_over and not board.is_draw


def test_a_move_joining_two_threes_reports_all_five_cells():
    board = play_all([0, 0, 1, 1, 3, 3, 4, 4, 2])
    assert board.winner == RED
    assert list(board.cells) == [(c, 0) for c in range(5)]


def test_yellow_can_win():
    board = play_all([0, 1, 0, 1, 0, 1, 6, 1])
    assert board.winner == YELLOW
    assert list(board.cells) == [(1, r) for r in range(4)]


def test_no_move_is_accepted_after_a_win():
    board = play_all([0, 1, 0, 1, 0, 1, 0])
    with pytest.raises(GameOver):
        board.play(YELLOW, 2)
    assert len(board.moves) == 7


def test_a_full_board_without_four_is_a_draw():
    board = play_all(DRAW)
    assert board.is_draw and board.winner is None and board.turn is None
    with pytest.raises(GameOver):
        board.play(RED, 0)


def test_a_position_rebuilds_from_its_move_log():
    columns = [3, 3, 4, 2, 5, 6]
    board = Board.from_moves(columns)
    assert board.moves == columns
    assert board.owner(3, 1) == YELLOW and board.owner(5, 0) == RED
    assert board.owner(0, 0) is None


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_random_games_agree_with_the_reference(data):
    board, reference = Board(), Reference()
    while reference.turn() is not None:
        assert board.legal_columns() == reference.legal()
        column = data.draw(st.sampled_from(reference.legal()))
        row = reference.play(column)
        assert board.play(board.turn, column).row == row
        assert board.winner == reference.winner
        assert board.turn == reference.turn()
    assert board.is_over
    assert board.is_draw == (reference.winner is None)
    if board.winner:
        # A win ends the game at once, so every line of four includes the last move.
        assert set(board.cells) == reference.winning_cells()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-3, max_value=9), max_size=60))
def test_refused_moves_never_change_the_position(columns):
    board = Board()
    for column in columns:
        before = (list(board.moves), board.winner, board.cells)
        try:
            board.play(board.turn or RED, column)
        except (ColumnFull, ColumnOutOfRange, GameOver):
            assert (board.moves, board.winner, board.cells) == before
