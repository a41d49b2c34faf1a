"""One purchase attempt: the protocol walks its steps, this records and reports them.

`Recorder` is the engine's side of `strategies.protocols.Steps`: it stamps each step with
`time.monotonic_ns()` (one clock for every process on Linux), keeps the values read and
written, defers a stop from the start of a write until its report, and applies the fault
options where the protocol says its buyer holds something (after its read) or writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from booking import faults
from booking.engine.frames import NO_VALUE, Failure, Kind, Outcome, Record
from booking.engine.reports import (
    Signals,
    Stopped,
    cut,
    failure_of,
    now,
    send,
    stopped_instead,
)
from booking.faults import Fault
from booking.strategies.protocols import Ending, Purchase, Served

OUTCOMES: dict[str, Outcome] = {
    "bought": Outcome.BOUGHT,
    "sold_out": Outcome.SOLD_OUT,
    "gave_up": Outcome.GAVE_UP,
}


class Recorder:
    """The steps of one attempt so far (stamps not reached are 0, values not seen -1)."""

    def __init__(
        self,
        buyer: int,
        index: int,
        think_s: float,
        events_fd: int,
        fault: Fault | None,
        holding: str = "holding the guard",  # where a --kill-holder victim dies
    ) -> None:
        self.buyer = buyer
        self.index = index
        self.think_s = think_s
        self.events_fd = events_fd
        self.victim = fault
        self.holding = holding
        self.t_begin = now()
        self._fresh()

    def _fresh(self) -> None:
        """No step of a try reached yet (the attempt's begin stays: a retry is part of it)."""
        self.t_acquired = self.t_read = self.t_write = self.t_left = 0
        self.read_value = self.written_value = NO_VALUE
        self.seat_names, self.held = "", 0

    def record(
        self,
        kind: Kind,
        outcome: Outcome = Outcome.NONE,
        failure: Failure = Failure.NONE,
        message: str = "",
        t_end: int = 0,
    ) -> Record:
        return Record(kind, self.buyer, self.index, outcome, failure, self.read_value,
                      self.written_value, self.t_begin, self.t_acquired, self.t_read,
                      self.t_write, self.t_left, t_end, message, self.seat_names,
                      self.held)  # fmt: skip

    # The Steps a protocol calls.
    def seats(self, names: str, held: int = 0) -> None:
        self.seat_names, self.held = names, held

    def acquired(self) -> None:
        self.t_acquired = now()

    def read(self, read: Callable[[], int]) -> int:
        self.t_read = now()
        try:
            value = read()
        except Exception:
            self.t_left = now()
            raise
        self.read_value = value
        if self.victim is not None and self.victim.kind == faults.HOLDER:
            # Part-way into the think, holding whatever the protocol holds.
            time.sleep(self.think_s * self.victim.at if value > 0 else 0.0)
            self._die(f"killed {self.holding} (--kill-holder)")
        return value

    def think(self) -> None:
        if self.think_s > 0:
            time.sleep(self.think_s)

    def left(self) -> None:
        self.t_left = now()

    def write(
        self, write: Callable[[int], bool | None], count: int, die: Callable[[int], None] | None
    ) -> bool:
        Signals.deferring = True  # from here until the report is sent, a stop waits
        self.t_write = now()
        if self.victim is not None:  # a writer: a holder has died already
            self._die("killed half-way through a write", lambda: die(count) if die else None)
        try:
            wrote = write(count) is not False
        except Exception:
            self.t_left = now()
            raise
        self.t_left = now()
        if wrote:
            self.written_value = count
        return wrote

    def update(
        self, update: Callable[[], int | None], die: Callable[[], None] | None, taken: int = 1
    ) -> int | None:
        Signals.deferring = True
        self.t_write = now()
        if self.victim is not None:
            self._die("killed inside its conditional update, before COMMIT", die)
        try:
            left = update()
        except Exception:
            self.t_left = now()
            raise
        self.t_left = now()
        if left is not None:
            # One statement read the count and wrote it less one: the count it read is
            # known exactly, though not when inside the statement it was read.
            self.written_value, self.read_value = left, left + taken
        return left

    def conflict(self, why: str = "") -> None:
        send(self.events_fd, self.record(Kind.CONFLICT, message=why, t_end=now()))
        self._fresh()
        Signals.end_deferral()

    def served(self, ask: Callable[[], Served]) -> Served:
        Signals.deferring = True  # the seller may sell: its answer must reach the record
        answer = ask()
        self.read_value, self.written_value = answer.read_value, answer.written_value
        if answer.seats:
            self.seat_names = answer.seats
        self.t_read, self.t_write, self.t_left = answer.t_read, answer.t_write, answer.t_left
        return answer

    @property
    def fault(self) -> tuple[str, float] | None:
        return None if self.victim is None else (self.victim.kind, self.victim.at)

    def _die(self, message: str, half_write: Callable[[], None] | None = None) -> None:
        """Say so, then die: a --kill-holder or --kill-writer victim at its point."""
        cut(self.events_fd, self.record(Kind.CUT), Outcome.KILLED, message)
        try:
            if half_write is not None:
                half_write()  # may fail (a deferred upgrade refused): it dies all the same
        finally:
            faults.die()


def attempt(
    buyer: int,
    index: int,
    purchase: Purchase,
    think_s: float,
    events_fd: int,
    fault: Fault | None = None,
    recorder: Callable[..., Recorder] = Recorder,
) -> Outcome:
    """One purchase try by `purchase`'s protocol, then its report. `fault` is how this
    buyer dies (--kill-holder, --kill-writer), if it does. Stopped or killed part-way, it
    reports the steps it reached as a CUT record first. `recorder` makes its Steps
    (controlled mode passes its own)."""
    steps = recorder(buyer, index, think_s, events_fd, fault, purchase.holding)
    reported = False
    try:
        failure, message = Failure.NONE, ""
        try:
            ending: Ending = purchase.buy(steps)
            outcome = OUTCOMES[ending]
        except Exception as exc:
            stopped_instead(exc)
            outcome = Outcome.ERROR
            failure, message = failure_of(exc)
        Signals.deferring = True
        send(events_fd, steps.record(Kind.ATTEMPT, outcome, failure, message, now()))
        reported = True
        Signals.end_deferral()
        return outcome
    except Stopped:
        if not reported:
            cut(events_fd, steps.record(Kind.CUT), Outcome.STOPPED, "stopped by the parent")
        raise
