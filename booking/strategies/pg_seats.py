"""Seat orders under PostgreSQL's row locks (--store postgres --seats ...).

- `for-update` (seats): BEGIN; the order's seat rows locked FOR UPDATE one by one in seat
  order; the map re-read (a seat sold meanwhile: re-pick, a conflict); think; claim;
  COMMIT. Every buyer climbs the same ladder, so no cycle of waits can form.
- `for-update-unordered`: the same row locks, each buyer taking its order's in an order of
  its own. Two orders that cross wait for each other; PostgreSQL's deadlock detector
  (after deadlock_timeout) aborts one transaction of the cycle with DeadlockDetected
  (SQLSTATE 40P01). Rolled back, counted as a conflict that says so, re-picked and tried
  again up to --retries times. It never double-books.
- `skip-locked`: BEGIN; SELECT the front-most free seats FOR UPDATE SKIP LOCKED LIMIT K:
  rows another buyer holds are passed over, never waited for; think; claim; COMMIT. A
  buyer takes what is free and unlocked, not what it picked.
"""

from __future__ import annotations

import random
import time

from psycopg import errors as pg_errors

from booking.seating import SeatPlan
from booking.stores import StoreBusy
from booking.stores.pg_seats import PgSeatStock
from booking.strategies.pg_transactions import OnPostgres
from booking.strategies.protocols import Ending, GuardTimeout, Purchase, Steps
from booking.strategies.seat_orders import _Picker
from booking.waits import bounded

#: What a conflict record says when PostgreSQL broke a deadlock by aborting this try.
DEADLOCK = "deadlock detected"
#: A skip-locked buyer that found the free seats all locked looks again after about this.
RELOOK_S = 0.002


class SeatRowLocks(_Picker):
    """The order's seat rows locked FOR UPDATE, held across read -> think -> write until
    COMMIT: in seat order (`ordered`), or in an order of the buyer's own."""

    holding = "holding its seats' row locks"

    def __init__(
        self, stock: PgSeatStock, plan: SeatPlan, buyer: int, retries: int, *, ordered: bool
    ) -> None:
        super().__init__(stock, plan, buyer)
        self.pg = stock
        self.retries = retries
        self.ordered = ordered
        self._ok = False

    def _take(self, steps: Steps, seats: list[int]) -> None:
        """BEGIN, then each seat's row lock in turn; a wait past lock_timeout rolls back
        and is a GuardTimeout naming the seat."""
        names = self.names(seats)
        self.pg.begin()
        for held, seat in enumerate(seats):
            steps.seats(names, held)
            try:
                self.pg.lock_seat(seat)
            except StoreBusy:
                self.pg.rollback()
                raise GuardTimeout(
                    f"lock wait for seat {self.plan.shape.name(seat)} timed out"
                ) from None
        steps.seats(names, len(seats))

    def _check(self) -> int:
        holders = self.pg.read_map()
        self._ok = self.still_free(holders)
        if not self._ok:
            self.repick(holders)
        return self.free

    def claim(self, count: int) -> None:
        self.pg.claim(self.choice)  # in the open transaction
        self.pg.end()  # COMMIT: the sale made, the row locks released

    def buy(self, steps: Steps) -> Ending:
        if not self.choice:
            self.repick(self.pg.read_map())
        deadlocks = 0
        # A seat found sold is sold for good: at most one such try per seat of the map;
        # and a deadlock broken by the server is tried again up to --retries times.
        for _ in range(self.plan.shape.size + self.retries + 2):
            if not self.choice:
                return "sold_out"
            seats = sorted(self.choice)
            if not self.ordered:  # each buyer its own order, whatever the pick's
                self.rng.shuffle(seats)
            try:
                self._take(steps, seats)
                steps.acquired()
                free = steps.read(self._check)
                if self._ok:
                    steps.think()
                    steps.write(self.claim, free - self.plan.order, self.die)
                    self.choice = ()
                    return "bought"
                self.pg.end()  # nothing written: the locks let go
            except pg_errors.DeadlockDetected:
                self.pg.rollback()
                deadlocks += 1
                steps.conflict(DEADLOCK)
                if deadlocks > self.retries:
                    return "gave_up"
                self.repick(self.pg.read_map())
                continue
            except BaseException:
                if not self.pg.closed:
                    self.pg.rollback()
                raise
            steps.conflict()  # a chosen seat was sold meanwhile: re-picked from that map
        return "gave_up"


class SkipLockedSeats(_Picker):
    """The front-most free seats no one holds, locked FOR UPDATE SKIP LOCKED: a buyer
    never waits for another's seats. When every free seat is locked by others (who may
    yet let some go), it looks again after a short pause, until the run's timeout."""

    holding = "holding the seats it locked"

    def __init__(self, stock: PgSeatStock, plan: SeatPlan, buyer: int, timeout_s: float) -> None:
        super().__init__(stock, plan, buyer)
        self.pg = stock
        self.timeout_s = bounded(timeout_s)
        self._jitter = random.Random()

    def _free(self) -> int:
        self.free = self.pg.read_map().count(None)
        return self.free

    def claim(self, count: int) -> None:
        self.pg.claim(self.choice)
        self.pg.end()

    def buy(self, steps: Steps) -> Ending:
        order = self.plan.order
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self.pg.begin()
                got = self.pg.lock_free(order)
                if len(got) == order:
                    self.choice = tuple(got)
                    steps.seats(self.names(), order)
                    steps.acquired()
                    free = steps.read(self._free)
                    steps.think()
                    steps.write(self.claim, free - order, self.die)
                    self.choice = ()
                    return "bought"
                self.pg.rollback()
            except BaseException:
                if not self.pg.closed:
                    self.pg.rollback()
                raise
            if self.pg.read_map().count(None) < order:
                return "sold_out"
            if time.monotonic() > deadline:
                raise GuardTimeout(
                    f"every free seat stayed locked by others for {self.timeout_s:g} s"
                )
            time.sleep(RELOOK_S * (0.5 + self._jitter.random()))


class _SeatsOnPostgres(OnPostgres):
    """A PostgreSQL strategy that sells only seats: refused without --seats."""

    def _sells_seats(self) -> bool:
        return True

    def _prepare(self) -> None:
        super()._prepare()
        _need_seats(self._seats, self.name)

    def buyer_parts(self, buyer: int) -> Purchase:
        assert self._seats is not None
        stock = self._store.connect(buyer)
        assert isinstance(stock, PgSeatStock)
        return self._purchase(stock, self._seats, buyer)

    def _purchase(self, stock: PgSeatStock, seats: SeatPlan, buyer: int) -> Purchase:
        raise NotImplementedError


class ForUpdateUnordered(_SeatsOnPostgres):
    name = "for-update-unordered"

    def _purchase(self, stock: PgSeatStock, seats: SeatPlan, buyer: int) -> Purchase:
        return SeatRowLocks(stock, seats, buyer, self._retries, ordered=False)


class SkipLocked(_SeatsOnPostgres):
    name = "skip-locked"

    def _purchase(self, stock: PgSeatStock, seats: SeatPlan, buyer: int) -> Purchase:
        return SkipLockedSeats(stock, seats, buyer, self._timeout_s)


def _need_seats(seats: SeatPlan | None, name: str) -> None:
    from booking.errors import StoreError

    if seats is None:
        raise StoreError(f"the {name} strategy needs a seat map (--seats ROWSxCOLS)")
