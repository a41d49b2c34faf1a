"""A PostgreSQL seat map: booking.seats, one row per seat (who holds it), and the sales
ledger, in the schema `booking` of the DSN's database.

As with the count store, each buyer speaks plain SQL on its own connection, opened after
the fork. A claim writes its seats and one ledger row in one transaction; `claim_if_free`
makes the check and the claim one statement. The row locks of for-update,
for-update-unordered and skip-locked are taken here, one statement each.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from booking import faults
from booking.errors import StoreError
from booking.seating import Shape, holder_of
from booking.stores import StoreOptions
from booking.stores.pg_buyer import Connection, PgBuyer, parent_connection
from booking.stores.pg_store import MAKE, RECORD_SALE, SALES_COLUMNS, SETUP_KEY, columns, tables
from booking.stores.seat_store import MarkedMap, holds_count, rebuild, table_holders
from booking.words import mask_dsn

SEAT_COLUMNS = {"seat", "row", "col", "holder", "sold_at"}
MAKE_SEATS = (
    'CREATE TABLE IF NOT EXISTS booking.seats (seat text PRIMARY KEY, "row" integer NOT NULL, '
    "col integer NOT NULL, holder text, sold_at double precision)"
)
READ_MAP = 'SELECT holder FROM booking.seats ORDER BY "row", col'
READ_ROWS = 'SELECT seat, "row", col, holder FROM booking.seats'
CLAIM = "UPDATE booking.seats SET holder = %s, sold_at = %s WHERE seat = ANY(%s)"
CLAIM_FREE = CLAIM + " AND holder IS NULL"
LOCK_SEAT = "SELECT holder FROM booking.seats WHERE seat = %s FOR UPDATE"
LOCK_FREE = (
    'SELECT "row", col FROM booking.seats WHERE holder IS NULL ORDER BY "row", col '
    "LIMIT %s FOR UPDATE SKIP LOCKED"
)
PRIMARY_KEY = (
    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'booking.seats'::regclass AND i.indisprimary"
)


class PgSeatStock(PgBuyer):
    """One buyer's connection to the map: an unguarded read, row locks, then claims."""

    def __init__(self, buyer: int, shape: Shape, options: StoreOptions) -> None:
        super().__init__(buyer, options)
        self.shape = shape
        self._names = shape.names()

    def read_map(self) -> list[str | None]:
        """One SELECT, in seat order."""
        holders = [row[0] for row in self.execute(READ_MAP).fetchall()]
        if len(holders) != self.shape.size or any(
            holder is not None and type(holder) is not str for holder in holders
        ):
            raise ValueError(f"booking.seats holds {len(holders)} rows, not a {self.shape} map")
        return holders

    def _claim_rows(self, seats: Sequence[int]) -> tuple[str, float, list[str]]:
        """Our holder (the seller's current buyer, see sell_to), the time and seat names."""
        return holder_of(*self._sale), time.time(), [self._names[seat] for seat in seats]

    def claim(self, seats: Sequence[int], fresh: bool = False) -> None:
        """Hold `seats`, unchecked, and record the sale: in the guard's transaction when one
        is open, else in one of its own. `fresh` means nothing here."""
        holder, now, names = self._claim_rows(seats)
        with self.own() as conn:
            conn.execute(CLAIM, (holder, now, names))
            conn.execute(RECORD_SALE, (*self._sale, now))

    def claim_if_free(self, seats: Sequence[int]) -> bool:
        """`atomic`: one UPDATE holds the seats that are free; committed with the sale only
        when that was every seat asked for, else rolled back: False, nothing written."""
        holder, now, names = self._claim_rows(seats)
        wanted = sorted(set(names))
        with self.own() as conn:
            taken = conn.execute(CLAIM_FREE, (holder, now, wanted)).rowcount
            if taken != len(wanted):
                conn.execute("ROLLBACK")
                return False
            conn.execute(RECORD_SALE, (*self._sale, now))
        return True

    def die_claiming(self, seats: Sequence[int]) -> None:
        """--kill-writer: the first half of the seats (at least one) updated inside a
        transaction, then death before COMMIT. The server rolls it back."""
        holder, now, names = self._claim_rows(seats)
        if not self.in_transaction:
            self.begin()
        self.execute(CLAIM, (holder, now, names[: (len(names) + 1) // 2]))
        faults.die()

    def lock_seat(self, seat: int) -> None:
        """FOR UPDATE on one seat's row, in the open transaction: waits for its holder
        (bounded by lock_timeout: StoreBusy), or raises DeadlockDetected when PostgreSQL
        finds this wait closes a cycle."""
        self.execute(LOCK_SEAT, (self._names[seat],)).fetchall()

    def lock_free(self, seats: int) -> list[int]:
        """Up to `seats` free seats, front-most first, locked FOR UPDATE SKIP LOCKED: rows
        another transaction holds are passed over, never waited for."""
        cols = self.shape.cols
        return [r * cols + c for r, c in self.execute(LOCK_FREE, (seats,)).fetchall()]


class PgSeatStore(MarkedMap):
    """The parent's handle: checks, creates or resets the map before any buyer starts."""

    server = True

    def __init__(
        self, path: Path, shape: Shape, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        self.path = path  # unused: the map lives on the server
        self.lock_path = path.with_name(path.name + ".lock")
        self.shape = shape
        self._options = options
        self._dsn = options.dsn
        self.where = mask_dsn(options.dsn)
        self.run_id = options.run_id
        self._marked: list[str | None] = []
        # Checked and made in one transaction, under the setup lock: a refusal changes
        # nothing, and of two runs creating the map the second finds the first one's.
        with self._connection("open the seat store") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_KEY,))
            self._shape_up(conn, create, reset)

    def _connection(self, doing: str) -> AbstractContextManager[Connection]:
        return parent_connection(self._dsn, self._options.timeout_s, doing)

    def _shape_up(self, conn: Connection, create: bool, reset: bool) -> None:
        """Refuse what is not a map of our shape (unless `reset`), then make what is
        missing. A reset frees every seat in place."""
        found = tables(conn)
        if "sales" in found and not set(columns(conn, "sales")) >= SALES_COLUMNS:
            raise StoreError(
                f"{self.where}: the table booking.sales needs columns "
                f"{', '.join(sorted(SALES_COLUMNS))}"
            )
        if "seats" not in found and "stock" not in found and found:
            raise StoreError(
                f"{self.where}: the schema booking holds {', '.join(found)} but no seats "
                "table; not a booking store"
            )
        if not found and not create:
            raise StoreError(f"{self.where}: no booking store in this database")
        if "seats" not in found and "stock" in found and not reset:
            raise holds_count(self.where, self.shape)
        if "seats" in found:
            problem = self._problem(conn)
            if problem is not None and not reset:
                raise problem
            if reset and not self._columns_fit(conn):
                conn.execute("DROP TABLE booking.seats")
        if reset:
            conn.execute("DROP TABLE IF EXISTS booking.stock")
        conn.execute(MAKE[0])  # the schema
        conn.execute(MAKE_SEATS)
        conn.execute(MAKE[2])  # the sales ledger
        names = self.shape.names()
        cols = self.shape.cols
        rows = [(name, i // cols, i % cols) for i, name in enumerate(names)]
        if reset:
            conn.execute("DELETE FROM booking.seats WHERE NOT (seat = ANY(%s))", (names,))
        with conn.cursor() as cur:
            cur.executemany(
                'INSERT INTO booking.seats (seat, "row", col) VALUES (%s, %s, %s) '
                + (
                    'ON CONFLICT (seat) DO UPDATE SET "row" = EXCLUDED."row", col = '
                    "EXCLUDED.col, holder = NULL, sold_at = NULL"
                    if reset
                    else "ON CONFLICT (seat) DO NOTHING"
                ),
                rows,
            )

    def _columns_fit(self, conn: Connection) -> bool:
        keys = [name for (name,) in conn.execute(PRIMARY_KEY).fetchall()]
        return set(columns(conn, "seats")) >= SEAT_COLUMNS and keys == ["seat"]

    def _problem(self, conn: Connection) -> StoreError | None:
        """What makes the seats table no map of our shape, or None."""
        if not self._columns_fit(conn):
            return StoreError(
                f"{self.where}: the table booking.seats needs columns seat (its primary key), "
                f"row, col, holder, sold_at; {rebuild(self.shape)}"
            )
        try:
            self._holders(conn.execute(READ_ROWS).fetchall())
        except StoreError as exc:
            return exc
        return None

    def _holders(self, rows: list[tuple[Any, ...]]) -> list[str | None]:
        return table_holders(rows, self.shape, self.where)

    def holders(self) -> list[str | None]:
        with self._connection("read the seat map") as conn:
            return self._holders(conn.execute(READ_ROWS).fetchall())

    def write_back_map(
        self, holders: Sequence[str | None], buyers: list[int], base: Sequence[str | None]
    ) -> None:
        """The manager's write-back: the seats the Manager's map changed since it took
        `base`, and a ledger row per receipt, in one transaction; other seats untouched."""
        with self._connection("write the seat map back") as conn, conn.transaction():
            rows = conn.execute(READ_ROWS + " FOR UPDATE").fetchall()
            found = self._holders(rows)
            names = self.shape.names()
            changed = self.merged(base, holders, found)
            now = time.time()
            with conn.cursor() as cur:
                cur.executemany(CLAIM, [(h, now, [names[i]]) for i, h in changed])
                cur.executemany(RECORD_SALE, [(self.run_id, buyer, now) for buyer in buyers])

    def connect(self, buyer: int) -> PgSeatStock:
        return PgSeatStock(buyer, self.shape, self._options)

    def close(self) -> None:
        """Nothing to sweep: the server rolls back what a killed buyer left unfinished."""
