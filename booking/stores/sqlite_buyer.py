"""What every buyer's SQLite connection shares, whatever the store holds (a count or a
seat map): the connection itself, a write transaction of its own taken with our short
back-off, and SQLite's transaction as a guard. One place, so the count and the seat
stocks wait for the write lock the same way."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from booking.stores import StoreBusy, StoreOptions
from booking.stores.sqlite_busy import busy_or as _busy_or
from booking.stores.write_lock import begin_immediate
from booking.waits import bounded


def connect(path: Path, timeout_s: float) -> sqlite3.Connection:
    # isolation_level=None: we say BEGIN ourselves, so no implicit transaction hides a race.
    return sqlite3.connect(path, timeout=bounded(timeout_s), isolation_level=None)


class SqliteBuyer:
    """One buyer's connection, opened after the fork, and the sale it records."""

    def __init__(self, path: Path, buyer: int, options: StoreOptions) -> None:
        self._conn = connect(path, options.timeout_s)
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._sale = (options.run_id, buyer)
        self._timeout_s = bounded(options.timeout_s)
        self._own_wait: random.Random | None = None  # see _begin_write

    def _begin_write(self) -> None:
        """BEGIN IMMEDIATE, the lock awaited with our own short back-off (write_lock.py)."""
        if self._own_wait is None:
            self._conn.execute("PRAGMA busy_timeout = 0")
            self._own_wait = random.Random()  # after the fork: each buyer jitters its own way
        begin_immediate(self._conn, self._timeout_s, self._own_wait)

    @contextmanager
    def _own_write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction of its own (atomic, optimistic): begun with our back-off,
        committed (unless the body rolled it back itself), or rolled back with SQLite's busy
        error explained when a statement fails."""
        conn = self._conn
        try:
            self._begin_write()
            yield conn
            if conn.in_transaction:
                conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _busy_or(exc) from None

    def sell_to(self, buyer: int) -> None:
        """The `queue` seller writes every buyer's sale on one connection: name the buyer
        the next sale is recorded for."""
        self._sale = (self._sale[0], buyer)

    def transaction(self, begin: str = "BEGIN IMMEDIATE") -> TransactionGuard:
        """A guard on this connection: the purchase runs inside one transaction."""
        return TransactionGuard(self._conn, begin)


class TransactionGuard:
    """SQLite's own transaction as the guard: BEGIN ... COMMIT around a purchase.

    BEGIN IMMEDIATE takes the database's write lock up front, so the read that follows
    cannot go stale; a waiter sleeps in SQLite's busy handler until the run's timeout.
    BEGIN DEFERRED takes nothing: the read starts a snapshot that the write must upgrade.
    """

    def __init__(self, conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> None:
        self._conn = conn
        self._begin = begin

    def acquire(self) -> bool:
        try:
            self._conn.execute(self._begin)
        except sqlite3.OperationalError as exc:
            if isinstance(_busy_or(exc), StoreBusy):
                return False
            raise
        return True

    def release(self) -> None:
        # A failed write has rolled back already; a sold-out read commits nothing.
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")
