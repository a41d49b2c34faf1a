"""The `browser` and `page` fixtures, and the `browser` mark on every test that uses them.

A test opens a file in the page and looks at what went wrong and what it shows:

    from tests.browser.harness import Opened, open_report, screenshot

    def test_the_report_opens_cleanly(page: Opened, tmp_path: Path) -> None:
        view = open_report(page, tmp_path / "report.html")  # the Playwright Page
        view.hover("#bar-1")
        assert page.errors == []
        screenshot(page, tmp_path, "report")

The tests skip, saying what to install, only when playwright is not importable or no
chromium binary is found; a chromium that is there but fails to start fails them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.harness import (
    CHROMIUM_ARGS,
    Opened,
    close,
    find_chromium,
    open_page,
    why_no_browser,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser


# One browser for the package, not the session: Playwright's node driver is a child of pytest,
# and the engine tests that follow assert that pytest has no children left. Package scope
# closes it as soon as the last browser test is done.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    reason = why_no_browser()
    if reason is not None:
        if os.environ.get("BOOKING_REQUIRE_BROWSER"):  # CI, which installed it: no skipping
            pytest.fail(f"BOOKING_REQUIRE_BROWSER is set, but {reason}")
        pytest.skip(reason)
    executable = find_chromium()
    assert executable is not None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        started = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield started
        finally:
            started.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Opened]:
    opened = open_page(browser)
    try:
        yield opened
    finally:
        close(opened)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
