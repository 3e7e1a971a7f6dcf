"""Where things are on a laptop (1366x768) and a phone (390x844)."""

from __future__ import annotations

from e2e_pages import OpenPage, host_online_game, take_seat
from playwright.sync_api import expect

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def test_all_four_ways_to_play_are_in_sight_on_a_laptop_without_scrolling(open_page: OpenPage) -> None:
    page = open_page("visitor", viewport=LAPTOP)
    for testid in ("play-someone", "start-local", "start-online", "start-computer"):
        button = page.get_by_test_id(testid)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box is not None and box["y"] + box["height"] <= LAPTOP["height"], (testid, box)


def test_a_phone_shows_the_moves_played(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page, viewport=PHONE)
    yellow = take_seat(open_page("yellow", invite, viewport=PHONE))
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    red.get_by_test_id("column-3").click()
    moves = yellow.get_by_test_id("moves")
    expect(moves).to_be_visible()
    expect(moves).to_contain_text("Red, column 4")


def test_on_a_phone_both_names_and_you_stay_whole_when_the_opponent_disconnects(open_page: OpenPage) -> None:
    red = open_page("red", viewport=PHONE)
    red.get_by_test_id("name-input").fill("Henrietta")
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).not_to_have_value("")
    guest = open_page("yellow", None, viewport=PHONE)
    guest.goto("/")
    guest.get_by_test_id("name-input").fill("Bartholomew")
    guest.get_by_test_id("name-input").press("Enter")
    guest.goto(invite.input_value())
    expect(red.get_by_test_id("yellow-name")).to_have_text("Bartholomew")
    guest.goto("about:blank")
    expect(red.get_by_test_id("presence")).to_contain_text("Opponent")
    for testid, name in (("red-name", "Henrietta"), ("yellow-name", "Bartholomew")):
        element = red.get_by_test_id(testid)
        fits = element.evaluate("e => e.scrollWidth <= e.clientWidth")
        assert fits, f"{name} is cut"
    expect(red.locator(".players .you")).to_be_visible()
