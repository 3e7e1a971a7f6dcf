"""Draw offers and takebacks, decided by the rulebook alone, then through the service and the
stores: an offer stands until the opponent moves, accepts or declines; a takeback is at once
against the computer and on one device, and asked for between two people."""

from __future__ import annotations

import asyncio

import pytest
from members import Member, Timers
from records import created

from connectfour.bus import LocalBus
from connectfour.domain import rulebook
from connectfour.domain.clock import TimeControl
from connectfour.domain.events import (
    DrawAgreed,
    DrawDeclined,
    DrawOffered,
    Joined,
    Moved,
    TakebackDeclined,
    TakebackRequested,
    TookBack,
)
from connectfour.domain.offers import DeclineDraw, DeclineTakeback, OfferDraw, TakeBack, draw_again_at
from connectfour.domain.refusal import Refused
from connectfour.domain.rulebook import Move
from connectfour.domain.state import GameState
from connectfour.protocol import ProtocolError
from connectfour.service import GameService
from connectfour.store import MemoryStore, SQLiteStore


def online(*columns: int) -> GameState:
    state = GameState.replay("g1", [created(), Joined(at=100.0)])
    for n, column in enumerate(columns):
        play(state, column, 101.0 + n)
    return state


def play(state: GameState, column: int, at: float = 200.0) -> None:
    state.apply(rulebook.decide(state, Move(state.board.turn or "red", column), at))


def do(state: GameState, command: rulebook.Command, at: float = 300.0):
    event = rulebook.decide(state, command, at)
    state.apply(event)
    return event


def refusal(state: GameState, command: rulebook.Command) -> str:
    with pytest.raises(Refused) as refused:
        rulebook.decide(state, command, 300.0)
    return refused.value.code


# -- draws -------------------------------------------------------------------------------


def test_an_offer_accepted_ends_the_game_drawn_by_agreement():
    state = online(3, 3)
    assert do(state, OfferDraw("red")) == DrawOffered(at=300.0, player="red")
    assert state.draw_offer == "red"
    assert do(state, OfferDraw("yellow")) == DrawAgreed(at=300.0)
    assert (state.result, state.reason, state.status) == ("draw", "agreement", "draw")


def test_an_offer_declined_is_gone():
    state = online(3, 3)
    do(state, OfferDraw("red"))
    assert do(state, DeclineDraw("yellow")) == DrawDeclined(at=300.0, player="yellow")
    assert state.draw_offer is None and not state.over


def test_an_offer_stands_until_the_opponent_moves():
    state = online(3)
    do(state, OfferDraw("red"))  # red offers after its move: yellow to play
    play(state, 4)  # yellow plays on: the offer is withdrawn
    assert state.draw_offer is None
    state = online(3, 3)
    do(state, OfferDraw("red"))  # red offers on its own turn
    play(state, 4)  # red's own move leaves it standing
    assert state.draw_offer == "red"


def test_a_player_offers_again_only_once_both_sides_moved():
    state = online(3, 3)
    do(state, OfferDraw("red"))
    assert refusal(state, OfferDraw("red")) == "not_available"  # it stands already
    do(state, DeclineDraw("yellow"))
    assert refusal(state, OfferDraw("red")) == "not_available"  # too soon
    play(state, 4)
    assert refusal(state, OfferDraw("red")) == "not_available"  # one move only
    play(state, 4)
    assert do(state, OfferDraw("red")) == DrawOffered(at=300.0, player="red")


def test_draw_again_at_says_when_each_player_may_offer_again_as_the_refusal_decides():
    state = online(3, 3)
    assert draw_again_at(state) == {}
    do(state, OfferDraw("red"))
    do(state, DeclineDraw("yellow"))
    assert draw_again_at(state) == {"red": 4}
    play(state, 4)
    assert draw_again_at(state) == {"red": 4}
    do(state, OfferDraw("yellow"))  # yellow's offer holds yellow back, not red
    assert draw_again_at(state) == {"red": 4, "yellow": 5}
    play(state, 4)  # yellow's move: both sides moved since red's offer
    assert draw_again_at(state) == {"yellow": 5}
    do(state, DeclineDraw("red"))
    assert do(state, OfferDraw("red")) == DrawOffered(at=300.0, player="red")
    assert draw_again_at(state) == {"red": 6, "yellow": 5}


def test_no_draws_against_the_computer_on_one_device_or_by_a_spectator():
    computer = GameState.replay("g1", [created(join_key=None, computer="yellow", level=1)])
    assert refusal(computer, OfferDraw("red")) == "not_available"
    local = GameState.replay("g1", [created(local=True, join_key=None)])
    assert refusal(local, OfferDraw("both")) == "not_available"
    assert refusal(online(3), OfferDraw("spectator")) == "not_a_player"
    assert refusal(online(3), DeclineDraw("yellow")) == "not_available"  # nothing to decline


# -- takebacks ----------------------------------------------------------------------------


def test_on_one_device_a_takeback_takes_the_last_move_back_at_once():
    state = GameState.replay("g1", [created(local=True, join_key=None)])
    assert refusal(state, TakeBack("both")) == "not_available"  # nothing to take back
    play(state, 3)
    play(state, 4)
    assert do(state, TakeBack("both")) == TookBack(at=300.0, plies=1)
    assert state.board.moves == [3] and state.board.turn == "yellow"


def test_against_the_computer_a_takeback_takes_back_the_players_move_and_the_reply():
    state = GameState.replay("g1", [created(join_key=None, computer="yellow", level=1)])
    play(state, 3)
    play(state, 5)  # the computer's reply
    assert do(state, TakeBack("red")) == TookBack(at=300.0, plies=2)
    assert state.board.moves == [] and state.board.turn == "red"
    play(state, 3)  # and while the computer thinks: the player's move alone
    assert do(state, TakeBack("red")) == TookBack(at=300.0, plies=1)
    assert state.board.moves == []


def test_between_two_people_a_takeback_is_asked_and_taken_once_accepted():
    state = online(3, 4)
    assert do(state, TakeBack("yellow")) == TakebackRequested(at=300.0, player="yellow")
    assert state.takeback_request == "yellow" and state.board.moves == [3, 4]
    assert do(state, TakeBack("red")) == TookBack(at=300.0, plies=1)  # red accepts by asking too
    assert state.board.moves == [3] and state.takeback_request is None


def test_a_takeback_request_declined_or_withdrawn_by_a_move():
    state = online(3, 4)
    do(state, TakeBack("red"))  # red's turn: its move and yellow's reply
    assert do(state, DeclineTakeback("yellow")) == TakebackDeclined(at=300.0, player="yellow")
    assert state.board.moves == [3, 4]
    do(state, TakeBack("red"))
    play(state, 5)
    assert state.takeback_request is None
    assert refusal(state, DeclineTakeback("yellow")) == "not_available"


def test_a_takeback_of_two_plies_when_the_requester_is_to_move():
    state = online(3, 4, 5)
    do(state, TakeBack("yellow"))  # yellow to move: its 4 and red's 5
    assert do(state, TakeBack("red")) == TookBack(at=300.0, plies=2)
    assert state.board.moves == [3] and state.board.turn == "yellow"


def test_a_player_with_no_move_cannot_ask_for_a_takeback():
    state = online(3)
    assert refusal(state, TakeBack("yellow")) == "not_available"


def test_a_takeback_in_a_timed_game_gives_the_side_to_move_its_turn_from_then():
    control = TimeControl.parse("1+0")
    state = GameState.replay("g1", [created(clock=control), Joined(at=100.0)])
    play(state, 3, 101.0)
    play(state, 3, 102.0)
    play(state, 4, 112.0)  # red spent 10 s
    do(state, TakeBack("red"), 115.0)  # red asks (yellow to move: 1 ply)
    do(state, TakeBack("yellow"), 120.0)  # yellow accepts; yellow spent 8 s meanwhile
    clock = state.clock
    assert clock is not None and clock.turn == "red" and clock.since == 120.0
    assert clock.remaining("red", 120.0) == 50.0


def test_a_stored_takeback_replays_to_the_same_game():
    state = online(3, 4, 5)
    events = [created(), Joined(at=100.0), *(Moved(at=101.0 + n, player=p, column=c)
              for n, (p, c) in enumerate([("red", 3), ("yellow", 4), ("red", 5)]))]  # fmt: skip
    events += [TakebackRequested(at=300.0, player="red"), TookBack(at=300.0, plies=1)]
    replayed = GameState.replay("g1", events)
    assert replayed.board.moves == [3, 4] and replayed.board.turn == "red"
    assert state.board.moves == [3, 4, 5]


# -- through the service and the stores ------------------------------------------------------


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request, tmp_path):
    made = MemoryStore(LocalBus()) if request.param == "memory" else SQLiteStore(tmp_path / "games.db")
    yield made
    await made.close()


async def seated(store):
    timers = Timers()
    a, b = (GameService(store, clock=timers.clock, schedule=timers.schedule) for _ in range(2))
    host, guest = Member(), Member()
    game_a, _ = await a.create(host, local=False)
    game_b, _ = await b.join(guest, game_a.state.join_key)
    await settle()
    return a, b, game_a, game_b, host, guest


async def test_a_draw_agreed_through_the_service_reaches_both_and_the_record(store):
    a, b, game_a, game_b, host, guest = await seated(store)
    await a.play(game_a, "red", 3)
    await settle()
    await a.moves.commit(game_a, OfferDraw("red"))
    await settle()
    # red offered at 1 move: it may again once both sides moved, at 3
    assert guest.of("draw_offer")[-1] == {"type": "draw_offer", "player": "red", "draw_again_at": {"red": 3}}
    await b.moves.commit(game_b, OfferDraw("yellow"))
    await settle()
    for member in (host, guest):
        last = member.of("state")[-1]
        assert (last["status"], last["reason"]) == ("draw", "agreement")
    record = await store.get(game_a.id)
    assert record is not None and (record.result, record.reason) == ("draw", "agreement")


async def test_a_takeback_accepted_through_the_service_shortens_the_game_everywhere(store):
    a, b, game_a, game_b, host, guest = await seated(store)
    await a.play(game_a, "red", 3)
    await settle()
    await b.play(game_b, "yellow", 4)
    await settle()
    await b.moves.commit(game_b, TakeBack("yellow"))
    await settle()
    assert host.of("takeback_request")[-1] == {"type": "takeback_request", "player": "yellow"}
    await a.moves.commit(game_a, TakeBack("red"))
    await settle()
    for member in (host, guest):
        assert member.of("state")[-1]["moves"] == [3]
    record = await store.get(game_a.id)
    assert record is not None and record.moves == [3]
    await b.play(game_b, "yellow", 5)  # the game goes on from there
    await settle()
    assert game_a.state.board.moves == [3, 5]
    replayed = GameState.replay(game_a.id, (event for _, event in await store.read(game_a.id)))
    assert replayed.board.moves == [3, 5]


async def test_a_takeback_survives_a_restart_of_sqlite(tmp_path):
    first = SQLiteStore(tmp_path / "games.db")
    a, b, game_a, game_b, host, guest = await seated(first)
    for service, game, column in ((a, game_a, 3), (b, game_b, 4), (a, game_a, 5)):
        await service.play(game, game.state.board.turn or "red", column)
        await settle()
    await a.moves.commit(game_a, TakeBack("red"))
    await settle()
    await b.moves.commit(game_b, TakeBack("yellow"))
    await settle()
    game_id = game_a.id
    await first.close()
    again = SQLiteStore(tmp_path / "games.db")
    try:
        events = [event for _, event in await again.read(game_id)]
        assert TookBack(at=events[-1].at, plies=1) == events[-1]
        assert GameState.replay(game_id, events).board.moves == [3, 4]
        record = await again.get(game_id)
        assert record is not None and record.moves == [3, 4]
    finally:
        await again.close()


async def test_a_refused_draw_says_why():
    store = MemoryStore(LocalBus())
    service = GameService(store)
    member = Member()
    game, _ = await service.create_computer(member, level=1, color="red")
    with pytest.raises(ProtocolError) as refused:
        await service.moves.commit(game, OfferDraw("red"))
    assert refused.value.code == "not_available"


async def test_a_takeback_racing_a_move_leaves_one_history_everyone_agrees_on(store):
    a, b, game_a, game_b, host, guest = await seated(store)
    await a.play(game_a, "red", 3)
    await settle()
    # Red asks for a takeback on its process while yellow moves on the other, at once.
    asking = asyncio.ensure_future(a.moves.commit(game_a, TakeBack("red")))
    moving = asyncio.ensure_future(b.play(game_b, "yellow", 4))
    results = await asyncio.gather(asking, moving, return_exceptions=True)
    assert results == [None, None], results  # neither is refused: each decided on what it lost to
    await settle()
    log = [event for _, event in await store.read(game_a.id)]
    replayed = GameState.replay(game_a.id, log)  # a history the rules accept
    for game in (game_a, game_b):
        assert game.state.board.moves == replayed.board.moves == [3, 4]
        assert game.state.takeback_request == replayed.takeback_request
    assert replayed.takeback_request in (None, "red")  # withdrawn by the move, or asked after it
    if replayed.takeback_request is None:  # the move came last: red asks again
        await a.moves.commit(game_a, TakeBack("red"))
        await settle()
    await b.moves.commit(game_b, TakeBack("yellow"))  # yellow accepts
    await settle()
    assert game_a.state.board.moves == game_b.state.board.moves == []  # red's move and yellow's reply
