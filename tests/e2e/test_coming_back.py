"""What a player coming back finds: links that say what they are, the links
to share, names in replays, and the games this device played."""

from __future__ import annotations

import re

from e2e_pages import OpenPage, play, start_two_player_game
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
