"""Helpers shared by the browser tests: driving games through real pages."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable

from playwright.sync_api import Page, expect

OpenPage = Callable[..., Page]  # the open_page fixture

COLUMNS, ROWS = 7, 6
PHONE = {"width": 360, "height": 740}


# ---- helpers ----------------------------------------------------------------


def cell(page: Page, column: int, row: int):
    return page.get_by_test_id(f"cell-{column}-{row}")


def board_of(page: Page) -> list[tuple[str, str, bool]]:
    """Every cell of the board: (testid, player or "", winning)."""
    return page.eval_on_selector_all(
        "[data-testid^='cell-']",
        "cells => cells.map(c => [c.dataset.testid, c.dataset.player || '', c.classList.contains('winning')]).sort()",
    )


def four_in_a_row(grid: dict[tuple[int, int], int], column: int, row: int) -> bool:
    player = grid[column, row]
    for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
        count = 1
        for sign in (1, -1):
            c, r = column + dc * sign, row + dr * sign
            while grid.get((c, r)) == player:
                count += 1
                c, r = c + dc * sign, r + dr * sign
        if count >= 4:
            return True
    return False


def drawn_game() -> list[int]:
    """42 columns that fill the board with no four in a row at any point."""
    heights = [0] * COLUMNS
    grid: dict[tuple[int, int], int] = {}
    moves: list[int] = []

    def search() -> bool:
        if len(moves) == COLUMNS * ROWS:
            return True
        for column in range(COLUMNS):
            row = heights[column]
            if row == ROWS:
                continue
            grid[column, row] = len(moves) % 2
            if not four_in_a_row(grid, column, row):
                heights[column] += 1
                moves.append(column)
                if search():
                    return True
                moves.pop()
                heights[column] -= 1
            del grid[column, row]
        return False

    assert search()
    return moves


def play(pages: dict[str, Page], moves: list[int], watchers: list[Page], *, after: list[int] = ()) -> None:
    """Play `moves` by clicking, each on its player's page, continuing a game
    whose moves so far are `after` (red plays first).

    Each move is awaited on every watching page before the next is played.
    """
    heights = [0] * COLUMNS
    for column in after:
        heights[column] += 1
    for ply, column in enumerate(moves, start=len(after)):
        colour = "red" if ply % 2 == 0 else "yellow"
        page = pages[colour]
        expect(page.get_by_test_id("status")).to_have_attribute("data-mine", "true")
        page.get_by_test_id(f"column-{column}").click()
        row = heights[column]
        heights[column] += 1
        for watcher in watchers:
            expect(cell(watcher, column, row)).to_have_attribute("data-player", colour)


def host_online_game(open_page: OpenPage, **options) -> tuple[Page, str, str]:
    """Red starts an online game; returns the page, invite and watch links.

    ``options`` go to ``open_page`` for every page (``base_url=`` another server).
    """
    red = open_page("red", **options)
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    watch = red.get_by_test_id("watch-link")
    expect(invite).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/\?join=.+"))
    expect(watch).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/\?watch=.+"))
    return red, invite.input_value(), watch.input_value()


def take_seat(page: Page, name: str = "") -> Page:
    """An invite opened with no name on this device asks for one first: give it (or none) and sit."""
    if name:
        page.get_by_test_id("join-name").fill(name)
    page.get_by_test_id("take-seat").click()
    return page


def start_two_player_game(open_page: OpenPage, **options) -> tuple[Page, Page, str]:
    red, invite, watch = host_online_game(open_page, **options)
    yellow = take_seat(open_page("yellow", invite, **options))
    expect(yellow.get_by_test_id("turn")).to_have_text("Opponent's turn")
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    return red, yellow, watch


def start_local_game(open_page: OpenPage, **options) -> Page:
    page = open_page("device", **options)
    page.get_by_test_id("start-local").click()
    expect(page.get_by_test_id("turn")).to_have_text("Red to play")
    return page


def post_announcement(server, token: str, message: str, level: str = "info") -> int:
    """``POST /api/announce`` to a server started with ``token`` as its admin token; the status."""
    request = urllib.request.Request(
        f"{server.url}/api/announce",
        data=json.dumps({"message": message, "level": level}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status
