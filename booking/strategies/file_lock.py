"""`filelock`: a filelock.FileLock on `<store>.lock`, built inside each buyer.

A FileLock must not cross a fork, so the parent passes only the path. Because the lock is
a file, two `booking run` processes on the same store are coordinated too, and the kernel
drops the lock of a holder that dies.
"""

from __future__ import annotations

import filelock

from booking.stores import Stock, StoreFile
from booking.strategies import Guard

# filelock's default poll is 50 ms, which makes every contended wait measure the poll;
# the strategy is given booking's --poll-ms (scenario.DEFAULT_POLL_MS) instead.


class FileGuard:
    def __init__(self, lock: filelock.BaseFileLock) -> None:
        self._lock = lock

    def acquire(self) -> bool:
        try:
            self._lock.acquire()
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()


class FileLockStrategy:
    def __init__(
        self, store: StoreFile, *, timeout_s: float, manager_lock: bool, poll_s: float
    ) -> None:
        self._store = store
        self._timeout_s = timeout_s
        self._poll_s = poll_s

    def buyer_parts(self, buyer: int) -> tuple[Stock, Guard]:
        lock = filelock.FileLock(
            self._store.lock_path, timeout=self._timeout_s, poll_interval=self._poll_s
        )
        return self._store.connect(buyer), FileGuard(lock)

    def finish(self, sold_by: list[int]) -> int:
        return self._store.count()

    def close(self) -> None:
        return None
