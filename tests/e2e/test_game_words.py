"""What the game page says and where the keyboard goes: the computer's turn,
the end of a game, a finished game's presence, and a player coming back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from e2e_pages import OpenPage, cell, host_online_game, play, start_local_game, start_two_player_game, take_seat
from playwright.sync_api import expect
from servers import ServerProcess


@pytest.fixture
def slow_computer() -> Iterator[ServerProcess]:
    """Ask for it before ``open_page``: a computer that takes 2 s to answer."""
    server = ServerProcess("--computer-delay", "2")
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture
def grace_server() -> Iterator[ServerProcess]:
    """Ask for it before ``open_page``: players may claim after 1 s of absence."""
    server = ServerProcess("--grace", "1")
    try:
        yield server
    finally:
        server.terminate()


def test_while_the_computer_thinks_the_page_says_so(slow_computer: ServerProcess, open_page: OpenPage) -> None:
    page = open_page("player", base_url=slow_computer.url)
    page.get_by_test_id("computer-level").select_option("1")
    page.get_by_test_id("start-computer").click()
    expect(page.get_by_test_id("turn")).to_have_text("Your turn")
    page.get_by_test_id("column-3").click()
    expect(page.get_by_test_id("turn")).to_have_text("The computer is thinking…")


def test_a_click_while_the_computer_thinks_is_ignored_quietly(
    slow_computer: ServerProcess, open_page: OpenPage
) -> None:
    page = open_page("player", base_url=slow_computer.url)
    page.get_by_test_id("computer-level").select_option("1")
    page.get_by_test_id("start-computer").click()
    expect(page.get_by_test_id("turn")).to_have_text("Your turn")
    page.get_by_test_id("column-3").click()
    expect(page.get_by_test_id("turn")).to_have_text("The computer is thinking…")
    page.get_by_test_id("column-0").click()
    expect(page.get_by_test_id("message")).to_be_hidden()
    expect(page.get_by_test_id("turn")).to_have_text("Your turn", timeout=10_000)
    expect(cell(page, 0, 0)).not_to_have_attribute("data-player", "red")


def test_the_boards_label_counts_one_move_in_the_singular(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    page.get_by_test_id("column-3").click()
    expect(page.get_by_test_id("board")).to_have_attribute("aria-label", re.compile(r"^Board, 1 move played\."))
    page.get_by_test_id("column-3").click()
    expect(page.get_by_test_id("board")).to_have_attribute("aria-label", re.compile(r"^Board, 2 moves played\."))


def test_the_keyboard_is_on_rematch_once_the_game_ends(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    play({"red": red, "yellow": yellow}, [0, 1, 0, 1, 0, 1], [red, yellow])
    red.get_by_test_id("board").focus()
    red.keyboard.press("Home")  # the first column
    red.keyboard.press("Enter")
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    expect(red.get_by_test_id("rematch")).to_be_focused()


def test_a_finished_game_shows_nobody_connected_or_not(open_page: OpenPage) -> None:
    red, yellow, watch = start_two_player_game(open_page)
    play({"red": red, "yellow": yellow}, [0, 1, 0, 1, 0, 1, 0], [red, yellow])
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    red.close()
    yellow.close()
    spectator = open_page("spectator", watch)
    expect(spectator.get_by_test_id("turn")).to_have_text("Red wins!")
    expect(spectator.get_by_test_id("presence")).to_have_text("")


def test_a_player_back_after_losing_on_a_claim_is_told_it_lost_with_its_colour(
    grace_server: ServerProcess, open_page: OpenPage
) -> None:
    red, yellow, _ = start_two_player_game(open_page, base_url=grace_server.url)
    play({"red": red, "yellow": yellow}, [3, 2], [red, yellow])
    address = yellow.url
    yellow.goto("about:blank")  # yellow walks away
    red.get_by_test_id("claim").click(timeout=10_000)
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    yellow.goto(address)
    expect(yellow.get_by_test_id("turn")).to_have_text("You lose: Red wins")
    expect(yellow.get_by_test_id("role")).to_have_text("You are Yellow")


def test_an_invited_guest_with_no_name_here_is_asked_for_one_before_taking_the_seat(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page)
    guest = open_page("yellow", invite)
    expect(guest.get_by_test_id("join-prompt")).to_be_visible()
    expect(guest.get_by_test_id("join-name")).to_be_focused()
    expect(red.get_by_test_id("turn")).to_have_text("Waiting for an opponent…")  # no seat taken yet
    take_seat(guest, "Ada")
    expect(guest.get_by_test_id("turn")).to_have_text("Opponent's turn")
    expect(red.get_by_test_id("yellow-name")).to_have_text("Ada")
    assert guest.evaluate("localStorage.getItem('connectfour:name')") == "Ada"


def test_an_invited_guest_whose_name_is_remembered_here_sits_at_once_under_it(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page)
    guest = open_page("yellow")
    guest.get_by_test_id("name-input").fill("Grace")
    guest.get_by_test_id("name-input").press("Enter")
    guest.goto(invite)
    expect(guest.get_by_test_id("turn")).to_have_text("Opponent's turn")
    expect(guest.get_by_test_id("join-prompt")).to_be_hidden()
    expect(red.get_by_test_id("yellow-name")).to_have_text("Grace")


def test_a_name_the_server_would_refuse_is_explained_before_the_seat_is_taken(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page)
    guest = open_page("yellow", invite)
    guest.get_by_test_id("join-name").fill("<b>Ada</b>")
    guest.get_by_test_id("take-seat").click()
    expect(guest.get_by_test_id("join-name-error")).to_contain_text("Names can have letters")
    expect(red.get_by_test_id("turn")).to_have_text("Waiting for an opponent…")
