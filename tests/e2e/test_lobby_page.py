"""The landing page's lobby, quick match ("Play someone") and display names,
in real pages against a real server.

The tests of this module share one server (its own, with an admin token for
announcements): a game another test left in the lobby is told apart by its
players' names, which each test makes its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_pages import OpenPage, cell, play, post_announcement, start_local_game
from playwright.sync_api import Page, expect
from servers import ServerProcess, free_port

TOKEN = "lobby-page-token"
PHONE = {"width": 390, "height": 844}
# Red wins down the first column; yellow plays beside it.
RED_WINS = [0, 1, 0, 1, 0, 1, 0]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    process = ServerProcess("--games-per-minute", "0", env={"CONNECTFOUR_ADMIN_TOKEN": TOKEN})
    try:
        yield process
    finally:
        process.terminate()


# ---- helpers --------------------------------------------------------------------


def visit(open_page: OpenPage, server: ServerProcess, role: str, path: str = "/", **options) -> Page:
    page = open_page(role, path, base_url=server.url, **options)
    if path == "/":
        expect(page.get_by_test_id("online-count")).to_have_text(re.compile(r"^\d+ players? online$"))
    return page


def named_visitor(open_page: OpenPage, server: ServerProcess, role: str, name: str, **options) -> Page:
    page = visit(open_page, server, role, **options)
    page.get_by_test_id("name-input").fill(name)
    return page


def play_someone(page: Page) -> None:
    page.get_by_test_id("play-someone").click()


def colour_of(page: Page) -> str:
    expect(page.get_by_test_id("role")).to_have_text(re.compile(r"^You are (Red|Yellow)$"))
    return page.get_by_test_id("role").text_content().removeprefix("You are ").lower()


def quick_match(first: Page, second: Page) -> dict[str, Page]:
    """Both press "Play someone", the first waits and the second pairs; returns the pages by colour."""
    play_someone(first)
    expect(first.get_by_test_id("matching")).to_be_visible()
    expect(first.get_by_test_id("matching-text")).to_have_text("Looking for an opponent…")
    play_someone(second)
    for page in (first, second):
        expect(page.get_by_test_id("status")).to_have_attribute("data-status", "playing")
        expect(page.get_by_test_id("matching")).to_be_hidden()
    pages = {colour_of(first): first, colour_of(second): second}
    assert set(pages) == {"red", "yellow"}
    expect(pages["red"].get_by_test_id("turn")).to_have_text("Your turn")
    expect(pages["yellow"].get_by_test_id("turn")).to_have_text("Opponent's turn")
    return pages


def playing_row(page: Page, name: str):
    return page.get_by_test_id("playing-game").filter(has_text=name)


def waiting_row(page: Page, name: str):
    return page.get_by_test_id("waiting-game").filter(has_text=name)


# ---- quick match ----------------------------------------------------------------


def test_two_strangers_play_someone_and_finish_while_a_third_finds_the_game_in_the_lobby_and_watches(
    server: ServerProcess, open_page: OpenPage
) -> None:
    ann = named_visitor(open_page, server, "ann", "Ann Quick")
    bo = named_visitor(open_page, server, "bo", "Bo Quick")
    pages = quick_match(ann, bo)
    play(pages, RED_WINS[:2], list(pages.values()))

    lobby = named_visitor(open_page, server, "lobby", "Cy Looker")
    row = playing_row(lobby, "Ann Quick")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Bo Quick")
    expect(row).to_contain_text("2 moves")
    expect(row).to_contain_text("no spectators")
    row.click()

    expect(lobby.get_by_test_id("role")).to_have_text("Spectator")
    expect(lobby.get_by_test_id("red-name")).to_have_text(ann.get_by_test_id("red-name").text_content())
    for names in (lobby, ann, bo):
        expect(names.get_by_test_id("players")).to_contain_text("Ann Quick")
        expect(names.get_by_test_id("players")).to_contain_text("Bo Quick")
    expect(cell(lobby, RED_WINS[0], 0)).to_have_attribute("data-player", "red")
    expect(cell(lobby, RED_WINS[1], 0)).to_have_attribute("data-player", "yellow")

    # The lobby counts the spectator.
    other = visit(open_page, server, "other")
    expect(playing_row(other, "Ann Quick")).to_contain_text("1 watching")

    play(pages, RED_WINS[2:], [*pages.values(), lobby], after=RED_WINS[:2])
    for page in (lobby, *pages.values()):
        expect(page.get_by_test_id("message")).to_have_text("Red wins!")
    # A finished game leaves the lobby.
    expect(playing_row(other, "Ann Quick")).to_have_count(0)


def test_cancelling_a_quick_match_returns_to_the_landing_page_and_the_looking_count_drops(
    server: ServerProcess, open_page: OpenPage
) -> None:
    observer = visit(open_page, server, "observer")
    expect(observer.get_by_test_id("seeking-count")).to_have_text("0 looking for a game")
    seeker = named_visitor(open_page, server, "seeker", "Dee Seeker")
    play_someone(seeker)
    expect(seeker.get_by_test_id("matching")).to_be_visible()
    expect(seeker).to_have_url(re.compile(r"/\?game="))
    expect(observer.get_by_test_id("seeking-count")).to_have_text("1 looking for a game")

    seeker.get_by_test_id("cancel-match").click()
    expect(seeker.get_by_test_id("landing")).to_be_visible()
    expect(seeker.get_by_test_id("game")).to_be_hidden()
    expect(seeker).to_have_url(re.compile(r"/$"))
    expect(seeker.get_by_test_id("play-someone")).to_be_focused()
    expect(observer.get_by_test_id("seeking-count")).to_have_text("0 looking for a game")
    # The same connection follows the lobby again.
    expect(seeker.get_by_test_id("seeking-count")).to_have_text("0 looking for a game")


def test_a_player_waiting_for_a_quick_match_reloads_keeps_waiting_and_is_paired(
    server: ServerProcess, open_page: OpenPage
) -> None:
    waiter = named_visitor(open_page, server, "waiter", "Eve Waiter")
    play_someone(waiter)
    expect(waiter.get_by_test_id("matching")).to_be_visible()
    expect(waiter).to_have_url(re.compile(r"/\?game="))
    waiter.reload()
    expect(waiter.get_by_test_id("matching")).to_be_visible()
    expect(waiter.get_by_test_id("turn")).to_have_text("Finding an opponent…")
    other = named_visitor(open_page, server, "other", "Fay Other")
    play_someone(other)
    for page in (waiter, other):
        expect(page.get_by_test_id("status")).to_have_attribute("data-status", "playing")
    expect(waiter.get_by_test_id("players")).to_contain_text("Fay Other")
    expect(other.get_by_test_id("players")).to_contain_text("Eve Waiter")


# ---- public and private games ------------------------------------------------------


def test_a_public_game_is_listed_and_joined_with_a_click_and_a_private_one_never_is(
    server: ServerProcess, open_page: OpenPage
) -> None:
    private = named_visitor(open_page, server, "private", "Gus Private")
    expect(private.get_by_test_id("visibility-private")).to_be_checked()  # the default
    private.get_by_test_id("start-online").click()
    expect(private.get_by_test_id("invite-link")).not_to_have_value("")

    public = named_visitor(open_page, server, "public", "Hal Public")
    public.get_by_test_id("visibility-public").check()
    public.get_by_test_id("start-online").click()
    expect(public.get_by_test_id("invite-link")).not_to_have_value("")

    guest = named_visitor(open_page, server, "guest", "Ida Guest")
    row = waiting_row(guest, "Hal Public")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Join as Yellow")
    # Lobby updates are whole: the private game, made first, would be there by now.
    expect(waiting_row(guest, "Gus Private")).to_have_count(0)
    expect(playing_row(guest, "Gus Private")).to_have_count(0)
    row.click()

    expect(guest.get_by_test_id("role")).to_have_text("You are Yellow")
    expect(guest.get_by_test_id("turn")).to_have_text("Opponent's turn")
    expect(public.get_by_test_id("turn")).to_have_text("Your turn")
    expect(public.get_by_test_id("yellow-name")).to_have_text("Ida Guest")
    expect(guest.get_by_test_id("red-name")).to_have_text("Hal Public")

    later = visit(open_page, server, "later")
    expect(playing_row(later, "Hal Public")).to_contain_text("Ida Guest")
    expect(waiting_row(later, "Hal Public")).to_have_count(0)
    expect(waiting_row(later, "Gus Private")).to_have_count(0)


# ---- names ---------------------------------------------------------------------


def test_a_name_is_kept_across_reloads_and_shown_to_the_opponent_spectators_and_the_replay(
    server: ServerProcess, open_page: OpenPage
) -> None:
    red = visit(open_page, server, "red")
    red.get_by_test_id("name-input").fill("  Zoë   O'Neil-Smith ")
    red.get_by_test_id("name-input").press("Enter")  # tidied and kept
    expect(red.get_by_test_id("name-input")).to_have_value("Zoë O'Neil-Smith")
    red.reload()
    expect(red.get_by_test_id("name-input")).to_have_value("Zoë O'Neil-Smith")

    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).not_to_have_value("")
    guest = visit(open_page, server, "guest-name-setter")
    guest.get_by_test_id("name-input").fill("Jon")
    guest.get_by_test_id("name-input").press("Enter")
    guest.goto(invite.input_value())  # the invite link takes the kept name along
    expect(guest.get_by_test_id("turn")).to_have_text("Opponent's turn")
    watcher = visit(open_page, server, "watcher", red.get_by_test_id("watch-link").input_value())

    expect(red.get_by_test_id("red-name")).to_have_text("Zoë O'Neil-Smith")
    expect(red.get_by_test_id("players")).to_contain_text("(you)")
    expect(red.get_by_test_id("yellow-name")).to_have_text("Jon")
    expect(guest.get_by_test_id("red-name")).to_have_text("Zoë O'Neil-Smith")
    expect(guest.get_by_test_id("yellow-name")).to_have_text("Jon")
    expect(watcher.get_by_test_id("red-name")).to_have_text("Zoë O'Neil-Smith")
    expect(watcher.get_by_test_id("yellow-name")).to_have_text("Jon")

    red.reload()  # the game page, resumed: the names come back with it
    expect(red.get_by_test_id("yellow-name")).to_have_text("Jon")
    play({"red": red, "yellow": guest}, RED_WINS, [red, guest])
    red.get_by_test_id("replay-link").click()
    expect(red.get_by_test_id("counter")).to_have_text("Move 7 of 7")
    expect(red.get_by_test_id("players")).to_have_text("Red: Zoë O'Neil-Smith vs Yellow: Jon")


def paired_with_names(open_page: OpenPage, server: ServerProcess, viewport: dict) -> dict[str, Page]:
    return quick_match(
        named_visitor(open_page, server, "first", "Annabel Wide", viewport=viewport),
        named_visitor(open_page, server, "second", "Bartholomew", viewport=viewport),
    )


def is_cut(element) -> bool:
    return element.evaluate("e => e.scrollWidth > e.clientWidth")


@pytest.mark.parametrize("viewport", [{"width": 1000, "height": 800}, {"width": 1366, "height": 768}], ids=str)
def test_on_a_wide_screen_both_names_are_shown_whole_above_the_board(
    server: ServerProcess, open_page: OpenPage, viewport: dict
) -> None:
    for page in paired_with_names(open_page, server, viewport).values():
        for colour in ("red", "yellow"):
            expect(page.get_by_test_id(f"{colour}-name")).to_be_visible()
            assert not is_cut(page.get_by_test_id(f"{colour}-name")), (viewport, colour)
        assert not is_cut(page.get_by_test_id("players")), viewport


def test_on_a_phone_names_short_of_room_both_give_way_and_keep_their_first_letters(
    server: ServerProcess, open_page: OpenPage
) -> None:
    for page in paired_with_names(open_page, server, {"width": 360, "height": 740}).values():
        widths = [
            page.get_by_test_id(f"{colour}-name").evaluate(
                "e => e.clientWidth / parseFloat(getComputedStyle(e).fontSize)"
            )
            for colour in ("red", "yellow")
        ]
        assert min(widths) >= 2.5, widths  # a few letters of each, never one whole and one gone
        assert not is_cut(page.get_by_test_id("players"))


CHARACTERS = "Names can have letters, digits, spaces and _ ' . - only"


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("<b>x</b>", f"{CHARACTERS}, not “<” “>” “/”."),
        ("<img src=x onerror=window.__pwned=1>", f"{CHARACTERS}, not “<” “=” “>”."),
        ("a" * 25, "Your name is 25 characters long: 24 at most, please."),
        ("tab\there? no!", f"{CHARACTERS}, not “?” “!”."),
    ],
    ids=["bold", "img", "too-long", "punctuation"],
)
def test_a_name_with_markup_or_too_long_is_refused_in_the_page_and_never_rendered(
    server: ServerProcess, open_page: OpenPage, bad: str, says: str
) -> None:
    page = named_visitor(open_page, server, "refused", bad)
    play_someone(page)
    error = page.get_by_test_id("name-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(says)
    expect(page.get_by_test_id("name-input")).to_be_focused()
    expect(page.get_by_test_id("name-input")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("landing")).to_be_visible()
    expect(page.get_by_test_id("game")).to_be_hidden()
    page.get_by_test_id("start-online").click()
    expect(page.get_by_test_id("game")).to_be_hidden()
    # Nothing of it was kept, run or turned into markup.
    assert page.evaluate("() => localStorage.getItem('connectfour:name')") is None
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("main b, main img").count() == 0
    # Fixed, the message goes and the game starts.
    page.get_by_test_id("name-input").fill("Kim")
    expect(error).to_be_hidden()
    play_someone(page)
    expect(page.get_by_test_id("matching")).to_be_visible()
    page.get_by_test_id("cancel-match").click()
    expect(page.get_by_test_id("landing")).to_be_visible()


# ---- announcements ---------------------------------------------------------------


def test_an_announcement_appears_on_the_lobby_page_and_on_game_pages(
    server: ServerProcess, open_page: OpenPage
) -> None:
    lobby = visit(open_page, server, "lobby")
    game = start_local_game(open_page, base_url=server.url)
    waiting = visit(open_page, server, "waiting")
    play_someone(waiting)
    expect(waiting.get_by_test_id("matching")).to_be_visible()
    assert post_announcement(server, TOKEN, "Maintenance at noon <i>sharp</i>", "warning") == 202
    for page in (lobby, game, waiting):
        expect(page.get_by_test_id("announcement")).to_be_visible()
        expect(page.get_by_test_id("announcement-text")).to_have_text("Maintenance at noon <i>sharp</i>")
    waiting.get_by_test_id("cancel-match").click()
    expect(waiting.get_by_test_id("landing")).to_be_visible()


def test_the_lobby_says_the_server_is_restarting_and_comes_back_by_itself(tmp_path: Path, open_page: OpenPage) -> None:
    port, db = free_port(), tmp_path / "games.db"
    first = ServerProcess(port=port, db=db)
    try:
        page = open_page("lobby", base_url=first.url, expected_console=[r"ERR_CONNECTION_REFUSED"])
        expect(page.get_by_test_id("online-count")).to_have_text("1 player online")
        first.terminate()
        expect(page.get_by_test_id("announcement-text")).to_contain_text("restart")
        expect(page.get_by_test_id("lobby-status")).to_have_text("Server restarting, reconnecting…")
        expect(page.get_by_test_id("lobby")).to_have_attribute("data-connection", "down")
    finally:
        first.terminate()
    second = ServerProcess(port=port, db=db)
    try:
        expect(page.get_by_test_id("lobby")).to_have_attribute("data-connection", "up", timeout=15_000)
        expect(page.get_by_test_id("lobby-status")).to_be_hidden()
        expect(page.get_by_test_id("online-count")).to_have_text("1 player online")
    finally:
        second.terminate()


# ---- the look -------------------------------------------------------------------


def test_the_lobby_fits_a_phone_and_is_usable_with_the_keyboard(server: ServerProcess, open_page: OpenPage) -> None:
    host = named_visitor(open_page, server, "host", "Lu Keyboard")
    host.get_by_test_id("visibility-public").check()
    host.get_by_test_id("start-online").click()
    expect(host.get_by_test_id("invite-link")).not_to_have_value("")

    phone = visit(open_page, server, "phone", viewport=PHONE, is_mobile=True, has_touch=True)
    expect(phone.get_by_test_id("play-someone")).to_be_in_viewport()
    row = waiting_row(phone, "Lu Keyboard")
    expect(row).to_be_visible()
    width = phone.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1] == PHONE["width"]

    # From the name field, Tab reaches "Play someone", and the lobby's games are links.
    keys = visit(open_page, server, "keys")
    keys.get_by_test_id("name-input").focus()
    keys.keyboard.press("Tab")
    expect(keys.get_by_test_id("play-someone")).to_be_focused()
    link = waiting_row(keys, "Lu Keyboard")
    link.focus()
    keys.keyboard.press("Enter")
    expect(keys.get_by_test_id("role")).to_have_text("You are Yellow")


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations on the page as it is now (as test_polish.py runs it)."""
    page.evaluate((Path(__file__).with_name("axe.min.js")).read_text())
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in json.loads(result)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_the_lobby_a_refused_name_and_a_quick_match_wait(
    server: ServerProcess, open_page: OpenPage, scheme: str
) -> None:
    host = named_visitor(open_page, server, "host", f"Mo Axe {scheme}")
    host.get_by_test_id("visibility-public").check()
    host.get_by_test_id("start-online").click()
    expect(host.get_by_test_id("invite-link")).not_to_have_value("")
    page = visit(open_page, server, "axe", color_scheme=scheme)
    expect(waiting_row(page, f"Mo Axe {scheme}")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_test_id("name-input").fill("<b>no</b>")
    play_someone(page)
    expect(page.get_by_test_id("name-error")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_test_id("name-input").fill("Ny Axe")
    play_someone(page)
    expect(page.get_by_test_id("matching")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_test_id("cancel-match").click()
    expect(page.get_by_test_id("landing")).to_be_visible()
