"""The web page, end to end: real server, real sockets, headless Chromium.

Every test drives the page the way a person would (clicks, taps, keys) and
waits on the page's own state through Playwright's auto-waiting assertions.
"""

from __future__ import annotations

import re

from e2e_pages import (
    COLUMNS,
    PHONE,
    ROWS,
    OpenPage,
    board_of,
    cell,
    drawn_game,
    host_online_game,
    play,
    start_local_game,
    start_two_player_game,
    take_seat,
)
from playwright.sync_api import WebSocketRoute, expect

# ---- landing ----------------------------------------------------------------


def test_landing_offers_an_online_game_and_a_game_on_this_device(open_page: OpenPage) -> None:
    page = open_page("visitor")
    expect(page.get_by_test_id("start-online")).to_have_text("Start an online game")
    expect(page.get_by_test_id("start-local")).to_have_text("Play on this device")
    expect(page.get_by_test_id("board")).to_be_hidden()
    expect(page.get_by_test_id("message")).to_be_hidden()


def test_landing_fits_a_phone_screen_without_horizontal_scroll(open_page: OpenPage) -> None:
    page = open_page("phone", viewport=PHONE, is_mobile=True, has_touch=True)
    expect(page.get_by_test_id("start-online")).to_be_visible()
    expect(page.get_by_test_id("start-local")).to_be_in_viewport()
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == 360


# ---- online game ------------------------------------------------------------


def test_host_waits_for_an_opponent_with_invite_and_watch_links(open_page: OpenPage) -> None:
    red, invite, watch = host_online_game(open_page)
    expect(red.get_by_test_id("role")).to_have_text("You are Red")
    expect(red.get_by_test_id("turn")).to_have_text("Waiting for an opponent…")
    expect(red.get_by_test_id("invite-link")).to_be_visible()
    expect(red.get_by_test_id("copy-invite")).to_be_visible()
    expect(red.get_by_test_id("copy-watch")).to_be_visible()
    assert invite.split("=", 1)[1] != watch.split("=", 1)[1]


def test_copy_buttons_put_the_links_on_the_clipboard_and_say_copied(open_page: OpenPage) -> None:
    red, invite, watch = host_online_game(open_page)
    red.context.grant_permissions(["clipboard-read", "clipboard-write"])
    red.get_by_test_id("copy-invite").click()
    expect(red.get_by_test_id("copy-invite")).to_have_text("Copied")
    assert red.evaluate("() => navigator.clipboard.readText()") == invite
    red.get_by_test_id("copy-watch").click()
    expect(red.get_by_test_id("copy-watch")).to_have_text("Copied")
    assert red.evaluate("() => navigator.clipboard.readText()") == watch


def test_host_sees_the_opponent_join_and_spectators_arrive(open_page: OpenPage) -> None:
    red, invite, watch = host_online_game(open_page)
    take_seat(open_page("yellow", invite))
    expect(red.get_by_test_id("presence")).to_contain_text("Opponent joined")
    expect(red.get_by_test_id("invite")).to_be_hidden()
    open_page("spectator", watch)
    expect(red.get_by_test_id("presence")).to_contain_text("1 watching")
    expect(red.get_by_test_id("live")).to_contain_text("Opponent joined")


def test_host_sees_the_opponent_disconnect(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    yellow.goto("about:blank")
    expect(red.get_by_test_id("presence")).to_contain_text("Opponent disconnected")
    expect(red.get_by_test_id("live")).to_contain_text("Opponent disconnected")


def test_two_players_play_to_a_win_that_a_spectator_watches_live(open_page: OpenPage) -> None:
    red, yellow, watch = start_two_player_game(open_page)
    spectator = open_page("spectator", watch)
    expect(spectator.get_by_test_id("role")).to_have_text("Spectator")
    expect(spectator.get_by_test_id("turn")).to_have_text("Red to play")

    pages = [red, yellow, spectator]
    play({"red": red, "yellow": yellow}, [0, 0, 1, 1, 2, 2, 3], pages)

    winning = {f"cell-{c}-0" for c in range(4)}
    for page in pages:
        expect(page.get_by_test_id("message")).to_contain_text("Red wins!")
        for testid in winning:
            expect(page.get_by_test_id(testid)).to_have_class(re.compile(r"\bwinning\b"))
        expect(page.get_by_test_id("live")).to_contain_text("Red played column 4")
        expect(page.get_by_test_id("live")).to_contain_text("Red wins!")
    assert {testid for testid, _, won in board_of(red) if won} == winning
    assert board_of(red) == board_of(yellow) == board_of(spectator)
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    expect(yellow.get_by_test_id("turn")).to_have_text("You lose: Red wins")
    expect(spectator.get_by_test_id("turn")).to_have_text("Red wins!")


def test_spectator_arriving_late_sees_every_past_move_at_once(open_page: OpenPage) -> None:
    red, yellow, watch = start_two_player_game(open_page)
    play({"red": red, "yellow": yellow}, [3, 3, 4], [red, yellow])
    spectator = open_page("spectator", watch)
    expect(cell(spectator, 4, 0)).to_have_attribute("data-player", "red")
    assert board_of(spectator) == board_of(red)
    expect(spectator.get_by_test_id("turn")).to_have_text("Yellow to play")


def test_spectator_cannot_play_and_has_no_cursor(open_page: OpenPage) -> None:
    red, yellow, watch = start_two_player_game(open_page)
    spectator = open_page("spectator", watch)
    expect(spectator.get_by_test_id("turn")).to_have_text("Red to play")
    spectator.get_by_test_id("column-2").click()
    expect(spectator.get_by_test_id("board")).not_to_have_attribute("tabindex", re.compile(".*"))
    spectator.keyboard.press("3")
    spectator.keyboard.press("Enter")
    expect(spectator.locator(".column.cursor")).to_have_count(0)
    # A real move afterwards shows up, and is the only checker on the board.
    play({"red": red, "yellow": yellow}, [5], [spectator])
    assert [testid for testid, player, _ in board_of(spectator) if player] == ["cell-5-0"]
    expect(spectator.get_by_test_id("message")).to_be_hidden()


def test_a_move_out_of_turn_is_refused_with_a_message_in_the_page(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    yellow.get_by_test_id("column-0").click()
    expect(yellow.get_by_test_id("message")).to_contain_text("not your turn")
    expect(cell(yellow, 0, 0)).not_to_have_attribute("data-player", re.compile(".*"))
    expect(cell(red, 0, 0)).not_to_have_attribute("data-player", re.compile(".*"))


def test_a_full_board_without_four_in_a_row_is_a_draw(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    moves = drawn_game()
    play({"red": red, "yellow": yellow}, moves, [red, yellow])
    for page in (red, yellow):
        expect(page.get_by_test_id("message")).to_have_text("Draw! The board is full.")
        expect(page.get_by_test_id("turn")).to_have_text("Draw: the board is full")
        expect(page.get_by_test_id("live")).to_contain_text("Draw!")
        expect(page.locator(".cell.winning")).to_have_count(0)
        expect(page.locator(".cell[data-player]")).to_have_count(COLUMNS * ROWS)
    assert board_of(red) == board_of(yellow)


# ---- same device ------------------------------------------------------------


def test_same_device_players_alternate_colours_to_a_win(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    expect(page.get_by_test_id("role")).to_have_text("Playing on this device")
    expect(page.get_by_test_id("invite")).to_be_hidden()
    expect(page.get_by_test_id("watch-link")).to_have_value(re.compile(r"/\?watch=.+"))
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 2, 1], [page])
    expect(page.get_by_test_id("message")).to_contain_text("Yellow wins!")
    expect(page.get_by_test_id("turn")).to_have_text("Yellow wins!")
    assert {testid for testid, _, won in board_of(page) if won} == {f"cell-1-{r}" for r in range(4)}
    expect(page.get_by_test_id("live")).to_contain_text("Yellow wins!")


def test_keys_one_to_seven_play_that_column(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    page.keyboard.press("4")
    expect(cell(page, 3, 0)).to_have_attribute("data-player", "red")
    expect(page.get_by_test_id("turn")).to_have_text("Yellow to play")
    page.keyboard.press("7")
    expect(cell(page, 6, 0)).to_have_attribute("data-player", "yellow")
    page.keyboard.press("1")
    expect(cell(page, 0, 0)).to_have_attribute("data-player", "red")
    expect(page.get_by_test_id("live")).to_contain_text("Red played column 1")


def test_arrow_keys_move_a_visible_cursor_and_enter_or_space_plays_it(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    board = page.get_by_test_id("board")
    expect(board).to_be_focused()
    expect(page.get_by_test_id("column-3")).to_have_class(re.compile(r"\bcursor\b"))
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("column-5")).to_have_class(re.compile(r"\bcursor\b"))
    expect(page.locator(".column.cursor")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(cell(page, 5, 0)).to_have_attribute("data-player", "red")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_test_id("column-4")).to_have_class(re.compile(r"\bcursor\b"))
    page.keyboard.press(" ")
    expect(cell(page, 4, 0)).to_have_attribute("data-player", "yellow")
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")


def test_game_fits_a_phone_screen_and_plays_by_tapping(open_page: OpenPage) -> None:
    page = start_local_game(open_page, viewport=PHONE, is_mobile=True, has_touch=True)
    page.get_by_test_id("column-6").tap()
    expect(cell(page, 6, 0)).to_have_attribute("data-player", "red")
    page.get_by_test_id("column-0").tap()
    expect(cell(page, 0, 0)).to_have_attribute("data-player", "yellow")
    expect(page.get_by_test_id("column-6")).to_be_in_viewport()
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == 360


# ---- errors -----------------------------------------------------------------


def test_a_spent_invite_link_shows_that_the_seat_is_taken(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page)
    take_seat(open_page("yellow", invite))
    expect(red.get_by_test_id("presence")).to_contain_text("Opponent joined")
    latecomer = take_seat(open_page("latecomer", invite))
    message = latecomer.get_by_test_id("message")
    expect(message).to_have_attribute("data-code", "seat_taken")
    expect(message).to_be_visible()
    expect(message).to_have_attribute("role", "alert")
    expect(latecomer.get_by_test_id("board")).to_be_hidden()
    expect(latecomer.get_by_test_id("next-steps").get_by_test_id("start-new")).to_have_attribute("href", "/")


def test_a_spent_invite_link_offers_to_watch_the_game_instead(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page)
    take_seat(open_page("yellow", invite))
    expect(red.get_by_test_id("presence")).to_contain_text("Opponent joined")
    latecomer = take_seat(open_page("latecomer", invite))
    expect(latecomer.get_by_test_id("message")).to_have_attribute("data-code", "seat_taken")
    latecomer.get_by_test_id("watch-instead").click()
    expect(latecomer.get_by_test_id("role")).to_contain_text("Spectator")
    expect(latecomer.get_by_test_id("board")).to_be_visible()


def test_an_unknown_watch_link_shows_game_not_found(open_page: OpenPage) -> None:
    page = open_page("spectator", "/?watch=no-such-game")
    message = page.get_by_test_id("message")
    expect(message).to_have_attribute("data-code", "game_not_found")
    expect(message).to_be_visible()
    expect(page.get_by_test_id("new-game")).to_have_attribute("href", "/")


def test_a_dropped_connection_shows_reconnecting_and_comes_back_by_itself(open_page: OpenPage) -> None:
    sockets: list[WebSocketRoute] = []
    server_up = [True]

    def proxy(route: WebSocketRoute) -> None:
        sockets.append(route)
        if server_up[0]:
            route.connect_to_server()
        else:
            route.close(code=1011, reason="still down")

    page = open_page("device", path=None)
    page.route_web_socket(re.compile(r"/ws$"), proxy)
    page.goto("/")
    page.get_by_test_id("start-local").click()
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")  # the game is there: a click now is a move
    page.get_by_test_id("column-3").click()
    expect(cell(page, 3, 0)).to_have_attribute("data-player", "red")

    # The connection drops, and the next attempts fail too: the page says so
    # and keeps trying, the board stays.
    server_up[0] = False
    sockets[0].close(code=1011, reason="gone")
    banner = page.get_by_test_id("connection")
    expect(banner).to_be_visible()
    expect(page.get_by_test_id("turn")).to_have_text("Reconnecting…")
    # Attempt 1 failed as well: the count goes on.
    expect(banner).to_have_attribute("data-attempt", re.compile(r"^([2-9]|\d\d+)$"))
    expect(page.get_by_test_id("connection-text")).to_contain_text(
        re.compile(r"Reconnecting… attempt \d+(, retrying in \d+ s)?")
    )
    expect(cell(page, 3, 0)).to_have_attribute("data-player", "red")
    expect(page.get_by_test_id("live")).to_contain_text("Connection lost. Reconnecting…")

    # The server is back: "Try now" skips the wait, the page resumes the seat.
    # Clicked just after an attempt failed, so that the page's own next try,
    # a backoff away, cannot beat the click to it.
    failed = int(banner.get_attribute("data-attempt") or "0")
    expect(banner).to_have_attribute("data-attempt", str(failed + 1))
    server_up[0] = True
    page.get_by_test_id("retry-now").click(force=True)  # (the banner's text may still be moving)
    expect(banner).to_be_hidden()
    expect(page.get_by_test_id("turn")).to_have_text("Yellow to play")
    expect(page.get_by_test_id("live")).to_contain_text("Reconnected.")
    page.get_by_test_id("column-3").click()
    expect(cell(page, 3, 1)).to_have_attribute("data-player", "yellow")
