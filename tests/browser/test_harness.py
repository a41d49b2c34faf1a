"""The harness itself, on small pages written here: it catches console errors, uncaught
exceptions and requests that leave the machine, finds nothing on a clean page, hovers for
real and writes screenshots. If one of these fails, the report tests can't be trusted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import harness
from tests.browser.harness import (
    CHROMIUM_ENV,
    INSTALL,
    Opened,
    find_chromium,
    open_report,
    screenshot,
    why_no_browser,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def html(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(f"<!doctype html><html><head><title>t</title></head><body>{body}</body></html>")
    return path


def test_a_console_error_is_caught(page: Opened, tmp_path: Path) -> None:
    open_report(page, html(tmp_path, "<script>console.error('the bars are missing')</script>"))
    assert len(page.errors) == 1
    assert page.errors[0].startswith("console.error: the bars are missing (file://")


def test_a_script_that_throws_is_caught(page: Opened, tmp_path: Path) -> None:
    open_report(page, html(tmp_path, "<script>null.bars.length</script>"))
    assert [e for e in page.errors if e.startswith("uncaught TypeError:")], page.errors


def test_an_error_thrown_after_load_is_caught(page: Opened, tmp_path: Path) -> None:
    script = "addEventListener('load', () => setTimeout(() => { throw new Error('late') }))"
    open_report(page, html(tmp_path, f"<script>{script}</script>"))
    assert "uncaught Error: late" in page.errors


def test_a_request_to_a_cdn_is_blocked_and_recorded(page: Opened, tmp_path: Path) -> None:
    body = (
        "<script>fetch('https://cdn.example.com/x.js').catch(() => {})</script>"
        "<script src='https://cdn.example.com/y.js'></script>"
    )
    open_report(page, html(tmp_path, body))
    assert "blocked request: GET https://cdn.example.com/x.js" in page.errors
    assert "blocked request: GET https://cdn.example.com/y.js" in page.errors


def test_a_websocket_is_blocked_and_recorded(page: Opened, tmp_path: Path) -> None:
    script = "const s = new WebSocket('wss://cdn.example.com/live'); s.onclose = () => {}"
    view = open_report(page, html(tmp_path, f"<script>{script}</script>"))
    view.wait_for_timeout(200)  # the socket opens after load
    assert "blocked websocket: wss://cdn.example.com/live" in page.errors


def test_a_clean_page_has_no_errors_and_loads_its_local_files(page: Opened, tmp_path: Path) -> None:
    (tmp_path / "local.js").write_text("document.body.dataset.local = 'ran'")
    pixel = (
        "data:image/png;base64,"
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    body = f"<h1>Sold 10</h1><img id='px' src='{pixel}'><script src='local.js'></script>"
    view = open_report(page, html(tmp_path, body))
    assert page.errors == []
    assert view.title() == "t"
    assert view.text_content("h1") == "Sold 10"
    assert view.evaluate("document.body.dataset.local") == "ran"  # file: is let through
    assert view.evaluate("document.getElementById('px').naturalWidth") == 1  # and data:


def test_hovering_fires_mouseover(page: Opened, tmp_path: Path) -> None:
    body = (
        "<div id='bar' style='width:200px;height:50px;background:#c33'"
        " onmouseover=\"document.getElementById('tip').textContent = 'lock: 10 sold'\"></div>"
        "<p id='tip'></p>"
    )
    view = open_report(page, html(tmp_path, body))
    assert view.text_content("#tip") == ""
    view.hover("#bar")
    assert view.text_content("#tip") == "lock: 10 sold"
    assert page.errors == []


def test_a_screenshot_is_a_png_in_the_tests_folder(page: Opened, tmp_path: Path) -> None:
    open_report(page, html(tmp_path, "<div style='height:3000px;background:#3a3'>tall</div>"))
    path = screenshot(page, tmp_path, "tall")
    assert path == tmp_path / "tall.png"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    height = int.from_bytes(data[20:24], "big")  # IHDR: width at 16, height at 20
    assert height >= 3000  # the full page, not the 800-pixel viewport


def test_browser_tests_carry_the_browser_mark(page: Opened, request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("browser") is not None


# Without a browser: the lookup and the skip reason.


def test_the_env_var_alone_decides_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CHROMIUM_ENV, "/nonexistent")
    assert find_chromium() is None
    reason = why_no_browser()
    assert reason is not None
    if "playwright" not in reason:
        assert "BOOKING_CHROMIUM='/nonexistent' is not an executable file" in reason
        assert INSTALL in reason


def test_the_env_var_names_the_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv(CHROMIUM_ENV, str(fake))
    assert find_chromium() is None  # not executable
    fake.chmod(0o755)
    assert find_chromium() == str(fake)


def test_without_the_env_var_the_path_is_searched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setattr(harness, "DEBIAN_CHROMIUM", str(tmp_path / "not-here"))
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None
    reason = why_no_browser()
    if reason is not None and "playwright" not in reason:
        assert "nor `chromium` on PATH exists" in reason
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_chromium() == str(fake)
