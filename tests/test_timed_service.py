"""Timed games through the service: each process that follows a timed game sets a timer for
its side to move's deadline, and the first to store the flag ends it, exactly once; a move
after the deadline is refused; the clocks travel with every state and move. Clocks and
timers are the test's (``members.Timers``): nothing here waits for real time."""

from __future__ import annotations

import asyncio

import pytest
from members import Member, Timers

from connectfour.bus import LocalBus
from connectfour.domain.clock import ABORT_AFTER, TimeControl
from connectfour.domain.events import Aborted, Moved, TimedOut
from connectfour.protocol import ProtocolError
from connectfour.service import GameService
from connectfour.store import MemoryStore, SQLiteStore

ONE_MINUTE = TimeControl.parse("1+0")


async def settle() -> None:
    """Let every announcement in flight arrive (LocalBus delivers on the next loop turns)."""
    for _ in range(20):
        await asyncio.sleep(0)


class Two:
    """Two services over one store, a host on the first and its guest on the second."""

    def __init__(self, store=None, timers: Timers | None = None) -> None:
        self.timers = timers or Timers()
        self.store = store or MemoryStore(LocalBus())
        self.a, self.b = (
            GameService(self.store, clock=self.timers.clock, schedule=self.timers.schedule) for _ in range(2)
        )
        self.host, self.guest = Member(), Member()

    async def start(self, control: TimeControl = ONE_MINUTE):
        self.game_a, _ = await self.a.create(self.host, local=False, clock=control)
        self.game_b, _ = await self.b.join(self.guest, self.game_a.state.join_key)
        await settle()
        return self

    async def opening(self) -> None:
        """Red and yellow each move once, a second apart: red's clock runs from then."""
        self.timers.advance(1.0)
        await self.a.play(self.game_a, "red", 3)
        await settle()
        self.timers.advance(1.0)
        await self.b.play(self.game_b, "yellow", 3)
        await settle()

    async def log(self):
        return [event for _, event in await self.store.read(self.game_a.id)]


async def test_the_flag_falls_once_at_the_deadline_whichever_process_sees_it_first():
    two = await Two().start()
    await two.opening()
    deadline = two.timers.now + ONE_MINUTE.initial
    two.timers.advance(ONE_MINUTE.initial - 0.001)
    await settle()
    assert not two.game_a.over and not two.game_b.over
    two.timers.advance(0.001)  # both processes' timers fire at the deadline
    await settle()
    ends = [event for event in await two.log() if isinstance(event, TimedOut)]
    assert ends == [TimedOut(at=deadline, player="red")]
    for member in (two.host, two.guest):
        assert member.of("win")[-1] == {"type": "win", "player": "yellow", "reason": "time"}
    assert two.game_a.state.reason == two.game_b.state.reason == "time"


async def test_a_move_after_the_deadline_is_refused_as_out_of_time_even_before_any_timer_fired():
    two = await Two().start()
    await two.opening()
    two.timers.now += ONE_MINUTE.initial + 0.001  # time passed, no timer run yet
    with pytest.raises(ProtocolError) as refused:
        await two.a.play(two.game_a, "red", 4)
    assert refused.value.code == "out_of_time"
    assert not any(isinstance(event, Moved) and event.column == 4 for event in await two.log())


async def test_a_move_racing_the_flag_either_the_move_or_the_flag_is_stored_never_both():
    two = await Two().start()
    await two.opening()
    two.timers.now += ONE_MINUTE.initial - 0.001
    moving = asyncio.ensure_future(two.a.play(two.game_a, "red", 4))  # just in time...
    two.timers.advance(0.001)  # ...while the flags fall due
    await asyncio.gather(moving, return_exceptions=True)
    await settle()
    log = (await two.log())[4:]  # after the creation, the guest and the opening
    assert [type(event) for event in log] in ([Moved], [TimedOut])
    assert (two.game_a.over, two.game_b.over) == ((type(log[0]) is TimedOut,) * 2)


async def test_a_game_whose_first_move_does_not_come_is_aborted_by_the_timer():
    two = await Two().start()
    two.timers.advance(ABORT_AFTER)
    await settle()
    log = await two.log()
    assert [event for event in log if isinstance(event, Aborted)] == [Aborted(at=two.timers.now)]
    assert two.game_a.state.result == "abandoned" and two.game_a.state.reason == "aborted"
    assert two.guest.of("state")[-1]["reason"] == "aborted"


async def test_each_state_and_move_carries_both_clocks():
    two = await Two().start(TimeControl.parse("3+2"))
    clock = two.guest.of("state")[-1]["clock"]
    assert clock == {"control": "3+2", "red": 180.0, "yellow": 180.0, "at": two.timers.now, "first_move_in": 30.0}
    await two.opening()
    two.timers.advance(10.0)
    await two.a.play(two.game_a, "red", 4)
    await settle()
    play = two.guest.of("play")[-1]
    assert play["clock"] == {"control": "3+2", "red": 172.0, "yellow": 180.0, "at": two.timers.now, "runs": "yellow"}


async def test_an_untimed_game_says_nothing_of_clocks():
    two = Two()
    game, _ = await two.a.create(two.host, local=False)
    await two.b.join(two.guest, game.state.join_key)
    await settle()
    await two.a.play(game, "red", 3)
    await settle()
    assert "clock" not in two.guest.of("state")[-1] and "clock" not in two.guest.of("play")[-1]
    assert not game.has_timer("flag")


async def test_the_clock_survives_a_restart_and_the_flag_falls_on_the_next_look(tmp_path):
    timers = Timers()
    first = SQLiteStore(tmp_path / "games.db")
    two = await Two(first, timers).start()
    await two.opening()
    game_id, token = two.game_a.id, two.game_a.state.red_token
    await first.close()
    timers.now += ONE_MINUTE.initial + 5  # down past red's deadline
    again = SQLiteStore(tmp_path / "games.db")
    try:
        service = GameService(again, clock=timers.clock, schedule=timers.schedule)
        member = Member()
        game, _ = await service.resume(member, game_id, token)
        assert game.state.clock is not None and game.state.clock.control == ONE_MINUTE
        timers.advance(0.0)  # the flag timer, due at once
        await settle()
        events = [event for _, event in await again.read(game_id)]
        assert isinstance(events[-1], TimedOut) and events[-1].player == "red"
        assert member.of("win")[-1]["reason"] == "time"
    finally:
        await again.close()


async def until(condition, what: str, timeout: float = 10.0) -> None:
    """Until ``condition()`` holds (checked each loop turn and every millisecond), or fail."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.001)


async def test_on_redis_the_flag_falls_once_with_the_players_on_two_processes_and_one_killed(redis_url):
    from connectfour.store.redis import RedisStore

    timers = Timers()
    stores = [RedisStore(redis_url), RedisStore(redis_url)]
    try:
        a, b = (GameService(store, clock=timers.clock, schedule=timers.schedule) for store in stores)
        host, guest = Member(), Member()
        game_a, _ = await a.create(host, local=False, clock=ONE_MINUTE)
        game_b, _ = await b.join(guest, game_a.state.join_key)
        await until(lambda: game_a.state.invite_spent, "the guest seen on the host's process")
        timers.advance(1.0)
        await a.play(game_a, "red", 3)
        await until(lambda: game_b.state.board.ply == 1, "red's move on the guest's process")
        timers.advance(1.0)
        await b.play(game_b, "yellow", 3)
        await until(lambda: game_a.state.board.ply == 2, "yellow's move on the host's process")
        deadline = timers.now + ONE_MINUTE.initial
        await stores[0].close()  # the host's process dies: the other one's timer is enough
        game_a.close()  # (and its timers with it)
        timers.advance(ONE_MINUTE.initial)
        await until(lambda: game_b.over, "the flag on the guest's process")
        events = [event for _, event in await stores[1].read(game_a.id)]
        assert [event for event in events if isinstance(event, TimedOut)] == [TimedOut(at=deadline, player="red")]
        assert isinstance(events[-1], TimedOut)
        assert guest.of("win")[-1]["reason"] == "time"
    finally:
        for store in stores:
            await store.close()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_quick_match_pairs_only_players_who_chose_the_same_control(kind, request):
    if kind == "redis":
        from connectfour.store.redis import RedisStore

        store = RedisStore(request.getfixturevalue("redis_url"))
    else:
        store = MemoryStore(LocalBus())
    try:
        timers = Timers()
        a, b = (GameService(store, clock=timers.clock, schedule=timers.schedule) for _ in range(2))
        blitz, untimed, rapid, blitz_too = Member(), Member(), Member(), Member()
        waiting, _ = await a.match(blitz, clock=TimeControl.parse("3+2"))
        other, _ = await b.match(untimed)
        third, _ = await b.match(rapid, clock=TimeControl.parse("10+5"))
        assert len({waiting.id, other.id, third.id}) == 3  # three pools, three players waiting
        paired, _ = await b.match(blitz_too, clock=TimeControl.parse("3+2"))
        assert paired.id == waiting.id
        assert paired.state.clock is not None and paired.state.clock.control == TimeControl.parse("3+2")
        assert blitz_too.of("state")[-1]["clock"]["control"] == "3+2"
        lobby = await b.match(Member())  # untimed: paired with the untimed player
        assert lobby[0].id == other.id
    finally:
        await store.close()


async def test_the_sweep_ends_a_timed_game_nobody_follows_on_time_not_as_abandoned():
    timers = Timers()
    store = MemoryStore(LocalBus())
    two = await Two(store, timers).start()
    await two.opening()
    game_id = two.game_a.id
    deadline = timers.now + ONE_MINUTE.initial
    for service, game, member in ((two.a, two.game_a, two.host), (two.b, two.game_b, two.guest)):
        service.leave(member)
        game.close()  # (its timers with it: nobody follows the game any more)
    await settle()
    sweeper = GameService(store, expire_after=3600, clock=timers.clock, schedule=timers.schedule)
    timers.now += 2 * 3600
    assert await sweeper.expire_idle() == 1
    events = [event for _, event in await store.read(game_id)]
    assert events[-1] == TimedOut(at=deadline, player="red")


def test_the_computer_searches_a_share_of_its_clock_and_all_it_needs_while_it_has_time():
    from records import created

    from connectfour.domain.events import Moved
    from connectfour.domain.state import GameState
    from connectfour.service.computer import CLOCK_BUDGET, budget_for

    untimed = GameState.replay("g1", [created(join_key=None, computer="yellow", level=4)])
    assert budget_for(untimed, 100.0) is None
    control = TimeControl.parse("1+0")
    state = GameState.replay("g1", [created(join_key=None, computer="yellow", level=4, clock=control)])
    assert budget_for(state, 100.0) == pytest.approx(ABORT_AFTER / 4)  # its first move: the abort window
    state.apply(Moved(at=101.0, player="red", column=3))
    state.apply(Moved(at=102.0, player="yellow", column=3))
    state.apply(Moved(at=103.0, player="red", column=4))
    assert budget_for(state, 103.0) == pytest.approx(60.0 / 4)
    assert budget_for(state, 103.0 + 59.9) == pytest.approx(0.05)  # almost out: a quick move, in time
    slow = GameState.replay("g1", [created(join_key=None, computer="yellow", level=4, clock=TimeControl.parse("10+5"))])
    for n, (player, column) in enumerate([("red", 3), ("yellow", 3), ("red", 4)]):
        slow.apply(Moved(at=101.0 + n, player=player, column=column))
    assert budget_for(slow, 104.0) == CLOCK_BUDGET


async def test_a_quick_match_pool_left_empty_is_not_kept():
    from connectfour.store.matching import LocalMatchQueue, Ticket

    queue = LocalMatchQueue()
    for n in range(50):  # a client choosing ever new controls
        pool = f"{n + 1}+0"
        assert await queue.offer(Ticket(f"g{n}", f"j{n}", pool), 0.0) is None
        assert await queue.cancel(f"g{n}", pool)
    assert await queue.offer(Ticket("a", "ja", "3+2"), 0.0) is None
    assert await queue.take(1.0, "3+2") == Ticket("a", "ja", "3+2")
    assert queue.pools == 0  # nothing left of 51 pools
