"""Draw offers and takebacks in the browser: a draw offered, declined, withdrawn by a move and
agreed between two people; a takeback at once against the computer and on one device, and asked
for (declined, then accepted) between two people. Every answer is a button, and the keyboard's."""

from __future__ import annotations

import pytest
from conftest import SCREENSHOTS
from e2e_pages import OpenPage, board_of, start_local_game, take_seat
from playwright.sync_api import Page, expect
from test_polish import axe_violations

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def snap(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"offers-{name}.png"))


def move(page: Page, column: int) -> None:
    expect(page.get_by_test_id("status")).to_have_attribute("data-mine", "true")
    page.get_by_test_id(f"column-{column}").click()


def discs(page: Page) -> int:
    return sum(1 for _, player, _ in board_of(page) if player)


def two_players(open_page: OpenPage, **options) -> tuple[Page, Page, str]:
    red = open_page("red", viewport=LAPTOP, **options)
    red.get_by_test_id("name-input").fill("Ada")
    red.get_by_test_id("clock-10+5").check()
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).not_to_have_value("")
    watch = red.get_by_test_id("watch-link").input_value()
    yellow = take_seat(open_page("yellow", invite.input_value(), viewport=PHONE, **options), "Bea")
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    return red, yellow, watch


def test_a_draw_is_offered_declined_withdrawn_and_agreed(open_page: OpenPage) -> None:
    red, yellow, watch = two_players(open_page)
    spectator = open_page("spectator", watch)
    move(red, 3)
    move(yellow, 3)

    offer = red.get_by_test_id("offer-draw")
    expect(offer).to_have_text("Offer draw")
    offer.click()
    expect(offer).to_have_text("Draw offered")
    expect(offer).to_be_disabled()
    expect(yellow.get_by_test_id("draw-answer-text")).to_have_text("Your opponent offers a draw")
    expect(yellow.get_by_test_id("offer-draw")).to_be_hidden()  # the answer is the panel's
    expect(spectator.get_by_test_id("draw-answer-text")).to_have_text("Red offers a draw")
    expect(spectator.get_by_test_id("accept-draw")).to_be_hidden()
    snap(yellow, "draw-offered-phone")
    snap(red, "draw-offered-laptop")

    yellow.get_by_test_id("decline-draw").click()
    expect(red.get_by_test_id("message")).to_have_text("Your opponent declined the draw.")
    expect(yellow.get_by_test_id("draw-answer")).to_be_hidden()
    expect(offer).to_have_text("Offer draw")
    expect(offer).to_be_disabled()  # again once both sides moved
    red.reload()  # the server says when, also to a page that remembers nothing
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    expect(offer).to_have_text("Offer draw")
    expect(offer).to_be_disabled()

    move(red, 4)
    yellow.get_by_test_id("offer-draw").click()
    expect(red.get_by_test_id("draw-answer")).to_be_visible()
    expect(yellow.get_by_test_id("offer-draw")).to_have_text("Draw offered")
    move(yellow, 5)  # the offerer's own move keeps its offer
    expect(red.get_by_test_id("draw-answer")).to_be_visible()
    move(red, 5)  # the opponent's move withdraws it
    expect(yellow.get_by_test_id("offer-draw")).to_have_text("Offer draw")
    expect(red.get_by_test_id("draw-answer")).to_be_hidden()
    expect(offer).to_be_enabled()

    # Offered again, accepted from the keyboard.
    move(yellow, 2)
    offer.click()
    accept = yellow.get_by_test_id("accept-draw")
    expect(accept).to_be_visible()
    accept.focus()
    yellow.keyboard.press("Enter")
    for page in (red, yellow):
        expect(page.get_by_test_id("turn")).to_have_text("Draw by agreement")
        expect(page.get_by_test_id("message")).to_have_text("Draw by agreement.")
        expect(page.get_by_test_id("draw-answer")).to_be_hidden()
        expect(page.get_by_test_id("rematch")).to_be_visible()
    expect(spectator.get_by_test_id("turn")).to_have_text("Draw by agreement")
    snap(red, "draw-agreed-laptop")
    snap(yellow, "draw-agreed-phone")


def test_a_takeback_against_the_computer_is_at_once(open_page: OpenPage) -> None:
    page = open_page("player", viewport=LAPTOP)
    page.get_by_test_id("start-computer").click()
    takeback = page.get_by_test_id("takeback")
    expect(takeback).to_be_disabled()  # nothing to take back yet
    expect(page.get_by_test_id("offer-draw")).to_be_hidden()  # no draws with the computer
    move(page, 0)
    expect(page.get_by_test_id("move-list")).to_contain_text("Yellow")  # the computer answered
    assert discs(page) == 2
    snap(page, "before-takeback-laptop")
    takeback.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message")).to_have_text("2 moves were taken back.")
    expect(page.get_by_test_id("moves")).to_be_hidden()
    assert discs(page) == 0
    expect(takeback).to_be_disabled()
    expect(page.get_by_test_id("turn")).to_have_text("Your turn")
    snap(page, "after-takeback-laptop")
    move(page, 3)  # and the game goes on
    expect(page.get_by_test_id("move-list")).to_contain_text("Yellow")
    assert discs(page) == 2


def test_a_takeback_on_one_device_takes_the_last_move(open_page: OpenPage) -> None:
    page = start_local_game(open_page, viewport=PHONE)
    expect(page.get_by_test_id("offer-draw")).to_be_hidden()
    move(page, 3)
    move(page, 4)
    page.get_by_test_id("takeback").click()
    expect(page.get_by_test_id("message")).to_have_text("A move was taken back.")
    expect(page.get_by_test_id("turn")).to_have_text("Yellow to play")
    assert discs(page) == 1


def test_between_two_people_a_takeback_is_asked_for(open_page: OpenPage) -> None:
    red, yellow, _ = two_players(open_page)
    move(red, 3)
    move(yellow, 2)
    ask = yellow.get_by_test_id("takeback")
    ask.click()
    expect(ask).to_have_text("Takeback asked")
    expect(ask).to_be_disabled()
    expect(red.get_by_test_id("takeback-answer-text")).to_have_text("Your opponent asks to take back their last move")
    expect(red.get_by_test_id("takeback")).to_be_hidden()
    red.get_by_test_id("decline-takeback").click()
    expect(yellow.get_by_test_id("message")).to_have_text("Your opponent declined the takeback.")
    expect(ask).to_have_text("Takeback")

    ask.click()
    red.get_by_test_id("accept-takeback").click()
    for page in (red, yellow):
        expect(page.get_by_test_id("message")).to_have_text("A move was taken back.")
        expect(page.get_by_test_id("moves")).to_contain_text("Red, column 4")
        expect(page.get_by_test_id("moves")).not_to_contain_text("Yellow")
    expect(yellow.get_by_test_id("turn")).to_have_text("Your turn")
    assert discs(red) == discs(yellow) == 1
    snap(yellow, "takeback-done-phone")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_with_clocks_running_and_an_offer_to_answer(open_page: OpenPage, scheme: str) -> None:
    red, yellow, _ = two_players(open_page, color_scheme=scheme)
    expect(red.get_by_test_id("first-move")).to_be_visible()
    assert axe_violations(red) == []
    move(red, 3)
    move(yellow, 3)
    red.get_by_test_id("offer-draw").click()
    yellow.get_by_test_id("takeback").click()
    expect(yellow.get_by_test_id("draw-answer")).to_be_visible()
    expect(red.get_by_test_id("takeback-answer")).to_be_visible()
    expect(red.get_by_test_id("red-clock")).to_have_attribute("data-running", "true")
    assert axe_violations(red) == []
    assert axe_violations(yellow) == []
