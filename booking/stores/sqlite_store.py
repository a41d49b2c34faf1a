"""A SQLite store: the count plus a sales ledger, in WAL mode, one connection per buyer.

The parent shapes and inspects the database through sqlite-utils; buyers speak plain SQL
on their own `sqlite3` connection, because a purchase is the hottest path we have. The
read and the write of a purchase are separate statements, so `none` races for real.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from booking import faults
from booking.errors import StoreError
from booking.sqlite_files import enable_wal, looks_like_sqlite
from booking.stores import StoreOptions, store_exists
from booking.stores.seat_store import SEATS_TABLE, holds_seat_map
from booking.stores.sighting import Sighting, ledger_sighting
from booking.stores.sqlite_busy import busy_or as _busy_or
from booking.stores.sqlite_buyer import SqliteBuyer
from booking.stores.sqlite_buyer import connect as _connect

MAX_COUNT = 2**53
READ = "SELECT count FROM stock WHERE id = 1"
UPDATE = "UPDATE stock SET count = ? WHERE id = 1"
# `atomic`: one statement that reads and decrements, only above zero.
TAKE = "UPDATE stock SET count = count - 1 WHERE id = 1 AND count > 0 RETURNING count"
# `optimistic`: the version goes up with every change of the count, whoever makes it (a
# trigger, so another strategy's write, or one made by hand, is a conflict too).
READ_VERSIONED = "SELECT count, version FROM stock WHERE id = 1"
SWAP = "UPDATE stock SET count = ? WHERE id = 1 AND version = ?"
ADD_VERSION = "ALTER TABLE stock ADD COLUMN version INTEGER NOT NULL DEFAULT 0"
VERSION_TRIGGER = """CREATE TRIGGER IF NOT EXISTS stock_version AFTER UPDATE OF count ON stock
BEGIN UPDATE stock SET version = version + 1 WHERE id = NEW.id; END"""
SALES_COLUMNS = {"run", "buyer", "sold_at"}
RESETS_COLUMNS = {"id", "run", "tickets", "reset_at"}
RECORD_SALE = "INSERT INTO sales (run, buyer, sold_at) VALUES (?, ?, ?)"
# A --reset rewrites the count without a sale: the `resets` table keeps it on record, so a
# run the reset happened during knows its ledger cannot be set against one stock.
RECORD_RESET = "INSERT INTO resets (run, tickets, reset_at) VALUES (?, ?, ?)"
# rowid, not id: a sales table made by hand may have no id column (rowid always exists).
LAST_SALE = "SELECT coalesce(max(rowid), 0) FROM sales"
LAST_RESET = "SELECT coalesce(max(rowid), 0) FROM resets"


def _stock(conn: sqlite3.Connection, path: Path) -> int:
    """The count of stock row 1; a row deleted by hand meanwhile is a StoreError."""
    row = conn.execute(READ).fetchone()
    if row is None or type(row[0]) is not int:
        raise StoreError(f"{path}: the stock table no longer holds a count in row id 1")
    count: int = row[0]
    return count


class SqliteStock(SqliteBuyer):
    """One buyer's connection: an unguarded read, then a write in its own transaction."""

    def __init__(self, path: Path, buyer: int, options: StoreOptions) -> None:
        super().__init__(path, buyer, options)
        self._version = -1

    def read(self) -> int:
        try:
            row = self._conn.execute(READ).fetchone()
        except sqlite3.OperationalError as exc:
            raise _busy_or(exc) from None
        if row is None or type(row[0]) is not int:
            raise ValueError(f"the stock table holds {row!r}, not a ticket count")
        count: int = row[0]
        return count

    def write(self, count: int) -> None:
        """Set the count and record the sale: in the guard's transaction when one is open
        (`transaction` strategy), else in a transaction of its own."""
        conn = self._conn
        own = not conn.in_transaction
        try:
            if own:
                conn.execute("BEGIN IMMEDIATE")
            conn.execute(UPDATE, (count,))
            conn.execute(RECORD_SALE, (*self._sale, time.time()))
            if own:
                conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _busy_or(exc, upgrading=not own) from None

    def take(self) -> int | None:
        """`atomic`: decrement only above zero and record the sale, in one transaction."""
        with self._own_write() as conn:
            row = conn.execute(TAKE).fetchone()
            if row is not None:
                conn.execute(RECORD_SALE, (*self._sale, time.time()))
        return None if row is None else int(row[0])

    def die_taking(self) -> None:
        """--kill-writer: the conditional update made, then death before COMMIT."""
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute(TAKE).fetchall()
        faults.die()

    def read_versioned(self) -> int:
        """`optimistic`: the count, and the version kept for swap()."""
        try:
            row = self._conn.execute(READ_VERSIONED).fetchone()
        except sqlite3.OperationalError as exc:
            raise _busy_or(exc) from None
        if row is None or type(row[0]) is not int or type(row[1]) is not int:
            raise ValueError(f"the stock table holds {row!r}, not a count and a version")
        self._version = int(row[1])
        return int(row[0])

    def swap(self, count: int) -> bool:
        """Write `count` and the sale only if the version is the one read: False, and
        nothing written, when another write came first."""
        with self._own_write() as conn:
            changed = conn.execute(SWAP, (count, self._version)).rowcount
            if changed:
                conn.execute(RECORD_SALE, (*self._sale, time.time()))
        return changed > 0

    def die_writing(self, count: int) -> None:
        """--kill-writer: update the count inside a write transaction, then die before
        COMMIT. SQLite rolls the transaction back; the store stays as it was."""
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute(UPDATE, (count,))
        faults.die()


def check_header(path: Path) -> None:
    """An existing file that is no SQLite database is refused before anything opens it."""
    if not looks_like_sqlite(path):
        raise StoreError(f"{path}: not a SQLite database")


class SqliteStore:
    """The parent's handle: checks the file is our kind of database before touching it."""

    def __init__(
        self, path: Path, tickets: int, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        import sqlite_utils

        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._options = options
        self._mark = (0, 0, 0)  # count, last sale id, last reset id: see mark()
        self._overwritten: int | None = None
        exists = store_exists(path, create)
        if exists:
            check_header(path)
        try:
            db = sqlite_utils.Database(_connect(path, options.timeout_s))
            try:
                # A database without tables is a store still being created (by another
                # run that has just opened it), or an empty file: both get created below.
                tables = db.table_names() if exists else []
                existing, seat_map = bool(tables), SEATS_TABLE in tables
                if seat_map and not reset:
                    raise holds_seat_map(path)
                if existing and ("stock" in tables or not seat_map):
                    self._check_tables(db)
                # A new store may be created by two runs at once: in one write transaction,
                # whoever comes second finds the tables and the first one's count.
                db.execute("BEGIN IMMEDIATE")
                if seat_map:  # --reset: the seat map gives way to a count (other tables kept)
                    db.execute(f"DROP TABLE {SEATS_TABLE}")
                db.table("stock").create(
                    {"id": int, "count": int}, pk="id", not_null={"count"}, if_not_exists=True
                )
                db.table("stock").insert({"id": 1, "count": tickets}, ignore=True)
                columns = {row[1] for row in db.execute("PRAGMA table_info(stock)").fetchall()}
                if "version" not in columns:
                    db.execute(ADD_VERSION)
                db.execute(VERSION_TRIGGER)
                db.table("sales").create(
                    {"id": int, "run": str, "buyer": int, "sold_at": float},
                    pk="id",
                    if_not_exists=True,
                )
                db.table("resets").create(
                    {"id": int, "run": str, "tickets": int, "reset_at": float},
                    pk="id",
                    if_not_exists=True,
                )
                if existing and reset:
                    db.execute(UPDATE, [tickets])
                    db.execute(RECORD_RESET, [options.run_id, tickets, time.time()])
                db.execute("COMMIT")
                enable_wal(db.conn, options.timeout_s)
            finally:
                db.close()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            # sqlite3 quotes what it found: keep it on one line, and say so when SQLite's own
            # message was not even UTF-8 (a schema with raw bytes in it).
            detail = str(exc).replace("\r", "\\r").replace("\n", "\\n")
            raise StoreError(f"{path}: not a usable SQLite ticket store ({detail})") from None

    def _check_tables(self, db: object) -> None:
        tables = db.table_names()  # type: ignore[attr-defined]
        if "stock" not in tables:
            found = ", ".join(tables) or "no tables"
            raise StoreError(f"{self.path}: no stock table (found {found}); not a booking store")
        columns = db["stock"].columns_dict  # type: ignore[index]
        if "id" not in columns or "count" not in columns:
            raise StoreError(f"{self.path}: the stock table needs id and count columns")
        rows = list(db.execute(READ).fetchall())  # type: ignore[attr-defined]
        if not rows:
            raise StoreError(f"{self.path}: the stock table has no row with id 1")
        if "sales" in tables and not set(db["sales"].columns_dict) >= SALES_COLUMNS:  # type: ignore[index]
            raise StoreError(
                f"{self.path}: the sales table needs columns {', '.join(sorted(SALES_COLUMNS))}"
            )
        if "resets" in tables and not set(db["resets"].columns_dict) >= RESETS_COLUMNS:  # type: ignore[index]
            raise StoreError(
                f"{self.path}: the resets table needs columns {', '.join(sorted(RESETS_COLUMNS))}"
            )
        count = rows[0][0]
        if type(count) is not int or not 0 <= count <= MAX_COUNT:
            raise StoreError(
                f"{self.path}: stock count must be a whole number between 0 and 2**53, "
                f"found {count!r}"
            )
        if "version" in columns:  # ours (optimistic's), or one we must not take over
            (version,) = db.execute(  # type: ignore[attr-defined]
                "SELECT version FROM stock WHERE id = 1"
            ).fetchone()
            if type(version) is not int:
                raise StoreError(
                    f"{self.path}: the stock table's version column must hold a whole number "
                    f"(booking counts every change of the count in it), found {version!r}"
                )

    def count(self) -> int:
        conn = _connect(self.path, self._options.timeout_s)
        try:
            return _stock(conn, self.path)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the count ({exc})") from None
        finally:
            conn.close()

    def mark(self) -> int:
        """The count and the ledger's last sale and reset, read in one snapshot."""
        try:
            return self._mark_now()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the store ({exc})") from None

    def _mark_now(self) -> int:
        conn = _connect(self.path, self._options.timeout_s)
        try:
            conn.execute("BEGIN")
            count = _stock(conn, self.path)
            (sale,) = conn.execute(LAST_SALE).fetchone()
            (reset,) = conn.execute(LAST_RESET).fetchone()
            conn.execute("COMMIT")
        finally:
            conn.close()
        self._mark = (count, sale, reset)
        value: int = count
        return value

    def sighting(self) -> Sighting:
        """Every run's ledger rows since the mark, with the count, in one snapshot."""
        try:
            return self._sighting()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the ledger ({exc})") from None

    def _sighting(self) -> Sighting:
        _, sale, reset = self._mark
        conn = _connect(self.path, self._options.timeout_s)
        try:
            conn.execute("BEGIN")
            count = _stock(conn, self.path)
            rows = conn.execute(
                "SELECT run, count(*) FROM sales WHERE rowid > ? GROUP BY run ORDER BY min(rowid)",
                (sale,),
            ).fetchall()
            resets = conn.execute(
                "SELECT run FROM resets WHERE rowid > ? ORDER BY rowid", (reset,)
            ).fetchall()
            conn.execute("COMMIT")
        finally:
            conn.close()
        return ledger_sighting(
            self._options.run_id, count, rows, [run for (run,) in resets], self._overwritten
        )

    def connect(self, buyer: int) -> SqliteStock:
        return SqliteStock(self.path, buyer, self._options)

    def write_back(self, count: int, buyers: list[int]) -> None:
        """The manager's write-back; a count that changed since the mark was changed by
        someone else (no buyer touched the store), so note what it replaces."""
        try:
            self._write_back(count, buyers)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write the count back ({exc})") from None

    def _write_back(self, count: int, buyers: list[int]) -> None:
        conn = _connect(self.path, self._options.timeout_s)
        try:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            found = _stock(conn, self.path)
            if found != self._mark[0]:
                self._overwritten = found
            conn.execute(UPDATE, (count,))
            conn.executemany(RECORD_SALE, [(self._options.run_id, buyer, now) for buyer in buyers])
            conn.execute("COMMIT")
        finally:
            conn.close()

    def close(self) -> None:
        """Nothing to sweep: SQLite rolls back what a killed buyer left unfinished."""
