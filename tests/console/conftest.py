"""Fixtures of the browser tests: the served console, Chromium, a page per test.

``page`` is a fresh browser context (no cookies) in Simplified Chinese; ``sign_in`` pastes
a token on the sign-in page as a person would; ``axe_violations`` runs axe-core on the page.
The tests here are plain (sync) functions: no async test may run while a browser is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from browser import ServedConsole, chromium_path, served_console
from playwright.sync_api import Browser, Page, sync_playwright

#: axe-core impacts that fail a page.
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="session")
def console() -> Iterator[ServedConsole]:
    with served_console() as served:
        yield served


# Module-wide, not session-wide: while Playwright's sync API is open it holds an event loop
# as the running loop of the main thread, and the async tests of later folders could not run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, console: ServedConsole) -> Iterator[Page]:
    context = browser.new_context(
        base_url=console.base_url, locale="zh-CN", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(30_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def sign_in(console: ServedConsole) -> Callable[[Page, str], None]:
    def sign_in(page: Page, secret: str) -> None:
        page.goto("/")
        page.get_by_label("令牌").fill(secret)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(lambda url: "/signin" not in url)

    return sign_in


_axe = Axe()


@pytest.fixture
def axe_violations() -> Callable[[Page], list[dict[str, Any]]]:
    """The serious and critical axe-core violations of the page as it is now."""

    def violations(page: Page) -> list[dict[str, Any]]:
        results = _axe.run(page)
        found = results.response["violations"]
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in found
            if v["impact"] in SERIOUS
        ]

    return violations
