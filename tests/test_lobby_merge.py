"""How the lobby is made from every process's part (``service/lobby.merge``), sans I/O."""

from __future__ import annotations

import msgspec

from connectfour.protocol.server_messages import PlayingGame, WaitingGame
from connectfour.service.lobby import BUDGET, SHOWN, Lobby, LobbyShare, merge


def part(process: str, *, online: int = 0, seeking: int = 0, waiting=(), playing=(), totals=(0, 0)) -> LobbyShare:
    return LobbyShare(process, online, seeking, totals[0], totals[1], list(waiting), list(playing))


def waiting(game: str, since: float) -> WaitingGame:
    return WaitingGame(game, f"join-{game}", "red", None, since)


def playing(game: str, ply: int = 0, spectators: int = 0) -> PlayingGame:
    return PlayingGame(game, f"watch-{game}", ply, spectators)


def test_counts_add_up_over_processes():
    lobby = merge([part("a", online=3, seeking=1), part("b", online=4, seeking=2)])
    assert (lobby.online, lobby.seeking) == (7, 3)


def test_a_game_two_processes_follow_is_listed_once_as_the_most_advanced_report():
    lobby = merge([part("a", playing=[playing("g", ply=4, spectators=1)]), part("b", playing=[playing("g", ply=5)])])
    assert lobby.playing == [playing("g", ply=5)]


def test_a_game_one_process_already_sees_played_is_no_longer_waiting():
    lobby = merge([part("a", waiting=[waiting("g", 1.0)]), part("b", playing=[playing("g")])])
    assert lobby.waiting == [] and [g.game for g in lobby.playing] == ["g"]


def test_waiting_games_come_longest_waiting_first_and_playing_ones_most_watched_first():
    lobby = merge(
        [
            part("a", waiting=[waiting("late", 3.0), waiting("early", 1.0)], playing=[playing("quiet", ply=9)]),
            part(
                "b", waiting=[waiting("middle", 2.0)], playing=[playing("watched", spectators=5), playing("on", ply=3)]
            ),
        ]
    )
    assert [g.game for g in lobby.waiting] == ["early", "middle", "late"]
    assert [g.game for g in lobby.playing] == ["watched", "quiet", "on"]


def test_each_list_is_cut_to_what_is_shown_and_the_totals_say_how_many_there_are():
    many = [waiting(f"g{n}", float(n)) for n in range(SHOWN + 5)]
    lobby = merge([part("a", waiting=many, totals=(SHOWN + 5, 0)), part("b", totals=(10, 2))])
    assert len(lobby.waiting) == SHOWN and lobby.waiting[0].game == "g0"
    assert (lobby.waiting_total, lobby.playing_total) == (SHOWN + 15, 2)


def test_a_total_is_never_below_the_games_listed():
    # A game followed only by spectators' processes counts in nobody's totals, but is listed.
    lobby = merge([part("a", playing=[playing("g")], totals=(0, 0))])
    assert lobby.playing_total == 1


def test_no_process_makes_an_empty_lobby():
    lobby = merge([])
    assert (lobby.online, lobby.waiting, lobby.playing, lobby.waiting_total) == (0, [], [], 0)


class Watcher:
    lagging = False

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, payload: bytes) -> None:
        self.sent.append(payload)


def test_a_part_that_costs_too_much_is_made_every_few_ticks_and_the_watchers_still_hear_the_others():
    made: list[bool] = []
    calls = iter(range(10**6))

    def games() -> list:
        made.append(True)
        return []

    # Each part takes (by this timer) two and a half times the budget of a 0.5 s tick.
    timer = lambda: next(calls) * 2.5 * BUDGET * 0.5  # noqa: E731
    lobby = Lobby("a", games, lambda said: None, clock=lambda: 0.0, interval=0.5, timer=timer)
    for _ in range(8):
        lobby.tick()
    assert lobby.part_every == 3 and len(made) == 3  # ticks 1, 4 and 7
    lobby.hear(msgspec.msgpack.encode(part("b", online=5)))
    watcher = Watcher()
    lobby.watch(watcher)
    lobby.tick()  # a tick that makes no part still merges the others'
    assert b'"online":5' in watcher.sent[-1] and len(made) == 3
