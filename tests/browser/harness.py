"""The browser harness: where Chromium is, how it is started, and what a test opens a page
with. conftest.py turns these into the `browser` and `page` fixtures; test modules import
`Opened`, `open_report` and `screenshot` from here.

Playwright is imported only for its types at module level, so that a machine without it
collects these tests and skips them (conftest says why) instead of failing to import."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Error,
        Page,
        Route,
        WebSocketRoute,
    )

#: Set, it is the only place looked: a path that is not an executable file (say
#: `BOOKING_CHROMIUM=/nonexistent`) means "no browser", so the skip can be tried at will.
CHROMIUM_ENV = "BOOKING_CHROMIUM"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install chromium chromium-driver"

#: Without the background-networking flags Chromium keeps dialling Google's services, and on a
#: closed network those connections are refused; QUIC off for the same reason. Playwright's
#: `launch` already starts from a fresh temporary profile, removed again on close.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: What a report may load: itself and what it carries inline. Anything else (a CDN script, a
#: web font, an analytics beacon) is blocked and counted as an error. (Chromium does not hand
#: data: and blob: URLs to the route at all, so they load either way; "data" is said here so
#: the rule reads whole.)
LOCAL_SCHEMES = frozenset({"file", "data"})

#: A report is a local file: anything slower than this is a hang, not a slow network.
TIMEOUT_MS = 10_000


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium() -> str | None:
    """$BOOKING_CHROMIUM if set (and only it), else Debian's /usr/bin/chromium, else
    `chromium` on the PATH; None when there is none."""
    named = os.environ.get(CHROMIUM_ENV)
    if named is not None:
        return named if _runnable(named) else None
    for candidate in (DEBIAN_CHROMIUM, shutil.which("chromium")):
        if candidate and _runnable(candidate):
            return candidate
    return None


def playwright_importable() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def why_no_browser() -> str | None:
    """The reason the browser tests cannot run on this machine, or None when they can."""
    if not playwright_importable():
        return (
            "browser tests need the Python package playwright "
            "(pip install -e '.[test]'; never `playwright install`: it drives Debian's chromium)"
        )
    if find_chromium() is not None:
        return None
    named = os.environ.get(CHROMIUM_ENV)
    where = (
        f"{CHROMIUM_ENV}={named!r} is not an executable file"
        if named is not None
        else f"neither {DEBIAN_CHROMIUM} nor `chromium` on PATH exists"
    )
    return f"browser tests need Debian's chromium ({where}): {INSTALL}"


@dataclass
class Opened:
    """A fresh page and what went wrong on it: every console error, every uncaught exception
    and every network request that tried to leave the machine, as one line each."""

    page: Page
    errors: list[str] = field(default_factory=list)


def open_page(browser: Browser) -> Opened:
    """A page in a context of its own (no cookies, storage or cache shared between tests),
    its errors recorded and its network closed. Close it with `close(opened)`."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="en-US",
        timezone_id="UTC",
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    opened = Opened(context.new_page())
    errors = opened.errors

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location
            errors.append(f"console.error: {message.text} ({where['url']}:{where['lineNumber']})")

    def on_pageerror(error: Error) -> None:
        errors.append(f"uncaught {error.name}: {error.message}")

    def on_request(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            errors.append(f"blocked request: {route.request.method} {url}")
            route.abort("blockedbyclient")

    def on_websocket(socket: WebSocketRoute) -> None:
        # Not connected to any server: the page's socket only sees the close.
        errors.append(f"blocked websocket: {socket.url}")
        socket.close()

    context.route("**/*", on_request)
    context.route_web_socket("**/*", on_websocket)
    opened.page.on("console", on_console)
    opened.page.on("pageerror", on_pageerror)
    return opened


def close(opened: Opened) -> None:
    context: BrowserContext = opened.page.context
    context.close()


def open_report(opened: Opened, path: Path) -> Page:
    """Go to the file at `path`, wait for its load event and for the tasks its scripts queued
    (two animation frames and a timer), and return the Playwright page."""
    page = opened.page
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.evaluate(
        "() => new Promise(done =>"
        " requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))))"
    )
    return page


def screenshot(opened: Opened | Page, tmp_path: Path, name: str) -> Path:
    """A full-page PNG of the page, as tmp_path/NAME.png; the path is returned, to look at."""
    page = opened.page if isinstance(opened, Opened) else opened
    path = tmp_path / f"{Path(name).stem}.png"
    page.screenshot(path=path, full_page=True)
    return path
