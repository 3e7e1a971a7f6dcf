"""Two browsers play through nginx (docs/nginx.md, TLS included) in front of two
`connectfour serve --redis` processes, each player's WebSocket on its own process.

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
from e2e_pages import OpenPage, board_of, play
from playwright.sync_api import Page, WebSocketRoute, expect

from scaleout.nginx_config import Nginx, behind_nginx, logged
from servers import ROOT, ServerProcess

ICON = ROOT / "connectfour" / "web" / "static" / "favicon.svg"


def keep_the_icon_local(page: Page) -> None:
    """Serve the icon from the package, in the browser: Chromium fetches the tab's
    icon again whenever the page changes its address, at moments of its own."""
    page.route("**/static/favicon.svg", lambda route: route.fulfill(path=ICON))


@pytest.fixture
def proxied(redis_url: str) -> Iterator[tuple[list[ServerProcess], Nginx]]:
    servers, nginx = behind_nginx(redis_url)
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
