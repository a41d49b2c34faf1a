"""A SQLite seat map: one row per seat, who holds it, and the sales ledger, in WAL mode.

As with the count store, the parent shapes and checks the database through sqlite-utils
and each buyer speaks plain SQL on its own connection. A claim writes its seats and one
ledger row in one transaction; `claim_if_free` makes the check and the claim a single
statement, so an order gets all its seats or none.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from booking import faults
from booking.errors import StoreError
from booking.seating import Shape, holder_of
from booking.sqlite_files import enable_wal
from booking.stores import StoreOptions, store_exists
from booking.stores.seat_store import SEATS_TABLE, MarkedMap, holds_count, rebuild, table_holders
from booking.stores.sqlite_busy import busy_or as _busy_or
from booking.stores.sqlite_buyer import SqliteBuyer, connect
from booking.stores.sqlite_store import RECORD_SALE, SALES_COLUMNS, check_header

#: row and col count from 0: seat index = row * cols + col.
SEAT_COLUMNS = {"seat": str, "row": int, "col": int, "holder": str, "sold_at": float}
READ_MAP = "SELECT holder FROM seats ORDER BY row, col"
READ_ROWS = "SELECT seat, row, col, holder FROM seats"
CLAIM = "UPDATE seats SET holder = ?, sold_at = ? WHERE seat = ?"
COUNT_TABLE = "stock"  # the count store's


def take_free(seats: int) -> str:
    """`claim_if_free`'s one statement, for `seats` seats: it holds only free ones."""
    marks = ", ".join("?" * seats)
    return f"UPDATE seats SET holder = ?, sold_at = ? WHERE seat IN ({marks}) AND holder IS NULL"


class SqliteSeatStock(SqliteBuyer):
    """One buyer's connection to the map: an unguarded read, then claims."""

    def __init__(self, path: Path, buyer: int, shape: Shape, options: StoreOptions) -> None:
        super().__init__(path, buyer, options)
        self.shape = shape
        self._names = shape.names()

    def read_map(self) -> list[str | None]:
        """One SELECT, in seat order."""
        try:
            rows = self._conn.execute(READ_MAP).fetchall()
        except sqlite3.OperationalError as exc:
            raise _busy_or(exc) from None
        holders = [row[0] for row in rows]
        if len(holders) != self.shape.size or any(
            holder is not None and type(holder) is not str for holder in holders
        ):
            raise ValueError(f"the seats table holds {len(rows)} rows, not a {self.shape} map")
        return holders

    def _claim_rows(self, seats: Sequence[int]) -> tuple[str, float, list[str]]:
        """Our holder (the seller's current buyer, see sell_to), the time and seat names."""
        return holder_of(*self._sale), time.time(), [self._names[seat] for seat in seats]

    def claim(self, seats: Sequence[int], fresh: bool = False) -> None:
        """Hold `seats`, unchecked, and record the sale: in the guard's transaction when
        one is open (`transaction`), else in one of its own. `fresh` means nothing here:
        the database has no stale copy to write back."""
        conn = self._conn
        own = not conn.in_transaction
        holder, now, names = self._claim_rows(seats)
        try:
            if own:
                conn.execute("BEGIN IMMEDIATE")
            conn.executemany(CLAIM, [(holder, now, name) for name in names])
            conn.execute(RECORD_SALE, (*self._sale, now))
            if own:
                conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _busy_or(exc, upgrading=not own) from None

    def claim_if_free(self, seats: Sequence[int]) -> bool:
        """`atomic`: one UPDATE holds the seats that are free; committed with the sale only
        when that was every seat asked for, else rolled back: False, nothing written."""
        holder, now, names = self._claim_rows(seats)
        wanted = sorted(set(names))
        with self._own_write() as conn:
            taken = conn.execute(take_free(len(wanted)), (holder, now, *wanted)).rowcount
            whole = taken == len(wanted)
            if whole:
                conn.execute(RECORD_SALE, (*self._sale, now))
            else:
                conn.execute("ROLLBACK")
        return whole

    def die_claiming(self, seats: Sequence[int]) -> None:
        """--kill-writer: the first half of the seats (at least one) updated inside a write
        transaction, then death before COMMIT. SQLite rolls it back."""
        holder, now, names = self._claim_rows(seats)
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
        half = names[: (len(names) + 1) // 2]
        self._conn.executemany(CLAIM, [(holder, now, name) for name in half])
        faults.die()


class SqliteSeatStore(MarkedMap):
    """The parent's handle: checks, creates or resets the map before any buyer starts."""

    def __init__(
        self, path: Path, shape: Shape, *, create: bool, reset: bool, options: StoreOptions
    ) -> None:
        import sqlite_utils

        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.shape = shape
        self._options = options
        self.run_id = options.run_id
        self._marked: list[str | None] = []
        if store_exists(path, create):
            check_header(path)
        try:
            db = sqlite_utils.Database(connect(path, options.timeout_s))
            try:
                # Checked and made in one write transaction: a refusal rolls back having
                # written nothing, and of two runs creating the store the second finds the
                # first one's map.
                db.execute("BEGIN IMMEDIATE")
                self._shape_up(db, reset)
                db.execute("COMMIT")
                enable_wal(db.conn, options.timeout_s)
            finally:
                db.close()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            detail = str(exc).replace("\r", "\\r").replace("\n", "\\n")
            raise StoreError(f"{path}: not a usable SQLite seat store ({detail})") from None

    def _shape_up(self, db: Any, reset: bool) -> None:
        """Refuse what is not a map of our shape (unless `reset`), then make what is missing.
        A reset frees every seat in place, so other tables and columns stay."""
        tables = db.table_names()
        if "sales" in tables and not set(db["sales"].columns_dict) >= SALES_COLUMNS:
            raise StoreError(
                f"{self.path}: the sales table needs columns {', '.join(sorted(SALES_COLUMNS))}"
            )
        if SEATS_TABLE not in tables and COUNT_TABLE not in tables and tables:
            raise StoreError(
                f"{self.path}: no seats table (found {', '.join(tables)}); not a booking store"
            )
        if SEATS_TABLE not in tables and COUNT_TABLE in tables and not reset:
            raise holds_count(self.path, self.shape)
        seats = db.table(SEATS_TABLE)
        if SEATS_TABLE in tables:
            problem = self._problem(db)
            if problem is not None and not reset:
                raise problem
            if reset and not self._columns_fit(db):
                seats.drop()  # no place to keep a seat's holder: start the table again
        if reset:
            db.execute(f"DROP TABLE IF EXISTS {COUNT_TABLE}")
        new = not seats.exists()
        seats.create(SEAT_COLUMNS, pk="seat", not_null={"row", "col"}, if_not_exists=True)
        cols = self.shape.cols
        rows = [
            {"seat": name, "row": i // cols, "col": i % cols, "holder": None, "sold_at": None}
            for i, name in enumerate(self.shape.names())
        ]
        if reset and not new:
            marks = ", ".join("?" * len(rows))
            db.execute(f"DELETE FROM seats WHERE seat NOT IN ({marks})", [r["seat"] for r in rows])
            seats.upsert_all(rows, pk="seat")
        elif new:
            seats.insert_all(rows)
        db.table("sales").create(
            {"id": int, "run": str, "buyer": int, "sold_at": float}, pk="id", if_not_exists=True
        )

    def _columns_fit(self, db: Any) -> bool:
        table = db[SEATS_TABLE]
        return set(table.columns_dict) >= set(SEAT_COLUMNS) and table.pks == ["seat"]

    def _problem(self, db: Any) -> StoreError | None:
        """What makes the seats table no map of our shape, or None."""
        if not self._columns_fit(db):
            return StoreError(
                f"{self.path}: the seats table needs columns seat (its primary key), row, col, "
                f"holder, sold_at; {rebuild(self.shape)}"
            )
        try:
            self._holders(db.execute(READ_ROWS).fetchall())
        except StoreError as exc:
            return exc
        return None

    def _holders(self, rows: list[tuple[Any, ...]]) -> list[str | None]:
        return table_holders(rows, self.shape, str(self.path))

    def holders(self) -> list[str | None]:
        try:
            conn = connect(self.path, self._options.timeout_s)
            try:
                rows = conn.execute(READ_ROWS).fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the seat map ({exc})") from None
        return self._holders(rows)

    def write_back_map(
        self, holders: Sequence[str | None], buyers: list[int], base: Sequence[str | None]
    ) -> None:
        """The manager's write-back: the seats the Manager's map changed since it took
        `base`, and a ledger row per receipt, in one transaction; other seats untouched."""
        try:
            conn = connect(self.path, self._options.timeout_s)
            try:
                now = time.time()
                conn.execute("BEGIN IMMEDIATE")
                found = self._holders(conn.execute(READ_ROWS).fetchall())
                names = self.shape.names()
                changed = self.merged(base, holders, found)
                conn.executemany(CLAIM, [(h, now, names[i]) for i, h in changed])
                conn.executemany(RECORD_SALE, [(self.run_id, buyer, now) for buyer in buyers])
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot write the seat map back ({exc})") from None

    def connect(self, buyer: int) -> SqliteSeatStock:
        return SqliteSeatStock(self.path, buyer, self.shape, self._options)

    def close(self) -> None:
        """Nothing to sweep: SQLite rolls back what a killed buyer left unfinished."""
