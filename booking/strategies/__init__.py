"""Strategies: how buyers coordinate a purchase. A registry, and the parts a buyer gets.

A strategy is built in the parent before any buyer is forked (so an mp.Lock or a Manager
can be inherited) and asked, inside each buyer, for that buyer's `Stock` (what it reads
and writes) and `Guard` (what it holds across read -> think -> write). Strategy modules
are imported only when chosen; they may import stores and the ground floor only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

from booking.stores import STORES, Stock, StoreFile

if TYPE_CHECKING:
    from booking.waits import Backoff


class StrategyInfo(NamedTuple):
    """A registry entry: where the class lives, one line for --help, and its limits."""

    target: str  # "module:Class", imported only when chosen
    summary: str
    stores: tuple[str, ...] | None = None  # the stores it works on; None: every store
    claims_safe: bool = True  # False for the strategies that exist to show the race
    # True when the guard is shared by every run on the store that uses it (a lock file,
    # the database's write lock), not only by the buyers of one run.
    across_runs: bool = False
    # For `booking strategies`: how a purchase is made, what that costs, where it comes from.
    protocol: str = ""
    cost: str = ""
    origin: str = ""

    def supports(self, store: str) -> bool:
        return self.stores is None or store in self.stores

    def record(self, name: str) -> dict[str, object]:
        """This entry as plain values: a row of `booking strategies --json`."""
        return {
            "name": name,
            "summary": self.summary,
            "protocol": self.protocol,
            "stores": list(self.stores) if self.stores is not None else list(STORES),
            "claims_safe": self.claims_safe,
            "across_runs": self.across_runs,
            "cost": self.cost,
            "origin": self.origin,
        }


#: name -> StrategyInfo. The keys are the CLI's choices.
STRATEGIES: dict[str, StrategyInfo] = {
    "none": StrategyInfo(
        "booking.strategies.unguarded:Unguarded",
        "no coordination: the seeds without a Lock",
        claims_safe=False,
        protocol="read -> think -> write with nothing held: every buyer may read the same count",
        cost="nothing; it oversells and loses sales, which is what it is for",
        origin="the seeds' ticket program run without its multiprocessing.Lock",
    ),
    "lock": StrategyInfo(
        "booking.strategies.mp_lock:MpLock",
        "one multiprocessing.Lock inherited by all",
        protocol="one multiprocessing.Lock, made before the fork, held across read -> think "
        "-> write",
        cost="one purchase at a time, think included; a hand-off wakes the next waiter "
        "(~0.5 us uncontended)",
        origin="the seeds' ticket program (multiprocessing.Lock)",
    ),
    "filelock": StrategyInfo(
        "booking.strategies.file_lock:FileLockStrategy",
        "filelock.FileLock on <store>.lock, built in each buyer",
        across_runs=True,
        protocol="filelock.FileLock on <store>.lock held across read -> think -> write; "
        "waiters poll with a back-off",
        cost="one purchase at a time; ~200 us an acquire, a hand-off waits for the next "
        "poll; twice a lock buyer's memory",
        origin="the filelock library (flock on Linux); coordinates other runs on the store too",
    ),
    "manager": StrategyInfo(
        "booking.strategies.manager:ManagerDict",
        "the stock in a multiprocessing.Manager dict, under the manager's lock",
        protocol="the count in a multiprocessing.Manager dict, read and written under the "
        "manager's Lock (--no-manager-lock: none)",
        cost="one purchase at a time; every read, write and lock call is a round trip to "
        "the manager process (~160 us a lock)",
        origin="the seeds' Manager dict (multiprocessing.Manager)",
    ),
    "transaction": StrategyInfo(
        "booking.strategies.db_transaction:DbTransaction",
        "SQLite's own write lock: BEGIN IMMEDIATE around read -> think -> write",
        stores=("sqlite",),
        across_runs=True,
        protocol="BEGIN IMMEDIATE takes SQLite's write lock; read -> think -> write -> COMMIT",
        cost="one purchase at a time; waiters sleep in SQLite's busy handler (1-100 ms back-off)",
        origin="the SQLite documentation (BEGIN IMMEDIATE); coordinates other runs too",
    ),
}


class Guard(Protocol):
    """Held across a purchase. acquire() returns False when its bounded wait runs out."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class Strategy(Protocol):
    def buyer_parts(self, buyer: int) -> tuple[Stock, Guard]:
        """In the buyer process: what it reads and writes, and what it holds meanwhile."""
        ...

    def finish(self, sold_by: list[int]) -> int:
        """In the parent after the run: the count left (written back, with the sales, if the
        stock lived elsewhere). `sold_by` holds the buyer of each receipt."""
        ...

    def close(self) -> None: ...


class StrategyKind(Protocol):
    def __call__(
        self, store: StoreFile, *, timeout_s: float, manager_lock: bool, poll: Backoff
    ) -> Strategy: ...


class Unlocked:
    """The guard of `none`: nothing to wait for."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


def load_strategy(name: str) -> StrategyKind:
    module, _, attr = STRATEGIES[name].target.partition(":")
    kind: StrategyKind = getattr(importlib.import_module(module), attr)
    return kind
