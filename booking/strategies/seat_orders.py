"""Seat orders: the purchase protocols of a seat run (--seats), one per way of guarding it.

A buyer looks at the map with nothing held (the seeds' search()), picks the seats of its
order there, and then claims them under its strategy, all or nothing:
- `SeatOrder`: one guard for the whole map (none, lock, filelock, transaction), held
  across read -> think -> write. Under it the buyer re-checks its seats and re-picks from
  the map it holds when one is gone.
- `SeatLocked`: a lock per seat (seatlock), taken in seat order, or in an order of each
  buyer's own (seatlock-unordered, which can deadlock). A seat found sold once its locks
  are held is a conflict: release, re-pick from the map just read, try again.
- `SeatConditional` (atomic): think with nothing held, then one statement that claims the
  seats only if every one is still free; a conflict re-picks.
- `SeatCompareAndSet` (optimistic): read, think, claim only if the seats are still free;
  a conflict re-reads and re-picks, up to --retries times.

The values a record carries are free seats: read_value the free seats seen, written_value
those left after the claim. A seat stock is a store's buyer side (stores/seat_store.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from booking.seating import SeatPlan, pick
from booking.strategies.protocols import Ending, Guard, GuardTimeout, Steps
from booking.waits import bounded


class _Picker:
    """One buyer's choice of seats: picked from a map, re-checked against a later one."""

    def __init__(self, stock: Any, plan: SeatPlan, buyer: int) -> None:
        self.stock: Any = stock
        self.plan = plan
        self.rng = plan.rng(buyer)
        self.choice: tuple[int, ...] = ()
        self.free = 0  # free seats in the map last read

    def repick(self, holders: list[str | None]) -> None:
        free = [holder is None for holder in holders]
        self.free = sum(free)
        self.choice = pick(free, self.plan.shape, self.plan.order, self.plan.how, self.rng)

    def still_free(self, holders: list[str | None]) -> bool:
        """Whether every chosen seat is free in `holders` (and counts the free seats)."""
        self.free = sum(holder is None for holder in holders)
        return bool(self.choice) and all(holders[seat] is None for seat in self.choice)

    @property
    def picked(self) -> str:
        """The seats of the pick so far ("A1,A2"): what the look's record names."""
        return self.names()

    def names(self, seats: Sequence[int] | None = None) -> str:
        return ",".join(self.plan.shape.names(self.choice if seats is None else seats))

    def look(self) -> int:
        """The unguarded look: the map as it is, and this buyer's pick from it."""
        self.repick(self.stock.read_map())
        return self.free

    def claim(self, count: int) -> None:
        self.stock.claim(self.choice)

    def die(self, count: int) -> None:
        self.stock.die_claiming(self.choice)


class SeatOrder(_Picker):
    """One guard for the whole map, held across read -> think -> write."""

    holding = "holding the guard"

    def __init__(self, stock: Any, guard: Guard, plan: SeatPlan, buyer: int) -> None:
        super().__init__(stock, plan, buyer)
        self.guard = guard

    def _recheck(self) -> int:
        holders = self.stock.read_map()
        if not self.still_free(holders):
            self.repick(holders)  # it holds the whole map: any free seats are its to take
        return self.free

    def buy(self, steps: Steps) -> Ending:
        if not self.guard.acquire():
            raise GuardTimeout("lock wait timed out")
        steps.acquired()
        try:
            free = steps.read(self._recheck)
            if not self.choice:
                steps.left()
                return "sold_out"
            steps.seats(self.names())
            steps.think()
            steps.write(self.claim, free - self.plan.order, self.die)
            self.choice = ()  # a next order picks afresh
            return "bought"
        finally:
            self.guard.release()


class SeatLocked(_Picker):
    """A lock per seat, held across read -> think -> write. `ordered` takes them in seat
    order, which no cycle of waits can form against; otherwise in an order of the buyer's
    own (drawn from its seed), as code that locks "the seats it wants" one by one does."""

    holding = "holding its seats' locks"

    def __init__(
        self,
        stock: Any,
        locks: Sequence[Any],
        plan: SeatPlan,
        buyer: int,
        *,
        ordered: bool,
        timeout_s: float,
        write_lock: Any = None,
    ) -> None:
        super().__init__(stock, plan, buyer)
        self.locks = locks
        self.ordered = ordered
        self.timeout_s = bounded(timeout_s)
        self.write_lock = write_lock  # a JSON file is one document: its rewrite is guarded
        self._ok = False

    def _take(self, steps: Steps, seats: Sequence[int]) -> list[int]:
        """Take the seats' locks one by one; on a wait that runs out, let go of those
        held and raise GuardTimeout naming the seat."""
        held: list[int] = []
        names = self.names(seats)
        deadline = time.monotonic() + self.timeout_s
        for seat in seats:
            steps.seats(names, len(held))
            if not self.locks[seat].acquire(timeout=max(0.0, deadline - time.monotonic())):
                self._release(held)
                raise GuardTimeout(f"lock wait for seat {self.plan.shape.name(seat)} timed out")
            held.append(seat)
        steps.seats(names, len(held))
        return held

    def _release(self, held: list[int]) -> None:
        for seat in reversed(held):
            self.locks[seat].release()
        held.clear()

    def _read(self) -> list[str | None]:
        """The map now; a JSON file is rewritten whole, so it is read under the same short
        lock as its rewrites (an in-place rewrite would tear a read)."""
        if self.write_lock is None:
            holders: list[str | None] = self.stock.read_map()
            return holders
        with self.write_lock:
            holders = self.stock.read_map()
            return holders

    def _check(self) -> int:
        holders = self._read()
        self._ok = self.still_free(holders)
        if not self._ok:
            self.repick(holders)
        return self.free

    def claim(self, count: int) -> None:
        if self.write_lock is None:
            self.stock.claim(self.choice)
            return
        with self.write_lock:
            self.stock.claim(self.choice, fresh=True)

    def buy(self, steps: Steps) -> Ending:
        if not self.choice:
            self.repick(self._read())
        # Each conflict means a chosen seat was sold for good (this design never unsells):
        # at most one try per seat of the map before the free seats run out.
        for _ in range(self.plan.shape.size + 1):
            if not self.choice:
                return "sold_out"
            seats = sorted(self.choice)
            if not self.ordered:  # each buyer its own order, whatever the pick's
                self.rng.shuffle(seats)
            held = self._take(steps, seats)
            steps.acquired()
            try:
                free = steps.read(self._check)
                if self._ok:
                    steps.think()
                    steps.write(self.claim, free - self.plan.order, self.die)
                    self.choice = ()
                    return "bought"
            finally:
                self._release(held)
            steps.conflict()  # a chosen seat was sold meanwhile: re-picked from that map
        return "gave_up"


class SeatConditional(_Picker):
    """Think with nothing held, then claim the seats in one statement that takes them
    only if every one is still free."""

    holding = ""

    def _take(self) -> int | None:
        if self.stock.claim_if_free(self.choice):
            return self.free - self.plan.order
        return None

    def _die(self) -> None:
        self.stock.die_claiming(self.choice)

    def buy(self, steps: Steps) -> Ending:
        steps.think()
        for _ in range(self.plan.shape.size + 1):
            if not self.choice:
                self.repick(self.stock.read_map())
                if not self.choice:
                    return "sold_out"
            steps.seats(self.names())
            if steps.update(self._take, self._die, self.plan.order) is not None:
                self.choice = ()
                return "bought"
            self.choice = ()
            steps.conflict()  # a seat was gone: pick again from a fresh look
        return "gave_up"


class SeatCompareAndSet(_Picker):
    """Read the map, think with nothing held, then claim the seats only if every one is
    still free (optimistic): a claim that finds one sold writes nothing, and the buyer
    re-reads, re-picks and tries again, up to `retries` times. SQLite claims in one
    conditional UPDATE; a JSON file is compared and rewritten under a short lock."""

    holding = "between its read and its claim"

    def __init__(
        self, stock: Any, plan: SeatPlan, buyer: int, retries: int, swap_lock: Guard | None
    ) -> None:
        super().__init__(stock, plan, buyer)
        self.retries = retries
        self.swap_lock = swap_lock

    def _read(self) -> int:
        holders = self.stock.read_map()
        if not self.still_free(holders):
            self.repick(holders)
        return self.free

    def _swap(self, count: int) -> bool:
        if self.swap_lock is None:
            return bool(self.stock.claim_if_free(self.choice))
        if not self.swap_lock.acquire():
            raise GuardTimeout("the compare-and-set lock wait timed out")
        try:
            if not self.still_free(self.stock.read_map()):
                return False
            self.stock.claim(self.choice)  # on top of the map just read, under the lock
            return True
        finally:
            self.swap_lock.release()

    def die(self, count: int) -> None:
        if self.swap_lock is not None:  # under the lock, as a real claim would be
            self.swap_lock.acquire()
        self.stock.die_claiming(self.choice)

    def buy(self, steps: Steps) -> Ending:
        for _ in range(self.retries + 1):
            free = steps.read(self._read)
            if not self.choice:
                steps.left()
                return "sold_out"
            steps.seats(self.names())
            steps.think()
            if steps.write(self._swap, free - self.plan.order, self.die):
                self.choice = ()
                return "bought"
            steps.conflict()  # a chosen seat was sold meanwhile: read and pick again
        return "gave_up"


def guarded(stock: Any, guard: Guard, seats: SeatPlan | None, buyer: int) -> Any:
    """The purchase of a store-wide guard: a seat order on a seat map, else the seeds'."""
    if seats is None:
        from booking.strategies.protocols import Guarded

        return Guarded(stock, guard)
    return SeatOrder(stock, guard, seats, buyer)
