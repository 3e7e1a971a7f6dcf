"""An operator's announcement appears on every open page as a banner one can dismiss;
a restart announced before the server closes explains the reconnection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_pages import OpenPage, post_announcement, start_local_game
from playwright.sync_api import expect

from servers import ServerProcess

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
