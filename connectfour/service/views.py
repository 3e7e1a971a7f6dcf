"""What a game shows its connections, made at one instant from its state and seats.

The whole ``state`` a connection is sent when it arrives (and after an event
that changes more than one part: a takeback, an agreed draw), the ``presence``
line, and a timed game's clocks. Pure: they read the game's ``GameState`` and
the rulebook's view of the seats, and the time and the spectators are given, so
that every process, and a reload, shows the same game from the same log.
"""

from __future__ import annotations

from ..domain import RED, YELLOW, Role, offers, rulebook
from ..domain.state import GameState
from ..protocol.server_messages import ClockView, PresenceEvent, StateEvent


def state_view(state: GameState, seats: rulebook.Seats, role: Role, now: float, spectators: int) -> StateEvent:
    """The game as a connection of ``role`` sees it at ``now``: a player gets its token."""
    board = state.board
    result = state.result
    token = None
    if role in (RED, "both"):
        token = state.red_token
    elif role == YELLOW:
        token = state.yellow_token
    return StateEvent(
        game=state.id,
        you=role,
        moves=list(board.moves),
        ply=board.ply,
        status=state.status,
        turn=state.turn,
        red=rulebook.seat_state(state, seats, RED, now),
        yellow=rulebook.seat_state(state, seats, YELLOW, now),
        spectators=spectators,
        # == narrows the type in every mypy; `in PLAYERS` only from mypy 1.11.
        winner=result if result == RED or result == YELLOW else None,
        reason=state.reason,
        cells=[(c, r) for c, r in board.cells],
        token=token,
        rematch_of=state.rematch_of,
        computer=state.computer,
        level=state.level if state.computer else None,
        red_claimable_in=rulebook.claimable_in(state, seats, RED, now),
        yellow_claimable_in=rulebook.claimable_in(state, seats, YELLOW, now),
        red_name=state.names.get(RED),
        yellow_name=state.names.get(YELLOW),
        public=state.public,
        match=state.match,
        watch=state.watch_key if role != "spectator" else None,
        clock=clock_view(state, now) if state.clock is not None else None,
        draw_offer=state.draw_offer,
        draw_again_at=offers.draw_again_at(state),
        takeback_request=state.takeback_request,
    )


def presence_view(state: GameState, seats: rulebook.Seats, now: float, spectators: int) -> PresenceEvent:
    """How the seats and the audience stand at ``now``; without the clocks, which run on
    their own: ``Game.tell_presence`` adds them to a presence that changed."""
    return PresenceEvent(
        red=rulebook.seat_state(state, seats, RED, now),
        yellow=rulebook.seat_state(state, seats, YELLOW, now),
        spectators=spectators,
        red_claimable_in=rulebook.claimable_in(state, seats, RED, now),
        yellow_claimable_in=rulebook.claimable_in(state, seats, YELLOW, now),
        red_name=state.names.get(RED),
        yellow_name=state.names.get(YELLOW),
    )


def clock_view(state: GameState, now: float) -> ClockView | None:
    """Both sides' time as the protocol tells it, at ``now`` (at the end, once the game is over)."""
    clock = state.clock
    if clock is None:
        return None
    if state.finished_at is not None:
        now = state.finished_at
    runs = clock.turn if clock.running and not state.over else None
    deadline = clock.deadline
    first = None if clock.running or state.over or deadline is None else max(0.0, deadline - now)
    return ClockView(
        control=str(clock.control),
        red=round(clock.remaining(RED, now), 3),
        yellow=round(clock.remaining(YELLOW, now), 3),
        at=now,
        runs=runs,
        first_move_in=None if first is None else round(first, 3),
    )
