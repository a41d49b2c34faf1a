"""`lock`: one multiprocessing.Lock, made before the fork and inherited by every buyer."""

from __future__ import annotations

import multiprocessing

from booking.strategies import Purchase
from booking.strategies.on_store import OnTheStore
from booking.waits import bounded


class TimedLock:
    """A multiprocessing lock whose acquire never waits past the run's timeout.

    A holder killed while holding an mp.Lock leaves it held forever (FACTS.md).
    """

    def __init__(self, lock: object, timeout_s: float) -> None:
        self._lock = lock
        self._timeout_s = timeout_s

    def acquire(self) -> bool:
        wait = bounded(self._timeout_s)
        return bool(self._lock.acquire(timeout=wait))  # type: ignore[attr-defined]

    def release(self) -> None:
        self._lock.release()  # type: ignore[attr-defined]


class MpLock(OnTheStore):
    def _prepare(self) -> None:
        self._guard = TimedLock(multiprocessing.get_context("fork").Lock(), self._timeout_s)

    def buyer_parts(self, buyer: int) -> Purchase:
        return self._guarded(buyer, self._guard)
