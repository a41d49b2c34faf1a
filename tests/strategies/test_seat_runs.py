"""Seat runs end to end: the unsafe designs double-book or deadlock when forced to, the
safe ones never double-book over many contended runs."""

from __future__ import annotations

import pytest

from booking import Scenario, faults, simulate
from booking.scenarios.arrival import Arrival
from booking.seating import Shape
from booking.stores import NETWORK_STORES, STORES
from booking.strategies import STRATEGIES
from tests.helpers import no_children_left

SEAT_CELLS = [
    pytest.param(strategy, store, id=f"{strategy}-{store}")
    for strategy, info in STRATEGIES.items()
    if info.claims_safe and "seats" in info.sells
    for store in STORES
    # The file stores; postgres's seat runs are in test_pg_seats.py, on the session's server.
    if info.supports(store) and store not in NETWORK_STORES
]
RUNS = 12


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_none_double_books_when_every_buyer_reads_before_anyone_writes(store: str) -> None:
    # A wide think after the read: every buyer sees A1 and A2 free before any writes.
    result = simulate(
        Scenario(buyers=6, seats="2x5", order=2, pick="best", strategy="none", store=store,
                 think_ms=(150, 200), seed=1)
    )  # fmt: skip
    assert result.verdict == "DOUBLE_BOOKED"
    assert result.double_booked >= 2
    assert result.seat_map is not None and result.seat_map[:2] == ["D", "D"]
    assert "Seat A1 was sold to 6 buyers" in " ".join(result.explanation)
    assert result.seats == "2x5" and result.order == 2 and result.pick == "best"


@pytest.mark.parametrize(("strategy", "store"), SEAT_CELLS)
@pytest.mark.parametrize("pick", ["best", "random"])
def test_safe_seat_strategy_never_double_books(strategy: str, store: str, pick: str) -> None:
    shape = Shape(3, 4)
    for run in range(RUNS):
        result = simulate(
            Scenario(buyers=10, seats=str(shape), order=2, pick=pick, strategy=strategy,
                     store=store, think_ms=(0, 2), seed=run, stall_timeout_s=20)
        )  # fmt: skip
        assert result.verdict == "SAFE", (run, result.explanation)
        assert (result.double_booked, result.partial_orders, result.lost_seats) == (0, 0, 0)
        sold = result.seat_map.count("S") if result.seat_map else 0
        assert sold == result.sold == 2 * (result.sold // 2)  # whole orders only
        assert result.remaining == shape.size - sold


def test_seatlock_unordered_deadlocks_and_is_ended_and_explained() -> None:
    # Two seats, orders of both, picked in random order: a buyer holding A1 and one holding
    # A2 wait for each other for ever. At the gate 30 buyers reach for their first seat at
    # once, so both orders are taken almost every run; try a few runs to be sure of one.
    for seed in range(5):
        result = simulate(
            Scenario(buyers=30, seats="1x2", order=2, pick="random",
                     strategy="seatlock-unordered", think_ms=(20, 40), seed=seed,
                     stall_timeout_s=0.5)
        )  # fmt: skip
        if result.verdict == "DEADLOCK":
            break
    assert result.verdict == "DEADLOCK"
    assert result.timed_out and result.double_booked == 0
    text = " ".join(result.explanation)
    assert "Deadlock: buyer" in text and "holds A" in text and "and waits for A" in text
    assert no_children_left()  # every buyer reaped


def test_seatlock_takes_seats_in_order_and_never_deadlocks() -> None:
    for seed in range(5):
        result = simulate(
            Scenario(buyers=30, seats="1x2", order=2, pick="random", strategy="seatlock",
                     think_ms=(0, 2), seed=seed, stall_timeout_s=5)
        )  # fmt: skip
        assert result.verdict == "SAFE", result.explanation
        assert result.sold == 2


def test_a_killed_seat_holder_strands_the_buyers_behind_it() -> None:
    # Buyer 0 arrives first (one buyer every 20 ms) and is the victim: it dies holding the
    # locks of A1 and A2, which every later buyer wants.
    seed = next(s for s in range(100) if list(faults.plan(4, 1, 0, s)) == [0])
    result = simulate(
        Scenario(buyers=4, seats="1x2", order=2, pick="best", strategy="seatlock",
                 kill_holder=1, think_ms=(50, 50), seed=seed, arrival=Arrival(rate=50),
                 stall_timeout_s=0.5)
    )  # fmt: skip
    assert (result.killed, result.sold, result.verdict) == (1, 0, "DEADLOCK")
    assert "whose lock buyer 0 took with it when it was killed" in " ".join(result.explanation)


def test_deferred_never_double_books_it_fails_purchases_instead() -> None:
    for seed in range(4):
        result = simulate(
            Scenario(buyers=8, seats="2x3", order=2, strategy="deferred", think_ms=(5, 10),
                     seed=seed)
        )  # fmt: skip
        assert result.verdict in ("SAFE", "ERRORS"), result.explanation
        assert (result.double_booked, result.partial_orders, result.lost_seats) == (0, 0, 0)
        assert result.busy == result.errors  # every failure was SQLite refusing an upgrade


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_optimistic_claims_count_their_conflicts_and_never_double_book(store: str) -> None:
    # Every buyer reads the same map and wants A1 and A2: one claim wins, the others find
    # a chosen seat sold, re-read and pick again.
    result = simulate(
        Scenario(buyers=6, seats="2x5", order=2, pick="best", strategy="optimistic",
                 store=store, think_ms=(30, 40), retries=5, seed=2)
    )  # fmt: skip
    assert result.verdict == "SAFE", result.explanation
    assert result.double_booked == 0 and result.conflicts >= 1
    assert result.sold == 2 * (result.sold // 2)
    assert "a compare-and-set that found a chosen seat sold" in " ".join(result.explanation)


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_the_manager_without_its_lock_double_books_and_with_it_writes_the_map_back(
    store: str,
) -> None:
    unlocked = simulate(
        Scenario(buyers=6, seats="2x5", order=2, strategy="manager", manager_lock=False,
                 store=store, think_ms=(60, 80), seed=4)
    )  # fmt: skip
    assert unlocked.verdict == "DOUBLE_BOOKED"
    locked = simulate(
        Scenario(buyers=6, seats="2x5", order=2, strategy="manager", store=store, seed=4)
    )
    assert locked.verdict == "SAFE" and locked.sold == 10 and locked.remaining == 0
    assert locked.seat_map == ["S"] * 10  # the store, after the write-back, agrees
