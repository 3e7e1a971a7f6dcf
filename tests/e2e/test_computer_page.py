"""Someone alone plays the computer from the landing page, to the end."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from e2e_pages import OpenPage, board_of
from playwright.sync_api import Page, expect
from servers import ServerProcess

ENDED = re.compile(r"^(You win!|You lose: .*|Draw: the board is full)$")
PREFERENCE = [3, 2, 4, 1, 5, 0, 6]


@pytest.fixture
def computer_server() -> Iterator[ServerProcess]:
    """Ask for it before ``open_page``. The computer answers at once, so the game is quick."""
    server = ServerProcess("--computer-delay", "0.01")
    try:
        yield server
    finally:
        server.terminate()


def free_columns(page: Page) -> list[int]:
    taken = {testid for testid, player, _ in board_of(page) if player}
    return [c for c in PREFERENCE if f"cell-{c}-5" not in taken]


@pytest.mark.parametrize("color", ["red", "yellow"])
def test_a_game_against_the_computer_is_played_to_the_end(
    computer_server: ServerProcess, open_page: OpenPage, color: str
) -> None:
    page = open_page("player", base_url=computer_server.url)
    page.get_by_test_id("computer-level").select_option("1")
    page.get_by_test_id("computer-color").select_option(color)
    page.get_by_test_id("start-computer").click()
    turn = page.get_by_test_id("turn")
    expect(page.get_by_test_id("role")).to_contain_text(color.capitalize())
    for _ in range(21):
        expect(turn).to_have_text(re.compile(f"^Your turn$|{ENDED.pattern}"))
        if ENDED.match(turn.inner_text()):
            break
        moves = sum(1 for _, player, _ in board_of(page) if player)
        page.get_by_test_id(f"column-{free_columns(page)[0]}").click()
        # Our checker, then the computer's answer (unless ours ended the game).
        page.wait_for_function("n => document.querySelectorAll('[data-player]').length >= n + 1", arg=moves)
    expect(turn).to_have_text(ENDED)
    expect(page.get_by_test_id("replay-link")).to_be_visible()


def test_the_replay_shows_what_each_move_is_worth(open_page: OpenPage) -> None:
    from e2e_pages import play, start_local_game

    page = start_local_game(open_page)
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page])
    page.get_by_test_id("replay-link").click()
    expect(page.get_by_test_id("counter")).to_have_text("Move 7 of 7")
    page.get_by_test_id("analysis-toggle").check()
    text = page.get_by_test_id("analysis-text")
    expect(text).to_have_text("The game is over at this position.")
    page.get_by_test_id("first").click()
    # The empty board: only the centre wins, with red's last stone.
    expect(text).to_have_text("Red to play. Red wins with its 21st move from here, playing column 4.")
    expect(page.get_by_test_id("analysis-3")).to_contain_text("Column 4: Red wins with its 21st move")
    expect(page.get_by_test_id("analysis-3")).to_have_class(re.compile(r"\bbest\b"))
    expect(page.get_by_test_id("analysis-0")).to_have_attribute("data-result", "loss")
    expect(page.get_by_test_id("analysis-0")).to_contain_text("Column 1: Yellow wins with its")
    # One step on: red played column 1, a mistake: now yellow wins.
    page.get_by_test_id("forward").click()
    expect(text).to_have_text("Yellow to play. Yellow wins with its 20th move from here, playing column 2 or 4.")
    page.get_by_test_id("analysis-toggle").uncheck()
    expect(page.get_by_test_id("analysis-columns")).to_be_hidden()


def test_a_spectator_who_switches_it_on_sees_what_each_move_is_worth(open_page: OpenPage) -> None:
    from e2e_pages import play, start_two_player_game

    red, yellow, watch = start_two_player_game(open_page)
    spectator = open_page("spectator", watch)
    toggle = spectator.get_by_test_id("analysis-toggle")
    expect(toggle).to_be_visible()
    expect(red.get_by_test_id("spectator-analysis")).to_be_hidden()  # not for the players
    toggle.check()
    text = spectator.get_by_test_id("analysis-text")
    expect(text).to_have_text("Red to play. Red wins with its 21st move from here, playing column 4.")
    play({"red": red, "yellow": yellow}, [3], [red, yellow, spectator])
    expect(text).to_have_text(
        "Yellow to play. Red wins with its 20th move from here, whatever Yellow plays; column 4 holds out longest."
    )


def test_the_replay_of_a_computer_game_names_the_computer_and_its_level(
    computer_server: ServerProcess, open_page: OpenPage
) -> None:
    page = open_page("player", base_url=computer_server.url)
    page.get_by_test_id("name-input").fill("Ada")
    page.get_by_test_id("computer-level").select_option("3")
    page.get_by_test_id("computer-color").select_option("yellow")
    page.get_by_test_id("start-computer").click()
    expect(page.get_by_test_id("turn")).to_have_text("Your turn")
    page.get_by_test_id("resign").click()
    page.get_by_test_id("resign-confirm").click()
    page.get_by_test_id("replay-link").click()
    expect(page.get_by_test_id("red-name")).to_have_text("Computer (level 3)")
    expect(page.get_by_test_id("yellow-name")).to_have_text("Ada")


@pytest.mark.parametrize(
    "size", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}], ids=["1366x768", "390x844"]
)
def test_each_value_sits_under_its_own_column_on_one_line(open_page: OpenPage, size: dict) -> None:
    from e2e_pages import play, start_local_game

    page = start_local_game(open_page, viewport=size)
    play({"red": page, "yellow": page}, [0, 1, 0, 1, 0, 1, 0], [page])
    page.get_by_test_id("replay-link").click()
    page.get_by_test_id("first").click()
    page.get_by_test_id("analysis-toggle").check()
    expect(page.get_by_test_id("analysis-6")).to_have_attribute("data-result", re.compile("win|draw|loss"))
    tops = set()
    for column in range(7):
        value = page.get_by_test_id(f"analysis-{column}").bounding_box()
        hole = page.get_by_test_id(f"cell-{column}-0").bounding_box()
        assert value is not None and hole is not None
        centre = value["x"] + value["width"] / 2
        assert hole["x"] <= centre <= hole["x"] + hole["width"], f"column {column + 1}'s value is not under it"
        tops.add(round(value["y"]))
    assert len(tops) == 1, f"the values wrap: {sorted(tops)}"
    expect(page.get_by_test_id("analysis-columns")).to_be_in_viewport(ratio=1)
