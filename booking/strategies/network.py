"""The registry entries of the networked stores' strategies (PostgreSQL, Redis): data
only, kept apart so the registry stays readable. Joined to STRATEGIES by __init__."""

from __future__ import annotations

from booking.strategies import StrategyInfo

#: What --kill-holder and --kill-writer kill under a server's transaction or lock.
SERVER_FAULTS = (
    ("holder", "a buyer holding the lock, during its think (the server releases it)"),
    ("writer", "a buyer inside its write transaction, before COMMIT"),
)

#: The strategies of the networked stores (--store postgres, --store redis).
NETWORK_STRATEGIES: dict[str, StrategyInfo] = {
    "naive-tx": StrategyInfo(
        "booking.strategies.pg_transactions:NaiveTransaction",
        "one READ COMMITTED transaction around SELECT -> think -> UPDATE: loses updates",
        stores=("postgres",),
        claims_safe=False,
        holds_guard=False,
        own_steps=("begin", "read", "think", "write", "commit"),
        protocol="BEGIN (READ COMMITTED, PostgreSQL's default); SELECT count -> think -> "
        "UPDATE count = read - 1; COMMIT. A plain SELECT takes no lock and the UPDATE "
        "re-reads nothing: it writes the count it computed from a stale read",
        cost="nothing is serialised but the UPDATE's row lock; it oversells and loses sales",
        origin="the usual first attempt: wrap it in a transaction (PostgreSQL's default "
        "isolation level, READ COMMITTED)",
        faults=(
            ("holder", "a buyer inside its transaction, during its think (it holds nothing)"),
            ("writer", "a buyer inside its write transaction, before COMMIT"),
        ),
    ),
    "for-update": StrategyInfo(
        "booking.strategies.pg_transactions:ForUpdate",
        "SELECT ... FOR UPDATE: the row lock held across read -> think -> write (seats: "
        "the order's rows, in seat order)",
        stores=("postgres",),
        across_runs=True,
        own_steps=("begin", "select for update", "think", "write", "commit"),
        protocol="BEGIN; SELECT count ... FOR UPDATE locks the stock row (seats: the "
        "order's seat rows, in seat order) -> think -> UPDATE -> COMMIT releases it",
        cost="one purchase at a time per row; waiters queue on the row lock in the server",
        origin="the PostgreSQL documentation (explicit row-level locking); the classic fix",
        faults=SERVER_FAULTS,
        sells=("count", "seats"),
        per_seat=True,
    ),
    "for-update-unordered": StrategyInfo(
        "booking.strategies.pg_seats:ForUpdateUnordered",
        "FOR UPDATE on each seat's row in an order of the buyer's own: PostgreSQL detects "
        "the deadlock and aborts one (--seats only)",
        retries=True,
        stores=("postgres",),
        claims_safe=False,
        claim="never double-books; deadlocks by design, which PostgreSQL detects and breaks",
        across_runs=True,
        own_steps=("begin", "select for update", "think", "write", "commit"),
        protocol="the row locks of for-update, each buyer taking its order's in an order of "
        "its own; PostgreSQL's deadlock detector aborts one transaction of each cycle, which "
        "rolls back and tries again",
        cost="as for-update until two orders cross; then one waits deadlock_timeout and is "
        "aborted, and its work is done again",
        origin="the lock-ordering deadlock (Coffman et al. 1971); PostgreSQL's deadlock detection",
        faults=SERVER_FAULTS,
        sells=("seats",),
        per_seat=True,
    ),
    "skip-locked": StrategyInfo(
        "booking.strategies.pg_seats:SkipLocked",
        "pick free seats with FOR UPDATE SKIP LOCKED: no buyer waits for another's seats "
        "(--seats only)",
        stores=("postgres",),
        across_runs=True,
        own_steps=("begin", "select for update skip locked", "think", "write", "commit"),
        protocol="BEGIN; SELECT the first free seats FOR UPDATE SKIP LOCKED (rows another "
        "buyer holds are passed over) -> think -> UPDATE -> COMMIT",
        cost="buyers never wait for each other's seats; a buyer takes what is free and "
        "unlocked, not what it picked",
        origin="PostgreSQL 9.5's SKIP LOCKED: the job-queue and seat-hold pattern",
        faults=SERVER_FAULTS,
        sells=("seats",),
        per_seat=True,
    ),
    "serializable": StrategyInfo(
        "booking.strategies.pg_transactions:Serializable",
        "SERIALIZABLE transactions around read -> think -> write; a serialization failure "
        "is a conflict, retried",
        retries=True,
        stores=("postgres",),
        across_runs=True,
        design="snapshot",
        own_steps=("begin serializable", "read", "think", "write", "commit"),
        protocol="BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT -> think -> UPDATE -> COMMIT; "
        "PostgreSQL aborts a transaction whose read went stale (SQLSTATE 40001): rolled "
        "back, counted as a conflict, tried again up to --retries times",
        cost="reads and thinks in parallel; every conflict costs a rollback and another "
        "think, and a buyer out of retries gives up",
        origin="the PostgreSQL documentation (Serializable Snapshot Isolation, Ports and "
        "Grittner 2012)",
        faults=(
            ("holder", "a buyer inside its transaction, during its think"),
            ("writer", "a buyer inside its write transaction, before COMMIT"),
        ),
    ),
    "advisory": StrategyInfo(
        "booking.strategies.pg_transactions:Advisory",
        "pg_advisory_xact_lock: a lock on a number, held across read -> think -> write",
        stores=("postgres",),
        across_runs=True,
        own_steps=("begin", "advisory lock", "read", "think", "write", "commit"),
        protocol="BEGIN; SELECT pg_advisory_xact_lock(key) -> read -> think -> write -> "
        "COMMIT, which releases the lock",
        cost="one purchase at a time; waiters queue in the server; no row is locked, so "
        "only buyers that take the same lock are kept out",
        origin="the PostgreSQL documentation (advisory locks)",
        faults=SERVER_FAULTS,
    ),
    "ttl-lock": StrategyInfo(
        "booking.strategies.redis_locks:TtlLock",
        "SET lock token NX PX --lock-ttl: a lock that expires; oversells when the think "
        "outlives it",
        stores=("redis",),
        claims_safe=False,
        claim="safe only while every think is shorter than --lock-ttl",
        across_runs=True,
        protocol="SET lock <token> NX PX <ttl> (retried with a back-off) -> GET -> think -> "
        "SET -> release by a compare-and-delete script; a holder that thinks past the TTL "
        "has lost the lock without knowing it",
        cost="one purchase at a time while the lock holds; waiters poll the server",
        origin="the single-instance Redis lock (SET NX PX); Kleppmann's fencing argument (2016)",
        faults=(
            ("holder", "a buyer holding the lock, during its think (the lock expires)"),
            ("writer", "a buyer half-way through writing the store"),
        ),
    ),
    "fenced": StrategyInfo(
        "booking.strategies.redis_locks:Fenced",
        "the ttl-lock plus a fencing token the store checks on every write: never oversells",
        retries=True,
        stores=("redis",),
        across_runs=True,
        protocol="the ttl-lock, whose acquire also takes a fencing token (INCR); the read and "
        "the write are scripts that carry it, and the store remembers the newest token it "
        "has seen: a holder whose lock expired (an older token) is refused, and tries again",
        cost="as ttl-lock, plus a refused write (a conflict) when a lock expires mid-think",
        origin="fencing tokens (Kleppmann, 'How to do distributed locking', 2016)",
        faults=(
            ("holder", "a buyer holding the lock, during its think (the lock expires)"),
            ("writer", "a buyer half-way through writing the store"),
        ),
    ),
}


#: Why a file store's strategy is refused on a networked store (a line of the refusal).
NOT_ON_A_SERVER = {
    "filelock": "a lock file guards a file on this machine, not a store on a server; use "
    "advisory (postgres) or fenced (redis)",
    "transaction": "BEGIN IMMEDIATE is SQLite's write lock; on postgres use for-update, "
    "advisory or serializable",
    "deferred": "BEGIN DEFERRED is SQLite's; on postgres see naive-tx and serializable",
    "seatlock": "its locks live in this machine's processes; on postgres use for-update "
    "or skip-locked",
    "seatlock-unordered": "its locks live in this machine's processes; on postgres see "
    "for-update-unordered",
}
