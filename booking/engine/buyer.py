"""The body of one buyer process.

A buyer opens its store, reports READY, waits at the start gate, looks at the count once
without any guard (the seeds' `search()`), then makes its purchase attempts. Each attempt
walks the steps of its strategy's protocol (attempt.py), stamped with `time.monotonic_ns()`
(one clock for every process on Linux), so the parent can line buyers up on one timeline;
the seeds' guard walks

    acquire -> read -> think -> write -> release

A buyer never prints: it sends one frame per step record to the parent.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from booking.engine.attempt import attempt
from booking.engine.frames import Failure, Kind, Outcome, Record
from booking.engine.reports import Signals, Stopped, cut, failure_of, now, send, stopped_instead
from booking.faults import Fault
from booking.strategies import Purchase, Strategy

__all__ = ["BuyerPlan", "Stopped", "attempt", "main", "query"]


@dataclass(frozen=True)
class BuyerPlan:
    """What every buyer of a run shares."""

    attempts: int
    think_ms: tuple[float, float]
    seed: int
    events_fd: int
    gate_fd: int
    parent_pid: int
    arrival_s: tuple[float, ...] = ()  # each buyer's delay after the gate; empty: none
    faults: Mapping[int, Fault] = field(default_factory=dict)  # buyer -> how it dies


def query(buyer: int, purchase: Purchase) -> Record:
    """Step `query`: look at the count with no guard at all, as the seeds' search() does."""
    t_begin = now()
    try:
        value = purchase.look()
    except Exception as exc:
        stopped_instead(exc)
        failure, message = failure_of(exc)
        return Record(
            Kind.QUERY,
            buyer,
            0,
            Outcome.ERROR,
            failure,
            t_begin=t_begin,
            t_read=t_begin,
            t_end=now(),
            message=message,
        )
    return Record(
        Kind.QUERY,
        buyer,
        0,
        Outcome.NONE,
        Failure.NONE,
        value,
        t_begin=t_begin,
        t_read=t_begin,
        t_end=now(),
        # A seat order's look picks its seats: the record names them (who wanted which).
        seats=purchase.picked,
    )


def _arrive(buyer: int, plan: BuyerPlan) -> None:
    """Wait for this buyer's arrival (a steady or staggered arrival, not a flash sale). A
    stop meanwhile is reported: a buyer still on its way is no sign of a stuck run."""
    try:
        time.sleep(plan.arrival_s[buyer])
    except Stopped:
        cut(plan.events_fd, Record(Kind.CUT, buyer), Outcome.STOPPED, "stopped before it arrived")
        raise


def main(buyer: int, strategy: Strategy, plan: BuyerPlan) -> int:
    """Run one buyer to the end; the return value is the process's exit code."""
    Signals.install()
    try:
        purchase = strategy.buyer_parts(buyer)
    except Exception as exc:
        send(plan.events_fd, Record(Kind.FAILED, buyer, message=failure_of(exc)[1]))
        return 1
    try:
        return _buy(buyer, purchase, plan)
    finally:
        # The stock and the guard live in `purchase` until this frame ends, after this line:
        # a late SIGTERM cannot land in their finalisers (a FileLock's __del__) and be
        # printed as "Exception ignored". The process ends with os._exit right after.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _buy(buyer: int, purchase: Purchase, plan: BuyerPlan) -> int:
    """Through the gate, then the query and the purchase attempts."""
    send(plan.events_fd, Record(Kind.READY, buyer, t_begin=now()))
    # The start gate: every buyer blocks here until the parent closes its end of the pipe.
    os.read(plan.gate_fd, 1)
    if os.getppid() != plan.parent_pid:
        return 1  # the parent died before opening the gate: buy nothing
    if plan.arrival_s and plan.arrival_s[buyer] > 0:
        _arrive(buyer, plan)
    rng = random.Random(f"{plan.seed}/{buyer}")
    low, high = plan.think_ms
    fault = plan.faults.get(buyer)
    try:
        send(plan.events_fd, query(buyer, purchase))
        for index in range(plan.attempts):
            think_s = rng.uniform(low, high) / 1000 if high > 0 else 0.0
            if attempt(buyer, index, purchase, think_s, plan.events_fd, fault) == Outcome.SOLD_OUT:
                break
    except Exception as exc:
        send(plan.events_fd, Record(Kind.FAILED, buyer, message=failure_of(exc)[1]))
        return 1
    return 0
