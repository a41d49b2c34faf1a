"""Process hygiene: the watchdog, Ctrl-C, concurrent runs, and no child left behind."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import filelock
import pytest

from booking import Scenario
from booking.engine import runner
from booking.engine.frames import Kind
from booking.errors import ResourceError
from booking.judge.checker import judge
from booking.simulation import run_facts
from booking.strategies import Guard, Guarded, Unlocked
from tests.helpers import booking_process, children_of, exists, no_children_left


class _Count:
    def read(self) -> int:
        return 1

    def write(self, count: int) -> None:
        return None


class _NeverReleased:
    """A lock whose holder is gone: acquire waits far past any timeout of the run."""

    def acquire(self) -> bool:
        time.sleep(3600)
        return True

    def release(self) -> None:
        return None


class _StuckStrategy:
    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    def buyer_parts(self, buyer: int) -> Guarded:
        return Guarded(_Count(), self._guard)

    def finish(self, sold_by: list[int]) -> int:
        return 1

    def close(self) -> None:
        return None


def test_a_lock_that_never_comes_ends_as_deadlock_with_every_child_reaped() -> None:
    raw = runner.run(_StuckStrategy(_NeverReleased()), 4, 1, (0, 0), seed=1, timeout_s=1.0)
    assert raw.timed_out
    assert sorted(raw.exit_codes) == [0, 1, 2, 3]
    assert all(code != 0 for code in raw.exit_codes.values())
    assert no_children_left()
    assert not any(exists(pid) for pid in raw.pids)
    scenario = Scenario(buyers=4, tickets=1, timeout_s=1.0)
    judgement = judge(run_facts(scenario, 1, raw, remaining=1, problem=""))
    assert judgement.verdict == "DEADLOCK"
    assert judgement.failed_buyers == 0  # stopped by the watchdog, not crashed
    assert any("did not finish within its 1 s timeout" in line for line in judgement.explanation)


def test_a_free_run_reaps_every_child_with_exit_code_zero() -> None:
    raw = runner.run(_StuckStrategy(Unlocked()), 5, 3, (0, 0), seed=1, timeout_s=30)
    assert not raw.timed_out and not raw.interrupted
    assert raw.exit_codes == dict.fromkeys(range(5), 0)
    assert no_children_left()
    # each buyer: one query, then three attempts that each "buy" (the fake count stays 1)
    assert len(raw.records) == 5 * (1 + 1 + 3)


def _wait_for_children(pid: int, count: int) -> list[int]:
    for _ in range(400):
        found = children_of(pid)
        if len(found) >= count:
            return found
        time.sleep(0.025)
    raise AssertionError(f"booking started only {children_of(pid)} of {count} buyers")


def _wait_for_a_sale(store: Path, stock: int) -> None:
    for _ in range(400):
        if json.loads(store.read_text() or "{}").get("count", stock) < stock:
            return
        time.sleep(0.025)
    raise AssertionError("no ticket was sold within 10 s")


def test_ctrl_c_stops_and_reaps_the_buyers_and_prints_what_was_measured(tmp_path: Path) -> None:
    store = tmp_path / "db.json"
    store.write_text('{"count": 1000}')
    proc = booking_process(
        "run",
        "--path",
        str(store),
        "--buyers",
        "6",
        "--attempts",
        "100",
        "--think",
        "100",
        "--json",
    )
    buyers = _wait_for_children(proc.pid, 6)
    _wait_for_a_sale(store, 1000)  # the race is on: stop it in the middle
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    record = json.loads(out)
    assert record["interrupted"] is True
    assert record["sold"] > 0
    assert record["sold"] + record["remaining"] == 1000  # nothing lost by the stop
    assert json.loads(store.read_text())["count"] == record["remaining"]
    assert record["failed_buyers"] == 0
    assert not any(exists(pid) for pid in buyers)


def test_two_runs_on_one_store_under_filelock_sell_exactly_the_stock(tmp_path: Path) -> None:
    store = tmp_path / "db.json"
    store.write_text('{"count": 40}')
    args = (
        "--path",
        str(store),
        "--strategy",
        "filelock",
        "--buyers",
        "10",
        "--attempts",
        "10",
        "--think",
        "5",
        "--json",
    )
    # Hold the store's lock until both runs have all their buyers waiting for it, so the
    # runs overlap by construction, not by the luck of process start-up times.
    with filelock.FileLock(f"{store}.lock"):
        first, second = booking_process("run", *args), booking_process("run", *args)
        _wait_for_children(first.pid, 10)
        _wait_for_children(second.pid, 10)
    records = []
    for proc in (first, second):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        records.append(json.loads(out))
    assert records[0]["sold"] + records[1]["sold"] == 40
    assert all(r["sold"] > 0 for r in records), "one run took every ticket"
    assert all(r["oversold"] == 0 and r["errors"] == 0 for r in records)
    assert json.loads(store.read_text()) == {"count": 0}
    assert not (set(os.listdir(tmp_path)) - {"db.json", "db.json.lock"})


class _SlowToStart(_StuckStrategy):
    """Buyer i takes (i + 1) x `step_s` to open its store: a long but moving start-up, or
    with `hang` one buyer that never gets ready."""

    def __init__(self, step_s: float, hang: int | None = None) -> None:
        super().__init__(Unlocked())
        self._step_s = step_s
        self._hang = hang

    def buyer_parts(self, buyer: int) -> Guarded:
        time.sleep(3600 if buyer == self._hang else (buyer + 1) * self._step_s)
        return super().buyer_parts(buyer)


def test_a_long_start_up_that_keeps_moving_is_not_a_deadlock() -> None:
    # 6 buyers ready one every 0.1 s: 0.6 s of start-up against a 0.45 s watchdog, which
    # times the run from the gate and the start-up only between two ready buyers (a gap
    # 4.5 times the step, for a loaded machine).
    raw = runner.run(_SlowToStart(0.1), 6, 1, (0, 0), seed=1, timeout_s=0.45)
    assert not raw.timed_out
    assert raw.exit_codes == dict.fromkeys(range(6), 0)
    assert (raw.gate_ns - raw.started_ns) / 1e9 >= 0.6


def test_a_start_up_that_stalls_still_ends() -> None:
    raw = runner.run(_SlowToStart(0.01, hang=2), 4, 1, (0, 0), seed=1, timeout_s=0.5)
    assert raw.timed_out
    assert no_children_left()


def _count_forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    forks: list[int] = []

    def fork() -> int:
        forks.append(1)
        raise AssertionError("forked a buyer: the limit was not checked first")

    monkeypatch.setattr(os, "fork", fork)
    return forks


def test_too_many_buyers_for_the_process_limit_are_refused_before_any_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda which: (500, 4000))
    forks = _count_forks(monkeypatch)
    with pytest.raises(
        ResourceError, match=r"process limit \(ulimit -u\) is 500; raise it with `ulimit -u 4000`"
    ):
        runner.run(_StuckStrategy(Unlocked()), 1000, 1, (0, 0), seed=1, timeout_s=1)
    assert forks == []


def test_a_process_limit_that_is_also_the_hard_limit_is_not_told_to_raise_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `ulimit -u 100` when the limit already is 100 was the old hint (issue 10).
    import resource

    monkeypatch.setattr(resource, "getrlimit", lambda which: (100, 100))
    forks = _count_forks(monkeypatch)
    with pytest.raises(ResourceError) as caught:
        runner.run(_StuckStrategy(Unlocked()), 1000, 1, (0, 0), seed=1, timeout_s=1)
    message = str(caught.value)
    assert "ulimit -u 100`" not in message
    assert "is 100; that is also the hard limit" in message
    assert "use at most 36 buyers" in message
    assert forks == []


def test_a_signal_after_a_run_waits_in_bookings_own_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Between the end of a run and its printed result, a Ctrl-C raised at an arbitrary
    # point would lose the finished run's numbers: booking's own process remembers it, the
    # result is printed, and the next run (a comparison's) starts stopped.
    from booking.engine import stopping

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(stopping._State, "owns_process", True)
    monkeypatch.setattr(stopping._State, "late", 0)
    try:
        raw = runner.run(_StuckStrategy(Unlocked()), 2, 1, (0, 0), seed=1, timeout_s=30)
        assert not raw.interrupted
        os.kill(os.getpid(), signal.SIGINT)  # would be a KeyboardInterrupt here
        assert stopping.late()
        after = runner.run(_StuckStrategy(Unlocked()), 2, 1, (0, 0), seed=1, timeout_s=30)
        assert after.interrupted  # the next run starts stopped: its gate never opened
        assert not any(r.kind is Kind.ATTEMPT for r in after.records)
        assert no_children_left()
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
