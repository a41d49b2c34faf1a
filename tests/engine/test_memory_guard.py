"""The live memory guard: its reading and its floor (a fake clock, a fake meminfo), and what
a run it stops leaves: no buyer past a shut gate, no process, a store that still reads,
receipts that add up. Memory is never exhausted for real: `booking.memory.meminfo` is the
seam, and each test says exactly at which reading memory runs short."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from booking import memory
from booking.engine import memory_guard, runner
from booking.engine.frames import EXIT_STOPPED
from booking.engine.memory_guard import MEMORY_FLOOR_FRACTION, MemoryGuard, below_floor
from booking.memory import Meminfo
from booking.scenarios.scenario import Scenario
from booking.simulation import simulate
from tests.helpers import exists, no_children_left

GIB = 1 << 30
PLENTY = Meminfo(20 * GIB, 24 * GIB)
SHORT = Meminfo(int(2.1 * GIB), 24 * GIB)
REASON = "memory: 2.1 GiB available of 24 GiB, below the 2.4 GiB floor"


# --- the guard alone -----------------------------------------------------------------------


def test_the_floor_is_a_tenth_of_the_memory_and_the_reason_names_all_three() -> None:
    assert MEMORY_FLOOR_FRACTION == 0.10
    assert below_floor(SHORT) == REASON
    assert below_floor(PLENTY) == ""
    floor = int(24 * GIB * MEMORY_FLOOR_FRACTION)
    assert below_floor(Meminfo(floor, 24 * GIB)) == ""  # at the floor: still enough
    assert below_floor(Meminfo(floor - 1, 24 * GIB)) != ""


class _Readings:
    """A fake meminfo: returns the queued readings in turn (the last one for ever)."""

    def __init__(self, *readings: Meminfo | None) -> None:
        self.readings = list(readings)
        self.calls = 0

    def __call__(self, path: str = "/proc/meminfo") -> Meminfo | None:
        self.calls += 1
        return self.readings[min(self.calls, len(self.readings)) - 1]


def test_the_guard_reads_at_most_every_50_ms_and_stays_tripped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readings = _Readings(PLENTY, SHORT, PLENTY)
    monkeypatch.setattr(memory, "meminfo", readings)
    now = [100.0]
    guard = MemoryGuard(clock=lambda: now[0])
    assert guard.check() == "" and readings.calls == 1
    now[0] += memory_guard.CHECK_EVERY_S / 2
    assert guard.check() == "" and readings.calls == 1  # too soon: only the clock was read
    now[0] += memory_guard.CHECK_EVERY_S
    assert guard.check() == REASON and readings.calls == 2
    now[0] += 10
    assert guard.check() == REASON and readings.calls == 2  # memory came back: still stopped


def test_without_a_reading_the_guard_never_stops_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "meminfo", _Readings(None))
    monkeypatch.setattr(memory_guard, "CHECK_EVERY_S", 0.0)
    guard = MemoryGuard()
    assert [guard.check() for _ in range(3)] == ["", "", ""]


# --- a run the guard stops -----------------------------------------------------------------


@pytest.fixture
def every_check_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check reads the (fake) memory: the runner checks before each fork and at each
    tick, so the N-th reading is the check before buyer N-1 is forked."""
    monkeypatch.setattr(memory_guard, "CHECK_EVERY_S", 0.0)


@pytest.fixture
def raws(monkeypatch: pytest.MonkeyPatch) -> list[runner.RawRun]:
    """What the runner returned to simulate(), to look for its children afterwards."""
    seen: list[runner.RawRun] = []
    real = runner.run

    def spy(*args: object, **kwargs: object) -> runner.RawRun:
        raw = real(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(raw)
        return raw

    monkeypatch.setattr(runner, "run", spy)
    return seen


def count_of(path: Path) -> int:
    """The store's count, read as a user would: the file must still parse."""
    if path.suffix == ".json":
        count: int = json.loads(path.read_text())["count"]
        return count
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (count,) = conn.execute("SELECT count FROM stock WHERE id = 1").fetchone()
        return count
    finally:
        conn.close()


def assert_nothing_left(raw: runner.RawRun) -> None:
    assert no_children_left()
    for pid in raw.pids:
        assert not exists(pid)
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: no longer our child


@pytest.mark.parametrize("store", ["json", "sqlite"])
@pytest.mark.parametrize("short_from", [1, 4])
def test_memory_short_while_forking_stops_the_forks_and_the_gate_never_opens(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    every_check_reads: None,
    raws: list[runner.RawRun],
    store: str,
    short_from: int,
) -> None:
    readings = _Readings(*[PLENTY] * (short_from - 1), SHORT)
    monkeypatch.setattr(memory, "meminfo", readings)
    path = tmp_path / f"tickets.{'json' if store == 'json' else 'db'}"
    result = simulate(Scenario(buyers=20, tickets=10, path=path, think_ms=(0, 0), seed=1))
    (raw,) = raws
    assert len(raw.pids) == short_from - 1  # the reading before each fork: no more forks
    assert result.verdict == "ABORTED"
    assert result.aborted == REASON
    assert not result.interrupted and not result.timed_out
    assert (result.sold, result.attempts, result.remaining, result.wall_s) == (0, 0, 10, 0.0)
    # Each forked buyer was stopped at the shut gate, or before it got there (a SIGTERM in
    # the instant after its fork, before it set its own handler, waits for the SIGKILL).
    stopped = (EXIT_STOPPED, -signal.SIGTERM, -signal.SIGKILL)
    assert all(code in stopped for code in raw.exit_codes.values())
    assert result.errors == 0 and result.failed_buyers == 0
    assert REASON in result.explanation[-1] and "fewer --buyers" in result.explanation[-1]
    never = 20 - len(raw.pids)
    assert any(f"{never} were never started" in line for line in result.explanation)
    assert not any("made no attempt" in line for line in result.explanation)
    assert_nothing_left(raw)
    assert count_of(path) == 10


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_memory_short_while_buyers_buy_stops_them_with_every_receipt_kept(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    every_check_reads: None,
    raws: list[runner.RawRun],
    store: str,
) -> None:
    path = tmp_path / f"tickets.{'json' if store == 'json' else 'db'}"

    def short_once_a_ticket_is_sold(path_: str = "/proc/meminfo") -> Meminfo:
        # Before the first fork the store may not exist yet; after the gate, a sale proves
        # the buyers are past it and inside their purchases.
        sold = path.exists() and count_of(path) < 1000
        return SHORT if sold else PLENTY

    monkeypatch.setattr(memory, "meminfo", short_once_a_ticket_is_sold)
    # 6 buyers × 100 attempts of 50 ms each under the lock: minutes of work, stopped early.
    scenario = Scenario(
        buyers=6, tickets=1000, path=path, strategy="lock", think_ms=(50, 50), attempts=100
    )
    result = simulate(scenario)
    (raw,) = raws
    assert len(raw.pids) == 6
    assert result.verdict == "ABORTED" and result.aborted == REASON
    assert result.sold > 0 and result.sold < 600
    assert result.oversold == 0 and result.lost_updates == 0 and result.errors == 0
    assert result.remaining is not None
    assert result.sold + result.remaining == 1000  # nothing lost or torn by the stop
    assert_nothing_left(raw)
    assert count_of(path) == result.remaining


def test_ctrl_c_before_the_gate_keeps_it_shut_too(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    every_check_reads: None,
    raws: list[runner.RawRun],
) -> None:
    # The reading before the 4th fork is the moment: Ctrl-C arrives there, memory is fine.
    readings = _Readings(PLENTY)

    def interrupt_at_the_fourth(path: str = "/proc/meminfo") -> Meminfo | None:
        info = readings()
        if readings.calls == 4:
            os.kill(os.getpid(), signal.SIGINT)
        return info

    monkeypatch.setattr(memory, "meminfo", interrupt_at_the_fourth)
    path = tmp_path / "tickets.json"
    result = simulate(Scenario(buyers=20, tickets=10, path=path, think_ms=(0, 0), seed=1))
    (raw,) = raws
    assert len(raw.pids) == 3
    assert result.verdict == "INTERRUPTED" and result.aborted == ""
    assert (result.sold, result.attempts, result.remaining) == (0, 0, 10)
    assert_nothing_left(raw)
    assert count_of(path) == 10
