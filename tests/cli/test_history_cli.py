"""--save on run, compare and scenario run, and `booking history`: what is printed is what is
kept, a stop keeps every finished run, and other tools can read the file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from booking import Scenario
from booking.cli.app import app
from booking.comparison import driver as comparison
from booking.engine.runner import RawRun
from booking.history.store import History
from booking.judge.result import Result as RunResult
from booking.strategies import STRATEGIES
from tests.cli.test_bad_input import assert_usage_error
from tests.helpers import fake_result


def cli(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="booking", env=env)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def show(db: Path, session: int) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(
        ok(cli("history", "show", str(session), "--db", str(db), "--json")).stdout
    )
    return record


def test_a_saved_run_is_the_record_that_was_printed(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    printed = json.loads(
        ok(cli("run", "--buyers", "6", "--seed", "3", "--json", "--save", "--db", str(db))).stdout
    )
    saved = show(db, 1)
    assert saved["session"]["kind"] == "run"
    assert saved["session"]["name"] == "lock/json"
    assert saved["session"]["status"] == "complete"
    [record] = saved["runs"]
    assert record == printed
    listing = ok(cli("history", "--db", str(db))).stdout
    assert "lock/json" in listing and "SAFE" in listing


def test_the_history_is_readable_with_the_sqlite_utils_command(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ok(cli("run", "--buyers", "4", "--seed", "9", "--save", "--db", str(db)))
    done = subprocess.run(
        [sys.executable, "-m", "sqlite_utils", "rows", str(db), "runs"],
        check=True,
        capture_output=True,
        text=True,
    )
    [row] = json.loads(done.stdout)
    assert (row["strategy"], row["buyers"], row["seed"], row["verdict"]) == ("lock", 4, 9, "SAFE")


def test_booking_db_chooses_the_file(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    result = ok(cli("run", "--buyers", "3", "--save", env={"BOOKING_DB": str(db)}))
    assert f"saved 1 run to {db} (session 1)" in result.stderr
    assert "lock/json" in ok(cli("history", env={"BOOKING_DB": str(db)})).stdout


def test_compare_saves_every_run_with_its_cell(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ok(
        cli(
            "compare", "--strategies", "lock", "--stores", "json,sqlite", "--buyers", "3",
            "--repeat", "2", "--format", "json", "--save", "--db", str(db),
        )
    )  # fmt: skip
    saved = show(db, 1)
    assert (saved["session"]["kind"], saved["session"]["status"]) == ("compare", "complete")
    stores = [run["store"] for run in saved["runs"]]
    assert stores == ["json", "sqlite", "json", "sqlite"]  # round-robin, as they ran


def fake_simulate(monkeypatch: pytest.MonkeyPatch, stop_at: int) -> None:
    calls: list[int] = []

    def simulate(
        scenario: Scenario, notes: list[str] | None = None, runs: list[RawRun] | None = None
    ) -> RunResult:
        calls.append(1)
        if len(calls) == stop_at:
            raise KeyboardInterrupt
        if runs is not None:  # --save keeps each run's timeline: simulate() gives its raw run
            runs.append(RawRun())
        return fake_result(scenario, tickets=scenario.initial_tickets, think_ms=scenario.think_ms)

    monkeypatch.setattr(comparison, "simulate", simulate)


def test_ctrl_c_in_a_scenario_keeps_every_finished_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_simulate(monkeypatch, stop_at=4)
    path = tmp_path / "s.toml"
    path.write_text('name = "grid"\nbuyers = [2, 4]\nrepeat = 3\n')
    db = tmp_path / "h.db"
    result = cli("scenario", "run", str(path), "--save", "--db", str(db))
    assert result.exit_code == 130
    saved = show(db, 1)
    assert (saved["session"]["name"], saved["session"]["status"]) == ("grid", "interrupted")
    assert [run["buyers"] for run in saved["runs"]] == [2, 4, 2]
    assert "saved 3 runs" in result.stderr


def test_a_bad_db_fails_before_any_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_simulate(monkeypatch, stop_at=1)  # any run would raise KeyboardInterrupt: exit 130
    target = tmp_path / "missing" / "h.db"
    line = assert_usage_error(cli("compare", "--repeat", "1", "--save", "--db", str(target)))
    assert "does not exist" in line
    assert not target.parent.exists()


def test_a_store_is_not_a_history(tmp_path: Path) -> None:
    store = tmp_path / "tickets.db"
    ok(cli("run", "--buyers", "2", "--path", str(store)))
    before = store.read_bytes()
    line = assert_usage_error(cli("history", "--db", str(store)))
    assert "not a booking history" in line
    assert store.read_bytes() == before


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def test_history_on_a_new_machine_is_empty_not_an_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    fresh = {"HOME": str(home), "BOOKING_DB": None, "XDG_DATA_HOME": None}
    listed = ok(cli("history", env=fresh))
    default = home / ".local" / "share" / "booking" / "history.db"
    assert listed.stdout == (
        f"No saved sessions in {default} yet: add --save to booking run, compare or "
        "scenario run to keep one.\n"
    )
    assert listed.stderr == ""
    assert files_under(tmp_path) == [home]  # nothing made, not even the directory


def test_history_of_a_missing_db_is_empty_and_stays_missing(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    listed = ok(cli("history", "--db", str(db)))
    assert listed.stdout.startswith(f"No saved sessions in {db} yet: add --save")
    assert files_under(tmp_path) == []
    # Asking for one session of a history that is not there is still a mistake.
    line = assert_usage_error(cli("history", "show", "1", "--db", str(db)))
    assert line == f"booking: error: no history at {db}; save runs with --save"
    assert files_under(tmp_path) == []
    # An empty file (touched, or left by a crash before the first save) holds no sessions.
    db.touch()
    assert ok(cli("history", "--db", str(db))).stdout.startswith("No saved sessions")
    assert (files_under(tmp_path), db.read_bytes()) == ([db], b"")


def test_show_of_a_missing_session_is_one_line_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    with History(db) as history:
        history.begin("run", "lock/json", {})
    line = assert_usage_error(cli("history", "show", "2", "--db", str(db)))
    assert line == f"booking: error: no saved session 2 in {db}"


@pytest.mark.parametrize(
    ("args", "mentions"),
    [(["history", "--limit", "0"], "limit"), (["history", "show", "x"], "ID")],
)
def test_bad_history_options(tmp_path: Path, args: list[str], mentions: str) -> None:
    db = tmp_path / "h.db"
    ok(cli("run", "--buyers", "2", "--save", "--db", str(db)))
    line = assert_usage_error(cli(*args, "--db", str(db)))
    assert mentions in line


def test_unsaved_runs_leave_no_history(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ok(cli("run", "--buyers", "2", env={"BOOKING_DB": str(db)}))
    assert not db.exists()


def test_a_result_replace_keeps_the_record_shape() -> None:
    # The history stores every Result field; a new field must be a column too, and the
    # nested ones are spread into the columns the README's sqlite-utils readers see.
    from booking.history.columns import RESULT_COLUMNS, flatten

    result = fake_result()
    flat = set(replace(result).to_dict()) - {"latency_ms", "think_ms"}
    assert flat <= set(RESULT_COLUMNS)
    assert {"latency_p50_ms", "latency_p99_ms", "think_min_ms", "think_max_ms"} <= set(
        RESULT_COLUMNS
    )
    assert flatten(result)["latency_p99_ms"] == 3.0
    assert flatten(result)["verdict"] == "SAFE"


# --- what a session is called and what it says it ran ---------------------------------------


def test_show_json_gives_the_params_as_an_object(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ok(cli("run", "--buyers", "4", "--seed", "7", "--think", "0:1", "--save", "--db", str(db)))
    params = show(db, 1)["session"]["params"]
    assert params == {
        "buyers": 4,
        "tickets": None,
        "strategy": "lock",
        "store": None,
        "think_ms": [0.0, 1.0],
        "attempts": 1,
        "seed": 7,
        "timeout_s": 30.0,
        "path": None,
        "arrival": "gate",
        "max_memory": None,
    }
    ok(cli("run", "--buyers", "2", "--max-memory", "2G", "--save", "--db", str(db)))
    assert show(db, 2)["session"]["params"]["max_memory"] == 2 << 30


def test_show_says_the_workload_and_options_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_simulate(monkeypatch, stop_at=0)
    path = tmp_path / "s.toml"
    path.write_text('name = "grid"\nbuyers = [2, 4]\nthink = "1:5"\nrepeat = 3\n')
    db = tmp_path / "h.db"
    ok(
        cli(
            "scenario",
            "run",
            str(path),
            "--repeat",
            "1",
            "--tickets",
            "5",
            "--save",
            "--db",
            str(db),
        )
    )
    shown = ok(cli("history", "show", "1", "--db", str(db))).stdout.splitlines()
    start = next(n for n, line in enumerate(shown) if line.startswith("workload"))
    assert shown[start : start + 2] == [
        "workload 2–4 buyers · 5 tickets · think 1:5 ms",
        f"options file {path} · with --repeat 1 --tickets 5",
    ]
    assert not any(mark in line for line in shown for mark in ("{", "}", "[", "]", "'"))


#: The strategies of a compare without --seats: those that sell a count.
#: What a compare runs by default: every strategy that sells a count on a file store.
COUNT_STRATEGIES = [
    name
    for name, info in STRATEGIES.items()
    if "count" in info.sells and (info.supports("json") or info.supports("sqlite"))
]


def test_a_compare_is_named_by_its_strategies_and_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_simulate(monkeypatch, stop_at=0)
    db = tmp_path / "h.db"
    for choice in (
        ["--strategies", "lock,filelock", "--stores", "json"],
        ["--stores", "sqlite"],
        [],
    ):
        ok(cli("compare", *choice, "--repeat", "1", "--format", "json", "--save", "--db", str(db)))
    sessions = [show(db, n)["session"] for n in (1, 2, 3)]
    assert [s["name"] for s in sessions] == [
        "lock,filelock × json",
        "all strategies × sqlite",
        "all strategies × the file stores",
    ]
    # The params name every strategy and store covered, and no workload strategy beside them.
    assert [(s["params"]["strategies"], s["params"]["stores"]) for s in sessions] == [
        (["lock", "filelock"], ["json"]),
        (COUNT_STRATEGIES, ["sqlite"]),
        (COUNT_STRATEGIES, ["json", "sqlite"]),
    ]
    assert not {"strategy", "store"} & set(sessions[0]["params"])


def test_a_scenario_is_named_by_its_name_else_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_simulate(monkeypatch, stop_at=0)
    db = tmp_path / "h.db"
    named, unnamed = tmp_path / "a.toml", tmp_path / "crowd-of-two.toml"
    named.write_text('name = "grid"\nbuyers = 2\nrepeat = 1\n')
    unnamed.write_text("buyers = 2\nrepeat = 1\n")
    for path in (named, unnamed):
        ok(cli("scenario", "run", str(path), "--save", "--db", str(db)))
    assert [show(db, n)["session"]["name"] for n in (1, 2)] == ["grid", "crowd-of-two"]


# --- the list -------------------------------------------------------------------------------


THINK = (1.0, 5.0)


def saved_sessions(db: Path) -> None:
    """A run, a compare, a scenario sweep and an interrupted compare, saved directly."""
    with History(db) as history:
        run = history.begin("run", "none/json", {"buyers": 50, "think_ms": [1.0, 5.0]})
        history.add(run, fake_result(Scenario(buyers=50), think_ms=THINK, verdict="OVERSOLD"))
        history.finish(run, "complete")
        compare = history.begin("compare", "lock,filelock × json,sqlite", {})
        for strategy in ("lock", "filelock"):
            for store in ("json", "sqlite"):
                for seed in (1, 2):
                    bad = strategy == "filelock" and store == "json" and seed == 2
                    result = fake_result(
                        Scenario(buyers=50, strategy=strategy, store=store, seed=seed),
                        think_ms=THINK,
                        verdict="ERRORS" if bad else "SAFE",
                    )
                    history.add(compare, result)
        history.finish(compare, "complete")
        sweep = history.begin("scenario", "sweep-buyers", {"file": "sweep-buyers.toml"})
        for buyers in (10, 40, 160):
            for strategy in ("none", "lock"):
                scenario = Scenario(buyers=buyers, strategy=strategy)
                verdict = "LOST_UPDATES" if strategy == "none" and buyers > 10 else "SAFE"
                result = fake_result(scenario, tickets=100, think_ms=(1, 20), verdict=verdict)
                history.add(sweep, result,
                            {"strategy": strategy, "buyers": buyers})  # fmt: skip
        history.finish(sweep, "complete")
        stopped = history.begin("compare", "none × json", {})
        history.add(stopped, fake_result(Scenario(), think_ms=(0, 0), verdict="OVERSOLD"))
        history.finish(stopped, "interrupted")
        history.begin("scenario", "flash-sale", {})  # still running, or killed: no runs


def rows_of(listing: str) -> list[str]:
    """The list's rows after the date and time, words single-spaced, wrapped lines joined."""
    rows: list[str] = []
    for line in listing.splitlines()[3:]:
        if line[:2].strip():
            rows.append(line[19:])
        else:
            rows[-1] += " " + line
    return [" ".join(row.split()) for row in rows]


def test_the_list_shows_each_workload_and_outcome(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    saved_sessions(db)
    listing = ok(cli("history", "--db", str(db))).stdout
    assert listing.splitlines()[1].split() == [
        "id", "started", "(UTC)", "kind", "name", "buyers", "tickets", "think", "ms", "outcome"
    ]  # fmt: skip
    assert rows_of(listing) == [
        "scenario flash-sale no runs (running)",
        "compare none × json 50 10 0 1 cell, 1 not SAFE (interrupted)",
        "scenario sweep-buyers 10–160 100 1:20 6 cells, 2 not SAFE",
        "compare lock,filelock × json,sqlite 50 10 1:5 4 cells, 1 not SAFE",
        "run none/json 50 10 1:5 OVERSOLD",
    ]


def test_the_list_fits_100_columns_and_a_pipe_gets_120(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    saved_sessions(db)
    in_100 = ok(cli("history", "--db", str(db), env={"COLUMNS": "100"})).stdout
    in_a_pipe = ok(cli("history", "--db", str(db), env={"COLUMNS": None})).stdout
    assert max(len(line) for line in in_100.splitlines()) == 100
    assert max(len(line) for line in in_a_pipe.splitlines()) <= 120
    # Title, header, rule, a line per session, and one more for the unfinished session's
    # status: the names are not squeezed to make room for it.
    assert len(in_100.splitlines()) == len(in_a_pipe.splitlines()) == 3 + 5 + 1
    assert rows_of(in_100) == rows_of(in_a_pipe)


def test_a_saved_memory_limit_reads_as_a_size(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    ok(cli("run", "--buyers", "2", "--max-memory", "2G", "--save", "--db", str(db)))
    shown = ok(cli("history", "show", "1", "--db", str(db))).stdout
    assert "max memory 2.0 GiB" in shown
    file = tmp_path / "s.toml"
    file.write_text("buyers = 2\nrepeat = 1\n")
    ok(cli("scenario", "run", str(file), "--max-memory", "1500M", "--save", "--db", str(db)))
    assert "with --max-memory 1.5 GiB" in ok(cli("history", "show", "2", "--db", str(db))).stdout
