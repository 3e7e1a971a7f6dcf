"""What a player coming back finds: links that say what they are, the links
to share, names in replays, and the games this device played."""

from __future__ import annotations

import re

from e2e_pages import OpenPage, host_online_game, play, start_two_player_game, take_seat
from playwright.sync_api import expect

NOT_FOUND = [r"404 \(Not Found\)"]


def test_a_made_up_game_address_says_the_game_does_not_exist(open_page: OpenPage) -> None:
    page = open_page("visitor", "/?game=no-such-game", expected_console=NOT_FOUND)
    message = page.get_by_test_id("message")
    expect(message).to_have_text("There is no such game. Check the link, or start a new game.")
    expect(message).to_have_attribute("data-code", "game_not_found")
    expect(page.get_by_test_id("start-new")).to_be_visible()


def test_a_running_game_without_a_seat_here_still_points_to_the_watch_link(open_page: OpenPage) -> None:
    red, _yellow, _watch = start_two_player_game(open_page)
    game = re.search(r"game=([^&]+)", red.url).group(1)
    stranger = open_page("stranger", f"/?game={game}", expected_console=NOT_FOUND)
    expect(stranger.get_by_test_id("message")).to_have_text(
        "This link belongs to the players of this game. Ask them for the watch link."
    )


def test_the_guest_can_copy_the_watch_link_too(open_page: OpenPage) -> None:
    _red, yellow, watch = start_two_player_game(open_page)
    expect(yellow.get_by_test_id("copy-watch")).to_be_visible()
    expect(yellow.get_by_test_id("copy-watch")).to_have_text("Copy watch link")
    expect(yellow.get_by_test_id("watch-link")).to_have_value(watch)


def test_my_games_lists_a_won_game_with_its_opponent_and_a_link_to_its_replay(open_page: OpenPage) -> None:
    red, invite, _watch = host_online_game(open_page)
    yellow = take_seat(open_page("yellow", invite), "Bea")
    play({"red": red, "yellow": yellow}, [0, 0, 1, 1, 2, 2, 3], [red, yellow])
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    game = re.search(r"game=([^&]+)", red.url).group(1)
    red.get_by_test_id("start-new").click()
    row = red.get_by_test_id("my-game").first
    expect(row).to_contain_text("You won vs Bea")
    expect(row).to_contain_text("you played Red · 7 moves")
    expect(row).to_have_attribute("href", f"/game/{game}")


def test_my_games_links_a_game_still_going_back_to_the_seat(open_page: OpenPage) -> None:
    red, _yellow, _watch = start_two_player_game(open_page)
    game = re.search(r"game=([^&]+)", red.url).group(1)
    home = open_page("red-home", "/", context=red.context)
    row = home.get_by_test_id("my-game").first
    expect(row).to_contain_text("In progress")
    expect(row).to_have_attribute("href", f"/?game={game}")
    row.click()
    expect(home.get_by_test_id("role")).to_have_text("You are Red")


def test_my_games_is_reachable_from_the_header_and_says_when_there_are_none(open_page: OpenPage) -> None:
    page = open_page("newcomer")
    page.get_by_test_id("my-games-link").click()
    expect(page.get_by_test_id("my-games-empty")).to_be_in_viewport()
    expect(page.get_by_test_id("my-games-empty")).to_have_text(re.compile("No games yet on this device"))


def test_a_host_who_leaves_before_anyone_joined_cancels_the_invite(open_page: OpenPage) -> None:
    red, invite, _watch = host_online_game(open_page)
    red.get_by_test_id("new-game").click()
    expect(red.get_by_test_id("landing")).to_be_visible()
    expect(red).to_have_url(re.compile(r"/$"))
    late = open_page("late-guest", invite)
    take_seat(late, "Cy")
    message = late.get_by_test_id("message")
    expect(message).to_have_text(
        "This game is over: its host left before anyone joined. Start a new game, or join one in the lobby."
    )
    expect(late.get_by_test_id("start-new")).to_be_visible()
    expect(late.get_by_test_id("board")).to_be_hidden()
