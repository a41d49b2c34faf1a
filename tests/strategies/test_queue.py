"""`queue`: one seller process owns the store. Safe over many runs on both stores; a killed
seller (a fault, or SIGKILL from outside) is a clean result that never hangs; a stopped
run keeps a receipt for every sale; the descriptor limit is checked before anything is
made; nothing is left running afterwards."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from booking import Scenario, simulate
from booking.engine.attempt import Recorder
from booking.engine.reports import Signals
from booking.errors import ResourceError
from booking.stores import StoreOptions
from booking.stores.json_store import JsonStore
from booking.strategies import StrategyOptions, descriptors
from booking.strategies.protocols import GuardTimeout
from booking.strategies.seller import SingleSeller
from booking.strategies.seller_requests import Request
from booking.waits import Backoff
from tests.helpers import booking_process, children_of, exists, no_children_left, run_cli

STORES = ["json", "sqlite"]


def _first_error(explanation: list[str]) -> str:
    return next(line for line in explanation if "failed" in line and "First: " in line)


# --- safety ----------------------------------------------------------------------------------


@pytest.mark.parametrize("store", STORES)
def test_twenty_sold_out_runs_are_all_safe_one_purchase_at_a_time(store: str) -> None:
    for seed in range(20):
        result = simulate(Scenario(buyers=30, tickets=20, strategy="queue", store=store, seed=seed))
        assert result.verdict == "SAFE", result.explanation
        assert (result.sold, result.remaining, result.refused) == (20, 0, 10)
        assert result.oversold == result.lost_updates == result.errors == 0
        assert result.max_inside == 1
    assert no_children_left()


def test_the_cli_sells_on_sqlite_and_the_ledger_names_each_buyer(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    result = run_cli(
        "--strategy", "queue", "--store", "sqlite", "--buyers", "20", "--path", str(path),
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr)
    record = json.loads(result.stdout)
    assert (record["strategy"], record["store"], record["verdict"]) == ("queue", "sqlite", "SAFE")
    assert (record["sold"], record["remaining"]) == (10, 0)
    with sqlite3.connect(path) as conn:
        buyers = [row[0] for row in conn.execute("SELECT buyer FROM sales")]
    conn.close()
    # One connection in the seller, yet every sale is recorded for the buyer it served.
    assert len(buyers) == len(set(buyers)) == 10
    assert set(buyers) <= set(range(20))
    assert no_children_left()


# --- faults: the seller dies -----------------------------------------------------------------


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("kind", ["holder", "writer"])
def test_a_killed_seller_is_a_clean_result_that_exits_0(kind: str, store: str) -> None:
    # More tickets than buyers: the victim's purchase always reaches the seller's write.
    result = run_cli(
        "--strategy", "queue", "--store", store, "--buyers", "30", "--tickets", "100",
        f"--kill-{kind}", "1", "--timeout", "20", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr)
    record = json.loads(result.stdout)
    assert record["verdict"] == "ERRORS", record["explanation"]
    assert not record["timed_out"]  # every buyer got its answer: EOF or EPIPE, no wait
    assert record["errors"] >= 1 and record["sold"] < 30
    assert record["remaining"] == 100 - record["sold"]  # the victim's sale never happened
    assert record["oversold"] == record["lost_updates"] == 0
    assert "First: the seller is gone: it " in _first_error(record["explanation"])
    assert no_children_left()


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("holder", "killed between its read and its write for this buyer (--kill-holder)"),
        ("writer", "killed half-way through writing this buyer's sale (--kill-writer)"),
    ],
)
def test_the_victim_is_told_why_no_answer_came(kind: str, says: str) -> None:
    result = simulate(
        Scenario(buyers=1, tickets=5, strategy="queue", seed=1,
                 kill_holder=int(kind == "holder"), kill_writer=int(kind == "writer"))
    )  # fmt: skip
    assert result.verdict == "ERRORS"
    assert (result.sold, result.remaining) == (0, 5)
    assert f"First: the seller is gone: it was {says}" in _first_error(result.explanation)
    assert no_children_left()


def test_once_the_seller_is_gone_later_attempts_fail_at_once_without_a_think() -> None:
    # 50 attempts of 100 ms think each would take 5 s a buyer: past the 3 s timeout.
    result = simulate(
        Scenario(buyers=3, tickets=500, attempts=50, think_ms=(100, 100), strategy="queue",
                 kill_writer=1, timeout_s=3, seed=2)
    )  # fmt: skip
    assert not result.timed_out, result.explanation
    assert result.verdict == "ERRORS"
    assert result.attempts == 150 and result.errors == 150 - result.sold
    assert result.remaining == 500 - result.sold
    assert no_children_left()


def test_a_seller_killed_mid_write_of_an_inplace_json_store_is_corrupt() -> None:
    result = simulate(
        Scenario(buyers=10, tickets=50, strategy="queue", json_write="inplace", kill_writer=1,
                 seed=3)
    )  # fmt: skip
    assert result.verdict == "CORRUPT"
    assert result.remaining is None
    assert any("could not be read after the run" in line for line in result.explanation)
    assert no_children_left()


def test_the_seller_killed_from_outside_fails_the_buyers_and_nothing_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[SingleSeller] = []
    build = SingleSeller.__init__

    def keep(self: SingleSeller, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(SingleSeller, "__init__", keep)
    path = tmp_path / "t.json"
    killed: list[int] = []

    def kill_after_the_first_round() -> None:
        # Every buyer thinks 300 ms before each purchase: once all 5 have bought one
        # ticket the seller is idle, and dies there, between two requests.
        for _ in range(2000):
            if made and path.exists() and json.loads(path.read_text() or "{}")["count"] <= 95:
                # The fifth sale is written; its answer follows a moment later. The next
                # round is 300 ms away: 50 ms on, the seller is idle between requests.
                time.sleep(0.05)
                killed.append(made[0].pid)
                os.kill(made[0].pid, signal.SIGKILL)
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_after_the_first_round)
    killer.start()
    try:
        result = simulate(
            Scenario(buyers=5, tickets=100, attempts=3, think_ms=(300, 300), strategy="queue",
                     path=path, timeout_s=20, seed=1)
        )  # fmt: skip
    finally:
        killer.join()
    assert killed, "the seller never sold the first round"
    assert result.verdict == "ERRORS", result.explanation
    assert not result.timed_out
    assert result.errors >= 1 and 5 <= result.sold < 15
    assert result.remaining == 100 - result.sold
    assert "First: the seller is gone: it " in _first_error(result.explanation)
    assert not exists(killed[0]) and no_children_left()


# --- stopped runs ----------------------------------------------------------------------------


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("trial", range(3))
def test_a_stopped_run_has_a_receipt_for_every_sale(store: str, trial: int, tmp_path: Path) -> None:
    path = tmp_path / ("t.db" if store == "sqlite" else "t.json")
    proc = booking_process(
        "run", "--strategy", "queue", "--path", str(path), "--tickets", "100000",
        "--buyers", "20", "--attempts", "5000", "--think", "0:2", "--json",
    )  # fmt: skip
    seen: set[int] = set()
    # Stop it mid-run: once the seller and every buyer are there (start-up is slow on a
    # loaded machine, and a stop before the run starts measures nothing), then a while on.
    started = time.monotonic() + 60
    while len(seen) < 21 and time.monotonic() < started and proc.poll() is None:
        seen.update(children_of(proc.pid))
        time.sleep(0.01)
    deadline = time.monotonic() + random.Random(trial).uniform(0.3, 0.8)
    while time.monotonic() < deadline and proc.poll() is None:
        seen.update(children_of(proc.pid))
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    record = json.loads(out)
    assert record["verdict"] == "INTERRUPTED", record["explanation"]
    assert record["sold"] > 0 and record["sold"] + record["remaining"] == 100000
    assert record["lost_updates"] == record["external_sales"] == record["errors"] == 0
    assert not record["interfered"]
    assert seen and not any(exists(pid) for pid in seen)


def _ended(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it (init reaps in its own time)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def test_the_seller_and_the_buyers_end_when_booking_is_killed(tmp_path: Path) -> None:
    proc = booking_process(
        "run", "--strategy", "queue", "--path", str(tmp_path / "t.db"), "--tickets", "100000",
        "--buyers", "5", "--attempts", "1000", "--think", "5",
    )  # fmt: skip
    seen: list[int] = []
    for _ in range(1000):
        seen = children_of(proc.pid)
        if len(seen) == 6 or proc.poll() is not None:
            break
        time.sleep(0.01)
    assert len(seen) == 6, seen  # the seller and 5 buyers
    proc.kill()  # SIGKILL: no clean-up in the parent at all
    proc.communicate(timeout=30)
    for _ in range(1000):
        if all(_ended(pid) for pid in seen):
            break
        time.sleep(0.01)
    assert all(_ended(pid) for pid in seen)


# --- the seller's own rules ------------------------------------------------------------------


def _json_store(tmp_path: Path, tickets: int = 10) -> JsonStore:
    return JsonStore(tmp_path / "t.json", tickets, create=True, reset=False, options=StoreOptions())


def _seller(store: JsonStore, buyers: int) -> SingleSeller:
    return SingleSeller(
        store, StrategyOptions(timeout_s=5, poll=Backoff.fixed(0.005), buyers=buyers)
    )


def test_the_seller_sells_nothing_to_a_buyer_that_has_died(tmp_path: Path) -> None:
    store = _json_store(tmp_path)
    strategy = _seller(store, buyers=2)
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    events_r, events_w = os.pipe()
    try:
        time.sleep(0.05)  # it has exited, and stays a zombie until reaped below
        ghost = Request(strategy._requests, strategy._answers[0], 0, dead, timeout_s=0.5)
        with pytest.raises(GuardTimeout, match=r"no answer from the seller within 0\.5 s"):
            ghost.buy(Recorder(0, 0, 0.0, events_w, None))
        assert store.count() == 10  # its request was dropped: no sale without a receipt
        live = Request(strategy._requests, strategy._answers[1], 1, os.getpid(), timeout_s=5)
        assert live.look() == 10
        assert live.buy(Recorder(1, 0, 0.0, events_w, None)) == "bought"
        assert strategy.finish([1]) == 9
    finally:
        Signals.deferring = False  # served() set it, for a buyer process
        os.waitpid(dead, 0)
        strategy.close()
        os.close(events_r)
        os.close(events_w)
    assert strategy.pid == 0 and no_children_left()
    strategy.close()  # idempotent


def test_a_request_given_up_on_is_never_sold(tmp_path: Path) -> None:
    # A buyer whose wait ran out (--timeout) left its request in the pipe: the seller,
    # busy meanwhile, must not sell it afterwards, or the sale would have no receipt.
    store = _json_store(tmp_path)
    strategy = _seller(store, buyers=1)
    events_r, events_w = os.pipe()
    try:
        os.kill(strategy.pid, signal.SIGSTOP)  # the seller is busy elsewhere
        late = Request(strategy._requests, strategy._answers[0], 0, os.getpid(), timeout_s=0.05)
        with pytest.raises(GuardTimeout):
            late.buy(Recorder(0, 0, 0.0, events_w, None))
        os.kill(strategy.pid, signal.SIGCONT)
        assert late.look() == 10  # served after the expired request, which it skipped
        assert strategy.finish([]) == 10
    finally:
        Signals.deferring = False
        strategy.close()
        os.close(events_r)
        os.close(events_w)
    assert no_children_left()


def test_the_runner_still_gets_low_descriptors_for_select(tmp_path: Path) -> None:
    # The parent keeps one answer pipe end a buyer; the runner's events pipe, made next,
    # must still fit select()'s limit of 1,024 (the freed write ends leave low gaps).
    strategy = _seller(_json_store(tmp_path), buyers=600)
    try:
        read, write = os.pipe()
        os.close(read)
        os.close(write)
        assert max(read, write) < 1024
    finally:
        strategy.close()
    assert no_children_left()


def test_too_few_descriptors_is_refused_before_anything_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _json_store(tmp_path)
    real = resource.getrlimit

    def few(kind: int) -> tuple[int, int]:
        return (100, 100) if kind == resource.RLIMIT_NOFILE else real(kind)

    monkeypatch.setattr(resource, "getrlimit", few)
    before = sorted(os.listdir("/proc/self/fd"))
    with pytest.raises(ResourceError) as refused:
        _seller(store, buyers=200)
    assert str(refused.value) == (
        "the queue strategy needs 2 file descriptors a buyer: 200 buyers need about 464, "
        "more than this process may open (100, ulimit -n); use at most 18 buyers"
    )
    assert sorted(os.listdir("/proc/self/fd")) == before
    assert no_children_left()
    # Through the CLI: one line on stderr, exit 2.
    result = run_cli("--strategy", "queue", "--buyers", "200")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("use at most 18 buyers")
    assert len(result.stderr.strip().splitlines()) == 1
    assert no_children_left()


def test_the_soft_descriptor_limit_is_raised_towards_the_hard_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda kind: (100, 5000))
    monkeypatch.setattr(resource, "setrlimit", lambda kind, limits: asked.append(limits))
    descriptors.make_room(200)
    assert asked == [(464, 5000)]
    with pytest.raises(ResourceError, match=r"\(5,000, ulimit -n\); use at most 2,468 buyers"):
        descriptors.make_room(3000)
