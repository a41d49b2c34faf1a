"""`seatlock` and `seatlock-unordered`: one multiprocessing.Lock per seat, made before the
fork, so buyers after different seats never wait for each other.

`seatlock` takes an order's locks in seat order: every buyer climbs the same ladder, so no
cycle of waits can form. `seatlock-unordered` takes them in an order of each buyer's own:
two buyers wanting A1 and A2 in opposite orders can each hold one and wait for the other
for ever (the classic lock-ordering deadlock); the watchdog ends it.

A JSON store is one document: two buyers holding different seats must not rewrite it at
the same moment, so its claim is a short rewrite under one more lock (never the think).
"""

from __future__ import annotations

import multiprocessing

from booking.errors import StoreError
from booking.strategies import Purchase
from booking.strategies.on_store import OnTheStore
from booking.strategies.seat_orders import SeatLocked


class SeatLocks(OnTheStore):
    ordered = True
    name = "seatlock"

    def _prepare(self) -> None:
        if self._seats is None:
            raise StoreError(f"the {self.name} strategy needs a seat map (--seats ROWSxCOLS)")
        context = multiprocessing.get_context("fork")
        self._locks = [context.Lock() for _ in range(self._seats.shape.size)]
        from booking.stores.seat_json import JsonSeatStore

        self._write_lock = context.Lock() if isinstance(self._store, JsonSeatStore) else None

    def buyer_parts(self, buyer: int) -> Purchase:
        assert self._seats is not None
        return SeatLocked(
            self._store.connect(buyer),
            self._locks,
            self._seats,
            buyer,
            ordered=self.ordered,
            timeout_s=self._timeout_s,
            write_lock=self._write_lock,
        )


class UnorderedSeatLocks(SeatLocks):
    ordered = False
    name = "seatlock-unordered"
