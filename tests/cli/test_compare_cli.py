"""`booking compare` end to end: real runs for the matrix and Ctrl-C, a fake simulate()
for the driver's order, exit codes and interruption, and every bad option."""

from __future__ import annotations

import csv
import io
import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from booking import Scenario
from booking.cli.app import app
from booking.comparison import driver as comparison
from booking.comparison.driver import compare
from booking.engine import runner
from booking.errors import BookingError
from booking.judge.result import Result as RunResult
from booking.render.progress import compare_bar
from booking.stores import NETWORK_STORES, STORES
from booking.strategies import STRATEGIES
from tests.cli.test_bad_input import assert_usage_error
from tests.helpers import booking_process, children_of, exists, fake_result, no_children_left

ORIGINAL_FOUR = ["none", "lock", "filelock", "manager"]


def compare_cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["compare", *args], prog_name="booking")


def cells_of(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    cells: list[dict[str, Any]] = json.loads(result.stdout)
    return cells


# --- real runs ------------------------------------------------------------------------------


def test_the_full_matrix_in_json_flags_none_and_only_none() -> None:
    # The acceptance command; the wide think window forces `none` to race.
    cells = cells_of(
        compare_cli("--buyers", "30", "--repeat", "3", "--format", "json", "--think", "10:20")
    )
    found = {(c["strategy"], c["store"]) for c in cells}
    for strategy in ORIGINAL_FOUR:
        assert {(strategy, "json"), (strategy, "sqlite")} <= found
    assert ("transaction", "sqlite") in found
    assert ("transaction", "json") not in found
    expected = {
        (s, t)
        for s, info in STRATEGIES.items()
        for t in STORES
        if info.supports(t) and "count" in info.sells and t not in NETWORK_STORES
    }
    # The file stores by default: a networked store needs a server, so only when named.
    assert len(cells) == len(found) == len(expected) == 15
    for cell in cells:
        assert cell["runs"] == 3
        assert sum(cell["verdicts"].values()) == 3
        if cell["strategy"] == "none":
            assert cell["anomaly_rate"] > 0
            assert cell["oversold_max"] > 0 or cell["lost_updates_mean"] > 0
        elif cell["strategy"] == "deferred":  # never oversells; its failures are the lesson
            assert cell["oversold_max"] == cell["lost_updates_max"] == 0
            assert not cell["claims_safe"]
        else:
            assert cell["anomaly_rate"] == 0, cell
            assert cell["verdicts"]["SAFE"] == 3
            if cell["protocol"] in ("guard", "seller"):
                assert cell["max_inside_median"] == 1
    references = [c for c in cells if c["reference"]]
    assert len(references) == 1
    assert references[0]["strategy"] != "none"
    assert no_children_left()


def test_csv_has_a_header_and_one_row_per_cell() -> None:
    result = compare_cli(
        "--strategies", "lock,none", "--stores", "json", "--buyers", "6", "--repeat", "2",
        "--think", "10", "--format", "csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["strategy"], r["store"]) for r in rows] == [("lock", "json"), ("none", "json")]
    assert all(r["runs"] == "2" for r in rows)
    assert float(rows[0]["anomaly_rate"]) == 0
    assert float(rows[1]["anomaly_rate"]) > 0
    assert "none/json" in result.stderr  # the finding, kept off the parseable stdout


def test_markdown_is_a_table_with_one_row_per_cell() -> None:
    result = compare_cli(
        "--strategies", "lock,filelock", "--stores", "sqlite", "--buyers", "4", "--repeat", "1",
        "--format", "markdown",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    header, align, *rows = table
    width = header.count("|")
    assert all(line.count("|") == width for line in table)
    assert set(align.replace("|", "").split()) <= {":---", "---:"}
    assert [row.split("|")[1].strip() for row in rows] == ["lock/sqlite", "filelock/sqlite"]


def test_table_names_every_cell_and_what_went_wrong() -> None:
    result = compare_cli(
        "--strategies", "none,lock", "--stores", "json", "--buyers", "8", "--repeat", "2",
        "--think", "20", "--seed", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "none/json" in out and "lock/json" in out
    assert "seed 5" in out
    assert "none/json: 2 of 2 runs not SAFE" in out
    assert "ref" in out


def test_out_writes_the_file_and_nothing_to_stdout(tmp_path: Path) -> None:
    target = tmp_path / "cmp.json"
    result = compare_cli(
        "--strategies", "lock", "--stores", "json", "--buyers", "3", "--repeat", "1",
        "--format", "json", "--out", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote 1 cell to {target}" in result.stderr
    [cell] = json.loads(target.read_text())
    assert (cell["strategy"], cell["store"], cell["runs"]) == ("lock", "json", 1)
    assert [p.name for p in tmp_path.iterdir()] == ["cmp.json"]  # no temp file left


def test_fail_on_anomaly_ignores_the_cells_that_do_not_claim_safety() -> None:
    result = compare_cli(
        "--strategies", "none,lock", "--stores", "json", "--buyers", "6", "--repeat", "1",
        "--think", "20", "--fail-on-anomaly", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    none = next(c for c in cells_of(result) if c["strategy"] == "none")
    assert none["anomaly_runs"] == 1


def test_the_bar_never_runs_a_thread_while_buyers_are_forked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rich.console import Console

    before = set(threading.enumerate())
    during: list[set[threading.Thread]] = []
    real_run = runner.run

    def watched_run(*args: Any, **kwargs: Any) -> runner.RawRun:
        during.append(set(threading.enumerate()))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(runner, "run", watched_run)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with compare_bar(2, console) as hook:
        assert hook is not None
        result = compare(
            Scenario(buyers=3, think_ms=(0, 1)), ["lock"], ["json"], repeat=2, on_progress=hook
        )
    assert result.finished_runs == 2
    assert len(during) == 2
    assert all(threads == before for threads in during)
    assert "lock/json · run 2 of 2" in screen.getvalue()  # the bar was drawn


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    from rich.console import Console

    with compare_bar(3, Console(file=io.StringIO(), force_terminal=False)) as hook:
        assert hook is None


def test_ctrl_c_prints_the_runs_finished_so_far_and_exits_130() -> None:
    # Each run: 4 buyers x 20 attempts x 10 ms under one lock, about 0.8 s.
    proc = booking_process(
        "compare",
        "--strategies", "lock", "--stores", "json", "--buyers", "4", "--attempts", "20",
        "--tickets", "1000", "--think", "10", "--repeat", "20", "--format", "json",
    )  # fmt: skip
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    # A fifth buyer pid means the first run has ended and the second one has started.
    while len(seen) <= 4 or not children_of(proc.pid):
        assert time.monotonic() < deadline, "the second run never started"
        assert proc.poll() is None, proc.communicate()
        seen.update(children_of(proc.pid))
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    [cell] = json.loads(out)
    assert 1 <= cell["runs"] < 20
    assert cell["verdicts"]["SAFE"] == cell["runs"]  # the cut-short run is not counted
    assert f"interrupted after {cell['runs']} of 20 runs" in err
    assert not any(exists(pid) for pid in seen)


# --- the driver, with simulate() faked ------------------------------------------------------


def fake_simulate(
    monkeypatch: pytest.MonkeyPatch, behave: Callable[[int, Scenario], RunResult]
) -> list[Scenario]:
    calls: list[Scenario] = []

    def simulate(scenario: Scenario, notes: list[str] | None = None) -> RunResult:
        calls.append(scenario)
        return behave(len(calls) - 1, scenario)

    monkeypatch.setattr(comparison, "simulate", simulate)
    return calls


def test_runs_go_round_robin_with_one_seed_per_round(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_simulate(monkeypatch, lambda i, s: fake_result(s))
    result = compare(Scenario(buyers=2, seed=40), ["none", "lock"], ["json", "sqlite"], repeat=3)
    order = [(s.strategy, s.store, s.seed) for s in calls]
    cells = [("none", "json"), ("none", "sqlite"), ("lock", "json"), ("lock", "sqlite")]
    assert order == [(*cell, 40 + r) for r in range(3) for cell in cells]
    assert result.finished_runs == result.planned_runs == 12
    assert [(c.strategy, c.store, c.runs) for c in result.cells] == [(*c, 3) for c in cells]


def test_a_safe_cell_with_an_anomaly_fails_with_fail_on_anomaly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def behave(i: int, s: Scenario) -> RunResult:
        if s.strategy == "lock" and i == 2:
            return fake_result(s, verdict="OVERSOLD", oversold=1, explanation=["lock broke"])
        return fake_result(s)

    fake_simulate(monkeypatch, behave)
    args = ["--strategies", "lock", "--stores", "json", "--repeat", "3", "--format", "json"]
    result = compare_cli(*args, "--fail-on-anomaly")
    assert result.exit_code == 1, result.stderr
    [cell] = json.loads(result.stdout)
    assert (cell["anomaly_runs"], cell["verdicts"]["OVERSOLD"]) == (1, 1)
    assert "although it claims to be safe" in result.stderr
    assert "lock broke" in result.stderr
    assert compare_cli(*args).exit_code == 0  # without the flag an anomaly is a finding


def test_ctrl_c_between_runs_keeps_the_finished_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    def behave(i: int, s: Scenario) -> RunResult:
        if i == 3:
            raise KeyboardInterrupt
        return fake_result(s)

    fake_simulate(monkeypatch, behave)
    result = compare_cli("--strategies", "lock,filelock", "--stores", "json", "--repeat", "5")
    assert result.exit_code == 130
    assert "interrupted after 3 of 10 runs" in result.stdout
    assert "lock/json" in result.stdout and "filelock/json" in result.stdout


def test_a_run_cut_short_is_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_simulate(
        monkeypatch, lambda i, s: fake_result(s, interrupted=True) if i == 1 else fake_result(s)
    )
    result = compare(Scenario(), ["lock"], ["json"], repeat=4)
    assert result.interrupted
    assert (result.finished_runs, result.planned_runs) == (1, 4)
    assert [c.runs for c in result.cells] == [1]


def test_an_error_mid_way_still_shows_the_finished_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    def behave(i: int, s: Scenario) -> RunResult:
        if i == 2:
            raise BookingError("cannot start buyer 7 of 50: the process limit was reached")
        return fake_result(s)

    fake_simulate(monkeypatch, behave)
    result = compare_cli("--strategies", "lock", "--stores", "json,sqlite", "--repeat", "2")
    assert result.exit_code == 2
    assert "lock/json" in result.stdout and "lock/sqlite" in result.stdout
    assert "process limit" in result.stderr


def test_the_reference_can_be_named(monkeypatch: pytest.MonkeyPatch) -> None:
    speeds = {"lock": 300.0, "filelock": 100.0}
    fake_simulate(monkeypatch, lambda i, s: fake_result(s, throughput=speeds[s.strategy]))
    result = compare(Scenario(), ["lock", "filelock"], ["json"], repeat=2, reference="filelock")
    lock, filelock = result.cells
    assert filelock.reference and not lock.reference
    assert lock.times_slower == pytest.approx(1 / 3, abs=1e-3)
    assert result.reference == "filelock/json" and result.reference_given


# --- bad options: one line, exit 2, nothing run ---------------------------------------------

BAD = [
    pytest.param(["--strategies", "lok"], "lok", id="unknown-strategy"),
    pytest.param(["--strategies", "lock,,none"], "empty", id="empty-name"),
    pytest.param(["--strategies", "lock,lock"], "twice", id="duplicate"),
    pytest.param(["--stores", "mongo"], "mongo", id="unknown-store"),
    pytest.param(
        ["--strategies", "transaction", "--stores", "json"],
        "does not work on the json store",
        id="strategy-on-unsupported-store",
    ),
    pytest.param(["--repeat", "0"], "repeat", id="repeat-0"),
    pytest.param(["--repeat", "-2"], "repeat", id="repeat-negative"),
    pytest.param(["--format", "xml"], "xml", id="unknown-format"),
    pytest.param(["--reference", "nope"], "nope", id="unknown-reference"),
    pytest.param(
        ["--stores", "json", "--reference", "transaction"], "transaction", id="reference-absent"
    ),
    pytest.param(["--reference", "lock/"], "STRATEGY/STORE", id="reference-malformed"),
    pytest.param(["--buyers", "0"], "buyers", id="buyers-0"),
    pytest.param(["--think", "5:1"], "think", id="think-backwards"),
    pytest.param(["--attempts", "0"], "attempts", id="attempts-0"),
    pytest.param(["--timeout", "0"], "timeout", id="timeout-0"),
    pytest.param(["--out", "/no/such/dir/x.json"], "does not exist", id="out-missing-dir"),
]


@pytest.mark.parametrize(("args", "mentions"), BAD)
def test_bad_option_is_one_line_and_exit_2_before_any_run(
    monkeypatch: pytest.MonkeyPatch, args: list[str], mentions: str
) -> None:
    calls = fake_simulate(monkeypatch, lambda i, s: fake_result(s))
    line = assert_usage_error(compare_cli(*args))
    assert mentions in line
    assert calls == []


def test_out_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    line = assert_usage_error(compare_cli("--out", str(tmp_path)))
    assert "directory" in line


def test_every_strategy_is_in_the_default_matrix() -> None:
    # A new strategy joins `compare` by registering; this keeps the acceptance test honest.
    new = {"transaction", "deferred", "atomic", "optimistic", "queue"}
    counts = {
        name
        for name, info in STRATEGIES.items()
        if "count" in info.sells and any(info.supports(t) for t in ("json", "sqlite"))
    }
    assert set(ORIGINAL_FOUR) | new == counts
    # The networked stores' own strategies join the matrix of --stores postgres,redis.
    on_servers = {"naive-tx", "for-update", "serializable", "advisory", "ttl-lock", "fenced"}
    assert {n for n, i in STRATEGIES.items() if "count" in i.sells} - counts == on_servers
    # The rest sell seats only: they join the matrix of a compare --seats.
    assert {n for n, i in STRATEGIES.items() if "count" not in i.sells} == {
        "seatlock",
        "seatlock-unordered",
        "for-update-unordered",
        "skip-locked",
    }
