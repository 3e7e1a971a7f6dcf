"""Timed games in the browser: the time control chosen on the landing page, the clocks beside
the names ticking down, the first move's countdown, a game lost on time (a minute passes in an
instant on the in-process server's clock), the replay's time per move, and the lobby's controls."""

from __future__ import annotations

import re

from conftest import SCREENSHOTS
from e2e_pages import OpenPage, host_online_game, take_seat
from inprocess import InProcessServer
from playwright.sync_api import Page, expect
from test_polish import axe_violations

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
TENTHS = re.compile(r"^00:0\d\.\d$")


def snap(page: Page, name: str) -> None:
    """A screenshot of the page as it is now (the viewport: what the player sees without scrolling)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"clock-{name}.png"))


def in_view(page: Page, testid: str, viewport: dict) -> None:
    """The element is wholly on the screen, no scrolling needed."""
    box = page.get_by_test_id(testid).bounding_box()
    assert box is not None, testid
    assert box["x"] >= 0 and box["y"] >= 0, (testid, box)
    right, bottom = box["x"] + box["width"], box["y"] + box["height"]
    assert right <= viewport["width"] and bottom <= viewport["height"], (testid, box)


def move(page: Page, column: int) -> None:
    expect(page.get_by_test_id("status")).to_have_attribute("data-mine", "true")
    page.get_by_test_id(f"column-{column}").click()


def test_a_one_minute_game_is_lost_on_time(clocked_server: InProcessServer, open_page: OpenPage) -> None:
    on = {"base_url": clocked_server.url}
    red = open_page("red", viewport=LAPTOP, **on)
    red.get_by_test_id("name-input").fill("Ada")
    red.get_by_test_id("clock-1+0").check()
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).not_to_have_value("")
    watch = red.get_by_test_id("watch-link").input_value()
    yellow = take_seat(open_page("yellow", invite.input_value(), viewport=PHONE, **on), "Bea")
    spectator = open_page("spectator", watch, viewport=LAPTOP, color_scheme="dark", **on)

    # Both clocks by the names, full; red's first move is due.
    for page in (red, yellow, spectator):
        expect(page.get_by_test_id("red-clock")).to_have_text("01:00")
        expect(page.get_by_test_id("yellow-clock")).to_have_text("01:00")
    expect(red.get_by_test_id("first-move")).to_have_text(re.compile(r"^([12]\d|30) s to make the first move$"))
    expect(yellow.get_by_test_id("first-move")).to_contain_text("Your opponent has")
    expect(spectator.get_by_test_id("first-move")).to_contain_text("Red has")
    snap(red, "first-move-laptop")

    move(red, 3)
    move(yellow, 3)  # both moved once: red's clock runs
    running = red.get_by_test_id("red-clock")
    expect(running).to_have_attribute("data-running", "true")
    expect(yellow.get_by_test_id("red-clock")).to_have_attribute("data-running", "true")
    expect(red.get_by_test_id("first-move")).to_be_hidden()

    clocked_server.clock.advance(51)  # red thinks for 51 s: 9 left
    move(red, 4)
    expect(running).to_have_attribute("data-low", "true")
    expect(running).to_have_text(TENTHS)
    move(yellow, 4)  # red's clock runs again, under ten seconds: tenths, in red
    for page in (red, yellow, spectator):
        expect(page.get_by_test_id("red-clock")).to_have_attribute("data-running", "true")
        expect(page.get_by_test_id("red-clock")).to_have_attribute("data-low", "true")
    shown = [running.text_content()]
    expect(running).not_to_have_text(shown[0])  # it ticks
    assert TENTHS.match(running.text_content() or ""), running.text_content()
    snap(red, "low-time-laptop")
    snap(yellow, "low-time-phone")
    snap(spectator, "low-time-dark")
    assert axe_violations(red) == []
    assert axe_violations(spectator) == []
    for testid in ("red-clock", "yellow-clock", "board"):
        in_view(yellow, testid, PHONE)
        in_view(red, testid, LAPTOP)

    # Red does not move: its flag falls.
    expect(red.get_by_test_id("turn")).to_have_text("You lost on time", timeout=15_000)
    expect(yellow.get_by_test_id("turn")).to_have_text("You won on time")
    expect(spectator.get_by_test_id("turn")).to_have_text("Yellow wins on time")
    expect(red.get_by_test_id("message")).to_have_text("Yellow wins on time")
    for page in (red, yellow, spectator):
        expect(page.get_by_test_id("red-clock")).to_have_text("00:00.0")
        expect(page.get_by_test_id("red-clock")).to_have_attribute("data-running", "false")
    expect(yellow.get_by_test_id("rematch")).to_be_visible()
    snap(red, "lost-on-time-laptop")
    snap(yellow, "won-on-time-phone")
    snap(spectator, "spectator-laptop")

    # The replay says how long each move took: red's second, some 51 seconds.
    red.get_by_test_id("replay-link").click()
    expect(red.get_by_test_id("result")).to_have_text("Yellow wins on time")
    expect(red.get_by_test_id("meta")).to_contain_text("1+0 clock")
    expect(red.get_by_test_id("review-move-3")).to_contain_text(re.compile(r"5\d s"))
    red.get_by_test_id("review-move-3").click()
    expect(red.get_by_test_id("move-text")).to_have_text(re.compile(r"^Red played column 5, row 1, in 5\d s\.$"))
    snap(red, "replay-laptop")


def test_a_game_whose_first_move_does_not_come_is_aborted(clocked_server: InProcessServer, open_page: OpenPage) -> None:
    page = open_page("player", viewport=PHONE, base_url=clocked_server.url)
    page.get_by_test_id("clock-3+2").check()
    page.get_by_test_id("start-computer").click()
    expect(page.get_by_test_id("red-clock")).to_have_text("03:00")
    expect(page.get_by_test_id("first-move")).to_contain_text("s to make the first move")
    clocked_server.clock.advance(31)  # the window's 30 s pass: the server's timer fires
    expect(page.get_by_test_id("turn")).to_have_text("Game aborted")
    expect(page.get_by_test_id("message")).to_have_text("Game aborted: the first move did not come in time.")
    expect(page.get_by_test_id("first-move")).to_be_hidden()


def test_the_time_control_is_remembered_and_starts_a_timed_game(open_page: OpenPage) -> None:
    page = open_page("player", viewport=LAPTOP)
    expect(page.get_by_test_id("clock-untimed")).to_be_checked()
    page.get_by_test_id("clock-5+3").check()
    page.reload()
    expect(page.get_by_test_id("clock-5+3")).to_be_checked()
    # Every way to play, and the choice, still in sight without scrolling.
    for testid in ("time-control", "play-someone", "start-local", "start-online", "start-computer"):
        in_view(page, testid, LAPTOP)
    snap(page, "landing-laptop")
    page.get_by_test_id("start-computer").click()
    expect(page.get_by_test_id("red-clock")).to_have_text("05:00")
    expect(page.get_by_test_id("yellow-clock")).to_have_text("05:00")
    expect(page.get_by_test_id("yellow-name")).to_have_text("Computer (level 2)")


def test_an_untimed_game_shows_no_clock(open_page: OpenPage) -> None:
    page = open_page("player")
    page.get_by_test_id("start-computer").click()
    expect(page.get_by_test_id("turn")).to_have_text("Your turn")
    expect(page.get_by_test_id("red-clock")).to_have_count(0)
    expect(page.get_by_test_id("first-move")).to_be_hidden()
    expect(page.get_by_test_id("game")).to_have_attribute("data-timed", "false")


def test_the_lobby_shows_each_games_control(open_page: OpenPage) -> None:
    host = open_page("host")
    host.get_by_test_id("clock-10+5").check()
    host.get_by_test_id("visibility-public").check()
    host.get_by_test_id("start-online").click()
    expect(host.get_by_test_id("red-clock")).to_have_text("10:00")
    visitor = open_page("visitor")
    row = visitor.get_by_test_id("waiting-game").filter(has_text="10+5")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("10+5 · plays Red")


def test_a_quick_match_pairs_players_of_one_control(open_page: OpenPage) -> None:
    first = open_page("first", viewport=PHONE)
    first.get_by_test_id("clock-3+2").check()
    first.get_by_test_id("play-someone").click()
    expect(first.get_by_test_id("matching-text")).to_have_text("Looking for an opponent for a 3+2 game…")
    second = open_page("second", viewport=PHONE)
    second.get_by_test_id("clock-3+2").check()
    second.get_by_test_id("play-someone").click()
    for page in (first, second):
        expect(page.get_by_test_id("red-clock")).to_have_text("03:00")
        expect(page.get_by_test_id("first-move")).to_be_visible()


def test_the_host_hears_of_the_first_moves_window_when_the_guest_sits_down(open_page: OpenPage) -> None:
    red, invite, _ = host_online_game(open_page)
    expect(red.get_by_test_id("first-move")).to_be_hidden()  # untimed: nothing to count
    timed = open_page("timed", viewport=PHONE)
    timed.get_by_test_id("clock-1+0").check()
    timed.get_by_test_id("start-online").click()
    link = timed.get_by_test_id("invite-link")
    expect(link).not_to_have_value("")
    expect(timed.get_by_test_id("first-move")).to_be_hidden()  # nobody to play yet
    take_seat(open_page("guest", link.input_value(), viewport=PHONE))
    expect(timed.get_by_test_id("first-move")).to_have_text(re.compile(r"^([12]\d|30) s to make the first move$"))


def test_a_game_on_one_device_is_untimed_whatever_the_control(open_page: OpenPage) -> None:
    page = open_page("device", viewport=PHONE)
    page.get_by_test_id("clock-3+2").check()
    page.get_by_test_id("start-local").click()
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")
    expect(page.get_by_test_id("game")).to_have_attribute("data-timed", "false")
    expect(page.get_by_test_id("red-clock")).to_have_count(0)
    expect(page.get_by_test_id("offer-draw")).to_be_hidden()
