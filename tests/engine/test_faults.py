"""Faults: buyers killed holding the guard or half-way through a write, a dead Manager,
and the tool itself stopped by SIGINT or SIGTERM at any moment. Nothing hangs, nothing
is lost, no child is left behind."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from booking import Scenario, faults, simulate
from booking.errors import StoreError
from booking.stores import StoreOptions
from booking.stores.json_store import JsonStore
from booking.strategies import Guarded, StrategyOptions
from booking.strategies.manager import ManagerDict
from booking.waits import Backoff
from tests.cli.test_bad_input import assert_usage_error, invoke
from tests.helpers import booking_process, children_of, exists, no_children_left, run_cli

# --- --kill-holder ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "store"), [("filelock", "json"), ("filelock", "sqlite"), ("transaction", "sqlite")]
)
def test_a_killed_holder_releases_a_kernel_lock_and_the_run_completes(
    strategy: str, store: str
) -> None:
    result = simulate(
        Scenario(
            buyers=20, tickets=10, strategy=strategy, store=store, kill_holder=2, seed=3,
            stall_timeout_s=5,
        )
    )  # fmt: skip
    assert result.verdict == "SAFE", result.explanation
    assert result.killed == 2
    assert (result.sold, result.remaining, result.oversold) == (10, 0, 0)
    assert result.failed_buyers == result.errors == 0
    assert any("killed inside the critical section" in line for line in result.explanation)
    assert no_children_left()


@pytest.mark.parametrize("strategy", ["lock", "manager"])
def test_a_killed_holder_of_a_process_lock_is_a_deadlock_that_ends(strategy: str) -> None:
    # Every buyer comes back for 5 attempts of 20 ms each: whenever the victim dies, others
    # still want the guard it took with it.
    result = simulate(
        Scenario(buyers=8, tickets=40, attempts=5, think_ms=(20, 20), strategy=strategy,
                 kill_holder=1, seed=5, stall_timeout_s=1)
    )  # fmt: skip
    assert result.verdict == "DEADLOCK"
    assert result.timed_out
    assert result.killed == 1
    victim = next(iter(faults.plan(8, 1, 0, 5)))
    assert any(
        f"buyer {victim} was killed inside the critical section" in line
        and "never released" in line
        for line in result.explanation
    ), result.explanation
    assert any("--stall-timeout 1" in line for line in result.explanation)
    assert result.remaining is not None
    assert result.oversold == 0 and result.sold + result.remaining == 40  # nothing lost
    assert no_children_left()


def test_the_victims_follow_the_seed() -> None:
    assert faults.plan(50, 2, 1, 7) == faults.plan(50, 2, 1, 7)
    assert faults.plan(50, 2, 1, 7) != faults.plan(50, 2, 1, 8)
    chosen = faults.plan(50, 2, 1, 7)
    assert sorted(fault.kind for fault in chosen.values()) == ["holder", "holder", "writer"]
    assert all(0 <= fault.at < 1 for fault in chosen.values())


# --- --kill-writer ---------------------------------------------------------------------------


@pytest.mark.parametrize(("strategy", "store"), [("filelock", "json"), ("filelock", "sqlite")])
def test_a_writer_killed_mid_write_leaves_an_atomic_store_valid(
    strategy: str, store: str, tmp_path: Path
) -> None:
    path = tmp_path / ("t.db" if store == "sqlite" else "t.json")
    result = simulate(
        Scenario(buyers=6, tickets=10, strategy=strategy, store=store, kill_writer=1, seed=2,
                 path=path, think_ms=(1, 2))
    )  # fmt: skip
    assert result.killed == 1
    assert result.verdict == "SAFE", result.explanation
    assert result.remaining == 10 - result.sold == 5  # the victim's sale never happened
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # swept
    if store == "sqlite":
        conn = sqlite3.connect(path)
        try:
            (count,) = conn.execute("SELECT count FROM stock WHERE id = 1").fetchone()
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            conn.close()
        assert count == 5
    else:
        assert json.loads(path.read_text()) == {"count": 5}


def test_a_writer_killed_mid_inplace_write_leaves_the_store_corrupt_and_says_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.json"
    result = simulate(
        Scenario(buyers=1, tickets=10, strategy="lock", kill_writer=1, seed=1, path=path,
                 json_write="inplace")
    )  # fmt: skip
    assert result.verdict == "CORRUPT"
    assert result.remaining is None
    left = path.read_bytes()
    assert left == b'{"count": 9}'[: len(b'{"count": 9}') // 2]  # half the new document
    assert any(repr(left) in line for line in result.explanation), result.explanation
    # The next run refuses the corrupt store rather than overwrite it...
    line = assert_usage_error(invoke(["--path", str(path)]))
    assert "not valid JSON" in line
    assert path.read_bytes() == left
    # ...unless the user asks for --reset.
    assert run_cli("--path", str(path), "--reset", "--tickets", "3", "--buyers", "2").exit_code == 0
    assert json.loads(path.read_text()) == {"count": 1}


# --- a dead Manager --------------------------------------------------------------------------


def test_a_dead_manager_is_reported_not_a_traceback(tmp_path: Path) -> None:
    store = JsonStore(tmp_path / "t.json", 10, create=True, reset=False, options=StoreOptions())
    strategy = ManagerDict(store, StrategyOptions(timeout_s=1, poll=Backoff.fixed(0.005)))
    purchase = strategy.buyer_parts(0)
    assert isinstance(purchase, Guarded)
    stock = purchase.stock
    assert stock.read() == 10
    process = strategy._manager._process  # type: ignore[attr-defined]
    os.kill(process.pid, signal.SIGKILL)
    process.join(5)
    with pytest.raises(StoreError, match="the Manager process died"):
        strategy.finish([])
    with pytest.raises((OSError, EOFError)):
        stock.read()  # a buyer's read fails, and the buyer records it as an error
    strategy.close()  # does not raise
    assert json.loads((tmp_path / "t.json").read_text()) == {"count": 10}  # not written back
    # A SIGKILLed manager cannot remove its socket's folder: the test does, as it killed it.
    address = strategy._manager.address
    assert isinstance(address, str)  # a Unix socket's path
    shutil.rmtree(os.path.dirname(address), ignore_errors=True)


# --- bad fault options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--kill-holder", "-1"], "kill-holder"),
        (["--kill-writer", "-2"], "kill-writer"),
        (["--buyers", "3", "--kill-holder", "2", "--kill-writer", "2"], "cannot kill 4 of 3"),
        (["--stall-timeout", "0"], "stall timeout"),
        (["--stall-timeout", "nan"], "stall timeout"),
    ],
)
def test_bad_fault_options_are_exit_2(args: list[str], mentions: str) -> None:
    assert mentions in assert_usage_error(invoke(args))


# --- the tool stopped at any moment ----------------------------------------------------------


def test_sigterm_stops_reaps_prints_and_exits_143(tmp_path: Path) -> None:
    store = tmp_path / "db.json"
    store.write_text('{"count": 1000}')
    proc = booking_process(
        "run", "--path", str(store), "--buyers", "5", "--attempts", "100", "--think", "50",
        "--json",
    )  # fmt: skip
    seen: set[int] = set()
    for _ in range(400):
        seen.update(children_of(proc.pid))
        if json.loads(store.read_text() or "{}").get("count", 1000) < 1000:
            break
        time.sleep(0.025)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    record = json.loads(out)
    assert record["interrupted"] is True
    assert record["sold"] + record["remaining"] == 1000
    assert json.loads(store.read_text())["count"] == record["remaining"]
    assert not any(exists(pid) for pid in seen)


@pytest.mark.parametrize("trial", range(20))
def test_a_signal_at_a_random_moment_never_leaves_a_child_or_a_torn_store(
    trial: int, tmp_path: Path
) -> None:
    rng = random.Random(trial)
    store = tmp_path / "db.json"
    store.write_text('{"count": 200}')
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    proc = booking_process(
        "run", "--path", str(store), "--buyers", "6", "--attempts", "30", "--think", "0:4",
        "--json",
    )  # fmt: skip
    seen: set[int] = set()
    deadline = time.monotonic() + rng.uniform(0.0, 1.2)
    while time.monotonic() < deadline and proc.poll() is None:
        seen.update(children_of(proc.pid))
        time.sleep(0.005)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    left = json.loads(store.read_text())["count"]  # always a whole document
    if out.strip():  # a run had begun: its record is printed, and it accounts for every sale
        # 0: the signal came after the run, while booking was exiting (it is ignored then).
        assert proc.returncode in (0, 128 + sig), (proc.returncode, err)
        assert "Traceback" not in err
        record = json.loads(out)
        assert record["remaining"] == left
        assert record["sold"] + left == 200
    else:
        # Stopped before any run began. While Python itself is still starting (site,
        # import hooks) the signal's default action applies: -sig, or 1 with Python's own
        # traceback for SIGINT. Either way nothing was forked and nothing was sold.
        assert proc.returncode in (128 + sig, -sig, 1), (proc.returncode, err)
        assert not seen
        assert left == 200
    assert not any(exists(pid) for pid in seen)
