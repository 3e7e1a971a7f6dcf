"""Headless Chromium for the end-to-end tests.

The browser is Debian's ``chromium`` driven by Playwright through
``executable_path`` (Playwright cannot download its own browser here). Every
page a test opens gets its own browser context (its own cookies and storage,
like a separate person), and a screenshot of it is saved when the test ends,
to ``tests/artifacts/screenshots/<test>-<role>.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from inprocess import InProcessServer, in_process_server
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
DESKTOP = {"width": 1024, "height": 900}

# Auto-waiting assertions give the page a few seconds, never longer.
expect.set_options(timeout=5_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


OpenPage = Callable[..., Page]


@pytest.fixture
def clocked_server() -> Iterator[InProcessServer]:
    """The app in this process, its games on a clock the test moves (``server.clock.advance``):
    open pages on it with ``base_url=server.url``. See inprocess.py."""
    with in_process_server(games_per_minute=0, computer_delay=0.1) as server:
        yield server


@pytest.fixture
def open_page(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[OpenPage]:
    """Open ``path`` (None: nothing yet) on the live server in a fresh context, as ``role``.

    ``role`` names the screenshot taken when the test ends. Uncaught
    JavaScript errors, console errors and warnings, and dialogs (``alert()``
    and the like) in any page fail the test.

    ``base_url`` points the page at another server (one a test starts itself);
    ``context`` opens the page as another tab of an earlier page's browser
    (same storage), e.g. ``context=red.context``. ``expected_console`` lists
    patterns of console errors the test provokes on purpose, such as
    Chromium's own notes about a refused connection or a 404 answer.
    """
    opened: list[tuple[str, Page, list[str]]] = []

    def open_page(
        role: str,
        path: str | None = "/",
        *,
        viewport: dict | None = None,
        context: BrowserContext | None = None,
        expected_console: list[str] = (),
        **options,
    ) -> Page:
        if context is None:
            options.setdefault("base_url", live_server)
            context = browser.new_context(viewport=viewport or DESKTOP, reduced_motion="reduce", **options)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The page warns on the console when the server's events disagree with it.
        expected = [re.compile(pattern) for pattern in expected_console]

        def on_console(message: ConsoleMessage) -> None:
            if message.type not in ("error", "warning"):
                return
            if message.type == "error" and any(pattern.search(message.text) for pattern in expected):
                return
            errors.append(f"console.{message.type}: {message.text}")

        page.on("console", on_console)
        # The page must never use alert(), confirm() or prompt().
        page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        opened.append((role, page, errors))
        if path is not None:
            page.goto(path)
        return page

    yield open_page

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    problems = []
    # Every page is photographed before any closes, so that nobody's page
    # shows the others leaving.
    try:
        for role, page, errors in opened:
            problems += [f"{role}: {error}" for error in errors]
            if page.is_closed():
                continue
            page.screenshot(path=str(SCREENSHOTS / f"{test_name}-{role}.png"), full_page=True)
    finally:
        for context in dict.fromkeys(page.context for _, page, _ in opened):
            context.close()
    assert not problems, f"JavaScript errors: {problems}"
