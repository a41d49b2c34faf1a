"""`transaction` and `deferred`: no lock of our own; SQLite's transactions guard a purchase.

`transaction` lets the database serialise the read-modify-write: BEGIN IMMEDIATE takes the
write lock before the read. `deferred` shows why it must: BEGIN DEFERRED only takes a read
snapshot, the write has to upgrade it, and once another buyer has committed the upgrade
fails with SQLITE_BUSY (in WAL mode a stale snapshot cannot be upgraded, and the busy
handler does not help). It never oversells; its failed purchases are the lesson. Both only
exist for the sqlite store (the registry says so, and Scenario checks it).
"""

from __future__ import annotations

from booking.errors import StoreError
from booking.stores import StoreFile
from booking.stores.sqlite_store import SqliteStore
from booking.strategies import Guarded
from booking.waits import Backoff


class DbTransaction:
    begin = "BEGIN IMMEDIATE"

    def __init__(
        self,
        store: StoreFile,
        *,
        timeout_s: float,
        manager_lock: bool,
        poll: Backoff,
        buyers: int = 1,
        retries: int = 3,
    ) -> None:
        if not isinstance(store, SqliteStore):
            raise StoreError("the transaction strategy needs the sqlite store")
        self._store = store

    def buyer_parts(self, buyer: int) -> Guarded:
        stock = self._store.connect(buyer)
        return Guarded(stock, stock.transaction(self.begin))

    def finish(self, sold_by: list[int]) -> int:
        return self._store.count()

    def close(self) -> None:
        return None


class DbDeferred(DbTransaction):
    begin = "BEGIN DEFERRED"
