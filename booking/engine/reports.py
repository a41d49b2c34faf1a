"""How a buyer reports: one frame per step record on the shared events pipe, and the
SIGTERM rule that keeps a begun write together with its report."""

from __future__ import annotations

import os
import signal
import time
from types import FrameType

from booking.engine.frames import Failure, Kind, Outcome, Record, encode
from booking.stores import StoreBusy, TornRead
from booking.strategies.protocols import GuardTimeout, SellerGone

now = time.monotonic_ns


class Stopped(BaseException):
    """The parent asked this buyer to stop (SIGTERM): Ctrl-C or the watchdog."""


class Signals:
    """SIGTERM stops a buyer at once, except between a write and its report.

    A write that has begun is finished and reported, so a stopped run still holds a
    receipt for every ticket the store gave away, and a JSON store is never left torn
    by our own stop.
    """

    deferring = False
    pending = False

    @classmethod
    def install(cls) -> None:
        cls.deferring = cls.pending = False  # whatever the parent's copy said
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


def stopped_instead(exc: BaseException) -> None:
    """Raise Stopped when `exc` is only the run's stop: the queue's seller is told to stop
    selling when the buyers are, so a buyer then finds it gone."""
    if isinstance(exc, SellerGone) and Signals.pending:
        raise Stopped from None


def failure_of(exc: BaseException) -> tuple[Failure, str]:
    """The kind of a failed step and the message the user sees."""
    if isinstance(exc, TornRead):
        return Failure.TORN_READ, f"torn read: {exc}"
    if isinstance(exc, StoreBusy):
        return Failure.BUSY, f"store busy: {exc}"
    if isinstance(exc, GuardTimeout):
        return Failure.LOCK_TIMEOUT, str(exc)
    if isinstance(exc, SellerGone):
        return Failure.SELLER_GONE, f"the seller is gone: {exc}"
    # One line, whatever the library put in it (libpq's messages span three).
    return Failure.OTHER, f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def send(events_fd: int, record: Record) -> None:
    os.write(events_fd, encode(record))


def cut(events_fd: int, steps: Record, outcome: Outcome, message: str) -> None:
    """Report an attempt that will not finish, with the steps it reached: a stopped
    buyer's open read -> write window, or its wait for the guard, is part of the run."""
    Signals.deferring = True  # a second SIGTERM must not cut this report in half
    t = now()
    send(
        events_fd,
        steps._replace(kind=Kind.CUT, outcome=outcome, t_left=steps.t_left or t, t_end=t,
                       message=message),
    )  # fmt: skip
