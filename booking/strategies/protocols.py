"""Purchase protocols: how one purchase is made, apart from who stamps and reports it.

A strategy hands each buyer a `Purchase`. Its `buy()` walks the steps of its protocol and
tells the engine about each one through `Steps`, which stamps the step with the one clock,
reports it to the parent, defers a stop while a write is under way, and applies the fault
options at the protocol's own points (a holder dies after its read, a writer half-way
through its write). A protocol reports only the steps it really performs: `atomic` has no
read of its own, so its record has no read stamp.

The four protocols:
- `Guarded`: a guard held across read -> think -> write (the seeds' design).
- `Conditional` (in `atomic`): think, then one statement that decrements only above zero.
- compare-and-set with retry (in `optimistic`): read, think, write only if unchanged.
- a request to a single seller (in `queue`): think, ask, wait for the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple, Protocol

from booking.stores import Stock

#: How an attempt ended, as far as the protocol can tell (an exception is an error).
Ending = Literal["bought", "sold_out", "gave_up"]


class GuardTimeout(Exception):
    """The bounded wait for the guard ran out."""


class SellerGone(Exception):
    """The single seller died or closed its end: no answer will come."""


class Served(NamedTuple):
    """What another process did for this buyer (the single seller): its stamps and values.
    read_value -1: it read nothing (a look that failed)."""

    ending: Ending | Literal["error"]
    read_value: int
    written_value: int
    t_read: int
    t_write: int
    t_left: int
    message: str = ""  # what went wrong, when ending is "error"
    failure: Literal["", "torn_read", "busy", "other"] = ""
    seats: str = ""  # a seat run: the seats the seller picked and sold ("A1,A2")


class Steps(Protocol):
    """What a purchase tells the engine as it goes. Each call stamps one step."""

    def seats(self, names: str, held: int = 0) -> None:
        """A seat order: the seats this try is about ("A1,A2"), and how many of their
        locks it holds so far (per-seat locks): what its record says of it."""

    def acquired(self) -> None:
        """The guard is held (step `acquire` ended)."""

    def read(self, read: Callable[[], int]) -> int:
        """Step `read`: call `read` and keep its count. A --kill-holder victim dies here,
        part-way into its think, holding whatever the protocol holds."""
        ...

    def think(self) -> None:
        """Step `think`: the pause the seeds open with time.sleep."""

    def left(self) -> None:
        """The read -> write window closed without a write (sold out)."""

    def write(
        self,
        write: Callable[[int], bool | None],
        count: int,
        die: Callable[[int], None] | None,
    ) -> bool:
        """Step `write`: call `write(count)`; False from it means it wrote nothing (a
        compare-and-set that found the store changed). A stop waits until the attempt is
        reported; a --kill-writer victim calls `die(count)`, which leaves the write half
        done and never returns (None: it dies before writing)."""
        ...

    def update(
        self, update: Callable[[], int | None], die: Callable[[], None] | None, taken: int = 1
    ) -> int | None:
        """Step `write` of a conditional update, which reads inside the write: call
        `update()` for the count left (`taken` less than it read), or None when it changed
        nothing (sold out)."""
        ...

    def conflict(self, why: str = "") -> None:
        """The write just made found the store changed: report this try as a conflict and
        start a new one (its read, think and write stamped afresh). `why`, when the
        server ended the try itself: what it said (a deadlock it broke), for the judge."""

    def served(self, ask: Callable[[], Served]) -> Served:
        """Step `write` made by another process (the seller): `ask()` sends the request and
        waits for the answer, whose read and write stamps (same clock) become this
        attempt's. A stop waits from the request until the attempt is reported, so a sale
        the seller made always reaches the record as a receipt."""
        ...

    @property
    def fault(self) -> tuple[str, float] | None:
        """(kind, how far into the think) when this buyer is a fault victim, for a protocol
        whose fault happens in another process (the seller)."""
        ...


class Purchase(Protocol):
    """One buyer's way to look at the count and to make a purchase."""

    #: Where a --kill-holder victim dies, as the record says it: "killed <holding>".
    holding: str

    @property
    def picked(self) -> str:
        """The seats its look picked ("A1,A2"), which the look's record names; "" for a
        count."""
        ...

    def look(self) -> int:
        """The unguarded look at the count before buying (the seeds' search())."""
        ...

    def buy(self, steps: Steps) -> Ending:
        """One attempt; raises GuardTimeout, StoreBusy, TornRead... when it fails."""
        ...


class Guarded:
    """A guard held across read -> think -> write: every strategy of the seeds."""

    holding = "holding the guard"
    picked = ""

    def __init__(self, stock: Stock, guard: Guard) -> None:
        self.stock = stock
        self.guard = guard
        # Looked up once, not on every purchase: a stock that cannot half-write (a
        # Manager dict) has none, and its writer dies before writing.
        self._die_writing = getattr(stock, "die_writing", None)

    def look(self) -> int:
        return self.stock.read()

    def buy(self, steps: Steps) -> Ending:
        # Step `acquire`: bounded, so a dead holder means a timeout, never a hang.
        if not self.guard.acquire():
            raise GuardTimeout("lock wait timed out")
        steps.acquired()
        try:
            count = steps.read(self.stock.read)
            if count <= 0:
                steps.left()
                return "sold_out"
            steps.think()
            steps.write(self.stock.write, count - 1, self._die_writing)
            return "bought"
        finally:
            # Step `release`.
            self.guard.release()


class Conditional:
    """Think with nothing held, then one conditional decrement that cannot oversell
    (`atomic`). The stock's `take()` returns the count left, or None: sold out."""

    holding = ""  # nothing is held: --kill-holder cannot apply (the registry says so)
    picked = ""

    def __init__(self, stock: ConditionalStock) -> None:
        self.stock = stock

    def look(self) -> int:
        return self.stock.read()

    def buy(self, steps: Steps) -> Ending:
        steps.think()
        left = steps.update(self.stock.take, self.stock.die_taking)
        return "sold_out" if left is None else "bought"


class CompareAndSet:
    """Read the count and its version, think, then write only if the version is unchanged;
    on a conflict re-read and try again, up to `retries` times (`optimistic`). Each try
    thinks again: the buyer decides afresh on the count it now sees."""

    holding = "between its read and its compare-and-set"
    picked = ""

    def __init__(self, stock: VersionedStock, retries: int) -> None:
        self.stock = stock
        self.retries = retries

    def look(self) -> int:
        return self.stock.read()

    def buy(self, steps: Steps) -> Ending:
        for _ in range(self.retries + 1):
            count = steps.read(self.stock.read)
            if count <= 0:
                steps.left()
                return "sold_out"
            steps.think()
            if steps.write(self.stock.swap, count - 1, self.stock.die_writing):
                return "bought"
            steps.conflict()
        return "gave_up"


class ConditionalStock(Protocol):
    def read(self) -> int: ...

    def take(self) -> int | None:
        """Decrement the count only if it is above zero, with the sale, in one
        transaction: the count left, or None when it was zero."""
        ...

    def die_taking(self) -> None:
        """--kill-writer: die inside the conditional update, before it commits."""


class VersionedStock(Protocol):
    def read(self) -> int:
        """The count; the version read with it is kept for swap()."""
        ...

    def swap(self, count: int) -> bool:
        """Write `count` and the sale only if the store is unchanged since read()."""
        ...

    def die_writing(self, count: int) -> None: ...


class Guard(Protocol):
    """Held across a purchase. acquire() returns False when its bounded wait runs out."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class Unlocked:
    """The guard of `none`: nothing to wait for."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None
