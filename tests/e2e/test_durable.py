"""Games that survive, in the browser: reloads, dropped connections, server
restarts, second tabs; and the ways a game ends besides four in a row
(resigning, claiming, rematches) and its replay.

Tests that restart a server or need a short grace period start their own
`connectfour serve` process and point pages at it with ``base_url``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from e2e_pages import (
    OpenPage,
    board_of,
    cell,
    host_online_game,
    play,
    start_local_game,
    start_two_player_game,
    take_seat,
)
from playwright.sync_api import Page, expect
from servers import ServerProcess, free_port

#: How long a page may take to come back after a server restart: the backoff
#: waits up to about 8 s (±50%) between attempts, and the server must start.
COMEBACK_MS = 20_000

GAME_URL = re.compile(r"/\?game=[\w-]+$")


def game_id(page: Page) -> str:
    """The game id in the page's address, /?game=ID."""
    query = parse_qs(urlsplit(page.url).query)
    assert "game" in query, page.url
    return query["game"][0]


def stored(page: Page) -> dict[str, str]:
    """This browser's connectfour entries in localStorage."""
    return page.evaluate(
        "() => Object.fromEntries(Object.keys(localStorage).filter(k => k.startsWith('connectfour:'))"
        ".map(k => [k, localStorage.getItem(k)]))"
    )


@pytest.fixture(scope="module")
def grace_server() -> Iterator[ServerProcess]:
    """A server whose players may claim a game after their opponent is away for 1 s."""
    server = ServerProcess("--grace", "1")
    try:
        yield server
    finally:
        server.terminate()


# ---- tokens and resume -------------------------------------------------------


def test_a_player_who_reloads_is_back_in_the_seat_and_the_game_goes_on(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    play({"red": red, "yellow": yellow}, [3, 3, 4, 4], [red, yellow])
    expect(red).to_have_url(GAME_URL)
    expect(yellow).to_have_url(GAME_URL)
    game = game_id(red)
    assert game_id(yellow) == game
    assert f"connectfour:seat:{game}" in stored(red)
    assert stored(red)[f"connectfour:seat:{game}"] != stored(yellow)[f"connectfour:seat:{game}"]

    red.reload()
    expect(red.get_by_test_id("role")).to_have_text("You are Red")
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    expect(cell(red, 4, 1)).to_have_attribute("data-player", "yellow")
    assert board_of(red) == board_of(yellow)
    expect(red.get_by_test_id("watch-link")).to_have_value(re.compile(r"/\?watch=.+"))
    # The opponent saw the seat empty, then taken again.
    expect(yellow.get_by_test_id("live")).to_contain_text("Opponent disconnected")
    expect(yellow.get_by_test_id("presence")).to_contain_text("Opponent reconnected")

    play({"red": red, "yellow": yellow}, [5, 6, 2], [red, yellow], after=[3, 3, 4, 4])
    for page in (red, yellow):
        expect(page.get_by_test_id("message")).to_contain_text("Red wins!")
    expect(red.get_by_test_id("turn")).to_have_text("You win!")


def test_a_host_who_reloads_while_waiting_still_has_the_links_to_share(open_page: OpenPage) -> None:
    red = open_page("red")
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).to_have_value(re.compile(r"/\?join=.+"))
    expect(red).to_have_url(GAME_URL)
    links = invite.input_value(), red.get_by_test_id("watch-link").input_value()

    red.reload()
    expect(red.get_by_test_id("turn")).to_have_text("Waiting for an opponent…")
    expect(invite).to_have_value(links[0])
    expect(red.get_by_test_id("watch-link")).to_have_value(links[1])
    yellow = take_seat(open_page("yellow", links[0]))
    expect(yellow.get_by_test_id("turn")).to_have_text("Opponent's turn")
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    expect(red.get_by_test_id("invite")).to_be_hidden()


def test_a_game_link_without_a_seat_in_this_browser_points_to_the_watch_link(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    expect(red).to_have_url(GAME_URL)
    # Someone else opens the players' address: the game is not finished, so
    # the server answers 404 to the page's question about its record.
    stranger = open_page("stranger", urlsplit(red.url).path + "?" + urlsplit(red.url).query, expected_console=[r"404"])
    message = stranger.get_by_test_id("message")
    expect(message).to_have_text("This link belongs to the players of this game. Ask them for the watch link.")
    expect(message).to_have_attribute("data-code", "no_seat")
    expect(stranger.get_by_test_id("board")).to_be_hidden()
    expect(stranger.get_by_test_id("start-new")).to_have_attribute("href", "/")
    expect(red.get_by_test_id("presence")).not_to_contain_text("disconnected")


def test_a_stored_token_the_server_refuses_is_shown_and_forgotten(open_page: OpenPage) -> None:
    red, _, _ = start_two_player_game(open_page)
    expect(red).to_have_url(GAME_URL)
    game = game_id(red)
    page = open_page("impostor", path=None)
    page.goto("/")
    page.evaluate("game => localStorage.setItem(`connectfour:seat:${game}`, 'not-the-token')", game)
    page.goto(f"/?game={game}")
    message = page.get_by_test_id("message")
    expect(message).to_have_attribute("data-code", "invalid_token")
    expect(message).to_be_visible()
    expect(page.get_by_test_id("board")).to_be_hidden()
    assert f"connectfour:seat:{game}" not in stored(page)
    expect(red.get_by_test_id("presence")).not_to_contain_text("disconnected")


def test_a_guest_who_opens_the_invite_link_again_gets_the_seat_back(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page)
    yellow = take_seat(open_page("yellow", invite))
    expect(yellow.get_by_test_id("role")).to_have_text("You are Yellow")
    expect(yellow).to_have_url(GAME_URL)
    play({"red": red, "yellow": yellow}, [2], [red, yellow])
    yellow.goto(invite)
    expect(yellow.get_by_test_id("role")).to_have_text("You are Yellow")
    expect(yellow.get_by_test_id("turn")).to_have_text("Your turn")
    expect(cell(yellow, 2, 0)).to_have_attribute("data-player", "red")
    expect(yellow).to_have_url(GAME_URL)
    expect(yellow.get_by_test_id("message")).to_be_hidden()


# ---- reconnecting --------------------------------------------------------------


class RestartableServer:
    """A server that can be killed and started again on the same port and database."""

    def __init__(self, db: Path) -> None:
        self.port, self.db = free_port(), db
        self.process = ServerProcess(port=self.port, db=self.db)
        self.url = self.process.url

    def kill(self) -> None:
        self.process.kill()

    def restart(self) -> None:
        self.process = ServerProcess(port=self.port, db=self.db)


@pytest.fixture
def restartable_server(tmp_path: Path) -> Iterator[RestartableServer]:
    """Ask for it before ``open_page``: it then stops after the pages are photographed."""
    server = RestartableServer(tmp_path / "games.db")
    try:
        yield server
    finally:
        server.process.terminate()


def test_a_server_killed_mid_game_comes_back_and_every_page_reconnects_by_itself(
    restartable_server: RestartableServer, open_page: OpenPage
) -> None:
    server = restartable_server
    # Chromium notes each attempt that finds no server on the console.
    down = [r"ERR_CONNECTION_REFUSED"]
    red, yellow, watch = start_two_player_game(open_page, base_url=server.url, expected_console=down)
    spectator = open_page("spectator", watch, base_url=server.url, expected_console=down)
    pages = [red, yellow, spectator]
    play({"red": red, "yellow": yellow}, [3, 3, 4], pages)
    before = board_of(red)

    server.kill()
    for page in pages:
        expect(page.get_by_test_id("connection")).to_be_visible()
        expect(page.get_by_test_id("connection-text")).to_contain_text("Reconnecting…")
        expect(page.get_by_test_id("turn")).to_have_text("Reconnecting…")
        assert board_of(page) == before  # the board stays while the server is away

    server.restart()
    for page in pages:
        expect(page.get_by_test_id("connection")).to_be_hidden(timeout=COMEBACK_MS)
        expect(page.get_by_test_id("live")).to_contain_text("Reconnected.")
    expect(yellow.get_by_test_id("turn")).to_have_text("Your turn")
    expect(spectator.get_by_test_id("turn")).to_have_text("Yellow to play")
    assert board_of(red) == board_of(yellow) == board_of(spectator) == before

    play({"red": red, "yellow": yellow}, [4, 5, 5, 2], pages, after=[3, 3, 4])
    for page in pages:
        expect(page.get_by_test_id("message")).to_contain_text("Red wins!")
    expect(spectator.get_by_test_id("turn")).to_have_text("Red wins!")


def test_the_same_seat_opened_in_a_second_tab_takes_it_and_the_first_tab_steps_aside(
    open_page: OpenPage,
) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    expect(red).to_have_url(GAME_URL)
    sockets: list[str] = []
    red.on("websocket", lambda ws: sockets.append(ws.url))

    second = open_page("red-second-tab", red.url, context=red.context)
    expect(second.get_by_test_id("role")).to_have_text("You are Red")
    message = red.get_by_test_id("message")
    expect(message).to_have_text("This game is open in another tab or device.")
    expect(message).to_have_attribute("data-code", "replaced")
    expect(red.get_by_test_id("turn")).to_have_text("Open in another tab")
    expect(red.get_by_test_id("connection")).to_be_hidden()
    expect(red.get_by_test_id("take-over")).to_be_visible()

    # The new tab plays; the old one stays closed and does not see the move.
    second.get_by_test_id("column-2").click()
    expect(cell(yellow, 2, 0)).to_have_attribute("data-player", "red")
    expect(yellow.get_by_test_id("turn")).to_have_text("Your turn")
    expect(message).to_have_attribute("data-code", "replaced")
    expect(cell(red, 2, 0)).not_to_have_attribute("data-player", re.compile(".*"))
    assert sockets == []
    expect(second.get_by_test_id("message")).to_be_hidden()


# ---- resigning and claiming ------------------------------------------------------


def test_a_player_resigns_after_confirming_in_the_page(open_page: OpenPage) -> None:
    red, yellow, watch = start_two_player_game(open_page)
    spectator = open_page("spectator", watch)
    play({"red": red, "yellow": yellow}, [3], [red, yellow, spectator])
    expect(spectator.get_by_test_id("resign")).to_be_hidden()

    resign = yellow.get_by_test_id("resign")
    resign.click()
    expect(yellow.get_by_test_id("resign-question")).to_have_text("Resign this game? Your opponent wins.")
    yellow.get_by_test_id("resign-cancel").click()
    expect(yellow.get_by_test_id("resign-confirm-panel")).to_be_hidden()
    expect(resign).to_be_visible()
    expect(red.get_by_test_id("turn")).to_have_text("Opponent's turn")

    resign.click()
    yellow.get_by_test_id("resign-confirm").click()
    for page in (red, yellow, spectator):
        expect(page.get_by_test_id("message")).to_have_text("Yellow resigned — Red wins")
        expect(page.get_by_test_id("resign")).to_be_hidden()
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    expect(yellow.get_by_test_id("turn")).to_have_text("You resigned")
    expect(spectator.get_by_test_id("turn")).to_have_text("Red wins!")
    expect(red.get_by_test_id("live")).to_contain_text("Yellow resigned — Red wins")


def test_a_player_claims_the_win_once_the_opponent_is_away_past_the_grace_period(
    open_page: OpenPage, grace_server: ServerProcess
) -> None:
    red, yellow, _ = start_two_player_game(open_page, base_url=grace_server.url)
    play({"red": red, "yellow": yellow}, [3, 2], [red, yellow])
    yellow.close()  # the opponent walks away
    expect(red.get_by_test_id("presence")).to_contain_text("Opponent")
    claim = red.get_by_test_id("claim")
    expect(claim).to_be_visible(timeout=10_000)
    expect(red.get_by_test_id("claim-panel")).to_contain_text("Opponent left — you can claim the win")
    expect(red.get_by_test_id("live")).to_contain_text("Opponent disconnected")
    claim.click()
    expect(red.get_by_test_id("message")).to_have_text("Red wins: opponent left")
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    expect(claim).to_be_hidden()
    expect(red.get_by_test_id("replay-link")).to_be_visible()


@pytest.fixture
def slow_grace_server() -> Iterator[ServerProcess]:
    """Ask for it before ``open_page``: a server whose grace period is long enough to watch it count."""
    server = ServerProcess("--grace", "30")
    try:
        yield server
    finally:
        server.terminate()


def test_while_the_opponent_is_away_a_countdown_tells_when_the_win_can_be_claimed(
    slow_grace_server: ServerProcess, open_page: OpenPage
) -> None:
    red, yellow, _ = start_two_player_game(open_page, base_url=slow_grace_server.url)
    play({"red": red, "yellow": yellow}, [3, 2], [red, yellow])
    yellow.close()
    countdown = red.get_by_test_id("claim-countdown")
    expect(countdown).to_have_text(re.compile(r"you can claim the win in (30|2\d) s$"))
    expect(countdown).to_have_text(re.compile(r"in (2[0-7]|1\d) s$"), timeout=6_000)  # it counts down
    expect(red.get_by_test_id("claim-panel")).to_be_hidden()


# ---- rematch -------------------------------------------------------------------


def test_a_rematch_offered_and_accepted_starts_a_new_game_with_colours_swapped(open_page: OpenPage) -> None:
    red, yellow, watch = start_two_player_game(open_page)
    spectator = open_page("spectator", watch)
    play({"red": red, "yellow": yellow}, [0, 1, 0, 1, 0, 1, 0], [red, yellow, spectator])
    expect(red.get_by_test_id("message")).to_contain_text("Red wins!")
    old_game, old_watch = game_id(red), red.get_by_test_id("watch-link").input_value()
    expect(spectator.get_by_test_id("rematch")).to_be_hidden()

    red.get_by_test_id("rematch").click()
    expect(red.get_by_test_id("rematch-status")).to_have_text("Rematch offered — waiting for your opponent")
    expect(red.get_by_test_id("rematch")).to_be_disabled()
    expect(yellow.get_by_test_id("rematch-status")).to_have_text("Your opponent wants a rematch")
    accept = yellow.get_by_test_id("rematch")
    expect(accept).to_have_text("Accept rematch")
    accept.click()

    # Colours swap: yesterday's yellow opens the new game as red.
    expect(yellow.get_by_test_id("role")).to_have_text("You are Red")
    expect(red.get_by_test_id("role")).to_have_text("You are Yellow")
    expect(yellow.get_by_test_id("turn")).to_have_text("Your turn")
    expect(red.get_by_test_id("turn")).to_have_text("Opponent's turn")
    expect(spectator.get_by_test_id("turn")).to_have_text("Red to play")
    for page in (red, yellow, spectator):
        expect(page.locator(".cell[data-player]")).to_have_count(0)
        expect(page.get_by_test_id("rematch")).to_be_hidden()
    expect(red.get_by_test_id("message")).to_have_text("Rematch! Colours swapped: you are Yellow now.")
    new_game = game_id(red)
    assert new_game != old_game and game_id(yellow) == new_game
    assert f"connectfour:seat:{new_game}" in stored(yellow)
    expect(red.get_by_test_id("watch-link")).not_to_have_value(old_watch)
    expect(yellow.get_by_test_id("watch-link")).to_have_value(re.compile(r"/\?watch=.+"))

    play({"red": yellow, "yellow": red}, [6, 5], [red, yellow, spectator])
    expect(red.get_by_test_id("message")).to_be_hidden()
    # The new seats hold across a reload.
    red.reload()
    expect(red.get_by_test_id("role")).to_have_text("You are Yellow")
    expect(cell(red, 5, 0)).to_have_attribute("data-player", "yellow")
    # The spectator follows the new game, also across a reload.
    new_watch = yellow.get_by_test_id("watch-link").input_value()
    assert spectator.url.endswith(new_watch[new_watch.index("/?watch=") :])
    spectator.reload()
    expect(cell(spectator, 5, 0)).to_have_attribute("data-player", "yellow")
    expect(cell(spectator, 0, 0)).not_to_have_attribute("data-player", "red")


def test_a_same_device_game_rematches_at_once(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page])
    expect(page.get_by_test_id("message")).to_contain_text("Red wins!")
    old_game = game_id(page)
    page.get_by_test_id("rematch").click()
    expect(page.locator(".cell[data-player]")).to_have_count(0)
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")
    expect(page.get_by_test_id("message")).to_have_text("Rematch! A new game has started.")
    assert game_id(page) != old_game
    play({"red": page, "yellow": page}, [3], [page])


# ---- replay ----------------------------------------------------------------------


def test_the_replay_steps_through_a_finished_game_by_buttons_and_keys(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page])
    link = page.get_by_test_id("replay-link")
    expect(link).to_have_text("Replay this game")
    game = game_id(page)
    expect(link).to_have_attribute("href", f"/game/{game}")
    link.click()

    expect(page).to_have_url(re.compile(rf"/game/{re.escape(game)}$"))
    counter = page.get_by_test_id("counter")
    expect(counter).to_have_text("Move 7 of 7")
    expect(page.get_by_test_id("result")).to_have_text("Red wins with four in a row")
    winning = {f"cell-0-{r}" for r in range(4)}
    expect(page.locator(".cell.winning")).to_have_count(4)
    assert {testid for testid, _, won in board_of(page) if won} == winning
    expect(page.get_by_test_id("forward")).to_be_disabled()

    page.get_by_test_id("first").click()
    expect(counter).to_have_text("Move 0 of 7")
    expect(page.locator(".cell[data-player]")).to_have_count(0)
    expect(page.get_by_test_id("back")).to_be_disabled()
    page.get_by_test_id("forward").click()
    expect(counter).to_have_text("Move 1 of 7")
    expect(cell(page, 0, 0)).to_have_attribute("data-player", "red")
    page.get_by_test_id("forward").click()
    expect(cell(page, 1, 0)).to_have_attribute("data-player", "yellow")
    page.get_by_test_id("back").click()
    expect(counter).to_have_text("Move 1 of 7")
    expect(page.locator(".cell[data-player]")).to_have_count(1)
    page.get_by_test_id("last").click()
    expect(counter).to_have_text("Move 7 of 7")
    expect(page.locator(".cell.winning")).to_have_count(4)

    page.keyboard.press("Home")
    expect(counter).to_have_text("Move 0 of 7")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text("Move 3 of 7")
    expect(page.locator(".cell[data-player]")).to_have_count(3)
    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("Move 2 of 7")
    page.keyboard.press("End")
    expect(counter).to_have_text("Move 7 of 7")
    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("Move 6 of 7")
    expect(page.locator(".cell.winning")).to_have_count(0)
    expect(page.get_by_test_id("start-new")).to_have_attribute("href", "/")


def test_the_replay_of_an_unknown_game_says_so_in_the_page(open_page: OpenPage) -> None:
    page = open_page("visitor", "/game/no-such-game", expected_console=[r"404"])
    message = page.get_by_test_id("message")
    expect(message).to_have_text("Game not found.")
    expect(page.get_by_test_id("board")).to_be_hidden()
    expect(page.get_by_test_id("start-new")).to_be_visible()


def test_a_player_who_comes_back_after_the_end_sees_the_result_and_the_replay_link(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page])
    expect(page.get_by_test_id("message")).to_contain_text("Red wins!")
    before = board_of(page)
    page.reload()
    expect(page.get_by_test_id("message")).to_have_text("Red wins!")
    expect(page.get_by_test_id("replay-link")).to_be_visible()
    expect(page.locator(".cell.winning")).to_have_count(4)
    assert board_of(page) == before
