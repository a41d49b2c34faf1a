"""ABORTED on the command line: a run the memory guard stopped exits 75 in every output
(the summary, --json, compare's table, JSON, CSV and Markdown, a scenario) and keeps its
reason in the history. The memory reading is faked through `booking.memory.meminfo`; the
runs themselves are real."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from booking import memory, simulation
from booking.cli.app import app
from booking.cli.exits import EXIT_ABORTED
from booking.comparison import driver
from booking.engine import memory_guard
from booking.memory import Meminfo
from tests.helpers import no_children_left

GIB = 1 << 30
REASON = "memory: 2.1 GiB available of 24 GiB, below the 2.4 GiB floor"


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="booking")


class _Memory:
    """A fake meminfo that is short from the moment `short` is set."""

    def __init__(self) -> None:
        self.short = False

    def __call__(self, path: str = "/proc/meminfo") -> Meminfo:
        return Meminfo(int(2.1 * GIB) if self.short else 20 * GIB, 24 * GIB)


@pytest.fixture
def fake_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Memory]:
    fake = _Memory()
    monkeypatch.setattr(memory, "meminfo", fake)
    monkeypatch.setattr(memory_guard, "CHECK_EVERY_S", 0.0)
    yield fake
    assert no_children_left()


@pytest.fixture
def short_from_the_third_run(monkeypatch: pytest.MonkeyPatch, fake_memory: _Memory) -> _Memory:
    """compare's and scenario's runs 1 and 2 have memory enough; from run 3 on it is short
    (before its first fork, so run 3 is ABORTED having started no buyer)."""
    real = simulation.simulate
    runs = 0

    def simulate(*args: Any, **kwargs: Any) -> Any:
        nonlocal runs
        runs += 1
        fake_memory.short = runs >= 3
        return real(*args, **kwargs)

    monkeypatch.setattr(driver, "simulate", simulate)
    return fake_memory


def test_an_aborted_run_says_why_and_what_to_do_and_exits_75(fake_memory: _Memory) -> None:
    fake_memory.short = True
    result = cli("run", "--buyers", "8", "--seed", "1")
    assert result.exit_code == EXIT_ABORTED == 75, result.stdout
    assert " ABORTED " in result.stdout
    assert REASON in result.stdout and "fewer --buyers" in result.stdout


def test_an_aborted_run_exits_75_with_or_without_fail_on_anomaly(fake_memory: _Memory) -> None:
    fake_memory.short = True
    result = cli("run", "--buyers", "8", "--seed", "1", "--json", "--fail-on-anomaly")
    assert result.exit_code == EXIT_ABORTED
    record = json.loads(result.stdout)
    assert record["verdict"] == "ABORTED"
    assert record["aborted"] == REASON
    assert (record["sold"], record["remaining"], record["interrupted"]) == (0, 10, False)


def test_a_run_with_memory_enough_has_an_empty_reason(fake_memory: _Memory) -> None:
    result = cli("run", "--buyers", "4", "--seed", "1", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["aborted"] == ""


def test_a_saved_aborted_run_shows_its_verdict_and_reason_in_the_history(
    tmp_path: Path, fake_memory: _Memory
) -> None:
    db = tmp_path / "history.db"
    fake_memory.short = True
    run = cli("run", "--buyers", "8", "--seed", "1", "--json", "--save", "--db", str(db))
    assert run.exit_code == EXIT_ABORTED
    listing = cli("history", "--db", str(db))
    assert listing.exit_code == 0
    assert "ABORTED" in listing.stdout and "(aborted)" in listing.stdout
    shown = cli("history", "show", "1", "--db", str(db))
    assert shown.exit_code == 0
    assert " aborted " in shown.stdout.splitlines()[0]
    assert f"run 1 was ABORTED: {REASON}" in shown.stdout
    saved = json.loads(cli("history", "show", "1", "--db", str(db), "--json").stdout)
    assert saved["session"]["status"] == "aborted"
    (record,) = saved["runs"]
    assert record == json.loads(run.stdout)


COMPARE = (
    *("compare", "--strategies", "none,lock", "--stores", "json"),
    *("--buyers", "4", "--repeat", "2", "--seed", "5"),
)
NOTE = "ABORTED after 2 of 4 runs: a run of none/json was stopped (" + REASON + ")"


def test_compare_starts_no_run_after_an_aborted_one_and_says_so(
    short_from_the_third_run: _Memory,
) -> None:
    result = cli(*COMPARE)
    assert result.exit_code == EXIT_ABORTED
    assert NOTE in result.stdout and "no further run was started" in result.stdout
    assert "none/json" in result.stdout and "lock/json" in result.stdout  # round 1 shown


def test_compare_json_carries_the_status_and_reason(
    short_from_the_third_run: _Memory,
) -> None:
    result = cli(*COMPARE, "--format", "json")
    assert result.exit_code == EXIT_ABORTED
    cells = json.loads(result.stdout)
    assert [cell["runs"] for cell in cells] == [1, 1]  # the aborted run is no sample
    assert {(cell["status"], cell["aborted"]) for cell in cells} == {("aborted", REASON)}
    assert NOTE in result.stderr


def test_compare_csv_carries_the_status_and_reason_last(
    short_from_the_third_run: _Memory,
) -> None:
    result = cli(*COMPARE, "--format", "csv")
    assert result.exit_code == EXIT_ABORTED
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2
    assert {(row["status"], row["aborted"]) for row in rows} == {("aborted", REASON)}
    assert list(rows[0])[-3:] == ["status", "planned_runs", "aborted"]  # new columns last


def test_compare_markdown_lists_the_abort(short_from_the_third_run: _Memory) -> None:
    result = cli(*COMPARE, "--format", "markdown")
    assert result.exit_code == EXIT_ABORTED
    assert f"- {NOTE}" in result.stdout


def test_a_saved_compare_keeps_the_aborted_run_and_its_reason(
    tmp_path: Path, short_from_the_third_run: _Memory
) -> None:
    db = tmp_path / "history.db"
    assert cli(*COMPARE, "--save", "--db", str(db)).exit_code == EXIT_ABORTED
    saved = json.loads(cli("history", "show", "1", "--db", str(db), "--json").stdout)
    assert saved["session"]["status"] == "aborted"
    # Rounds 1 (none, lock) finished; the aborted run is saved for its reason.
    assert [run["verdict"] == "ABORTED" for run in saved["runs"]] == [False, False, True]
    assert saved["runs"][-1]["aborted"] == REASON
    assert "(aborted)" in cli("history", "--db", str(db)).stdout


def test_a_scenario_stops_at_an_aborted_run(
    tmp_path: Path, short_from_the_third_run: _Memory
) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(
        'name = "sweep"\ndescription = "d"\nstrategy = "lock"\nbuyers = [3, 5]\n'
        "tickets = 10\nrepeat = 2\nseed = 1\n"
    )
    result = cli("scenario", "run", str(path))
    assert result.exit_code == EXIT_ABORTED
    assert "ABORTED after 2 of 4 runs: a run of lock/json buyers=3 was stopped" in result.stdout
