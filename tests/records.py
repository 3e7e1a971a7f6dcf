"""A game record for store tests, its keys and tokens named after its id."""

from __future__ import annotations

from connectfour.store import GameRecord


def record(game_id: str = "g1", **overrides) -> GameRecord:
    fields = dict(
        id=game_id,
        watch_key=f"watch-{game_id}",
        join_key=f"join-{game_id}",
        red_token=f"red-{game_id}",
        yellow_token=f"yellow-{game_id}",
        created_at=100.0,
    )
    return GameRecord(**{**fields, **overrides})
