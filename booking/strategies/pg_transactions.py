"""PostgreSQL's own transactions and locks as the guard of a purchase (--store postgres).

- `naive-tx`: BEGIN (READ COMMITTED, PostgreSQL's default); SELECT; think; UPDATE count =
  read - 1; COMMIT. The SELECT takes no lock, and the UPDATE, which waits for another's
  row lock and then re-reads the row, writes a value computed from the stale SELECT: it
  re-reads nothing that matters. It loses updates, which is what it is here to show.
- `for-update`: BEGIN; SELECT ... FOR UPDATE locks the stock row (bounded by lock_timeout),
  held across read -> think -> write until COMMIT. Seats: the order's rows in seat order.
- `advisory`: BEGIN; SELECT pg_advisory_xact_lock(key): a lock on a number, released by
  COMMIT; it keeps out only those who take it.
- `serializable`: BEGIN ISOLATION LEVEL SERIALIZABLE around read -> think -> write;
  PostgreSQL aborts a transaction whose read went stale (SQLSTATE 40001): rolled back,
  counted as a conflict, tried again up to --retries times.

The locks are the server's: a buyer killed holding one has its connection ended by the
server, which rolls its transaction back and releases the lock.
"""

from __future__ import annotations

from psycopg import errors as pg_errors

from booking.errors import StoreError
from booking.stores.pg_seats import PgSeatStock
from booking.stores.pg_store import PgStock
from booking.strategies.on_store import OnTheStore
from booking.strategies.protocols import Ending, Purchase, Steps

#: The number every advisory buyer locks: one lock for the store (booking's "tick").
ADVISORY_KEY = 0x7469636B
LOCK_ROW = "SELECT count FROM booking.stock WHERE id = 1 FOR UPDATE"
LOCK_ADVISORY = f"SELECT pg_advisory_xact_lock({ADVISORY_KEY})"
SERIALIZABLE = "BEGIN ISOLATION LEVEL SERIALIZABLE"


class OnPostgres(OnTheStore):
    """A strategy of PostgreSQL's: refused on any other store."""

    name = ""

    def _prepare(self) -> None:
        from booking.stores.pg_seats import PgSeatStore
        from booking.stores.pg_store import PgStore

        if not isinstance(self._store, PgStore | PgSeatStore):
            raise StoreError(f"the {self.name} strategy needs the postgres store")
        if self._seats is not None and not self._sells_seats():
            raise StoreError(f"the {self.name} strategy sells a ticket count, not seats")

    def _sells_seats(self) -> bool:
        return False

    def _stock(self, buyer: int) -> PgStock:
        stock = self._store.connect(buyer)
        assert isinstance(stock, PgStock)
        return stock


class NaiveTransaction(OnPostgres):
    name = "naive-tx"

    def buyer_parts(self, buyer: int) -> Purchase:
        stock = self._stock(buyer)
        return self._guarded(buyer, stock.transaction("BEGIN"), stock)


class ForUpdate(OnPostgres):
    name = "for-update"
    ordered = True

    def _sells_seats(self) -> bool:
        return True

    def buyer_parts(self, buyer: int) -> Purchase:
        if self._seats is not None:
            from booking.strategies.pg_seats import SeatRowLocks

            seats = self._store.connect(buyer)
            assert isinstance(seats, PgSeatStock)
            return SeatRowLocks(seats, self._seats, buyer, self._retries, ordered=True)
        stock = self._stock(buyer)
        return self._guarded(buyer, stock.transaction("BEGIN", LOCK_ROW, True), stock)


class Advisory(OnPostgres):
    name = "advisory"

    def buyer_parts(self, buyer: int) -> Purchase:
        stock = self._stock(buyer)
        return self._guarded(buyer, stock.transaction("BEGIN", LOCK_ADVISORY), stock)


class Serializable(OnPostgres):
    name = "serializable"

    def buyer_parts(self, buyer: int) -> Purchase:
        return SerializableTx(self._stock(buyer), self._retries)


class SerializableTx:
    """read -> think -> write in one SERIALIZABLE transaction; a serialization failure at
    any statement (the read, the UPDATE, the COMMIT) rolls it back, and the buyer tries
    again from a fresh snapshot, up to `retries` times, then gives up."""

    holding = "inside its SERIALIZABLE transaction"
    picked = ""

    def __init__(self, stock: PgStock, retries: int) -> None:
        self.stock = stock
        self.retries = retries

    def look(self) -> int:
        return self.stock.read()

    def _write(self, count: int) -> bool:
        """UPDATE, ledger row and COMMIT: False when PostgreSQL refused them (40001)."""
        try:
            self.stock.write(count)
            self.stock.end()
        except pg_errors.SerializationFailure:
            self.stock.rollback()
            return False
        return True

    def buy(self, steps: Steps) -> Ending:
        for _ in range(self.retries + 1):
            self.stock.begin(SERIALIZABLE)
            try:
                count = steps.read(self.stock.read)
                if count <= 0:
                    self.stock.end()
                    steps.left()
                    return "sold_out"
                steps.think()
                if steps.write(self._write, count - 1, self.stock.die_writing):
                    return "bought"
            except pg_errors.SerializationFailure:
                self.stock.rollback()
            except BaseException:
                if not self.stock.closed:
                    self.stock.rollback()
                raise
            steps.conflict("serialization failure")
        return "gave_up"
