"""`manager`: the stock lives in a multiprocessing.Manager dict (seeds 003 and 004).

The store is loaded into the dict before the run and written back, with the sales,
after it. Each `d["count"]` is a round trip to the manager process, so a read and a write
are two: without the manager's lock (`--no-manager-lock`) purchases lose updates.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Sequence
from typing import Any

from booking import faults
from booking.errors import StoreError
from booking.stores import StoreFile
from booking.strategies import Guard, Guarded, Purchase, StrategyOptions, Unlocked
from booking.strategies.mp_lock import TimedLock
from booking.strategies.seat_orders import SeatOrder


class DictStock:
    def __init__(self, shared: Any) -> None:
        self._shared = shared

    def read(self) -> int:
        count: int = self._shared["count"]
        return count

    def write(self, count: int) -> None:
        self._shared["count"] = count


class DictSeatStock:
    """A seat map in the Manager's dict: read whole, written whole (each a round trip), so
    without the manager's lock a write from a stale copy frees seats others took."""

    def __init__(self, shared: Any, holder: str) -> None:
        self._shared = shared
        self._holder = holder
        self._last: list[str | None] = []

    def read_map(self) -> list[str | None]:
        self._last = list(self._shared["seats"])
        return list(self._last)

    def claim(self, seats: Sequence[int], fresh: bool = False) -> None:
        holders = self.read_map() if fresh or not self._last else self._last
        for seat in seats:
            holders[seat] = self._holder
        self._shared["seats"] = holders

    def die_claiming(self, seats: Sequence[int]) -> None:
        faults.die()  # a dict entry is replaced whole: it dies before writing


class ManagerDict:
    def __init__(self, store: StoreFile, options: StrategyOptions) -> None:
        self._store = store
        self._seats = options.seats
        self._manager = multiprocessing.get_context("fork").Manager()
        # A seat map's copy is kept too: the write-back writes only what this run changed.
        self._base: list[str | None] = store.holders() if self._seats else []  # type: ignore[attr-defined]
        stock: dict[str, Any] = (
            {"seats": list(self._base)} if self._seats else {"count": store.count()}
        )
        self._shared = self._manager.dict(stock)
        self._guard: Guard = (
            TimedLock(self._manager.Lock(), options.timeout_s)
            if options.manager_lock
            else Unlocked()
        )

    def buyer_parts(self, buyer: int) -> Purchase:
        if self._seats is not None:
            stock = DictSeatStock(self._shared, self._store.holder_for(buyer))  # type: ignore[attr-defined]
            return SeatOrder(stock, self._guard, self._seats, buyer)
        return Guarded(DictStock(self._shared), self._guard)

    def finish(self, sold_by: list[int]) -> int:
        if self._seats is not None:
            return self._finish_seats(sold_by)
        try:
            count: int = self._shared["count"]
        except (OSError, EOFError) as exc:
            raise StoreError(
                f"the Manager process died ({type(exc).__name__}): the count it held is "
                "lost, and the store was not written back"
            ) from None
        self._store.write_back(count, sold_by)
        return count

    def _finish_seats(self, sold_by: list[int]) -> int:
        try:
            holders: list[str | None] = list(self._shared["seats"])
        except (OSError, EOFError) as exc:
            raise StoreError(
                f"the Manager process died ({type(exc).__name__}): the seat map it held is "
                "lost, and the store was not written back"
            ) from None
        self._store.write_back_map(holders, sold_by, self._base)  # type: ignore[attr-defined]
        return holders.count(None)

    def close(self) -> None:
        with contextlib.suppress(OSError, EOFError):
            self._manager.shutdown()
