"""`transaction` and `deferred`: no lock of our own; SQLite's transactions guard a purchase.

`transaction` lets the database serialise the read-modify-write: BEGIN IMMEDIATE takes the
write lock before the read. `deferred` shows why it must: BEGIN DEFERRED only takes a read
snapshot, the write has to upgrade it, and once another buyer has committed the upgrade
fails with SQLITE_BUSY (in WAL mode a stale snapshot cannot be upgraded, and the busy
handler does not help). It never oversells; its failed purchases are the lesson. Both only
exist for the sqlite store (the registry says so, and Scenario checks it).
"""

from __future__ import annotations

from booking.strategies import Purchase
from booking.strategies.on_store import OnTheStore


class DbTransaction(OnTheStore):
    name = "transaction"
    begin = "BEGIN IMMEDIATE"

    def _prepare(self) -> None:
        self._need_sqlite(self.name)

    def buyer_parts(self, buyer: int) -> Purchase:
        stock = self._store.connect(buyer)
        assert hasattr(stock, "transaction")  # a SqliteStock, or a seat map's
        return self._guarded(buyer, stock.transaction(self.begin), stock)


class DbDeferred(DbTransaction):
    name = "deferred"
    begin = "BEGIN DEFERRED"
