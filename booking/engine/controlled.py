"""Controlled mode: a buyer that moves one step at a time, when the parent says so.

Before each of its step points (the look, acquire, read, write, conditional update, the
request to the seller, release) a controlled buyer sends a POINT frame naming the step,
then waits on a pipe of its own for one byte: `GO` lets it take the step, anything else
abandons the schedule. Sleeps are skipped (its think is 0): order decides, not time.

A guard is never waited for: the strategy is built with a zero timeout, so each acquire is
one non-blocking try (an mp.Lock or the Manager's lock with timeout 0, one flock try, a
BEGIN IMMEDIATE with SQLite's busy timeout 0). A try that finds the guard taken sends a
BLOCKED frame and waits for another grant. So the parent always knows which buyers can
move, and a schedule granted twice runs twice the same way.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from booking.engine.attempt import Recorder, attempt
from booking.engine.buyer import query
from booking.engine.forking import (
    STOP_SIGNALS,
    after_fork_in_child,
    release_in_child,
    spawning,
)
from booking.engine.frames import EXIT_CRASHED, EXIT_STOPPED, NO_VALUE, Kind, Outcome, Record
from booking.engine.reports import Signals, Stopped, failure_of, send
from booking.strategies import Guard, Guarded, Purchase, Strategy, Unlocked
from booking.strategies.protocols import Served

#: The byte that lets a waiting buyer take its step; any other abandons the schedule.
GO = b"g"
ABANDON = b"a"
#: What a controlled buyer reports as the value of a step that raised.
STEP_FAILED = -2
#: The name of the last POINT frame: the buyer has ended, and waits for nothing.
END = "end"


class Abandoned(Stopped):
    """The parent ended the schedule before this buyer was done (a deadlock, a hang)."""


class Control:
    """A buyer's side of the grants: report the next step, wait to be let through."""

    def __init__(self, buyer: int, events_fd: int, grant_fd: int) -> None:
        self.buyer = buyer
        self.events_fd = events_fd
        self.grant_fd = grant_fd
        self.attempt = 0
        self.value = NO_VALUE  # what the step just taken read or wrote
        self.abandoned = False

    def at(self, point: str, kind: Kind = Kind.POINT) -> None:
        """Say the buyer is at `point` and wait for the grant to take it. Once abandoned,
        every later point (the release in a protocol's `finally`) is abandoned at once:
        no further grant will come, and the buyer must let go and exit by itself."""
        if self.abandoned:
            raise Abandoned
        send(self.events_fd, Record(kind, self.buyer, self.attempt, read_value=self.value,
                                    message=point))  # fmt: skip
        self.value = NO_VALUE
        if os.read(self.grant_fd, 1) != GO:
            self.abandoned = True
            raise Abandoned

    def end(self) -> None:
        send(self.events_fd, Record(Kind.POINT, self.buyer, self.attempt,
                                    read_value=self.value, message=END))  # fmt: skip


class ControlledRecorder(Recorder):
    """The Steps of a controlled attempt: each step of the count waits for its grant,
    and what it read or wrote (or STEP_FAILED) goes out with the buyer's next report.
    A subclass, so that an ordinary buyer's purchase pays nothing for controlled mode."""

    def __init__(self, *args: Any, control: Control) -> None:
        super().__init__(*args)
        self.control = control

    def read(self, read: Callable[[], int]) -> int:
        self.control.at("read")
        value: int = self._granted(super().read, read)
        self.control.value = value
        return value

    def write(
        self, write: Callable[[int], bool | None], count: int, die: Callable[[int], None] | None
    ) -> bool:
        self.control.at("write")
        wrote: bool = self._granted(super().write, write, count, die)
        self.control.value = count if wrote else NO_VALUE
        return wrote

    def update(
        self, update: Callable[[], int | None], die: Callable[[], None] | None, taken: int = 1
    ) -> int | None:
        self.control.at("update")
        left: int | None = self._granted(super().update, update, die, taken)
        self.control.value = NO_VALUE if left is None else left
        return left

    def served(self, ask: Callable[[], Served]) -> Served:
        self.control.at("ask")
        answer: Served = self._granted(super().served, ask)
        self.control.value = answer.written_value if answer.ending == "bought" else NO_VALUE
        return answer

    def _granted(self, step: Callable[..., Any], *args: Any) -> Any:
        """Take the step; one that raises (a busy store, a torn read) says STEP_FAILED."""
        try:
            return step(*args)
        except Exception:
            self.control.value = STEP_FAILED
            raise


class ControlledGuard:
    """A guard taken by single tries, each one granted: never a real wait."""

    def __init__(self, guard: Guard, control: Control) -> None:
        self._guard = guard
        self._control = control

    def acquire(self) -> bool:
        self._control.at("acquire")
        while not self._guard.acquire():
            self._control.at("acquire", Kind.BLOCKED)
        return True

    def release(self) -> None:
        try:
            self._control.at("release")
        finally:
            self._guard.release()  # abandoned at its release, a buyer still lets go


@dataclass(frozen=True)
class ControlPlan:
    """What every controlled buyer of one schedule shares."""

    attempts: int
    events_fd: int
    grant_fds: tuple[int, ...]  # each buyer's end of its own grant pipe


def main(buyer: int, strategy: Strategy, plan: ControlPlan) -> int:
    """One controlled buyer: its look, then its attempts, each step when granted."""
    Signals.install()
    control = Control(buyer, plan.events_fd, plan.grant_fds[buyer])
    try:
        purchase = strategy.buyer_parts(buyer)
    except Stopped:
        return EXIT_STOPPED
    except Exception as exc:
        return _failed(buyer, plan, control, exc)
    try:
        return _steps(buyer, purchase, plan, control)
    finally:
        # `purchase` (its stock and guard) lives until this frame ends, after this line: a
        # late SIGTERM (one sent to the whole group) cannot land in a finaliser such as a
        # FileLock's __del__ and print "Exception ignored" on the terminal.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _steps(buyer: int, purchase: Purchase, plan: ControlPlan, control: Control) -> int:
    try:
        if isinstance(purchase, Guarded) and not isinstance(purchase.guard, Unlocked):
            purchase.guard = ControlledGuard(purchase.guard, control)
        control.at("look")
        record = query(buyer, purchase)
        control.value = record.read_value
        send(plan.events_fd, record)
        for index in range(plan.attempts):
            control.attempt = index
            recorder = partial(ControlledRecorder, control=control)
            outcome = attempt(buyer, index, purchase, 0.0, plan.events_fd, recorder=recorder)
            if outcome == Outcome.SOLD_OUT:
                break
    except Stopped:
        return EXIT_STOPPED
    except Exception as exc:
        return _failed(buyer, plan, control, exc)
    control.end()
    return 0


def _failed(buyer: int, plan: ControlPlan, control: Control, exc: Exception) -> int:
    """Say why the buyer cannot go on, then that it has ended."""
    send(plan.events_fd, Record(Kind.FAILED, buyer, message=failure_of(exc)[1]))
    control.end()
    return 1


def spawn(body: Callable[[], int], close: tuple[int, ...]) -> int:
    """Fork a child that runs `body` and exits with its code; `close`: the parent's pipe
    ends the child must not hold. Returns the child's pid in the parent. Call it under
    signals_held() until the pid is recorded, so an interrupt cannot lose the child."""
    # A Ctrl-C must not reach the child before it ignores one: held across the fork.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        with spawning():
            pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        raise
    if pid:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        return pid
    gc.disable()  # a short-lived child: a collection would copy the parent's pages
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    release_in_child()
    code = EXIT_CRASHED
    try:
        for fd in close:
            os.close(fd)
        after_fork_in_child()
        code = body()
    except BaseException:
        code = EXIT_CRASHED
    finally:
        os._exit(code)
