"""The body of one buyer process.

A buyer opens its store, reports READY, waits at the start gate, looks at the count once
without any guard (the seeds' `search()`), then makes its purchase attempts. Each attempt
walks the same explicit steps, stamped with `time.monotonic_ns()` (one clock for every
process on Linux), so the parent can line buyers up on one timeline:

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
from types import FrameType

from booking import faults
from booking.engine.frames import NO_VALUE, Failure, Kind, Outcome, Record, encode
from booking.faults import Fault
from booking.stores import Stock, StoreBusy, TornRead
from booking.strategies import Guard, Strategy

now = time.monotonic_ns


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


class Stopped(BaseException):
    """The parent asked this buyer to stop (SIGTERM): Ctrl-C or the watchdog."""


class _Signals:
    """SIGTERM stops a buyer at once, except between a write and its report.

    A write that has begun is finished and reported, so a stopped run still holds a
    receipt for every ticket the store gave away, and a JSON store is never left torn
    by our own stop.
    """

    deferring = False
    pending = False

    @classmethod
    def install(cls) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGTERM, cls._on_term)

    @classmethod
    def _on_term(cls, signum: int, frame: FrameType | None) -> None:
        # Raise on every SIGTERM, a second one too: a first Stopped swallowed somewhere
        # (a finaliser) must not leave the buyer buying on until the parent's SIGKILL,
        # which could cut a write from its report.
        cls.pending = True
        if not cls.deferring:
            raise Stopped

    @classmethod
    def end_deferral(cls) -> None:
        cls.deferring = False
        if cls.pending:
            raise Stopped


def _failure(exc: BaseException) -> tuple[Failure, str]:
    if isinstance(exc, TornRead):
        return Failure.TORN_READ, f"torn read: {exc}"
    if isinstance(exc, StoreBusy):
        return Failure.BUSY, f"store busy: {exc}"
    return Failure.OTHER, f"{type(exc).__name__}: {exc}"


def _send(plan: BuyerPlan, record: Record) -> None:
    os.write(plan.events_fd, encode(record))


def _die_writing(stock: Stock, count: int) -> None:
    """--kill-writer: leave the store's write half done, then die. A stock that cannot
    half-write (a Manager dict: one proxy call) dies before writing."""
    half = getattr(stock, "die_writing", None)
    if half is not None:
        half(count)
    faults.die()


def query(buyer: int, stock: Stock) -> Record:
    """Step `query`: look at the count with no guard at all, as the seeds' search() does."""
    t_begin = now()
    try:
        value = stock.read()
    except Exception as exc:
        failure, message = _failure(exc)
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
    )


def _cut(plan: BuyerPlan, steps: Record, outcome: Outcome, message: str) -> None:
    """Report an attempt that will not finish, with the steps it reached: a stopped
    buyer's open read -> write window, or its wait for the guard, is part of the run."""
    _Signals.deferring = True  # a second SIGTERM must not cut this report in half
    t = now()
    _send(plan, steps._replace(kind=Kind.CUT, outcome=outcome, t_left=t, t_end=t, message=message))


def attempt(
    buyer: int,
    index: int,
    stock: Stock,
    guard: Guard,
    think_s: float,
    plan: BuyerPlan,
    fault: Fault | None = None,
) -> Outcome:
    """One purchase try: acquire -> read -> think -> write -> release, then report it.
    `fault` is how this buyer dies (--kill-holder, --kill-writer), if it does. Stopped or
    killed part-way, it reports the steps it reached as a CUT record first."""
    t_begin = now()
    t_acquired = t_read = t_write = t_left = 0
    read_value = written = NO_VALUE
    reported = False

    def steps() -> Record:
        return Record(Kind.CUT, buyer, index, Outcome.NONE, Failure.NONE, read_value,
                      NO_VALUE, t_begin, t_acquired, t_read, t_write)  # fmt: skip

    try:
        # Step `acquire`: bounded, so a dead holder means a timeout, never a hang.
        if not guard.acquire():
            _Signals.deferring = True  # from here until the report is sent, a stop waits
            _send(
                plan,
                Record(
                    Kind.ATTEMPT,
                    buyer,
                    index,
                    Outcome.ERROR,
                    Failure.LOCK_TIMEOUT,
                    t_begin=t_begin,
                    t_end=now(),
                    message="lock wait timed out",
                ),
            )
            reported = True
            _Signals.end_deferral()
            return Outcome.ERROR
        t_acquired = now()
        failure, message = Failure.NONE, ""
        try:
            # Step `read`: the value this purchase is based on.
            t_read = now()
            read_value = stock.read()
            if fault is not None and fault.kind == faults.HOLDER:
                # Inside the critical section, holding the guard, part-way into the think.
                time.sleep(think_s * fault.at if read_value > 0 else 0.0)
                _cut(plan, steps(), Outcome.KILLED, "killed holding the guard (--kill-holder)")
                faults.die()
            if read_value <= 0:
                outcome = Outcome.SOLD_OUT
                t_left = now()
            else:
                # Step `think`: the race window the seeds open with time.sleep.
                if think_s > 0:
                    time.sleep(think_s)
                # Step `write`: from here until the report is sent, a stop waits.
                _Signals.deferring = True
                t_write = now()
                if fault is not None:  # a writer: a holder has died already
                    _cut(plan, steps(), Outcome.KILLED, "killed half-way through a write")
                    _die_writing(stock, read_value - 1)
                stock.write(read_value - 1)
                t_left = now()
                written = read_value - 1
                outcome = Outcome.BOUGHT
        except Exception as exc:
            t_left = now()
            outcome = Outcome.ERROR
            failure, message = _failure(exc)
        finally:
            # Step `release`.
            guard.release()
        _Signals.deferring = True
        _send(
            plan,
            Record(
                Kind.ATTEMPT,
                buyer,
                index,
                outcome,
                failure,
                read_value,
                written,
                t_begin,
                t_acquired,
                t_read,
                t_write,
                t_left,
                now(),
                message,
            ),
        )
        reported = True
        _Signals.end_deferral()
        return outcome
    except Stopped:
        if not reported:
            _cut(plan, steps(), Outcome.STOPPED, "stopped by the parent")
        raise


def _arrive(buyer: int, plan: BuyerPlan) -> None:
    """Wait for this buyer's arrival (a steady or staggered arrival, not a flash sale). A
    stop meanwhile is reported: a buyer still on its way is no sign of a stuck run."""
    try:
        time.sleep(plan.arrival_s[buyer])
    except Stopped:
        _cut(plan, Record(Kind.CUT, buyer), Outcome.STOPPED, "stopped before it arrived")
        raise


def main(buyer: int, strategy: Strategy, plan: BuyerPlan) -> int:
    """Run one buyer to the end; the return value is the process's exit code."""
    _Signals.install()
    try:
        parts = strategy.buyer_parts(buyer)
    except Exception as exc:
        _send(plan, Record(Kind.FAILED, buyer, message=_failure(exc)[1]))
        return 1
    try:
        return _buy(buyer, parts, plan)
    finally:
        # The stock and the guard live in `parts` until this frame ends, after this line:
        # a late SIGTERM cannot land in their finalisers (a FileLock's __del__) and be
        # printed as "Exception ignored". The process ends with os._exit right after.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _buy(buyer: int, parts: tuple[Stock, Guard], plan: BuyerPlan) -> int:
    """Through the gate, then the query and the purchase attempts."""
    stock, guard = parts
    _send(plan, Record(Kind.READY, buyer, t_begin=now()))
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
        _send(plan, query(buyer, stock))
        for index in range(plan.attempts):
            think_s = rng.uniform(low, high) / 1000 if high > 0 else 0.0
            if attempt(buyer, index, stock, guard, think_s, plan, fault) == Outcome.SOLD_OUT:
                break
    except Exception as exc:
        _send(plan, Record(Kind.FAILED, buyer, message=_failure(exc)[1]))
        return 1
    return 0
