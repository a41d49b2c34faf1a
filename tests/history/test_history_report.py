"""`booking history report ID`: a saved run or comparison drawn later from its rows and
saved timelines; a history saved before timelines still reports, saying what it lacks."""

from __future__ import annotations

import json
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from booking.cli.app import app
from booking.history.reports import rebuild
from booking.history.store import History


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="booking")


class Lanes(HTMLParser):
    """The buyers of each timeline's lanes, timeline by timeline."""

    def __init__(self) -> None:
        super().__init__()
        self.timelines: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        css = (found.get("class") or "").split()
        if tag == "svg" and "timeline" in css:
            self.timelines.append([])
        elif tag == "g" and "lane" in css:
            self.timelines[-1].append(str(found.get("data-buyer")))


def lanes_of(page: str) -> list[list[str]]:
    parsed = Lanes()
    parsed.feed(page)
    return parsed.timelines


def test_a_saved_run_reports_its_timeline(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ran = cli("run", "--buyers", "5", "--strategy", "lock", "--save", "--db", str(db))
    assert ran.exit_code == 0, ran.stderr
    out = tmp_path / "r.html"
    reported = cli("history", "report", "1", "--db", str(db), "--out", str(out))
    assert reported.exit_code == 0, reported.stderr
    assert f"wrote the report to {out}" in reported.stderr
    page = out.read_text()
    assert lanes_of(page) == [[str(b) for b in range(5)]]
    assert "SAFE" in page and "not recorded" not in page
    assert "Saved session 1 (run lock/json): started" in page


def test_the_report_goes_to_the_current_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "h.db"
    assert cli("run", "--buyers", "2", "--save", "--db", str(db)).exit_code == 0
    monkeypatch.chdir(tmp_path)
    assert cli("history", "report", "1", "--db", str(db)).exit_code == 0
    assert (tmp_path / "booking-session-1.html").is_file()


def test_a_saved_comparison_rebuilds_the_cells_it_printed(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    compared = cli(
        "compare", "--strategies", "none,lock", "--stores", "json", "--buyers", "4",
        "--tickets", "2", "--think", "100", "--repeat", "2", "--format", "json",
        "--save", "--db", str(db),
    )  # fmt: skip
    assert compared.exit_code == 0, compared.stderr
    printed = {cell["strategy"]: cell for cell in json.loads(compared.stdout)}
    with History(db, create=False) as saved:
        row, runs = saved.session(1)
    comparison, groups = rebuild(row, runs)
    for cell in comparison.cells:
        shown = printed[cell.strategy]
        assert cell.runs == shown["runs"] == 2
        assert cell.anomaly_runs == shown["anomaly_runs"]
        assert cell.throughput_median == shown["throughput_median"]
        assert cell.worst_seed == shown["worst_seed"]
    assert comparison.reference == next(
        c["strategy"] + "/json" for c in printed.values() if c["reference"]
    )
    assert sorted(groups) == ["lock/json", "none/json"]
    out = tmp_path / "c.html"
    assert cli("history", "report", "1", "--db", str(db), "--out", str(out)).exit_code == 0
    page = out.read_text()
    assert lanes_of(page) == [[str(b) for b in range(4)]] * 2  # each cell's worst run
    assert page.count('<tr class="cell') == 2


def test_an_old_history_reports_without_timelines(old_db: Path, tmp_path: Path) -> None:
    for session in ("1", "2", "3"):
        out = tmp_path / f"{session}.html"
        reported = cli("history", "report", session, "--db", str(old_db), "--out", str(out))
        assert reported.exit_code == 0, reported.stderr
        page = out.read_text()
        assert "The timeline of this run was not recorded" in page
        assert lanes_of(page) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["9"], "no saved session 9"),
        (["1", "--out", "/nonexistent/r.html"], "--out /nonexistent/r.html"),
    ],
)
def test_a_bad_report_request_is_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    db = tmp_path / "h.db"
    assert cli("run", "--buyers", "2", "--save", "--db", str(db)).exit_code == 0
    reported = cli("history", "report", *args, "--db", str(db))
    assert reported.exit_code == 2
    assert says in reported.stderr
    assert len(reported.stderr.strip().splitlines()) == 1


def saved_compare(tmp_path: Path) -> Path:
    db = tmp_path / "h.db"
    compared = cli(
        "compare", "--strategies", "none,lock", "--stores", "json", "--buyers", "3",
        "--repeat", "1", "--save", "--db", str(db),
    )  # fmt: skip
    assert compared.exit_code == 0, compared.stderr
    return db


def edit(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    try:
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def test_a_strategy_this_booking_does_not_know_still_reports(tmp_path: Path) -> None:
    db = saved_compare(tmp_path)
    edit(db, "UPDATE runs SET strategy = 'paxos' WHERE strategy = 'none'")
    out = tmp_path / "p.html"
    reported = cli("history", "report", "1", "--db", str(db), "--out", str(out))
    assert reported.exit_code == 0, reported.stderr
    assert 'data-cell="paxos/json"' in out.read_text()


def test_an_unreadable_timeline_costs_its_picture_not_the_page(tmp_path: Path) -> None:
    db = saved_compare(tmp_path)
    edit(db, "UPDATE timelines SET frames = x'00ff' WHERE run_id = 1")
    out = tmp_path / "u.html"
    reported = cli("history", "report", "1", "--db", str(db), "--out", str(out))
    assert reported.exit_code == 0, reported.stderr
    page = out.read_text()
    assert "No timeline: run 1: its timeline is unreadable" in page
    assert len(lanes_of(page)) == 1  # the other cell's worst run is still drawn


def test_a_run_cut_short_without_an_anomaly_is_no_sample_in_the_rebuilt_cell(
    tmp_path: Path,
) -> None:
    db = saved_compare(tmp_path)
    edit(db, "UPDATE runs SET verdict = 'ABORTED', aborted = 'memory' WHERE strategy = 'lock'")
    with History(db, create=False) as saved:
        row, runs = saved.session(1)
    comparison, groups = rebuild(row, runs)
    assert [cell.label for cell in comparison.cells] == ["none/json"]
    assert list(groups) == ["none/json"]


def test_a_rebuilt_comparison_says_which_cell_the_memory_guard_stopped(tmp_path: Path) -> None:
    db = saved_compare(tmp_path)
    edit(db, "UPDATE runs SET verdict = 'ABORTED', aborted = 'memory: 3% left' WHERE id = 2")
    edit(db, "UPDATE sessions SET status = 'aborted'")
    with History(db, create=False) as saved:
        row, runs = saved.session(1)
    comparison, _ = rebuild(row, runs)
    assert comparison.finished_runs == 1  # the aborted run proved nothing: not a sample
    assert (comparison.aborted, comparison.aborted_cell) == ("memory: 3% left", "lock/json")
