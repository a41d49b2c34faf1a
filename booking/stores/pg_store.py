"""A PostgreSQL store: the count plus a sales ledger in the schema `booking` of the DSN's
database, one connection per buyer (opened after the fork).

booking.stock holds row id 1 (count, version: a trigger bumps the version on every change
of the count, so any writer is a conflict for optimistic); booking.sales is the ledger
(one row per sale: run, buyer, sold_at), booking.resets records a --reset. The read and
the write of a purchase are separate statements, so `none` and `naive-tx` race for real.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from booking import faults
from booking.errors import StoreError
from booking.stores import StoreOptions
from booking.stores.pg_buyer import Connection, PgBuyer, parent_connection
from booking.stores.seat_store import holds_seat_map
from booking.stores.sighting import Sighting, ledger_sighting
from booking.words import mask_dsn

MAX_COUNT = 2**53
#: The key of the advisory lock under which a store is checked and made: two runs that
#: create it at once queue, and the second finds the first one's tables and count.
SETUP_KEY = 0x626F6F6B  # "book"
READ = "SELECT count FROM booking.stock WHERE id = 1"
UPDATE = "UPDATE booking.stock SET count = %s WHERE id = 1"
RECORD_SALE = "INSERT INTO booking.sales (run, buyer, sold_at) VALUES (%s, %s, %s)"
# A purchase's write: the count and its ledger row in one statement, so one round trip (in
# autocommit a statement is a transaction of its own; under a guard it joins the guard's).
WRITE = (
    "WITH written AS (UPDATE booking.stock SET count = %s WHERE id = 1 RETURNING 1) "
    "INSERT INTO booking.sales (run, buyer, sold_at) SELECT %s, %s, %s FROM written"
)
# `atomic`: the conditional decrement and its ledger row, one statement, one transaction.
TAKE = (
    "WITH taken AS (UPDATE booking.stock SET count = count - 1 WHERE id = 1 AND count > 0 "
    "RETURNING count), sale AS (INSERT INTO booking.sales (run, buyer, sold_at) "
    "SELECT %s, %s, %s FROM taken) SELECT count FROM taken"
)
TAKE_ONLY = "UPDATE booking.stock SET count = count - 1 WHERE id = 1 AND count > 0"
# `optimistic`: write only if the version is the one read, with the sale, in one statement.
READ_VERSIONED = "SELECT count, version FROM booking.stock WHERE id = 1"
SWAP = (
    "WITH swapped AS (UPDATE booking.stock SET count = %s WHERE id = 1 AND version = %s "
    "RETURNING 1), sale AS (INSERT INTO booking.sales (run, buyer, sold_at) "
    "SELECT %s, %s, %s FROM swapped) SELECT count(*) FROM swapped"
)
MAKE = (
    "CREATE SCHEMA IF NOT EXISTS booking",
    "CREATE TABLE IF NOT EXISTS booking.stock (id integer PRIMARY KEY, count bigint NOT NULL, "
    "version bigint NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS booking.sales (id bigserial PRIMARY KEY, run text NOT NULL, "
    "buyer integer NOT NULL, sold_at double precision NOT NULL)",
    "CREATE TABLE IF NOT EXISTS booking.resets (id bigserial PRIMARY KEY, run text NOT NULL, "
    "tickets bigint NOT NULL, reset_at double precision NOT NULL)",
)
VERSIONED = (
    "ALTER TABLE booking.stock ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0",
    "CREATE OR REPLACE FUNCTION booking.bump_version() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN NEW.version := OLD.version + 1; RETURN NEW; END$$",
    "DROP TRIGGER IF EXISTS stock_version ON booking.stock",
    "CREATE TRIGGER stock_version BEFORE UPDATE OF count ON booking.stock FOR EACH ROW "
    "EXECUTE FUNCTION booking.bump_version()",
)
#: Whether the stock has its version column and the trigger that bumps it.
HAS_VERSION = (
    "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'booking' "
    "AND table_name = 'stock' AND column_name = 'version'"
)
HAS_TRIGGER = (
    "SELECT count(*) FROM pg_trigger WHERE tgname = 'stock_version' "
    "AND tgrelid = 'booking.stock'::regclass"
)
SALES_COLUMNS = {"run", "buyer", "sold_at"}
RESETS_COLUMNS = {"run", "tickets", "reset_at"}
WHOLE = {"smallint", "integer", "bigint"}
TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'booking'"
COLUMNS = (
    "SELECT column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = 'booking' AND table_name = %s"
)


def columns(conn: Connection, table: str) -> dict[str, str]:
    """A table of the schema's columns and their types."""
    return {name: kind for name, kind in conn.execute(COLUMNS, (table,)).fetchall()}


def tables(conn: Connection) -> list[str]:
    return sorted(name for (name,) in conn.execute(TABLES).fetchall())


def need_columns(where: str, conn: Connection, found: list[str]) -> None:
    """A ledger table made by hand without the columns booking writes is refused."""
    for table, needed in (("sales", SALES_COLUMNS), ("resets", RESETS_COLUMNS)):
        if table in found and not set(columns(conn, table)) >= needed:
            raise StoreError(
                f"{where}: the table booking.{table} needs columns {', '.join(sorted(needed))}"
            )


class PgStock(PgBuyer):
    """One buyer's connection: an unguarded read, then a write in its own transaction (or
    in the guard's, when one is open: naive-tx, for-update, advisory, serializable)."""

    def __init__(self, buyer: int, options: StoreOptions) -> None:
        super().__init__(buyer, options)
        self._version = -1

    def read(self) -> int:
        locked = self.locked_count
        if locked is not None:  # read under the guard's row lock, just now
            self.locked_count = None
            return locked
        row = self.execute(READ).fetchone()
        if row is None or type(row[0]) is not int:
            raise ValueError(f"booking.stock holds {row!r}, not a ticket count")
        count: int = row[0]
        return count

    def write(self, count: int) -> None:
        """Set the count and record the sale, in one statement: in the guard's transaction
        when one is open, else a transaction of its own."""
        self.execute(WRITE, (count, *self._sale, time.time()))

    def take(self) -> int | None:
        """`atomic`: decrement only above zero and record the sale, in one statement."""
        row = self.execute(TAKE, (*self._sale, time.time())).fetchone()
        return None if row is None else int(row[0])

    def die_taking(self) -> None:
        """--kill-writer: the conditional update made, then death before COMMIT."""
        self.begin()
        self.execute(TAKE_ONLY)
        faults.die()

    def read_versioned(self) -> int:
        """`optimistic`: the count, and the version kept for swap()."""
        row = self.execute(READ_VERSIONED).fetchone()
        if row is None or type(row[0]) is not int or type(row[1]) is not int:
            raise ValueError(f"booking.stock holds {row!r}, not a count and a version")
        self._version = int(row[1])
        return int(row[0])

    def swap(self, count: int) -> bool:
        """Write `count` and the sale only if the version is the one read: False, and
        nothing written, when another write came first."""
        row = self.execute(SWAP, (count, self._version, *self._sale, time.time())).fetchone()
        return bool(row and row[0])

    def die_writing(self, count: int) -> None:
        """--kill-writer: update the count inside a transaction, then die before COMMIT.
        The server rolls it back when the connection closes."""
        if not self.in_transaction:
            self.begin()
        self.execute(UPDATE, (count,))
        faults.die()


def versioned(conn: Connection) -> bool:
    """The stock's version column and its trigger are both there (a store made by hand may
    lack them; optimistic counts on them)."""
    (columns_,) = conn.execute(HAS_VERSION).fetchone() or (0,)
    if not columns_:
        return False
    (triggers,) = conn.execute(HAS_TRIGGER).fetchone() or (0,)
    return bool(triggers)


class PgStore:
    """The parent's handle: checks the schema is ours before touching it, makes it when
    missing. The parent holds no connection across the fork: each call opens its own."""

    server = True

    def __init__(
        self, path: Path, tickets: int, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        self.path = path  # unused: the store lives on the server
        self.lock_path = path.with_name(path.name + ".lock")
        self._options = options
        self._dsn = options.dsn
        self.where = mask_dsn(options.dsn)
        self._mark = (0, 0, 0)  # count, last sale id, last reset id: see mark()
        self._overwritten: int | None = None
        with self._connection("open the ticket store") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_KEY,))
            self._shape_up(conn, tickets, create, reset)

    def _connection(self, doing: str) -> AbstractContextManager[Connection]:
        return parent_connection(self._dsn, self._options.timeout_s, doing)

    def _shape_up(self, conn: Connection, tickets: int, create: bool, reset: bool) -> None:
        """Refuse a schema that is not ours, else make what is missing (in the caller's
        transaction: a refusal changes nothing)."""
        found = tables(conn)
        if "seats" in found and not reset:
            raise holds_seat_map(self.where)
        if found and "stock" not in found and "seats" not in found:
            raise StoreError(
                f"{self.where}: the schema booking holds {', '.join(found)} but no stock "
                "table; not a booking store"
            )
        if not found and not create:
            raise StoreError(f"{self.where}: no booking store in this database")
        need_columns(self.where, conn, found)
        if "stock" in found:
            self._check_stock(conn)
        # Only what is missing: DDL on a table in use (ALTER, a trigger) takes its strongest
        # lock, so another run's open purchases would hold this run up, and then it theirs.
        if not {"stock", "sales", "resets"} <= set(found):
            for statement in MAKE:
                conn.execute(statement)
        if "seats" in found:  # --reset: the seat map gives way to a count
            conn.execute("DROP TABLE booking.seats")
        if "stock" not in found:
            conn.execute(
                "INSERT INTO booking.stock (id, count) VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
                (tickets,),
            )
        if not versioned(conn):
            for statement in VERSIONED:
                conn.execute(statement)
        if "stock" in found and reset:
            conn.execute(UPDATE, (tickets,))
            conn.execute(
                "INSERT INTO booking.resets (run, tickets, reset_at) VALUES (%s, %s, %s)",
                (self._options.run_id, tickets, time.time()),
            )

    def _check_stock(self, conn: Connection) -> None:
        kinds = columns(conn, "stock")
        if "id" not in kinds or "count" not in kinds:
            raise StoreError(f"{self.where}: the table booking.stock needs id and count columns")
        for name in ("count", "version"):
            if name in kinds and kinds[name] not in WHOLE:
                raise StoreError(
                    f"{self.where}: booking.stock's {name} column must hold whole numbers, "
                    f"not {kinds[name]}"
                )
        row = conn.execute(READ).fetchone()
        if row is None:
            raise StoreError(f"{self.where}: the table booking.stock has no row with id 1")
        if row[0] is None or not 0 <= row[0] <= MAX_COUNT:
            raise StoreError(
                f"{self.where}: stock count must be a whole number between 0 and 2**53, "
                f"found {row[0]!r}"
            )

    def count(self) -> int:
        with self._connection("read the count") as conn:
            return _stock(conn, self.where)

    def mark(self) -> int:
        """The count and the ledger's last sale and reset, read in one snapshot."""
        with self._connection("read the store") as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            count = _stock(conn, self.where)
            sale = _last(conn, "sales")
            reset = _last(conn, "resets")
            conn.execute("COMMIT")
        self._mark = (count, sale, reset)
        return count

    def sighting(self) -> Sighting:
        """Every run's ledger rows since the mark, with the count, in one snapshot."""
        _, sale, reset = self._mark
        with self._connection("read the ledger") as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            count = _stock(conn, self.where)
            rows = conn.execute(
                "SELECT run, count(*) FROM booking.sales WHERE id > %s GROUP BY run "
                "ORDER BY min(id)",
                (sale,),
            ).fetchall()
            resets = conn.execute(
                "SELECT run FROM booking.resets WHERE id > %s ORDER BY id", (reset,)
            ).fetchall()
            conn.execute("COMMIT")
        return ledger_sighting(
            self._options.run_id, count, rows, [run for (run,) in resets], self._overwritten
        )

    def connect(self, buyer: int) -> PgStock:
        return PgStock(buyer, self._options)

    def write_back(self, count: int, buyers: list[int]) -> None:
        """The manager's write-back; a count that changed since the mark was changed by
        someone else (no buyer touched the store), so note what it replaces."""
        with self._connection("write the count back") as conn, conn.transaction():
            found = conn.execute(READ + " FOR UPDATE").fetchone()
            if found is not None and found[0] != self._mark[0]:
                self._overwritten = found[0]
            conn.execute(UPDATE, (count,))
            now = time.time()
            with conn.cursor() as cur:
                cur.executemany(RECORD_SALE, [(self._options.run_id, b, now) for b in buyers])

    def close(self) -> None:
        """Nothing to sweep: the server rolls back what a killed buyer left unfinished."""


def _stock(conn: Connection, where: str) -> int:
    """The count of stock row 1; a row deleted by hand meanwhile is a StoreError."""
    row: Any = conn.execute(READ).fetchone()
    if row is None or type(row[0]) is not int:
        raise StoreError(f"{where}: booking.stock no longer holds a count in row id 1")
    return int(row[0])


def _last(conn: Connection, table: str) -> int:
    (last,) = conn.execute(f"SELECT coalesce(max(id), 0) FROM booking.{table}").fetchone() or (0,)
    return int(last)
