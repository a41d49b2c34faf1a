"""The HTML reports in headless Chromium: each loads with no console error and nothing
fetched, the timeline has one lane per buyer, a forced race under `none` outlines its
overlapping windows and `lock` has none, hovering a read shows the count it saw, and a
compare report's links open each cell's worst run. A screenshot of each report kind is
written to the test's folder; with BOOKING_SCREENSHOTS=DIR the run reports' timelines also
go to DIR (how the README's pictures are made: BOOKING_SCREENSHOTS=docs)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from booking.cli.app import app
from booking.engine.frames import Kind, Outcome, Record
from booking.engine.runner import RawRun
from booking.render.report import render_run
from tests.browser.harness import Opened, open_report, screenshot
from tests.comparison.fakes import make_result
from tests.helpers import run_cli


def run_report(tmp_path: Path, name: str, *args: str) -> Path:
    path = tmp_path / f"{name}.html"
    result = run_cli(*args, "--report", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def keep_for_readme(shot: Path) -> None:
    folder = os.environ.get("BOOKING_SCREENSHOTS")
    if folder:
        shutil.copyfile(shot, Path(folder) / shot.name)


@pytest.mark.parametrize(("strategy", "raced"), [("none", True), ("lock", False)])
def test_a_run_report_draws_the_race_or_its_absence(
    page: Opened, tmp_path: Path, strategy: str, raced: bool
) -> None:
    # 400 ms of think: every unguarded buyer reads before any writes, even under load.
    path = run_report(
        tmp_path, strategy, "--buyers", "8", "--tickets", "3", "--strategy", strategy,
        "--think", "400", "--seed", "4",
    )  # fmt: skip
    view = open_report(page, path)
    assert page.errors == []
    assert view.locator("svg.timeline g.lane").count() == 8
    overlaps = view.locator("svg.timeline .window.overlap")
    assert overlaps.count() == (8 if raced else 0)
    links = view.locator("svg.timeline .lost")
    assert (links.count() > 0) is raced
    if raced:
        assert overlaps.first.is_visible()
    badge = view.locator(".badge").first.inner_text()
    assert badge == ("OVERSOLD" if raced else "SAFE")
    screenshot(page, tmp_path, f"run-{strategy}")


def test_hovering_a_read_shows_the_count_it_saw(page: Opened, tmp_path: Path) -> None:
    path = run_report(
        tmp_path, "hover", "--buyers", "1", "--tickets", "5", "--strategy", "lock", "--seed", "1"
    )
    view = open_report(page, path)
    tip = view.locator("#tip")
    assert tip.is_hidden()
    first_read = view.locator("svg.timeline .mark.read").first
    first_read.hover(force=True)
    assert tip.is_visible()
    assert tip.inner_text() == "buyer 0, attempt 1: read 5 tickets left"
    view.mouse.move(1, 1)  # off every shape: the tip goes away
    assert tip.is_hidden()
    assert page.errors == []


@pytest.mark.parametrize("strategy", ["none", "lock"])
def test_the_readme_pictures_of_fifty_buyers(page: Opened, tmp_path: Path, strategy: str) -> None:
    """The command the README shows, drawn: its timeline is the README's picture."""
    path = run_report(tmp_path, strategy, "--buyers", "50", "--strategy", strategy, "--seed", "7")
    assert path.stat().st_size < 1_000_000  # the bound for a 50-buyer report
    page.page.set_viewport_size({"width": 1280, "height": 2400})  # the whole timeline
    view = open_report(page, path)
    assert page.errors == []
    assert view.locator("svg.timeline g.lane").count() == 50
    run = view.locator("section.run")
    shot = tmp_path / f"report-{strategy}.png"
    run.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep_for_readme(shot)


def test_a_compare_report_links_each_cell_to_its_worst_run(page: Opened, tmp_path: Path) -> None:
    path = tmp_path / "compare.html"
    result = run_cli_compare(
        "--strategies", "none,lock", "--stores", "json", "--buyers", "6", "--tickets", "2",
        "--think", "200", "--repeat", "2", "--seed", "3", "--report", str(path),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    view = open_report(page, path)
    assert page.errors == []
    rows = view.locator("table.cells tr.cell")
    assert rows.count() == 2
    assert view.locator("svg.spreads").count() == 2  # speed and anomaly rate
    lock_row = view.locator('tr.cell[data-cell="lock/json"]')
    worst = view.locator("details.worst").nth(1)
    assert not worst.evaluate("node => node.open")  # a cell of SAFE runs starts closed
    lock_row.locator("a").click()
    assert worst.evaluate("node => node.open")
    timeline = worst.locator("svg.timeline")
    assert timeline.is_visible()
    assert timeline.locator("g.lane").count() == 6
    screenshot(page, tmp_path, "compare")


def run_cli_compare(*args: str) -> Result:
    return CliRunner().invoke(app, ["compare", *args])


def test_a_thousand_buyer_report_opens_with_every_lane(page: Opened, tmp_path: Path) -> None:
    """Made from step records, not 1,000 forked buyers: the page is what is tested here
    (benchmarks/report.py measures real runs, their size and render time)."""
    buyers = 1000
    records = [thousand_sale(buyer) for buyer in range(buyers)]
    result = make_result(
        strategy="none", buyers=buyers, tickets=10, sold=buyers, oversold=buyers - 10,
        lost_updates=buyers - 1, verdict="OVERSOLD", max_inside=buyers,
    )  # fmt: skip
    path = tmp_path / "thousand.html"
    path.write_text(render_run(result, RawRun(records=records, gate_ns=GATE)))
    view = open_report(page, path)
    assert page.errors == []
    assert view.locator("svg.timeline g.lane").count() == buyers
    assert view.locator("svg.timeline .window.overlap").count() == buyers
    last_read = view.locator('svg.timeline g.marks[data-buyer="999"] .mark.read')
    last_read.scroll_into_view_if_needed()
    last_read.hover(force=True)
    assert "buyer 999, attempt 1: read 10 tickets left" in view.locator("#tip").inner_text()
    screenshot(page, tmp_path, "thousand")


GATE = 10**12


def thousand_sale(buyer: int) -> Record:
    """Buyer `buyer` reads 10 at 1 ms + buyer µs and writes 9 at 50 ms + buyer µs."""
    at = GATE + 1_000_000 + buyer * 1000
    return Record(
        Kind.ATTEMPT, buyer, 0, Outcome.BOUGHT, read_value=10, written_value=9,
        t_begin=at - 500_000, t_read=at, t_write=at + 49_000_000, t_left=at + 49_500_000,
        t_end=at + 49_600_000,
    )  # fmt: skip


def test_the_report_of_a_real_thousand_buyer_run_opens(page: Opened, tmp_path: Path) -> None:
    """The issue's bar, literally: 1,000 real buyers (about 2 GB, bounded by --max-memory so
    a short machine refuses the run rather than risk its memory)."""
    path = run_report(
        tmp_path, "real-thousand", "--buyers", "1000", "--strategy", "lock", "--seed", "1",
        "--max-memory", "3G",
    )  # fmt: skip
    view = open_report(page, path)
    assert page.errors == []
    assert view.locator("svg.timeline g.lane").count() == 1000
    assert view.locator("svg.timeline .window.overlap").count() == 0
    screenshot(page, tmp_path, "real-thousand")


def test_a_seat_run_report_draws_its_heat_map(page: Opened, tmp_path: Path) -> None:
    """Issue 15: one cell a seat in a row a letter, shaded by the buyers that tried for it,
    a double-booked seat outlined in red, each seat's state in its tip."""
    seat_map = ["S", "S", "D", "L", ".", "S", "U", "O", ".", "."] * 5
    result = make_result(
        verdict="DOUBLE_BOOKED", seats="5x10", order=2, pick="best", double_booked=5,
        lost_seats=5, seat_map=seat_map, seat_fights=[seat % 7 for seat in range(50)],
    )  # fmt: skip
    path = tmp_path / "seats.html"
    path.write_text(render_run(result, None), encoding="utf-8")
    view = open_report(page, path)
    assert page.errors == []
    grid = view.locator("table.seatmap")
    assert grid.is_visible()
    assert grid.locator("tbody tr").count() == 5
    assert grid.locator("td.seat").count() == 50
    double = grid.locator('td[data-seat="C3"]')  # seat 22: double-booked, 1 buyer
    assert double.inner_text() == "X"
    assert "rgb(211, 47, 47)" in double.evaluate("node => getComputedStyle(node).boxShadow")
    shades = grid.locator("td.seat").evaluate_all(
        "cells => cells.map(cell => getComputedStyle(cell).backgroundColor)"
    )
    assert len(set(shades)) == 6  # 0 to 6 buyers a seat: no buyer, then five shades
    double.hover()
    assert view.locator("#tip").inner_text() == "C3: double-booked · 1 buyer tried"
    screenshot(page, tmp_path, "seats")
