"""An operator's announcement appears on every open page as a banner one can dismiss;
a restart announced before the server closes explains the reconnection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_pages import OpenPage, play, post_announcement, start_local_game
from playwright.sync_api import expect
from servers import ServerProcess, free_port

TOKEN = "page-test-token"


@pytest.fixture
def announcing_server() -> Iterator[ServerProcess]:
    """Ask for it before ``open_page``: it then stops after the pages are photographed."""
    server = ServerProcess(env={"CONNECTFOUR_ADMIN_TOKEN": TOKEN})
    try:
        yield server
    finally:
        server.terminate()


def test_an_announcement_appears_on_every_open_page_and_can_be_dismissed(
    announcing_server: ServerProcess, open_page: OpenPage
) -> None:
    first = start_local_game(open_page, base_url=announcing_server.url)
    second = open_page("second", base_url=announcing_server.url)
    second.get_by_test_id("start-local").click()
    expect(second.get_by_test_id("turn")).to_have_text("Red to play")
    assert post_announcement(announcing_server, TOKEN, "Restart in 5 minutes <b>soon</b>", "warning") == 202
    for page in (first, second):
        banner = page.get_by_test_id("announcement")
        expect(banner).to_be_visible()
        expect(banner).to_have_attribute("data-level", "warning")
        expect(page.get_by_test_id("announcement-text")).to_have_text("Restart in 5 minutes <b>soon</b>")  # as text
    first.get_by_test_id("dismiss-announcement").click()
    expect(first.get_by_test_id("announcement")).to_be_hidden()
    expect(second.get_by_test_id("announcement")).to_be_visible()


def test_a_restart_says_the_server_is_restarting_while_the_page_reconnects(
    announcing_server: ServerProcess, open_page: OpenPage
) -> None:
    page = start_local_game(open_page, base_url=announcing_server.url, expected_console=[r"ERR_CONNECTION_REFUSED"])
    announcing_server.terminate()
    expect(page.get_by_test_id("announcement-text")).to_contain_text("restarting")
    expect(page.get_by_test_id("connection-text")).to_contain_text("Server restarting, reconnecting…")


@pytest.fixture
def restarting_server(tmp_path) -> Iterator[list[ServerProcess]]:
    """A server on one port and one database, stopped (SIGTERM) and started again by the test."""
    port = free_port()
    servers = [ServerProcess(port=port, db=tmp_path / "games.db", env={"CONNECTFOUR_ADMIN_TOKEN": TOKEN})]
    try:
        yield servers
    finally:
        servers[-1].terminate()


def test_the_restart_notice_leaves_the_bottom_row_in_sight_and_goes_once_play_resumes(
    restarting_server: list[ServerProcess], open_page: OpenPage
) -> None:
    first = restarting_server[0]
    page = start_local_game(
        open_page,
        base_url=first.url,
        viewport={"width": 1366, "height": 768},
        expected_console=[r"ERR_CONNECTION_REFUSED"],
    )
    play({"red": page, "yellow": page}, [0, 1], [page])
    first.terminate()
    expect(page.get_by_test_id("announcement-text")).to_contain_text("restarting")
    expect(page.get_by_test_id("connection")).to_be_visible()
    for column in range(7):
        expect(page.get_by_test_id(f"cell-{column}-0")).to_be_in_viewport(ratio=1)
    restarting_server.append(ServerProcess(port=first.port, db=first.db, env={"CONNECTFOUR_ADMIN_TOKEN": TOKEN}))
    expect(page.get_by_test_id("connection")).to_be_hidden(timeout=20_000)
    expect(page.get_by_test_id("announcement")).to_be_hidden()
    play({"red": page, "yellow": page}, [2], [page], after=[0, 1])
