"""--max-memory and the admission by memory through the command line and the Python API: a
run refused for memory forks nothing and leaves the store as it was; one admitted runs.

The refusals fork nothing: os.fork is replaced in this process by one that fails the test
(CliRunner runs the command in-process), which also covers the Manager's server process.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from booking import Scenario, compare, simulate
from booking.cli.app import app
from booking.errors import ResourceError, ScenarioError
from booking.memory import Meminfo

MIB = 1 << 20
#: 400 MiB available of 1 GiB: the default limit is 200 MiB, which holds 64 buyers.
SMALL_MACHINE = Meminfo(available=400 * MIB, total=1024 * MIB)


def booking(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="booking")


@pytest.fixture
def no_fork(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    forks: list[int] = []

    def fork() -> int:
        forks.append(1)
        raise AssertionError("forked: the run was not refused first")

    monkeypatch.setattr(os, "fork", fork)
    return forks


@pytest.fixture
def small_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    import booking.simulation

    monkeypatch.setattr(booking.simulation, "meminfo", lambda: SMALL_MACHINE)
    monkeypatch.setattr(
        resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    )


def refused(result: Result) -> str:
    context = f"exit={result.exit_code} stdout={result.stdout!r} stderr={result.stderr!r}"
    assert result.exit_code == 2, context
    assert result.stdout == "", context
    assert "Traceback" not in result.stderr, context
    line: str = result.stderr.strip()
    assert "\n" not in line, context
    return line


#: What 50 buyers of each strategy on json are estimated to need, and one buyer's cost.
NEED_50 = {"lock": "167 MiB (1.8 MiB each,", "manager": "190 MiB (2.2 MiB each,"}


@pytest.mark.parametrize("strategy", ["lock", "manager"])
def test_a_run_refused_for_memory_forks_nothing_and_leaves_the_store(
    tmp_path: Path, no_fork: list[int], strategy: str
) -> None:
    store = tmp_path / "db.json"
    store.write_bytes(b'{"count": 4}')
    args = ["--buyers", "50", "--max-memory", "1M", "--strategy", strategy]
    line = refused(booking("run", *args, "--path", str(store), "--reset", "--tickets", "9"))
    assert line == (
        f"booking: error: 50 {strategy}/json buyers need about {NEED_50[strategy]} with a "
        "15 % margin, and "
        "64 MiB for the parent), more than the 1.0 MiB this run may use (set with "
        "--max-memory); not even one buyer fits; give a larger --max-memory"
    )
    assert no_fork == []
    assert store.read_bytes() == b'{"count": 4}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json"]
    missing = tmp_path / "new.json"
    refused(booking("run", "--buyers", "50", "--max-memory", "1M", "--path", str(missing)))
    assert not missing.exists()


def test_the_default_limit_is_half_of_what_is_available(
    small_machine: None, no_fork: list[int], tmp_path: Path
) -> None:
    line = refused(booking("run", "--buyers", "100", "--save", "--db", str(tmp_path / "h.db")))
    assert "100 lock/json buyers need about 271 MiB" in line
    assert "more than the 200 MiB this run may use (half of the 400 MiB available; " in line
    assert line.endswith("use at most 65 buyers, or a larger --max-memory")
    assert not (tmp_path / "h.db").exists()  # no history session for a refused run


def test_a_large_enough_max_memory_admits_the_run(small_machine: None) -> None:
    result = booking("run", "--buyers", "100", "--think", "0", "--max-memory", "290M", "--json")
    assert result.exit_code == 0, result.stderr


def test_max_memory_beyond_what_the_machine_has_is_refused(
    small_machine: None, no_fork: list[int]
) -> None:
    line = refused(booking("run", "--buyers", "2", "--max-memory", "1G"))
    assert line == (
        "booking: error: --max-memory 1.0 GiB is more than this machine can give: 400 MiB "
        "is available and 10 % of the machine's 1.0 GiB stays free, which leaves 298 MiB; "
        "use --max-memory 297M or less"
    )


@pytest.mark.parametrize("command", [["run"], ["compare"], ["scenario", "run", "flash-sale"]])
def test_a_bad_size_is_a_usage_error(command: list[str], no_fork: list[int]) -> None:
    line = refused(booking(*command, "--max-memory", "lots"))
    assert "Invalid value for '--max-memory': 'lots' is not a size: write a number and a unit" in (
        line
    )


def test_compare_refuses_before_its_first_run(no_fork: list[int]) -> None:
    line = refused(booking("compare", "--buyers", "50", "--repeat", "1", "--max-memory", "1M"))
    # The dearest cell is named: filelock on sqlite, 4.2 MiB a buyer.
    assert "50 filelock/sqlite buyers need about 305 MiB (4.2 MiB each" in line
    assert "more than the 1.0 MiB this run may use" in line


def test_scenario_run_refuses_its_largest_point_before_any_run(
    tmp_path: Path, small_machine: None, no_fork: list[int]
) -> None:
    file = tmp_path / "sweep.toml"
    file.write_text('buyers = [2, 100]\nthink = 0\nrepeat = 1\nmax_memory = "100M"\n')
    line = refused(booking("scenario", "run", str(file)))
    assert "100 lock/json buyers need about 271 MiB" in line
    assert "(set with max_memory); use at most 17 buyers, or a larger max_memory" in line
    # --max-memory overrides the file's.
    line = refused(booking("scenario", "run", str(file), "--max-memory", "150M"))
    assert "more than the 150 MiB this run may use (set with --max-memory)" in line
    file.write_text('buyers = 2\nmax_memory = "100X"\n')
    assert refused(booking("scenario", "validate", str(file))).startswith(
        "booking: error: sweep.toml: max_memory: '100X' is not a size"
    )


def test_scenario_run_with_room_runs(tmp_path: Path) -> None:
    file = tmp_path / "small.toml"
    file.write_text('buyers = 2\nthink = 0\nrepeat = 1\nmax_memory = "1M"\n')
    result = booking("scenario", "run", str(file), "--max-memory", "200M", "--format", "json")
    assert result.exit_code == 0, result.stderr


# --- the Python API -----------------------------------------------------------------------


def test_the_api_takes_bytes_or_a_size(no_fork: list[int]) -> None:
    for limit in (MIB, "1M"):
        with pytest.raises(ResourceError, match=r"more than the 1\.0 MiB this run may use"):
            simulate(Scenario(buyers=5, max_memory=limit))
        with pytest.raises(ResourceError, match=r"more than the 1\.0 MiB"):
            compare(Scenario(buyers=5, max_memory=limit), ["lock"], ["json"], repeat=1)
    assert no_fork == []


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("lots", "max memory: 'lots' is not a size"),
        (0, "max memory must be a number of bytes or a size"),
        (True, "max memory must be a number of bytes or a size"),
        (1.5e9, "max memory must be a number of bytes or a size"),
    ],
)
def test_the_api_refuses_a_bad_size(limit: object, message: str, no_fork: list[int]) -> None:
    with pytest.raises(ScenarioError, match=message):
        simulate(Scenario(buyers=5, max_memory=limit))  # type: ignore[arg-type]


def test_the_api_runs_within_its_limit() -> None:
    result = simulate(Scenario(buyers=3, think_ms=(0, 0), max_memory="200M"))
    assert result.verdict == "SAFE"
