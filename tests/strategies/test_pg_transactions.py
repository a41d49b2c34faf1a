"""The PostgreSQL strategies on a ticket count (issue 16): each claim tested. The safe ones
never oversell nor lose a sale over many runs; naive-tx and none are forced to (a wide
think: every buyer reads before anyone writes); serializable counts its serialization
failures; a killed holder of a row or advisory lock does not stop the run."""

from __future__ import annotations

import pytest

from booking import Scenario, simulate
from booking.judge.result import Result

SAFE = ("lock", "for-update", "advisory", "atomic", "optimistic", "serializable")


def run(dsn: str, strategy: str, **options: object) -> Result:
    settings: dict[str, object] = {"buyers": 30, "think_ms": (0.0, 3.0), "reset": True}
    settings.update(options)
    return simulate(Scenario(store="postgres", dsn=dsn, strategy=strategy, **settings))  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", SAFE)
def test_a_safe_strategy_never_oversells_nor_loses_a_sale(pg_dsn: str, strategy: str) -> None:
    for seed in range(8):
        result = run(pg_dsn, strategy, seed=seed, retries=30)
        assert result.oversold == 0 and result.lost_updates == 0, result.explanation
        assert result.errors == 0, result.explanation
        assert result.verdict == "SAFE", result.explanation
        assert result.sold + result.remaining == result.tickets  # type: ignore[operator]


@pytest.mark.parametrize("strategy", ["none", "naive-tx"])
def test_an_unguarded_read_loses_updates_transaction_or_not(pg_dsn: str, strategy: str) -> None:
    # Every buyer reads within the first few ms and writes 20-40 ms later: all read the
    # same count. Enough tickets for all: the store goes down by less than was sold.
    result = run(pg_dsn, strategy, buyers=20, tickets=40, think_ms=(20.0, 40.0), seed=1)
    assert result.verdict == "LOST_UPDATES", result.explanation
    assert result.lost_updates > 0 and result.sold == 20
    oversold = run(pg_dsn, strategy, buyers=20, tickets=5, think_ms=(20.0, 40.0), seed=2)
    assert oversold.verdict == "OVERSOLD" and oversold.oversold > 0


def test_naive_tx_says_read_committed_re_reads_nothing(pg_dsn: str) -> None:
    result = run(pg_dsn, "naive-tx", buyers=20, tickets=40, think_ms=(20.0, 40.0), seed=3)
    said = " ".join(result.explanation)
    assert "READ COMMITTED re-reads nothing" in said
    assert "its SELECT took no lock" in said and "stale read" in said


def test_for_update_says_the_row_lock_serialised_the_purchases(pg_dsn: str) -> None:
    result = run(pg_dsn, "for-update", buyers=10, think_ms=(1.0, 2.0), seed=1)
    assert result.verdict == "SAFE" and result.max_inside == 1
    assert any("serialised by the row lock" in line for line in result.explanation)


def test_serializable_counts_its_serialization_failures(pg_dsn: str) -> None:
    # Buyers that all read before anyone commits: all but one must be aborted and retried.
    result = run(pg_dsn, "serializable", buyers=10, tickets=20, think_ms=(20.0, 40.0), seed=1)
    assert result.oversold == 0 and result.lost_updates == 0
    assert result.conflicts > 0 and result.retries > 0
    assert any(f"{result.conflicts} serialization failures" in line for line in result.explanation)


@pytest.mark.parametrize("strategy", ["for-update", "advisory"])
def test_the_server_releases_a_killed_holders_lock(pg_dsn: str, strategy: str) -> None:
    result = run(
        pg_dsn, strategy, buyers=12, tickets=20, think_ms=(2.0, 4.0), kill_holder=1, seed=4,
        timeout_s=10.0,
    )  # fmt: skip
    assert result.killed == 1 and result.verdict == "SAFE", result.explanation
    assert result.sold == 11  # every other buyer bought: the lock did not stay held
    assert result.lock_timeouts == 0
    assert any("PostgreSQL ended the dead buyer's session" in line for line in result.explanation)
