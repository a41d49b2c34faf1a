"""Strategies: how buyers coordinate a purchase. A registry, and the parts a buyer gets.

A strategy is built in the parent before any buyer is forked (so an mp.Lock or a Manager
can be inherited) and asked, inside each buyer, for that buyer's `Stock` (what it reads
and writes) and `Guard` (what it holds across read -> think -> write). Strategy modules
are imported only when chosen; they may import stores and the ground floor only.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

from booking.stores import Stock, StoreFile

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

    def supports(self, store: str) -> bool:
        return self.stores is None or store in self.stores


#: name -> StrategyInfo. The keys are the CLI's choices.
STRATEGIES: dict[str, StrategyInfo] = {
    "none": StrategyInfo(
        "booking.strategies.unguarded:Unguarded",
        "no coordination: the seeds without a Lock",
        claims_safe=False,
    ),
    "lock": StrategyInfo(
        "booking.strategies.mp_lock:MpLock", "one multiprocessing.Lock inherited by all"
    ),
    "filelock": StrategyInfo(
        "booking.strategies.file_lock:FileLockStrategy",
        "filelock.FileLock on <store>.lock, built in each buyer",
        across_runs=True,
    ),
    "manager": StrategyInfo(
        "booking.strategies.manager:ManagerDict",
        "the stock in a multiprocessing.Manager dict, under the manager's lock",
    ),
    "transaction": StrategyInfo(
        "booking.strategies.db_transaction:DbTransaction",
        "SQLite's own write lock: BEGIN IMMEDIATE around read -> think -> write",
        stores=("sqlite",),
        across_runs=True,
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
