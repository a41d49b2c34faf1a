"""What every PostgreSQL connection of booking shares, whatever the store holds (a count or a
seat map): how it is opened (bounded waits, a clear line when the server cannot be
reached or has no room), a password kept off the screen, the server's contention errors
as StoreBusy, and a buyer's connection with the transaction it may be inside.

psycopg is imported here, at the top: the store module is imported in the parent before
the fork, so no buyer pays for the import. Connections are opened in autocommit mode and
every transaction is begun with an explicit BEGIN, so no implicit transaction hides a race.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus

from booking.errors import ServerUnreachable, StoreError
from booking.stores import StoreBusy, StoreOptions
from booking.waits import bounded
from booking.words import mask_dsn, without_secrets

Connection = psycopg.Connection[tuple[Any, ...]]


def one_line(exc: BaseException) -> str:
    """A driver's message on one line (libpq's run over several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def reach_error(dsn: str, exc: BaseException) -> StoreError:
    """A connection the server refused or never answered, as one line that says why."""
    reason = without_secrets(one_line(exc), dsn)
    if "too many c" in reason or isinstance(exc, pg_errors.TooManyConnections):
        return StoreError(
            f"the postgres server at {mask_dsn(dsn)} has no room for another connection "
            f"({reason}): each buyer needs one; run fewer --buyers or raise the server's "
            "max_connections"
        )
    return ServerUnreachable(f"cannot reach the postgres server at {mask_dsn(dsn)}: {reason}")


@contextmanager
def parent_connection(dsn: str, timeout_s: float, doing: str) -> Iterator[Connection]:
    """The parent's own short connection (to make, mark, count, read the ledger): a failure
    is one line naming the server (never its password); a connection that broke is
    ServerUnreachable: the store may be fine, the server is gone."""
    conn = connect(dsn, timeout_s)
    try:
        yield conn
    except psycopg.Error as exc:
        reason = without_secrets(one_line(exc), dsn)
        if conn.broken:
            raise ServerUnreachable(f"{mask_dsn(dsn)}: cannot {doing} ({reason})") from None
        raise StoreError(f"{mask_dsn(dsn)}: cannot {doing} ({reason})") from None
    finally:
        conn.close()


def session_options(timeout_s: float) -> str:
    """Every lock wait bounded by the run's timeout (lock_timeout; 0 would mean never), and
    every statement a little later, so a lock wait ends as a lock wait."""
    ms = max(1, int(bounded(timeout_s) * 1000))
    return f"-c lock_timeout={ms} -c statement_timeout={ms + 1000}"


def connect(dsn: str, timeout_s: float) -> Connection:
    """A connection in autocommit mode whose waits are bounded, or a one-line StoreError."""
    try:
        conn: Connection = psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=max(2, math.ceil(min(bounded(timeout_s), 60.0))),
            options=session_options(timeout_s),
            application_name="booking",
        )
    except psycopg.Error as exc:
        raise reach_error(dsn, exc) from None
    return conn


def busy_or(exc: psycopg.Error) -> Exception:
    """A lock wait or a statement that ran past the run's timeout is contention (StoreBusy);
    anything else is itself (a serialization failure or a deadlock is the caller's)."""
    if isinstance(exc, pg_errors.LockNotAvailable):
        return StoreBusy(f"lock wait ran past the run's timeout (lock_timeout): {one_line(exc)}")
    if isinstance(exc, pg_errors.QueryCanceled):
        return StoreBusy(f"statement ran past the run's timeout: {one_line(exc)}")
    return exc


class PgBuyer:
    """One buyer's connection, opened after the fork, and the sale it records."""

    def __init__(self, buyer: int, options: StoreOptions) -> None:
        self._conn = connect(options.dsn, options.timeout_s)
        self._sale = (options.run_id, buyer)
        # The count a guard's SELECT ... FOR UPDATE just read (and locked), for the
        # purchase's read; None once read, and at every transaction's end.
        self.locked_count: int | None = None

    def close(self) -> None:
        self._conn.close()

    @property
    def closed(self) -> bool:
        return bool(self._conn.closed)

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        """One statement; a wait past the timeout is StoreBusy."""
        try:
            return self._conn.execute(sql, params)
        except psycopg.Error as exc:
            raise busy_or(exc) from None

    def begin(self, begin: str = "BEGIN") -> None:
        self._conn.execute(begin)

    def _interrupted(self) -> bool:
        """Whether a statement was cut off mid-way (the run's stop arrived while it waited
        for the server): nothing more can be sent on the connection, so it is closed, and
        the server rolls its transaction back. The stop, not a failed COMMIT, is then what
        the buyer reports."""
        if self._conn.closed:
            return True
        if self._conn.info.transaction_status == TransactionStatus.ACTIVE:
            # Closing the socket does not wake a backend queued for a lock: cancel its
            # statement first, or it would wait out lock_timeout holding its place.
            with suppress(Exception):
                self._conn.cancel_safe(timeout=1.0)
            self._conn.close()
            return True
        return False

    def end(self) -> None:
        """COMMIT what is open; a transaction a failed statement aborted is rolled back."""
        self.locked_count = None
        if self._interrupted():
            return
        status = self._conn.info.transaction_status
        if status == TransactionStatus.INERROR:
            self._conn.execute("ROLLBACK")
        elif status != TransactionStatus.IDLE:
            try:
                self._conn.execute("COMMIT")
            except psycopg.Error as exc:
                raise busy_or(exc) from None

    def rollback(self) -> None:
        self.locked_count = None
        if not self._interrupted() and self.in_transaction:
            self._conn.execute("ROLLBACK")

    @contextmanager
    def own(self) -> Iterator[Connection]:
        """A transaction of its own, unless a guard's is open (then the guard commits): a
        failed statement rolls back its own, and says StoreBusy for a wait past the
        timeout."""
        conn = self._conn
        own = not self.in_transaction
        try:
            if own:
                conn.execute("BEGIN")
            yield conn
            if own:
                self.end()
        except psycopg.Error as exc:
            if own and not conn.closed:
                self.rollback()
            raise busy_or(exc) from None

    def sell_to(self, buyer: int) -> None:
        """The `queue` seller writes every buyer's sale on one connection: name the buyer
        the next sale is recorded for."""
        self._sale = (self._sale[0], buyer)

    def transaction(
        self, begin: str = "BEGIN", lock: str = "", locks_the_count: bool = False
    ) -> PgGuard:
        """A guard on this connection: BEGIN, and `lock` (a statement that waits for a
        lock, bounded by lock_timeout), held until COMMIT. `locks_the_count`: the lock
        statement selects the stock's count (FOR UPDATE), which the next read returns."""
        return PgGuard(self, begin, lock, locks_the_count)


class PgGuard:
    """A PostgreSQL transaction as the guard: BEGIN (and a lock statement) ... COMMIT.

    The lock a transaction takes (a row's FOR UPDATE, an advisory lock) is released by its
    COMMIT or ROLLBACK, and by the server when the connection dies: a killed holder frees
    it, unlike a lock in this machine's processes."""

    def __init__(self, buyer: PgBuyer, begin: str, lock: str, locks_the_count: bool) -> None:
        self._buyer = buyer
        self._begin = begin
        self._lock = lock
        self._locks_the_count = locks_the_count

    def acquire(self) -> bool:
        if not self._lock:
            self._buyer.begin(self._begin)
            return True
        try:
            # BEGIN and the lock statement in one round trip (no parameters: psycopg sends
            # both as one simple query), so the wait for the lock starts a trip sooner.
            cursor = self._buyer.execute(f"{self._begin}; {self._lock}")
            cursor.nextset()
            rows = cursor.fetchall()
        except StoreBusy:
            self._buyer.rollback()
            return False
        except BaseException:
            if not self._buyer.closed:
                self._buyer.rollback()
            raise
        if self._locks_the_count and rows and type(rows[0][0]) is int:
            # The row it locked is the count the purchase reads: no second round trip
            # while every other buyer waits for the lock.
            self._buyer.locked_count = rows[0][0]
        return True

    def release(self) -> None:
        # A sold-out read commits nothing; a failed write's transaction is rolled back.
        self._buyer.end()
