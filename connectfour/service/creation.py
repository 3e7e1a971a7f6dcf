"""A new game: its id, its keys and its tokens drawn at random, and the ``Created`` event
that holds them.

Every way a game begins (started, against the computer, a quick match, a rematch) makes
its first event here, so that a game's secrets are drawn in one place and the same way.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from ..domain import RED, YELLOW, Player
from ..domain.clock import TimeControl
from ..domain.events import Created

#: Bytes of randomness in invite and watch keys and player tokens (128 bits).
KEY_BYTES = 16
GAME_ID_BYTES = 9


def new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def new_game_id() -> str:
    return secrets.token_urlsafe(GAME_ID_BYTES)


def created(
    *,
    at: float,
    local: bool,
    rematch_of: str | None = None,
    computer: Player | None = None,
    level: int = 0,
    host: Player = RED,
    public: bool = False,
    match: bool = False,
    names: Mapping[Player, str | None] | None = None,
    clock: TimeControl | None = None,
) -> Created:
    """A game's first event, at ``at``: on one device (one token for both colours), against
    the computer or a rematch (both seats known: no invite), or online with an invite."""
    red_token = new_key()
    seated = rematch_of is not None or computer is not None  # no invite to wait for
    names = names or {}
    return Created(
        host=host,
        public=public,
        match=match,
        red_name=names.get(RED),
        yellow_name=names.get(YELLOW),
        at=at,
        local=local,
        watch_key=new_key(),
        join_key=None if local or seated else new_key(),
        red_token=red_token,
        yellow_token=red_token if local else new_key(),
        rematch_of=rematch_of,
        computer=computer,
        level=level,
        clock=clock,
    )
