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
        page.wait_for_function(
            "n => document.querySelectorAll('[data-player]').length >= n + 1", arg=moves
        )
    expect(turn).to_have_text(ENDED)
    expect(page.get_by_test_id("replay-link")).to_be_visible()
