"""`booking explore` and `booking replay` on the command line: the JSON, the exit codes,
bad options and bad schedule files refused with one line before any run, and
--save-schedule checked before the search and written only when there is something to
write.

Every case runs through typer's CliRunner with the program name "booking", as the other
CLI tests do.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from booking import __version__
from booking.cli.app import app
from booking.schedules.workload import Workload
from tests.helpers import no_children_left


@pytest.fixture(autouse=True)
def no_leftovers(private_tmp: Path) -> Iterator[None]:
    """Every command leaves no folder (private_tmp) and no child behind."""
    yield
    assert no_children_left()


def booking(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="booking")


def assert_one_line_error(result: Result, code: int = 2) -> str:
    """Exit `code`, one 'booking...error:' line on stderr, nothing on stdout, no traceback."""
    out, err = result.stdout, result.stderr
    context = f"exit={result.exit_code} stdout={out!r} stderr={err!r} exc={result.exception!r}"
    assert result.exit_code == code, context
    assert "Traceback" not in out + err, context
    assert out == "", context
    line = err.strip()
    assert line and "\n" not in line, context
    assert line.startswith("booking") and "error:" in line, context
    return line


@pytest.fixture
def no_write(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Make any file write fail (and note it): for paths that must never be written."""
    from booking.render import output

    tried: list[Path] = []

    def refuse(path: Path, text: str) -> None:
        tried.append(path)
        raise AssertionError(f"{path} was written")

    monkeypatch.setattr(output, "write_atomically", refuse)
    return tried


def explore_json(*args: str) -> dict[str, Any]:
    result = booking("explore", *args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# --- explore -----------------------------------------------------------------------------


def test_explore_json_is_one_object_with_the_counterexample() -> None:
    data = explore_json("--strategy", "none")
    for key in (
        "strategy",
        "store",
        "buyers",
        "tickets",
        "mode",
        "schedules",
        "exhaustive",
        "anomalies",
        "counterexample",
    ):
        assert key in data, key
    assert (data["strategy"], data["store"], data["buyers"], data["tickets"]) == (
        "none",
        "json",
        2,
        1,
    )
    assert (data["mode"], data["preemptions"], data["exhaustive"]) == ("exhaustive", 2, False)
    assert data["anomalies"] == 1 and data["schedules"] <= 5
    example = data["counterexample"]
    schedule = example["schedule"]
    assert isinstance(schedule, list) and len(schedule) == 6
    for entry in schedule:
        assert {"buyer", "step"} <= set(entry)
    assert [(e["buyer"], e["step"]) for e in schedule][-2:] == [(1, "write"), (0, "write")]
    assert example["record"]["verdict"] == "OVERSOLD"
    assert example["record"]["oversold"] == 1
    assert example["preemptions"] == 1


def test_explore_says_what_it_found_in_words() -> None:
    result = booking("explore", "--strategy", "none")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "explore none on json: 2 buyers, 1 ticket, 1 attempt each" in out
    assert "1 anomaly found" in out
    assert "Not exhaustive: the search stopped at the first anomaly." in out
    story = ["buyer 0 read 1", "buyer 1 read 1", "buyer 1 wrote 0", "buyer 0 wrote 0"]
    assert " \u00b7 ".join(story) in out
    assert "verdict OVERSOLD" in out


def test_a_safe_exhaustive_search_says_what_it_proves_and_no_more() -> None:
    result = booking("explore", "--strategy", "lock", "--preemptions", "-1")
    assert result.exit_code == 0, result.stderr
    said = (
        "every interleaving of these buyers' steps (two reads in either order counted once: "
        "reads commute) ends without an anomaly"
    )
    assert said in result.stdout
    assert "it says nothing of more buyers" in result.stdout
    data = explore_json("--strategy", "lock", "--preemptions", "-1")
    assert (data["exhaustive"], data["anomalies"], data["preemptions"]) == (True, 0, None)
    assert data["counterexample"] is None


def test_a_sample_is_not_called_a_proof() -> None:
    result = booking("explore", "--strategy", "atomic", "--mode", "random", "--schedules", "5")
    assert result.exit_code == 0, result.stderr
    assert "store sqlite" not in result.stdout  # the default store of atomic is named plainly
    assert "atomic on sqlite" in result.stdout
    assert "A sample, not a proof" in result.stdout


def test_fail_on_anomaly_exits_1_only_with_an_anomaly() -> None:
    found = booking("explore", "--strategy", "none", "--fail-on-anomaly", "--json")
    assert found.exit_code == 1, found.stderr
    assert json.loads(found.stdout)["anomalies"] == 1  # the output is still there
    assert booking("explore", "--strategy", "none").exit_code == 0
    safe = booking("explore", "--strategy", "lock", "--fail-on-anomaly")
    assert safe.exit_code == 0, safe.stderr


def test_the_seed_is_shown_and_repeats_a_sampled_search() -> None:
    args = ("--strategy", "none", "--buyers", "3", "--tickets", "2", "--mode", "pct")
    first = explore_json(*args, "--seed", "8", "--no-shrink")
    second = explore_json(*args, "--seed", "8", "--no-shrink")
    assert first["seed"] == 8
    assert first["counterexample"]["schedule"] == second["counterexample"]["schedule"]


OPTION_CASES = [
    pytest.param(["--buyers", "0"], "buyers must be between 1 and 8", id="buyers-0"),
    pytest.param(["--buyers", "9"], "buyers must be between 1 and 8", id="buyers-9"),
    pytest.param(["--tickets", "-1"], "tickets must be between 0 and 20", id="tickets-negative"),
    pytest.param(["--attempts", "0"], "attempts must be between 1 and 5", id="attempts-0"),
    pytest.param(["--mode", "nope"], 'unknown mode "nope"', id="mode-unknown"),
    pytest.param(["--schedules", "0"], "schedules must be at least 1", id="schedules-0"),
    pytest.param(["--mode", "pct", "--depth", "0"], "depth must be between 1 and 10", id="depth-0"),
    pytest.param(["--depth", "3"], "--depth only applies to --mode pct", id="depth-not-pct"),
    pytest.param(["--preemptions", "-2"], "-1 (no bound) or more", id="preemptions-negative"),
    pytest.param(
        ["--preemptions", "1", "--mode", "pct"],
        "--preemptions only applies to --mode exhaustive",
        id="preemptions-with-pct",
    ),
    pytest.param(["--strategy", "nope"], 'unknown strategy "nope"', id="strategy-unknown"),
    pytest.param(
        ["--strategy", "transaction", "--store", "json"],
        "does not work on the json store",
        id="transaction-on-json",
    ),
    pytest.param(
        ["--retries", "2", "--strategy", "lock"],
        "--retries only applies to --strategy optimistic",
        id="retries-with-lock",
    ),
    pytest.param(["--store", "mongo"], 'unknown store "mongo"', id="store-unknown"),
    pytest.param(["--buyers", "abc"], "--buyers", id="buyers-abc"),
    pytest.param([], "--strategy", id="no-strategy"),
]


@pytest.mark.parametrize(("args", "mentions"), OPTION_CASES)
def test_a_bad_option_is_one_line_before_any_run(
    args: list[str], mentions: str, no_run: list[Workload]
) -> None:
    if "--strategy" not in args and args:
        args = ["--strategy", "none", *args]
    line = assert_one_line_error(booking("explore", *args))
    assert mentions in line
    assert no_run == []


# --- --save-schedule ---------------------------------------------------------------------


def test_save_schedule_writes_a_file_that_replays(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    result = booking("explore", "--strategy", "none", "--save-schedule", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"booking: wrote the schedule to {path}" in result.stderr
    document = json.loads(path.read_text(encoding="utf-8"))
    assert (document["kind"], document["booking"]) == ("booking-schedule", __version__)
    assert document["record"]["verdict"] == "OVERSOLD"

    replayed = booking("replay", str(path), "--times", "3", "--json")
    assert replayed.exit_code == 0, replayed.stderr
    runs = json.loads(replayed.stdout)
    assert list(runs) == ["runs"]
    assert len(runs["runs"]) == 3
    for record in runs["runs"]:
        for key in ("verdict", "sold", "remaining", "oversold", "lost_updates"):
            assert record[key] == document["record"][key], key

    words = booking("replay", str(path), "--times", "2")
    assert words.exit_code == 0, words.stderr
    assert "all 2 runs followed the schedule step for step" in words.stdout
    assert "verdict OVERSOLD" in words.stdout


def test_save_schedule_without_a_counterexample_writes_nothing_and_says_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.json"
    result = booking("explore", "--strategy", "lock", "--save-schedule", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"booking: no counterexample: {path} was not written" in result.stderr
    assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


def test_save_schedule_to_a_directory_is_refused_before_running(
    tmp_path: Path, no_run: list[Workload], no_write: list[Path]
) -> None:
    line = assert_one_line_error(
        booking("explore", "--strategy", "none", "--save-schedule", str(tmp_path))
    )
    assert "is a directory" in line
    assert (no_run, no_write) == ([], [])


def test_save_schedule_to_a_fifo_is_refused_before_running(
    tmp_path: Path, no_run: list[Workload], no_write: list[Path]
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    line = assert_one_line_error(
        booking("explore", "--strategy", "none", "--save-schedule", str(fifo))
    )
    assert "not a regular file" in line
    assert (no_run, no_write) == ([], [])
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_save_schedule_to_a_device_is_refused_before_running(
    no_run: list[Workload], no_write: list[Path]
) -> None:
    """Nothing can be written here: any executor made fails, and so would any write."""
    line = assert_one_line_error(
        booking("explore", "--strategy", "none", "--save-schedule", os.devnull)
    )
    assert f"--save-schedule {os.devnull}: not a regular file" in line
    assert (no_run, no_write) == ([], [])


def test_save_schedule_in_a_missing_directory_is_refused_before_running(
    tmp_path: Path, no_run: list[Workload]
) -> None:
    path = tmp_path / "nope" / "s.json"
    line = assert_one_line_error(
        booking("explore", "--strategy", "none", "--save-schedule", str(path))
    )
    assert "does not exist" in line
    assert no_run == []
    assert not (tmp_path / "nope").exists()


# --- replay: files refused before any run -------------------------------------------------


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A schedule file's text, found once for the module by the real command."""
    directory = tmp_path_factory.mktemp("found")
    path = directory / "found.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(directory))
        result = booking("explore", "--strategy", "none", "--save-schedule", str(path))
    assert result.exit_code == 0, result.stderr
    return path.read_text(encoding="utf-8")


@pytest.fixture
def saved(found: str) -> dict[str, Any]:
    """The schedule file's document, for one test to edit."""
    document: dict[str, Any] = json.loads(found)
    return document


def write(tmp_path: Path, document: Any, name: str = "edited.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_file_from_another_version_is_refused_before_any_run(
    tmp_path: Path, saved: dict[str, Any], no_run: list[Workload]
) -> None:
    saved["booking"] = "0.0.9"
    path = write(tmp_path, saved)
    line = assert_one_line_error(booking("replay", str(path)))
    assert "saved by booking 0.0.9" in line
    assert f"this is booking {__version__}" in line
    assert str(path) in line
    assert no_run == []


@pytest.mark.parametrize(
    ("edit", "mentions"),
    [
        pytest.param(("schedule", 0, "buyer", 5), "grants buyer 5", id="unknown-buyer"),
        pytest.param(("schedule", 1, "step", "sleep"), "unknown step 'sleep'", id="unknown-step"),
        pytest.param(("schedule", 1, "colour", 1), "unknown key 'colour'", id="unknown-key"),
        pytest.param(("workload", "buyers", 9), "buyers must be between 1", id="workload-buyers"),
        pytest.param(("format", 2), "(format 2)", id="format"),
    ],
)
def test_a_file_naming_what_the_workload_lacks_is_refused_before_any_run(
    tmp_path: Path,
    saved: dict[str, Any],
    no_run: list[Workload],
    edit: tuple[Any, ...],
    mentions: str,
) -> None:
    *keys, value = edit
    target: Any = saved
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    line = assert_one_line_error(booking("replay", str(write(tmp_path, saved))))
    assert mentions in line
    assert no_run == []


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        pytest.param(b"{not json", "not a schedule file (not JSON", id="not-json"),
        pytest.param(b'{"kind": "\xff"}', "not a schedule file (not UTF-8 text)", id="not-utf8"),
        pytest.param(b"[]", "not a schedule file", id="a-list"),
        pytest.param(None, "No such file or directory", id="missing"),
    ],
)
def test_what_is_not_a_schedule_file_is_one_clear_line(
    tmp_path: Path, no_run: list[Workload], content: bytes | None, mentions: str
) -> None:
    path = tmp_path / "s.json"
    if content is not None:
        path.write_bytes(content)
    line = assert_one_line_error(booking("replay", str(path)))
    assert mentions in line
    assert str(path) in line
    assert no_run == []


def test_replay_of_a_directory_is_refused(tmp_path: Path, no_run: list[Workload]) -> None:
    assert "is a directory" in assert_one_line_error(booking("replay", str(tmp_path)))
    assert no_run == []


def test_replay_times_is_checked(tmp_path: Path, saved: dict[str, Any]) -> None:
    path = write(tmp_path, saved)
    line = assert_one_line_error(booking("replay", str(path), "--times", "0"))
    assert "times must be between 1 and 100,000" in line


# --- replay: a schedule that does not fit the run -----------------------------------------


def swap_first_two(document: dict[str, Any]) -> None:
    schedule = document["schedule"]
    schedule[0], schedule[1] = schedule[1], schedule[0]  # buyer 0's read before its look


def write_by_the_wrong_buyer(document: dict[str, Any]) -> None:
    document["schedule"][4]["buyer"] = 0  # buyer 0 writes twice, buyer 1 never


def read_another_value(document: dict[str, Any]) -> None:
    document["schedule"][1]["value"] = 7


def drop_the_last_step(document: dict[str, Any]) -> None:
    document["schedule"].pop()


@pytest.mark.parametrize(
    "edit", [swap_first_two, write_by_the_wrong_buyer, read_another_value, drop_the_last_step]
)
def test_a_schedule_that_does_not_fit_the_run_is_an_error(
    tmp_path: Path, saved: dict[str, Any], edit: Any
) -> None:
    edit(saved)
    result = booking("replay", str(write(tmp_path, saved)), "--json")
    line = assert_one_line_error(result)
    assert "replay 1 did not follow the schedule" in line
