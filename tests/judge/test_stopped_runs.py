"""A run stopped by Ctrl-C or the memory guard is judged as it stood at the stop: buyers
that only report later (a SQLite wait runs on to its busy timeout) are not evidence of a
stuck guard, and the time they took is no part of the run's speed."""

from __future__ import annotations

import dataclasses

from booking.engine.frames import Kind, Outcome, Record
from booking.judge.checker import RunFacts, judge
from tests.judge.test_checker import GATE, MS, facts, step

STOP = GATE + 500 * MS


def stopped_transaction_run(
    *, interrupted: bool = False, aborted: str = "", stopped_ns: int = STOP
) -> RunFacts:
    """Fifty purchases one after another until the stop at 0.5 s, and a buyer that waited
    for the database's write lock from 0.1 s and only reported, stopped, 2 s after it."""
    records = [
        step(b, Outcome.BOUGHT, 100 - b, at=GATE + b * 10 * MS, took=2 * MS) for b in range(50)
    ]
    records.append(
        Record(Kind.CUT, 60, 0, Outcome.STOPPED, t_begin=GATE + 100 * MS, t_end=STOP + 2000 * MS)
    )
    # One purchase the stop let finish, reported after it.
    records.append(step(61, Outcome.BOUGHT, 50, at=STOP - 1 * MS, took=1500 * MS))
    base = facts(records, tickets=100, remaining=49, strategy="transaction", buyers=62)
    return dataclasses.replace(
        base, stopped_ns=stopped_ns, interrupted=interrupted, aborted=aborted
    )


def test_a_late_report_of_a_database_wait_is_no_deadlock() -> None:
    assert judge(stopped_transaction_run(interrupted=True)).verdict == "INTERRUPTED"
    assert judge(stopped_transaction_run(aborted="memory: low")).verdict == "ABORTED"


def test_a_stopped_run_is_timed_up_to_the_stop() -> None:
    result = judge(stopped_transaction_run(interrupted=True))
    assert result.wall_s == 0.5
    assert result.throughput == 50 / 0.5  # the purchase finished after the stop is not timed
    assert result.sold == 51  # but it was sold
    assert result.latency_ms["max"] == 2.0  # its 1.5 s, mostly after the stop, is not timed


def test_a_wait_seen_stuck_before_the_stop_is_still_a_deadlock() -> None:
    # The guard stood still from 0.49 s while a buyer waited from 0.1 s: only 10 ms
    # before the stop, but with a stop at 2 s the wait was watched for 1.5 s.
    result = judge(stopped_transaction_run(interrupted=True, stopped_ns=GATE + 2000 * MS))
    assert result.verdict == "DEADLOCK"
