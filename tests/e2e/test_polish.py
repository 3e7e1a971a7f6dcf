"""The game page as people see it on real screens: layout, presence, game feel,
small things, and axe-core's accessibility rules.

The three screens are the ones the page was tried on: two laptops and a phone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_pages import OpenPage, cell, play, start_local_game, start_two_player_game, take_seat
from playwright.sync_api import Page, expect
from terminal import Terminal

LAPTOP = {"width": 1366, "height": 768}
WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENS = {"1366x768": LAPTOP, "1440x900": WIDE, "390x844": PHONE}
# Red wins along the bottom row: the line most easily pushed below the fold.
BOTTOM_ROW_WIN = [0, 0, 1, 1, 2, 2, 3]
AXE = Path(__file__).with_name("axe.min.js")


def screen(size: dict) -> dict:
    """open_page options for a screen; the phone is a touch device."""
    if size is PHONE:
        return {"viewport": size, "is_mobile": True, "has_touch": True}
    return {"viewport": size}


def fully_visible(page: Page, *testids: str) -> None:
    for testid in testids:
        expect(page.get_by_test_id(testid)).to_be_in_viewport(ratio=1)


def board_top(page: Page) -> float:
    box = page.get_by_test_id("board").bounding_box()
    assert box is not None
    return box["y"]


# ---- 1. The board never jumps and never leaves the screen -----------------------


@pytest.mark.parametrize("size", SCREENS.values(), ids=SCREENS.keys())
def test_the_board_and_the_players_actions_stay_on_screen_before_during_and_after_a_game(
    open_page: OpenPage, size: dict
) -> None:
    red = open_page("red", **screen(size))
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).not_to_have_value("")
    expect(red.get_by_test_id("copy-invite")).to_be_visible()
    # Before: the board and the links to share.
    fully_visible(red, "board", "copy-invite", "copy-watch")
    yellow = take_seat(open_page("yellow", invite.input_value(), **screen(size)))
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    # During: the board and the resign button; the watch link shrank out of the way.
    for page in (red, yellow):
        fully_visible(page, "board", "resign")
    expect(red.get_by_test_id("watch-link")).to_be_hidden()
    expect(red.get_by_test_id("copy-watch")).to_have_text("Copy watch link")
    top = {page: board_top(page) for page in (red, yellow)}
    play({"red": red, "yellow": yellow}, BOTTOM_ROW_WIN, [red, yellow])
    # After: the result and the next steps appear without moving the board.
    expect(red.get_by_test_id("message")).to_have_text("Red wins!")
    expect(yellow.get_by_test_id("message")).to_have_text("Red wins!")
    for page in (red, yellow):
        fully_visible(page, "board", "message", "rematch", "replay-link", "start-new")
        expect(page.locator(".cell.winning")).to_have_count(4)
        for winning in page.locator(".cell.winning").all():
            expect(winning).to_be_in_viewport(ratio=1)
        assert board_top(page) == top[page]
        assert page.evaluate("() => window.scrollY") == 0


@pytest.mark.parametrize("size", [LAPTOP, WIDE], ids=["1366x768", "1440x900"])
def test_a_wide_screen_puts_the_side_panel_and_the_move_list_beside_the_board(open_page: OpenPage, size: dict) -> None:
    page = start_local_game(open_page, viewport=size)
    play({"red": page, "yellow": page}, [3, 2], [page])
    board = page.get_by_test_id("board").bounding_box()
    side = page.get_by_test_id("side").bounding_box()
    assert board and side and side["x"] >= board["x"] + board["width"]
    # The page is not a narrow column in the middle of the screen.
    assert board["width"] + side["width"] > size["width"] * 0.6
    moves = page.get_by_test_id("move-list").locator("li")
    expect(moves).to_have_text(["Red, column 4", "Yellow, column 3"])
    fully_visible(page, "moves")


def test_on_a_phone_the_board_spans_its_width_with_the_move_list_below_it(open_page: OpenPage) -> None:
    page = start_local_game(open_page, **screen(PHONE))
    play({"red": page, "yellow": page}, [3], [page])
    moves = page.get_by_test_id("moves")
    expect(moves).to_be_visible()
    board, listed = page.get_by_test_id("board").bounding_box(), moves.bounding_box()
    assert board and listed and listed["y"] >= board["y"] + board["height"]
    box = page.get_by_test_id("board").bounding_box()
    assert box and box["width"] > PHONE["width"] * 0.85


# ---- 2. Presence tells the truth ----------------------------------------------


def test_opponent_joined_fades_after_a_few_seconds(open_page: OpenPage) -> None:
    red = open_page("red", None)
    red.clock.install()
    red.goto("/")
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).not_to_have_value("")
    take_seat(open_page("yellow", invite.input_value()))
    presence = red.get_by_test_id("presence")
    expect(presence).to_have_text("Opponent joined")
    red.clock.run_for(5_000)
    expect(presence).to_have_text("")
    expect(red.get_by_test_id("live")).to_contain_text("Opponent joined")


def test_after_a_rematch_nobody_is_said_to_have_reconnected(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    play({"red": red, "yellow": yellow}, [0, 1, 0, 1, 0, 1, 0], [red, yellow])
    red.get_by_test_id("rematch").click()
    expect(yellow.get_by_test_id("rematch")).to_have_text("Accept rematch")
    yellow.get_by_test_id("rematch").click()
    expect(yellow.get_by_test_id("role")).to_have_text("You are Red")
    expect(red.get_by_test_id("role")).to_have_text("You are Yellow")
    play({"red": yellow, "yellow": red}, [3, 3], [red, yellow])
    for page in (red, yellow):
        expect(page.get_by_test_id("presence")).not_to_contain_text("reconnected")
        expect(page.get_by_test_id("live")).not_to_contain_text("reconnected")


# ---- 3. Game feel --------------------------------------------------------------


def test_the_last_move_is_marked_in_play_and_in_the_replay(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    play({"red": page, "yellow": page}, [3], [page])
    expect(cell(page, 3, 0)).to_have_attribute("data-last", "true")
    play({"red": page, "yellow": page}, [4], [page], after=[3])
    expect(cell(page, 4, 0)).to_have_attribute("data-last", "true")
    expect(page.locator("[data-last]")).to_have_count(1)
    play({"red": page, "yellow": page}, [3, 4, 3, 4, 3], [page], after=[3, 4])
    page.get_by_test_id("replay-link").click()
    expect(page.get_by_test_id("counter")).to_have_text("Move 7 of 7")
    expect(cell(page, 3, 3)).to_have_attribute("data-last", "true")
    page.get_by_test_id("back").click()
    expect(cell(page, 4, 2)).to_have_attribute("data-last", "true")
    expect(page.locator("[data-last]")).to_have_count(1)


def test_moves_and_results_make_a_sound_and_the_mute_switch_is_remembered(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    switch = page.get_by_test_id("sound")
    expect(switch).to_have_attribute("aria-pressed", "true")
    play({"red": page, "yellow": page}, [3], [page])
    expect(page.locator("body")).to_have_attribute("data-sound", "move")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "false")
    page.evaluate("() => { delete document.body.dataset.sound; }")
    play({"red": page, "yellow": page}, [4], [page], after=[3])
    expect(page.locator("body")).not_to_have_attribute("data-sound", "move")
    page.reload()
    expect(page.get_by_test_id("sound")).to_have_attribute("aria-pressed", "false")
    page.get_by_test_id("sound").click()
    play({"red": page, "yellow": page}, [3, 4, 3, 4, 3], [page], after=[3, 4])
    expect(page.locator("body")).to_have_attribute("data-sound", "win")


def test_the_replay_plays_itself_and_pauses(open_page: OpenPage) -> None:
    page = start_local_game(open_page)
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page])
    replay = page.get_by_test_id("replay-link").get_attribute("href")
    viewer = open_page("viewer", None)
    viewer.clock.install()
    viewer.goto(replay)
    counter = viewer.get_by_test_id("counter")
    expect(counter).to_have_text("Move 7 of 7")
    autoplay = viewer.get_by_test_id("autoplay")
    autoplay.click()  # at the end: starts again from the empty board
    expect(counter).to_have_text("Move 0 of 7")
    expect(autoplay).to_have_attribute("data-playing", "true")
    viewer.clock.run_for(900 * 3)
    expect(counter).to_have_text("Move 3 of 7")
    autoplay.click()
    expect(autoplay).to_have_attribute("data-playing", "false")
    viewer.clock.run_for(900 * 3)
    expect(counter).to_have_text("Move 3 of 7")
    autoplay.click()
    viewer.clock.run_for(900 * 5)
    expect(counter).to_have_text("Move 7 of 7")
    expect(autoplay).to_have_attribute("data-playing", "false")
    expect(viewer.locator(".cell.winning")).to_have_count(4)


def test_the_losers_banner_is_not_styled_as_a_success(open_page: OpenPage) -> None:
    red, yellow, _ = start_two_player_game(open_page)
    play({"red": red, "yellow": yellow}, [0, 1, 0, 1, 0, 1, 0], [red, yellow])
    expect(red.get_by_test_id("message")).to_have_attribute("data-outcome", "win")
    expect(yellow.get_by_test_id("message")).to_have_attribute("data-outcome", "loss")
    colour = "el => getComputedStyle(el).backgroundColor"
    assert red.get_by_test_id("message").evaluate(colour) != yellow.get_by_test_id("message").evaluate(colour)


# ---- 4. Small things -----------------------------------------------------------


def test_hover_and_keyboard_cursor_always_point_at_the_same_column(open_page: OpenPage) -> None:
    page = open_page("device", viewport=LAPTOP)
    page.get_by_test_id("start-local").click()  # the mouse stays where the button was
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")
    board = page.get_by_test_id("board")
    expect(board).to_have_attribute("data-cursor", "3")
    lit = "() => [...document.querySelectorAll('.column')].filter(c => getComputedStyle(c).backgroundColor !== 'rgba(0, 0, 0, 0)').map(c => c.dataset.column)"
    assert page.evaluate(lit) == ["3"]
    box = page.get_by_test_id("column-5").bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(board).to_have_attribute("data-cursor", "5")
    assert page.evaluate(lit) == ["5"]
    page.keyboard.press("ArrowLeft")
    expect(board).to_have_attribute("data-cursor", "4")
    assert page.evaluate(lit) == ["4"]
    page.keyboard.press("Enter")
    expect(cell(page, 4, 0)).to_have_attribute("data-player", "red")


def test_the_board_shows_no_focus_ring_on_a_touch_screen_before_a_touch(open_page: OpenPage) -> None:
    page = start_local_game(open_page, **screen(PHONE))
    page.reload()  # opened from its address, as a shared link would be
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")
    board = page.get_by_test_id("board")
    assert not board.evaluate("el => el.matches(':focus-visible') || document.activeElement === el")


def test_every_page_has_an_h1(open_page: OpenPage) -> None:
    page = open_page("visitor")
    expect(page.locator("h1:visible")).to_have_count(1)
    page.get_by_test_id("start-local").click()
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")
    expect(page.locator("h1")).to_have_count(3)  # the landing's and the invite's, hidden, and the game's
    assert page.locator("#game-title").text_content() == "Connect Four game"
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page])
    page.get_by_test_id("replay-link").click()
    expect(page.locator("h1:visible")).to_have_text("Game replay")
    missing = open_page("lost", "/?watch=no-such-key")
    expect(missing.get_by_test_id("message")).to_be_visible()
    assert missing.locator("#game-title").count() == 1 and missing.get_by_test_id("game").is_visible()
    assert axe_violations(missing) == []
    unknown = open_page("unknown-replay", "/game/no-such-game", expected_console=[r"404"])
    expect(unknown.get_by_test_id("message")).to_have_text("Game not found.")
    expect(unknown.locator("h1:visible")).to_have_text("Game replay")
    assert axe_violations(unknown) == []


# ---- axe-core ------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now (injected through the
    DevTools protocol, which the page's CSP does not govern)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in json.loads(result)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_the_landing_game_and_replay_pages(open_page: OpenPage, scheme: str) -> None:
    page = open_page("player", color_scheme=scheme)
    assert axe_violations(page) == []
    page.get_by_test_id("start-local").click()
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")
    play({"red": page, "yellow": page}, [3, 3], [page])
    assert axe_violations(page) == []
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page], after=[3, 3])
    expect(page.get_by_test_id("message")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_test_id("replay-link").click()
    expect(page.get_by_test_id("counter")).to_have_text("Move 9 of 9")
    assert axe_violations(page) == []


# ---- the terminal client against the page ----------------------------------------


def test_a_browser_host_and_a_terminal_guest_play_and_rematch(open_page: OpenPage) -> None:
    red = open_page("red")
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).not_to_have_value("")
    guest = Terminal("--join", invite.input_value())  # the link, whole, as the page shows it
    try:
        guest.wait_for("You are yellow.")
        expect(red.get_by_test_id("turn")).to_have_text("Your turn")
        for ply, column in enumerate([0, 1, 0, 1, 0, 1, 0]):
            if ply % 2 == 0:
                red.get_by_test_id(f"column-{column}").click()
            else:
                guest.wait_for("Your move (1-7):")
                guest.type(str(column + 1))
            expect(red.locator(".cell[data-player]")).to_have_count(ply + 1)
        expect(red.get_by_test_id("message")).to_have_text("Red wins!")
        guest.wait_for("Type r for a rematch, or q to quit.")
        # The terminal stays: the page's Rematch button works.
        red.get_by_test_id("rematch").click()
        guest.wait_for("Red offers a rematch: type r to accept.")
        guest.type("r")
        expect(red.get_by_test_id("role")).to_have_text("You are Yellow")
        guest.wait_for("You are red.")
        guest.type("4")
        expect(cell(red, 3, 0)).to_have_attribute("data-player", "red")
        code, stderr = guest.finish()
        assert code == 0, stderr
    finally:
        guest.kill()
