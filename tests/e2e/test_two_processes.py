"""Two browsers play through nginx (docs/nginx.md, TLS included) in front of two
`connectfour serve --redis` processes, each player's WebSocket on its own process:
from an invite, and from "Play someone", watched from the lobby.

nginx's round-robin sends consecutive requests to the two processes in turn,
and a page loads several files before it opens its WebSocket. So that the
guest's WebSocket lands on the other process whatever came before, the test
catches the moment the page opens it (Playwright's WebSocket route: its
connect_to_server opens a real WebSocket from the page to nginx and passes
every frame on unchanged), has the host's process answer a /healthz first,
and then lets the page connect. The tab's icon is served in the browser, so
that Chromium's own fetches of it cannot come in between. The processes'
logs say where each player landed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from e2e_pages import OpenPage, board_of, play, post_announcement, take_seat
from playwright.sync_api import Page, WebSocketRoute, expect
from scaleout.nginx_config import Nginx, behind_nginx, logged
from servers import ROOT, ServerProcess

ICON = ROOT / "connectfour" / "web" / "static" / "favicon.svg"
TOKEN = "two-processes-token"


def keep_the_icon_local(page: Page) -> None:
    """Serve the icon from the package, in the browser: Chromium fetches the tab's
    icon again whenever the page changes its address, at moments of its own."""
    page.route("**/static/favicon.svg", lambda route: route.fulfill(path=ICON))


@pytest.fixture
def proxied(redis_url: str) -> Iterator[tuple[list[ServerProcess], Nginx]]:
    servers, nginx = behind_nginx(redis_url, 2, "--admin-token", TOKEN, "--lobby-interval", "0.1")
    try:
        yield servers, nginx
    finally:
        nginx.stop()
        for server in servers:
            server.kill()


def test_two_players_on_two_processes_behind_nginx_play_to_a_win(proxied, open_page: OpenPage) -> None:
    # proxied first: its processes and nginx outlive the pages, photographed as they leave.
    servers, nginx = proxied
    # Playwright trusts no certificate of its own: this one is nginx's, self-signed for 127.0.0.1.
    site = {"base_url": nginx.url, "ignore_https_errors": True}

    red = open_page("red", None, **site)
    keep_the_icon_local(red)
    red.goto("/")
    red.get_by_test_id("start-online").click()
    invite = red.get_by_test_id("invite-link")
    expect(invite).to_have_value(re.compile(rf"^{re.escape(nginx.url)}/\?join=.+"))
    expect(red.get_by_test_id("turn")).to_have_text("Waiting for an opponent…")
    host_server = logged(servers, "created (online)")

    def to_the_other_process(route: WebSocketRoute) -> None:
        nginx.steer_away_from(host_server.proc.pid)
        route.connect_to_server()

    yellow = open_page("yellow", None, **site)
    keep_the_icon_local(yellow)
    yellow.route_web_socket(re.compile(r"/ws$"), to_the_other_process)
    yellow.goto(invite.input_value())
    take_seat(yellow)
    expect(yellow.get_by_test_id("turn")).to_have_text("Opponent's turn")
    expect(red.get_by_test_id("turn")).to_have_text("Your turn")
    expect(red.get_by_test_id("presence")).to_contain_text("Opponent joined")
    guest_server = logged(servers, "joined by yellow")
    assert guest_server is not host_server, f"both players on port {host_server.port}; nginx:\n{nginx.access_log()}"

    moves = [3, 3, 4, 4, 5, 5, 6]
    play({"red": red, "yellow": yellow}, moves, [red, yellow])

    winning = {f"cell-{column}-0" for column in range(3, 7)}
    for page in (red, yellow):
        expect(page.get_by_test_id("message")).to_contain_text("Red wins!")
        for testid in winning:
            expect(page.get_by_test_id(testid)).to_have_class(re.compile(r"\bwinning\b"))
    expect(red.get_by_test_id("turn")).to_have_text("You win!")
    expect(yellow.get_by_test_id("turn")).to_have_text("You lose: Red wins")
    assert board_of(red) == board_of(yellow)
    assert {testid for testid, _, won in board_of(yellow) if won} == winning

    # Either process serves the finished game's record, for its replay.
    replay = red.get_by_test_id("replay-link")
    expect(replay).to_have_attribute("href", re.compile(r"^/game/.+"))
    game = replay.get_attribute("href").removeprefix("/game/")
    for _ in servers:  # nginx asks each process in turn
        status, _, body = nginx.get(f"/api/games/{game}")
        assert status == 200 and json.loads(body)["moves"] == moves


def test_strangers_on_two_processes_play_someone_while_a_third_watches_from_the_lobby(
    proxied, open_page: OpenPage
) -> None:
    servers, nginx = proxied
    site = {"base_url": nginx.url, "ignore_https_errors": True}

    def visitor(role: str, name: str, away_from: ServerProcess | None = None) -> Page:
        page = open_page(role, None, **site)
        keep_the_icon_local(page)
        if away_from is not None:

            def to_the_other_process(route: WebSocketRoute) -> None:
                nginx.steer_away_from(away_from.proc.pid)
                route.connect_to_server()

            page.route_web_socket(re.compile(r"/ws$"), to_the_other_process)
        page.goto("/")
        page.get_by_test_id("name-input").fill(name)
        return page

    first = visitor("first", "Ann Apart")
    first.get_by_test_id("play-someone").click()
    expect(first.get_by_test_id("matching")).to_be_visible()
    waiting_on = logged(servers, "(a quick match, waiting)")
    second = visitor("second", "Bo Apart", away_from=waiting_on)
    second.get_by_test_id("play-someone").click()
    for page in (first, second):
        expect(page.get_by_test_id("status")).to_have_attribute("data-status", "playing")
    paired_on = logged(servers, "joined by")
    assert paired_on is not waiting_on, f"both players on port {waiting_on.port}; nginx:\n{nginx.access_log()}"
    pages = {
        page.get_by_test_id("role").text_content().removeprefix("You are ").lower(): page for page in (first, second)
    }
    assert set(pages) == {"red", "yellow"}
    play(pages, [3, 3], [first, second])

    # A third, on whichever process nginx gives it, finds the game in the lobby and watches.
    third = visitor("third", "Cy Looker")
    row = third.get_by_test_id("playing-game").filter(has_text="Ann Apart")
    expect(row).to_contain_text("Bo Apart")
    expect(row).to_contain_text("2 moves")
    row.click()
    expect(third.get_by_test_id("role")).to_have_text("Spectator")
    expect(third.get_by_test_id("players")).to_contain_text("Ann Apart")

    # Posted to one process, the announcement reaches the pages of both.
    assert post_announcement(servers[0], TOKEN, "Restart at noon", "warning") == 202
    for page in (first, second, third):
        expect(page.get_by_test_id("announcement-text")).to_have_text("Restart at noon")

    play(pages, [4, 4, 5, 5, 6], [first, second, third], after=[3, 3])
    for page in (first, second, third):
        expect(page.get_by_test_id("message")).to_contain_text("Red wins!")
