"""A finished game analysed: the evaluation chart and the clickable move list,
on the replay page and on the game page."""

from __future__ import annotations

import re

import pytest
from e2e_pages import OpenPage, play, start_local_game
from playwright.sync_api import Page, expect

# Red throws the win away with its first move (column 1); yellow, winning,
# lets red's four in column 1 through with its third.
MOVES = [0, 1, 0, 1, 0, 1, 0]


def replay_of_a_finished_game(open_page: OpenPage, **options) -> Page:
    page = start_local_game(open_page, **options)
    play({"red": page, "yellow": page}, MOVES, [page])
    page.get_by_test_id("replay-link").click()
    expect(page.get_by_test_id("counter")).to_have_text("Move 7 of 7")
    return page


def analysed(page: Page) -> Page:
    page.get_by_test_id("analyse").click()
    expect(page.get_by_test_id("eval-chart")).to_have_attribute("data-complete", "true", timeout=30_000)
    return page


def test_the_replay_s_chart_names_the_moves_that_threw_a_win_away(open_page: OpenPage) -> None:
    page = analysed(replay_of_a_finished_game(open_page))
    summary = page.get_by_test_id("eval-summary")
    expect(summary).to_contain_text("From the empty board, Red wins with best play.")
    expect(summary).to_contain_text("Move 1 (Red, column 1) threw away a win.")
    expect(page.locator(".eval-chart .throwaway[data-ply='1']")).to_have_count(1)
    expect(page.get_by_test_id("review-move-1")).to_contain_text("Yellow wins · threw away a win")


def test_a_click_in_the_chart_shows_that_position(open_page: OpenPage) -> None:
    page = analysed(replay_of_a_finished_game(open_page))
    chart = page.get_by_test_id("eval-slider")
    box = chart.bounding_box()
    assert box is not None
    # Three sevenths of the way: the position after move 3.
    chart.click(position={"x": box["width"] * 3 / 7, "y": box["height"] / 2})
    expect(page.get_by_test_id("counter")).to_have_text("Move 3 of 7")
    expect(page.locator(".cell[data-player]")).to_have_count(3)
    expect(page.get_by_test_id("review-move-3")).to_have_attribute("aria-current", "step")


def test_the_chart_steps_by_keyboard_and_says_who_is_winning(open_page: OpenPage) -> None:
    page = analysed(replay_of_a_finished_game(open_page))
    chart = page.get_by_test_id("eval-slider")
    chart.focus()
    page.keyboard.press("Home")
    expect(page.get_by_test_id("counter")).to_have_text("Move 0 of 7")
    expect(chart).to_have_attribute("aria-valuetext", "The empty board: Red wins with best play")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("counter")).to_have_text("Move 1 of 7")
    expect(chart).to_have_attribute("aria-valuenow", "1")
    expect(chart).to_have_attribute(
        "aria-valuetext", "After move 1 (Red, column 1): Yellow wins with best play; this move threw away a win"
    )
    page.keyboard.press("End")
    expect(page.get_by_test_id("counter")).to_have_text("Move 7 of 7")


def test_the_replay_s_move_list_steps_to_a_move_when_clicked(open_page: OpenPage) -> None:
    page = replay_of_a_finished_game(open_page)
    page.get_by_test_id("review-move-2").click()
    expect(page.get_by_test_id("counter")).to_have_text("Move 2 of 7")
    expect(page.locator(".cell[data-player]")).to_have_count(2)
    expect(page.get_by_test_id("review-move-2")).to_have_attribute("aria-current", "step")
    expect(page.get_by_test_id("review-move-7")).not_to_have_attribute("aria-current", re.compile(".*"))


# ---- the game page, once the game is over --------------------------------------

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def finished_game(open_page: OpenPage, **options) -> Page:
    page = start_local_game(open_page, **options)
    play({"red": page, "yellow": page}, MOVES, [page])
    expect(page.get_by_test_id("replay-link")).to_be_visible()
    return page


def test_the_game_page_s_move_list_steps_back_through_a_finished_game(open_page: OpenPage) -> None:
    page = finished_game(open_page)
    expect(page.get_by_test_id("review")).to_be_visible()
    page.get_by_test_id("review-move-3").click()
    expect(page.locator(".cell[data-player]")).to_have_count(3)
    expect(page.get_by_test_id("board")).to_have_attribute("aria-label", re.compile(r"^Board after move 3 of 7\."))
    expect(page.get_by_test_id("review-move-3")).to_have_attribute("aria-current", "step")
    page.get_by_test_id("review-move-7").click()
    expect(page.locator(".cell[data-player]")).to_have_count(7)
    expect(page.locator(".cell.winning")).to_have_count(4)


def test_the_game_page_analyses_the_finished_game_with_its_chart(open_page: OpenPage) -> None:
    page = analysed(finished_game(open_page, viewport=LAPTOP))
    expect(page.get_by_test_id("eval-summary")).to_contain_text("Move 6 (Yellow, column 2) threw away a win.")
    page.get_by_test_id("eval-slider").focus()
    page.keyboard.press("Home")
    expect(page.locator(".cell[data-player]")).to_have_count(0)
    page.keyboard.press("ArrowRight")
    expect(page.locator(".cell[data-player]")).to_have_count(1)


def test_the_analysed_game_fits_a_phone_s_width(open_page: OpenPage) -> None:
    page = analysed(finished_game(open_page, viewport=PHONE))
    page.get_by_test_id("review-move-5").click()
    expect(page.locator(".cell[data-player]")).to_have_count(5)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.get_by_test_id("eval-chart").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_the_analysed_replay_at_a_laptop_s_size(open_page: OpenPage) -> None:
    page = analysed(replay_of_a_finished_game(open_page, viewport=LAPTOP))
    expect(page.get_by_test_id("eval-summary")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_in_the_analysed_game(open_page: OpenPage, scheme: str) -> None:
    from test_polish import axe_violations

    page = analysed(finished_game(open_page, color_scheme=scheme))
    page.get_by_test_id("review-move-2").click()
    assert axe_violations(page) == []
    page.get_by_test_id("replay-link").click()
    page.get_by_test_id("analyse").click()  # the server kept the answers
    expect(page.get_by_test_id("eval-chart")).to_have_attribute("data-complete", "true")
    assert axe_violations(page) == []
