"""The strategy x store matrix: safe strategies never misbehave; unsafe ones are forced to."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking import Scenario, simulate
from booking.stores import NETWORK_STORES
from booking.stores import STORES as REGISTERED_STORES
from booking.strategies import STRATEGIES
from tests.helpers import no_children_left

STORES = ["json", "sqlite"]
#: Every strategy that claims to be safe, on every store it works on.
SAFE_CELLS = [
    pytest.param(strategy, store, id=f"{strategy}-{store}")
    for strategy, info in STRATEGIES.items()
    if info.claims_safe and "count" in info.sells
    for store in STORES
    if info.supports(store)
]
RUNS = 20


def test_every_registered_store_is_in_the_matrix() -> None:
    # The file stores here; the networked ones, which need a server, in their own files
    # (on the session's throwaway servers): tests/strategies/test_pg_*.py, test_redis_*.py.
    assert set(STORES) | set(NETWORK_STORES) == set(REGISTERED_STORES)
    strategies = Path(__file__).resolve().parents[1] / "strategies"
    assert list(strategies.glob("test_pg_*.py")) and list(strategies.glob("test_redis_*.py"))


@pytest.mark.parametrize(("strategy", "store"), SAFE_CELLS)
def test_safe_strategy_has_no_anomaly_over_many_runs(strategy: str, store: str) -> None:
    design = STRATEGIES[strategy].design
    for run in range(RUNS):
        result = simulate(
            Scenario(
                buyers=30,
                tickets=10,
                strategy=strategy,
                store=store,
                think_ms=(0, 2),
                seed=run,
                # A buyer meets at most one conflict per sale made by another (10), so with
                # 10 retries none gives up and the stock always sells out.
                retries=10,
            )
        )
        assert result.verdict == "SAFE", result.explanation
        assert (result.sold, result.remaining) == (10, 0)
        assert result.oversold == result.lost_updates == result.errors == 0
        assert result.refused == 20
        assert result.gave_up == 0
        if design in ("guard", "seller"):
            assert result.max_inside == 1  # mutual exclusion, or one seller
        else:
            assert result.max_inside >= 1  # overlap allowed: safety comes from the store
            assert (result.retries, result.conflicts) == (result.conflicts, result.conflicts)
    assert no_children_left()


@pytest.mark.parametrize("store", STORES)
def test_none_oversells_when_the_window_is_wide(store: str) -> None:
    # Every buyer reads within a few milliseconds of the gate and then thinks for 50 ms,
    # so all of them read 5 before anyone writes: each one "buys".
    result = simulate(
        Scenario(buyers=12, tickets=5, strategy="none", store=store, think_ms=(50, 50), seed=1)
    )
    assert result.verdict == "OVERSOLD"
    assert result.sold == 12
    assert result.oversold == 7
    assert result.lost_updates > 0
    assert result.max_inside > 1
    assert any("both read" in line for line in result.explanation)


def test_manager_without_its_lock_loses_updates() -> None:
    # Seed 003's first program: the Manager dict without a lock.
    result = simulate(
        Scenario(
            buyers=10,
            tickets=100,
            strategy="manager",
            manager_lock=False,
            think_ms=(30, 30),
            seed=1,
        )
    )
    assert result.verdict == "LOST_UPDATES"
    assert result.sold == 10
    assert result.remaining is not None and result.remaining > 90
    assert result.lost_updates == result.sold - (100 - result.remaining)


def test_manager_leaves_thirty_of_a_hundred_for_seventy_buyers() -> None:
    # Seed 003: 70 processes each take one of 100 under a lock; 30 must remain.
    result = simulate(Scenario(buyers=70, tickets=100, strategy="manager", think_ms=(0, 0)))
    assert (result.sold, result.remaining, result.verdict) == (70, 30, "SAFE")


@pytest.mark.parametrize("strategy", ["none", "lock"])
def test_inplace_writes_never_crash_a_buyer(strategy: str) -> None:
    # The seeds' truncating write: readers may catch the file empty. Whatever they see is
    # counted (torn reads are errors), and every attempt still ends with a record.
    result = simulate(
        Scenario(
            buyers=8,
            tickets=400,
            strategy=strategy,
            json_write="inplace",
            think_ms=(0, 0),
            attempts=50,
            seed=2,
        )
    )
    assert result.failed_buyers == 0
    assert result.errors == result.torn_reads
    assert result.attempts == 8 * 50
    if strategy == "lock":
        # Queries are unguarded, so they may be torn, but purchases are serialised.
        assert result.oversold == result.lost_updates == 0


@pytest.mark.parametrize("strategy", ["lock", "filelock", "transaction"])
def test_lock_wait_shows_buyers_queueing_behind_the_holder(strategy: str) -> None:
    # 5 buyers each hold the guard for 50 ms: the last to get it queued behind 4 holders
    # (200 ms); half of that leaves room for buyers that reach the lock late on a busy box.
    result = simulate(
        Scenario(buyers=5, tickets=5, strategy=strategy, store="sqlite", think_ms=(50, 50))
    )
    assert result.verdict == "SAFE"
    assert set(result.lock_wait_ms) == {"p50", "p95", "p99", "max"}
    assert result.lock_wait_ms["max"] >= 2 * 50
    assert result.poll_ms is None  # filelock's default poll is adaptive: no one interval
    assert result.poll_backoff_ms == ([1.0, 5.0] if strategy == "filelock" else None)
