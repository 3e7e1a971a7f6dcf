"""Games for store tests: their creation, keys and tokens named after their id, and their moves."""

from __future__ import annotations

import dataclasses

from connectfour.domain.events import Created, Moved
from connectfour.domain.state import GameState
from connectfour.rules import Board
from connectfour.store import GameRecord


def created(game_id: str = "g1", **overrides) -> Created:
    """The ``Created`` event of a game with an invite, at 100.0."""
    fields = dict(
        at=100.0,
        local=False,
        watch_key=f"watch-{game_id}",
        join_key=f"join-{game_id}",
        red_token=f"red-{game_id}",
        yellow_token=f"yellow-{game_id}",
    )
    return Created(**{**fields, **overrides})


def record(game_id: str = "g1", **overrides) -> GameRecord:
    """The record of a game just created by ``created(game_id)``, with ``overrides``."""
    return dataclasses.replace(GameRecord.created(game_id, created(game_id)), **overrides)


async def create(store, game_id: str = "g1", **overrides) -> None:
    await store.append(game_id, 1, created(game_id, **overrides))


def moves(columns, *, at: float = 200.0) -> list[Moved]:
    """The moves of ``columns`` from an empty board, each with its player and end; the n-th at ``at + n``."""
    board, events = Board(), []
    for n, column in enumerate(columns):
        player = board.turn
        row = board.check(player, column)
        events.append(Moved(at=at + n, player=player, column=column, end=board.outcome(column, row)))
        board.play(player, column)
    return events


async def play(store, game_id: str, columns, *, at: float = 200.0) -> int:
    """Append the moves of ``columns`` after whatever the game holds; its version after them."""
    state = GameState.replay(game_id, [event for _, event in await store.read(game_id)])
    for n, column in enumerate(columns):
        board = state.board
        row = board.check(board.turn, column)
        event = Moved(at=at + n, player=board.turn, column=column, end=board.outcome(column, row))
        await store.append(game_id, state.version + 1, event)
        state.apply(event)
    return state.version
