"""`manager`: the stock lives in a multiprocessing.Manager dict (seeds 003 and 004).

The store is loaded into the dict before the run and written back, with the sales,
after it. Each `d["count"]` is a round trip to the manager process, so a read and a write
are two: without the manager's lock (`--no-manager-lock`) purchases lose updates.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from typing import Any

from booking.errors import StoreError
from booking.stores import StoreFile
from booking.strategies import Guard, Guarded, StrategyOptions, Unlocked
from booking.strategies.mp_lock import TimedLock


class DictStock:
    def __init__(self, shared: Any) -> None:
        self._shared = shared

    def read(self) -> int:
        count: int = self._shared["count"]
        return count

    def write(self, count: int) -> None:
        self._shared["count"] = count


class ManagerDict:
    def __init__(self, store: StoreFile, options: StrategyOptions) -> None:
        self._store = store
        self._manager = multiprocessing.get_context("fork").Manager()
        self._shared = self._manager.dict({"count": store.count()})
        self._guard: Guard = (
            TimedLock(self._manager.Lock(), options.timeout_s)
            if options.manager_lock
            else Unlocked()
        )

    def buyer_parts(self, buyer: int) -> Guarded:
        return Guarded(DictStock(self._shared), self._guard)

    def finish(self, sold_by: list[int]) -> int:
        try:
            count: int = self._shared["count"]
        except (OSError, EOFError) as exc:
            raise StoreError(
                f"the Manager process died ({type(exc).__name__}): the count it held is "
                "lost, and the store was not written back"
            ) from None
        self._store.write_back(count, sold_by)
        return count

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._manager.shutdown()
