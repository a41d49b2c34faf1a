"""What a new user met at the edges of the output (issue 10, defects 5 and 6): a terminal
that is not UTF-8, a reader that leaves the pipe early, a pipe or a narrow terminal, and
the small words and numbers of the summary."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from booking import Scenario
from booking.cli.app import app
from booking.comparison import driver as comparison
from booking.judge.result import Result as RunResult
from booking.render import compare as compare_render
from booking.render import run as render_run
from tests.comparison.fakes import make_comparison, safe_cell
from tests.helpers import fake_result


def booking(*args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """`python -m booking ARGS` as a real process, its output (a pipe) as raw bytes; the
    terminal's COLUMNS is not passed on unless given."""
    inherited = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    return subprocess.run(
        [sys.executable, "-m", "booking", *args],
        capture_output=True,
        env={**inherited, **env},
        timeout=120,
        check=False,
    )


# --- defect 5: a terminal that is not UTF-8 -------------------------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_run_on_a_terminal_that_is_not_utf8_degrades_instead_of_crashing(
    encoding: str,
) -> None:
    done = booking("run", "--buyers", "3", "--seed", "1", PYTHONIOENCODING=encoding)
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")
    text = done.stdout.decode(encoding)  # every byte is of the stream's own encoding
    assert "SAFE" in text and "3 buyers" in text
    assert b"Traceback" not in done.stderr
    if encoding == "ascii":
        assert "lock on a fresh json store - 3 buyers - 10 tickets" in text


def test_compare_and_a_chinese_scenario_on_latin1_degrade_too() -> None:
    done = booking(
        "compare", "--strategies", "lock", "--stores", "json", "--repeat", "1", "--buyers", "2",
        PYTHONIOENCODING="latin-1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"lock/json" in done.stdout and b"Traceback" not in done.stderr
    listed = booking("scenario", "list", PYTHONIOENCODING="ascii")
    assert listed.returncode == 0, listed.stderr
    assert "The seeds' ?? program" in listed.stdout.decode("ascii")  # 抢票, stood in for


def test_stand_ins_cover_what_booking_prints() -> None:
    from booking.cli.encoding import ASCII_STAND_INS

    printed = "· ± × † — – → ─ █ ▁ ÷"
    assert all(char in ASCII_STAND_INS for char in printed.split())


# --- defect 6: the reader of the pipe leaves early --------------------------------------------


@pytest.mark.parametrize("args", [["run"], ["run", "--json"], ["scenario", "list"]])
def test_a_reader_that_leaves_early_is_exit_141_not_the_anomaly_code(args: list[str]) -> None:
    # `booking run | head -1`: the reader is gone before booking writes.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "booking", *args, *(["--buyers", "2"] if "run" in args else [])],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(writer)
    assert done.returncode == 141, done.stderr
    assert b"Traceback" not in done.stderr and b"Exception ignored" not in done.stderr


# --- defect 6: pipes, narrow terminals, numbers and plurals ------------------------------------


def test_a_piped_summary_keeps_each_sentence_on_one_line() -> None:
    lines = booking("run", "--buyers", "5", "--seed", "3").stdout.decode().splitlines()
    assert lines[-1].startswith("At most 1 buyer was inside"), lines
    assert lines[-1].endswith("serialised every purchase.")
    assert lines[3].startswith("wall ") and lines[3].endswith(" ms")  # not wrapped at 80


def summary_of(**changes: object) -> str:
    out = io.StringIO()
    render_run.summary(fake_result(Scenario(buyers=1, tickets=1), **changes), file=out)
    return out.getvalue()


def test_the_summary_never_shows_an_exponent_and_agrees_in_number() -> None:
    text = summary_of(
        buyers=1,
        tickets=1,
        attempts=1,
        throughput=0.3333,
        latency_ms={"p50": 3880.4, "p95": 3901.0, "p99": 3999.0, "max": 12345.6},
    )
    assert "e+0" not in text
    assert "p50 3,880 p95 3,901 p99 3,999 max 12,346 ms" in text
    assert "0.333 attempts/s" in text
    assert "· 1 buyer ·" in text and "· 1 ticket ·" in text
    unmeasured = summary_of(attempts=0)
    assert "latency not measured (no attempt finished)" in unmeasured


def test_one_run_shows_no_spread_it_never_measured() -> None:
    cell = safe_cell("lock", "json", [503.0])
    assert compare_render.row(cell)[6] == "503"
    two = safe_cell("lock", "json", [503.0, 480.0])
    assert compare_render.row(two)[6] == "492±12"


def test_a_narrow_terminal_never_splits_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = [safe_cell("filelock", "sqlite", [1234567.0, 1234000.0])]
    out = io.StringIO()
    compare_render.table(make_comparison(cells), file=out, width=60)
    row = next(line for line in out.getvalue().splitlines() if line.startswith("filelock"))
    assert "1,234,284±284" in row and "filelock/sqlite" in row
    assert "…" not in out.getvalue()


def test_scenario_validate_agrees_in_number(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text('name = "one"\nrepeat = 1\n')
    result = CliRunner().invoke(app, ["scenario", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 point (no sweep) × 1 run = 1 run" in result.stdout


# --- defect 6: compare's inputs and a partial file --------------------------------------------


@pytest.mark.parametrize("option", ["--strategies=", "--stores="])
def test_an_empty_list_is_an_error_not_the_whole_matrix(option: str) -> None:
    result = CliRunner().invoke(app, ["compare", option])
    assert result.exit_code == 2
    assert "empty name" in result.stderr


def test_an_interrupted_csv_out_says_it_is_partial(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def simulate(scenario: Scenario, notes: list[str] | None = None) -> RunResult:
        calls.append(scenario)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return fake_result(scenario)

    calls: list[Scenario] = []
    monkeypatch.setattr(comparison, "simulate", simulate)
    target = tmp_path / "cells.csv"
    args = ["compare", "--strategies", "lock", "--stores", "json,sqlite", "--repeat", "4"]
    result = CliRunner().invoke(app, [*args, "--format", "csv", "--out", str(target)])
    assert result.exit_code == 130
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [(row["status"], row["runs"], row["planned_runs"]) for row in rows] == [
        ("interrupted", "1", "4"),
        ("interrupted", "1", "4"),
    ]
    whole = compare_render.to_json(make_comparison([safe_cell("lock", "json", [1.0])]))
    assert json.loads(whole)[0]["status"] == "complete"


# --- defect 6: a strategy that needs sqlite gets it -------------------------------------------


def test_transaction_alone_picks_the_sqlite_store() -> None:
    result = CliRunner().invoke(
        app, ["run", "--strategy", "transaction", "--buyers", "2", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["store"] == "sqlite"
    on_json = CliRunner().invoke(app, ["run", "--strategy", "transaction", "--store", "json"])
    assert on_json.exit_code == 2


def test_a_narrow_terminal_never_cuts_a_verdict_in_the_history(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    runner = CliRunner()
    made = runner.invoke(
        app,
        ["run", "--buyers", "3", "--strategy", "none", "--think", "5", "--save", "--db", str(db)],
    )
    assert made.exit_code == 0, made.stderr
    listed = runner.invoke(app, ["history", "--db", str(db)], env={"COLUMNS": "60"})
    shown = runner.invoke(app, ["history", "show", "1", "--db", str(db)], env={"COLUMNS": "60"})
    for result in (listed, shown):
        assert result.exit_code == 0, result.stderr
        assert "…" not in result.stdout
        assert any(v in result.stdout for v in ("OVERSOLD", "LOST_UPDATES", "SAFE"))
