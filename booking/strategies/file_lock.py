"""`filelock`: a filelock.FileLock on `<store>.lock`, built inside each buyer.

A FileLock must not cross a fork, so the parent passes only the path. Because the lock is
a file, two `booking run` processes on the same store are coordinated too, and the kernel
drops the lock of a holder that dies.

Waiters poll (flock with LOCK_NB): filelock has no queue to wake them. Each failed poll
costs the holder CPU on a small machine, so how often they poll is a `Backoff` chosen in
the parent: a fixed --poll-ms, or by default a per-waiter exponential backoff whose cap
grows with the crowd (waits.crowd_backoff).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import filelock

from booking.strategies import Purchase
from booking.strategies.on_store import OnTheStore
from booking.waits import Backoff, bounded, poll_until


class FileGuard:
    """A FileLock whose waits follow a Backoff and never outlast the run's timeout.

    filelock's own loop polls at one fixed interval, so the guard makes single
    non-blocking tries itself and sleeps between them."""

    def __init__(
        self,
        lock: filelock.BaseFileLock,
        backoff: Backoff,
        timeout_s: float,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = lock
        self._backoff = backoff
        self._timeout_s = bounded(timeout_s)
        # Built in the buyer (after the fork), so each waiter jitters differently.
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._sleep = sleep

    def acquire(self) -> bool:
        return poll_until(
            self._try, self._timeout_s, self._backoff, self._rng, self._clock, self._sleep
        )

    def _try(self) -> bool:
        try:
            self._lock.acquire(blocking=False)
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()


class FileLockStrategy(OnTheStore):
    def buyer_parts(self, buyer: int) -> Purchase:
        lock = filelock.FileLock(self._store.lock_path)
        return self._guarded(buyer, FileGuard(lock, self._poll, self._timeout_s))
