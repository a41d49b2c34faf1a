"""Strategies: how buyers coordinate a purchase. A registry, and the parts a buyer gets.

A strategy is built in the parent before any buyer is forked (so an mp.Lock, a Manager or
a seller process can be inherited) and asked, inside each buyer, for that buyer's
`Purchase`: its protocol (protocols.py) with the stock it reads and writes. Strategy
modules are imported only when chosen; they may import stores and the ground floor only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from booking.stores import STORES, StoreFile
from booking.strategies.protocols import Guard, Guarded, Purchase, Unlocked

__all__ = ["STRATEGIES", "Guard", "Guarded", "Purchase", "Strategy", "StrategyInfo", "Unlocked"]

if TYPE_CHECKING:
    from booking.seating import SeatPlan
    from booking.waits import Backoff


class StrategyInfo(NamedTuple):
    """A registry entry: where the class lives, one line for --help, and its limits."""

    target: str  # "module:Class", imported only when chosen
    summary: str
    stores: tuple[str, ...] | None = None  # the stores it works on; None: every store
    claims_safe: bool = True  # False for the strategies that exist to show a failure
    # True when the guard is shared by every run on the store that uses it (a lock file,
    # the database's write lock), not only by the buyers of one run.
    across_runs: bool = False
    # What it promises, when that is not plain safety or its absence (`booking strategies`).
    claim: str = ""
    # For `booking strategies`: how a purchase is made, what that costs, where it comes from.
    protocol: str = ""
    cost: str = ""
    origin: str = ""
    # The shape of its protocol: "guard" (held across read -> think -> write),
    # "snapshot" (a transaction that keeps no one out: the database refuses a stale write),
    # "conditional" (one update that decrements only above zero), "compare-and-set"
    # (write only if unchanged, retry), "seller" (one process sells, buyers ask).
    design: str = "guard"
    # False for a guard design whose guard is nothing (none): its acquire is a no-op, so
    # a picture of the run draws no wait for it and nothing held.
    holds_guard: bool = True
    # The fault options that mean something for it, and what each one kills.
    # Its steps, when its guard's are named otherwise (a transaction's BEGIN and COMMIT).
    own_steps: tuple[str, ...] = ()
    faults: tuple[tuple[str, str], ...] = (
        ("holder", "a buyer holding the guard, during its think"),
        ("writer", "a buyer half-way through writing the store"),
    )
    # What it sells: a ticket "count", a seat map (--seats, "seats"), or both.
    sells: tuple[str, ...] = ("count",)
    # A lock per seat rather than one guard: no single guard to be stuck behind.
    per_seat: bool = False
    # It tries again after a conflict, up to --retries times (compare-and-set, a
    # serialization failure, a refused fencing token, a deadlock the server broke).
    retries: bool = False

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps one attempt performs, in order, as the record lists them: a step a
        protocol does not have is not there (an atomic attempt reads inside its update)."""
        if self.own_steps:
            return self.own_steps
        if self.design == "guard":
            return ("acquire", "read", "think", "write", "release")
        return STEPS[self.design]

    def fault(self, kind: str) -> str | None:
        """What --kill-<kind> kills under this strategy; None: it cannot apply."""
        return dict(self.faults).get(kind)

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
            "claim": self.claim or ("safe" if self.claims_safe else "unsafe by design"),
            "across_runs": self.across_runs,
            "cost": self.cost,
            "origin": self.origin,
            "design": self.design,
            "steps": list(self.steps),
            "faults": {kind: what for kind, what in self.faults},
            "sells": list(self.sells),
            "seat_stores": self.seat_stores(),
        }

    def seat_stores(self) -> list[str]:
        """The stores it sells seats on: those it works on that hold a seat map."""
        if "seats" not in self.sells:
            return []
        from booking.stores.seat_store import SEAT_STORES

        return [name for name in STORES if name in SEAT_STORES and self.supports(name)]


#: The steps of the protocols without a guard (StrategyInfo.steps).
STEPS = {
    "conditional": ("think", "conditional update"),
    "compare-and-set": ("read", "think", "compare-and-set", "retry on a conflict"),
    "seller": ("think", "request", "the seller's read", "the seller's write", "answer"),
}

#: What --kill-holder and --kill-writer kill under a lock per seat.
SEAT_LOCK_FAULTS = (
    ("holder", "a buyer holding its seats' locks, during its think"),
    ("writer", "a buyer half-way through writing its seats"),
)

#: name -> StrategyInfo. The keys are the CLI's choices.
STRATEGIES: dict[str, StrategyInfo] = {
    "none": StrategyInfo(
        "booking.strategies.unguarded:Unguarded",
        "no coordination: the seeds without a Lock",
        claims_safe=False,
        holds_guard=False,
        own_steps=("read", "think", "write"),  # its "guard" is a no-op: nothing acquired
        protocol="read -> think -> write with nothing held: every buyer may read the same count",
        cost="nothing; it oversells and loses sales, which is what it is for",
        origin="the seeds' ticket program run without its multiprocessing.Lock",
        faults=(
            ("holder", "a buyer after its read, during its think (it holds nothing)"),
            ("writer", "a buyer half-way through writing the store"),
        ),
        sells=("count", "seats"),
    ),
    "lock": StrategyInfo(
        "booking.strategies.mp_lock:MpLock",
        "one multiprocessing.Lock inherited by all",
        protocol="one multiprocessing.Lock, made before the fork, held across read -> think "
        "-> write",
        cost="one purchase at a time, think included; a hand-off wakes the next waiter "
        "(~0.5 us uncontended)",
        origin="the seeds' ticket program (multiprocessing.Lock)",
        sells=("count", "seats"),
    ),
    "filelock": StrategyInfo(
        "booking.strategies.file_lock:FileLockStrategy",
        "filelock.FileLock on <store>.lock, built in each buyer",
        stores=("json", "sqlite"),
        across_runs=True,
        protocol="filelock.FileLock on <store>.lock held across read -> think -> write; "
        "waiters poll with a back-off",
        cost="one purchase at a time; ~200 us an acquire, a hand-off waits for the next "
        "poll; twice a lock buyer's memory",
        origin="the filelock library (flock on Linux); coordinates other runs on the store too",
        sells=("count", "seats"),
    ),
    "manager": StrategyInfo(
        "booking.strategies.manager:ManagerDict",
        "the stock in a multiprocessing.Manager dict, under the manager's lock",
        protocol="the count in a multiprocessing.Manager dict, read and written under the "
        "manager's Lock (--no-manager-lock: none)",
        cost="one purchase at a time; every read, write and lock call is a round trip to "
        "the manager process (~160 us a lock)",
        origin="the seeds' Manager dict (multiprocessing.Manager)",
        sells=("count", "seats"),
    ),
    "transaction": StrategyInfo(
        "booking.strategies.db_transaction:DbTransaction",
        "SQLite's own write lock: BEGIN IMMEDIATE around read -> think -> write",
        stores=("sqlite",),
        across_runs=True,
        protocol="BEGIN IMMEDIATE takes SQLite's write lock; read -> think -> write -> COMMIT",
        cost="one purchase at a time; waiters sleep in SQLite's busy handler (1-100 ms back-off)",
        origin="the SQLite documentation (BEGIN IMMEDIATE); coordinates other runs too",
        own_steps=("begin immediate", "read", "think", "write", "commit"),
        sells=("count", "seats"),
    ),
    "deferred": StrategyInfo(
        "booking.strategies.db_transaction:DbDeferred",
        "BEGIN DEFERRED around read -> think -> write: the write must upgrade a stale read",
        stores=("sqlite",),
        across_runs=True,
        # It never oversells, but under contention purchases fail: that is what it shows.
        claims_safe=False,
        claim="never oversells; fails purchases by design",
        design="snapshot",
        protocol="BEGIN DEFERRED; read (a read transaction) -> think -> write, which must "
        "upgrade to SQLite's write lock; a stale snapshot cannot, and fails with SQLITE_BUSY",
        cost="reads and thinks in parallel, but once another buyer commits every open "
        "purchase fails: its busy errors are the lesson (why transaction uses BEGIN IMMEDIATE)",
        origin="the SQLite documentation (BEGIN DEFERRED, WAL snapshots)",
        own_steps=("begin deferred", "read", "think", "write (an upgrade)", "commit"),
        faults=(
            ("holder", "a buyer inside its read transaction, during its think"),
            ("writer", "a buyer inside its write transaction, before COMMIT"),
        ),
        sells=("count", "seats"),
    ),
    "atomic": StrategyInfo(
        "booking.strategies.atomic:AtomicUpdate",
        "think with nothing held, then UPDATE ... WHERE count > 0: one statement that "
        "cannot oversell (redis: a Lua script)",
        stores=("sqlite", "postgres", "redis"),
        across_runs=True,  # the store's own statement: every run that uses it is covered
        protocol="think with nothing held, then one conditional decrement (UPDATE stock SET "
        "count = count - 1 WHERE count > 0 RETURNING count) and the ledger row in one "
        "transaction (redis: a Lua script that decrements only above zero and records the "
        "sale); no row changed: sold out",
        cost="thinks in parallel; only the one-statement write is serialised, by the store "
        "(SQLite's write lock, PostgreSQL's row lock, Redis's one command thread)",
        origin="the SQLite and PostgreSQL documentation (UPDATE ... RETURNING); Redis "
        "scripting (EVAL); the usual design of real booking systems",
        design="conditional",
        faults=(("writer", "a buyer inside its conditional update, before COMMIT"),),
        sells=("count", "seats"),
    ),
    "optimistic": StrategyInfo(
        "booking.strategies.optimistic:Optimistic",
        "read a count and a version, think, write only if the version is unchanged; retry",
        stores=("json", "sqlite", "postgres", "redis"),
        # the version (sqlite, postgres: kept by a trigger; json: under <store>.lock;
        # redis: WATCH/MULTI/EXEC)
        across_runs=True,
        protocol="read the count and its version, think, then compare-and-set: write only "
        "if the version is unchanged, else re-read and try again, up to --retries times "
        "(json: the compare and the write under a short filelock, never the think; redis: "
        "WATCH the count, MULTI/EXEC the write)",
        cost="thinks in parallel; a conflict costs a re-read and another think, and a buyer "
        "out of retries gives up",
        origin="optimistic concurrency control (Kung and Robinson, 1981); version columns in ORMs",
        design="compare-and-set",
        retries=True,
        faults=(
            ("holder", "a buyer between its read and its compare-and-set"),
            ("writer", "a buyer half-way through its compare-and-set write"),
        ),
        sells=("count", "seats"),
    ),
    "queue": StrategyInfo(
        "booking.strategies.seller:SingleSeller",
        "one seller process owns the store; buyers think, then ask it on a queue",
        stores=("json", "sqlite", "postgres", "redis"),
        protocol="one seller process reads and writes the store, one request at a time; "
        "buyers think, send a request on one shared multiprocessing Pipe and wait for the "
        "answer on their own Pipe",
        cost="thinks in parallel; each purchase is two messages and the seller's read and "
        "write, serialised; one more process, and two file descriptors a buyer",
        origin="the seeds' Queue and Pipe; the actor / single-writer pattern",
        design="seller",
        faults=(
            ("holder", "the seller, between its read and its write for that buyer"),
            ("writer", "the seller, half-way through writing that buyer's sale"),
        ),
        sells=("count", "seats"),
    ),
    "seatlock": StrategyInfo(
        "booking.strategies.seat_locks:SeatLocks",
        "one multiprocessing.Lock per seat, taken in seat order (--seats only)",
        stores=("json", "sqlite"),
        protocol="a multiprocessing.Lock per seat, made before the fork; an order's locks "
        "are taken in seat order and held across read -> think -> write",
        cost="buyers after different seats never wait for each other; an order of K seats "
        "takes K locks (a JSON store's rewrite is serialised by one more, short, lock)",
        origin="fine-grained locking with a global lock order (Dijkstra; Coffman et al. 1971)",
        sells=("seats",),
        per_seat=True,
        faults=SEAT_LOCK_FAULTS,
    ),
    "seatlock-unordered": StrategyInfo(
        "booking.strategies.seat_locks:UnorderedSeatLocks",
        "one multiprocessing.Lock per seat, each buyer taking them in its own order: "
        "deadlocks (--seats only)",
        claims_safe=False,
        claim="never double-books; deadlocks by design",
        stores=("json", "sqlite"),
        protocol="the per-seat locks of seatlock, each buyer taking its order's in an order "
        "of its own: two buyers can each hold a seat the other waits for",
        cost="as seatlock until two orders cross; then both wait for ever (to --timeout, or "
        "until --stall-timeout ends the run)",
        origin="the lock-ordering deadlock (Coffman et al. 1971)",
        sells=("seats",),
        per_seat=True,
        faults=SEAT_LOCK_FAULTS,
    ),
}


# The networked stores' strategies, after the registry they join (their module needs
# StrategyInfo from here).
from booking.strategies.network import NETWORK_STRATEGIES  # noqa: E402

STRATEGIES.update(NETWORK_STRATEGIES)


class Strategy(Protocol):
    def buyer_parts(self, buyer: int) -> Purchase:
        """In the buyer process: how it looks at the count and makes a purchase."""
        ...

    def finish(self, sold_by: list[int]) -> int:
        """In the parent after the run: the count left (written back, with the sales, if the
        stock lived elsewhere). `sold_by` holds the buyer of each receipt."""
        ...

    def close(self) -> None: ...

    # Optional: `stopping()`, called in the parent when the run is being stopped, after
    # the buyers were told; a strategy with a process of its own stops it there.


@dataclass(frozen=True)
class StrategyOptions:
    """What a run tells its strategy, as one record: every strategy takes the same, and an
    option added later is added here, not to each constructor."""

    timeout_s: float  # --timeout: the bound on every wait for a guard or an answer
    poll: Backoff  # how a filelock waiter polls (--poll-ms, or adaptive)
    manager_lock: bool = True  # manager only: False runs it without its lock
    buyers: int = 1
    retries: int = 3  # optimistic only: --retries
    seats: SeatPlan | None = None  # a seat run (--seats): the map and how buyers order
    lock_ttl_ms: float | None = None  # ttl-lock and fenced: --lock-ttl


class StrategyKind(Protocol):
    def __call__(self, store: StoreFile, options: StrategyOptions) -> Strategy: ...


def keeps_buyers_out(strategy: str, manager_lock: bool | None = True) -> bool:
    """Whether the strategy's guard keeps other buyers out of the read -> write window: a
    guard design whose guard holds something (not none's no-op, not manager without its
    lock). A strategy this booking does not know claims nothing."""
    info = STRATEGIES.get(strategy)
    return (
        info is not None
        and info.design == "guard"
        and info.holds_guard
        and manager_lock is not False
    )


def retrying_strategies() -> str:
    """The strategies --retries applies to, as a message names them."""
    return ", ".join(name for name, info in STRATEGIES.items() if info.retries)


def load_strategy(name: str) -> StrategyKind:
    module, _, attr = STRATEGIES[name].target.partition(":")
    kind: StrategyKind = getattr(importlib.import_module(module), attr)
    return kind
