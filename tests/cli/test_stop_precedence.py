"""One run, one story: the first stop decides the verdict, the record and the exit code;
an anomaly proven before the memory guard stopped the run is still an anomaly. The memory
reading is faked through `booking.memory.meminfo`; the runs are real."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from booking import Scenario, memory, simulate
from booking.cli.app import app
from booking.cli.exits import EXIT_ABORTED, EXIT_ANOMALY
from booking.comparison import driver
from booking.engine import memory_guard
from booking.engine.stopping import EXIT_INTERRUPTED
from booking.memory import Meminfo
from booking.scenarios.plan import Cell
from tests.helpers import no_children_left

GIB = 1 << 30
PLENTY = Meminfo(20 * GIB, 24 * GIB)
SHORT = Meminfo(int(2.1 * GIB), 24 * GIB)


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), prog_name="booking")


def count_of(path: Path) -> int:
    return int(json.loads(path.read_text())["count"]) if path.exists() else -1


@pytest.fixture(autouse=True)
def every_check_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_guard, "CHECK_EVERY_S", 0.0)


def short_after_two_writes(path: Path, ctrl_c: bool = False) -> object:
    """Memory is short once the store's count reads 98: the ten buyers left the gate
    together and think 50 ms, so their first purchases all read 100 and wrote 99 (lost
    updates, proven), and 98 is a second round's write. With `ctrl_c`, the reading that
    first says so also sends this process SIGINT, as a user might meanwhile."""
    sent: list[bool] = []

    def meminfo(path_: str = "/proc/meminfo") -> Meminfo:
        if count_of(path) != 100 - 2 and not (sent and count_of(path) < 100):
            return PLENTY
        if ctrl_c and not sent:
            os.kill(os.getpid(), signal.SIGINT)
        sent.append(True)
        return SHORT

    return meminfo


UNGUARDED = ["--strategy", "none", "--buyers", "10", "--tickets", "100", "--think", "50:50"]


@pytest.mark.parametrize("fail_on_anomaly", [False, True])
def test_an_anomaly_proven_before_the_memory_stop_is_one_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_on_anomaly: bool
) -> None:
    path = tmp_path / "t.json"
    monkeypatch.setattr(memory, "meminfo", short_after_two_writes(path))
    flag = ["--fail-on-anomaly"] if fail_on_anomaly else []
    result = cli("run", *UNGUARDED, "--attempts", "5", "--path", str(path), "--json", *flag)
    record = json.loads(result.stdout)
    assert record["aborted"].startswith("memory:")
    assert record["verdict"] == "LOST_UPDATES"  # ten read 100; the writes overwrote
    assert result.exit_code == (EXIT_ANOMALY if fail_on_anomaly else EXIT_ABORTED)
    assert no_children_left()


def test_ctrl_c_during_the_memory_stop_leaves_it_aborted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.json"
    monkeypatch.setattr(memory, "meminfo", short_after_two_writes(path, ctrl_c=True))
    result = cli("run", "--buyers", "6", "--tickets", "100", "--think", "50:50",
                 "--attempts", "20", "--path", str(path), "--json")  # fmt: skip
    record = json.loads(result.stdout)
    assert (record["verdict"], record["interrupted"]) == ("ABORTED", False)
    assert record["aborted"].startswith("memory:")
    assert result.exit_code == EXIT_ABORTED
    assert no_children_left()


def test_a_run_stopped_by_ctrl_c_is_not_then_aborted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings: list[bool] = []

    def meminfo(path_: str = "/proc/meminfo") -> Meminfo:
        # Ctrl-C at the check before the third fork; short of memory from then on.
        readings.append(True)
        if len(readings) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return PLENTY if len(readings) <= 3 else SHORT

    monkeypatch.setattr(memory, "meminfo", meminfo)
    result = cli("run", "--buyers", "6", "--path", str(tmp_path / "t.json"), "--json")
    record = json.loads(result.stdout)
    assert (record["verdict"], record["interrupted"], record["aborted"]) == (
        "INTERRUPTED",
        True,
        "",
    )
    assert result.exit_code == EXIT_INTERRUPTED
    assert no_children_left()


def test_compare_counts_an_aborted_run_that_proved_an_anomaly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = simulate(Scenario(buyers=2, tickets=5, strategy="none", seed=1))
    proven = dataclasses.replace(real, verdict="LOST_UPDATES", aborted="memory: low")
    inconclusive = dataclasses.replace(real, verdict="ABORTED", aborted="memory: low")
    for result, counted in ((proven, [proven]), (inconclusive, [])):
        monkeypatch.setattr(driver, "simulate", lambda scenario, r=result: r)
        cell = Cell("none", "json")
        progress = driver.run_cells([(cell, Scenario(strategy="none"))], 3, seed=1)
        assert progress.aborted == "memory: low"
        assert progress.results[cell] == counted  # and no run after it


def test_compare_counts_an_interrupted_run_that_proved_an_anomaly_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = simulate(Scenario(buyers=2, tickets=5, strategy="none", seed=1))
    proven = dataclasses.replace(real, verdict="LOST_UPDATES", interrupted=True)
    inconclusive = dataclasses.replace(real, verdict="INTERRUPTED", interrupted=True)
    for result, counted in ((proven, [proven]), (inconclusive, [])):
        monkeypatch.setattr(driver, "simulate", lambda scenario, r=result: r)
        saved: list[object] = []
        cell = Cell("none", "json")
        progress = driver.run_cells(
            [(cell, Scenario(strategy="none"))],
            3,
            seed=1,
            on_result=lambda *a, s=saved: s.append(a),
        )
        assert progress.interrupted and not progress.aborted
        assert progress.results[cell] == counted  # and no run after it
        assert len(saved) == len(counted)  # kept in the history only when it counts
