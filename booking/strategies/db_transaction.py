"""`transaction`: no lock of our own; SQLite's write lock (BEGIN IMMEDIATE) guards a purchase.

The design most real booking systems use: let the database serialise the read-modify-write.
It only exists for the sqlite store (the registry says so, and Scenario checks it).
"""

from __future__ import annotations

from booking.errors import StoreError
from booking.stores import Stock, StoreFile
from booking.stores.sqlite_store import SqliteStore
from booking.strategies import Guard
from booking.waits import Backoff


class DbTransaction:
    def __init__(
        self, store: StoreFile, *, timeout_s: float, manager_lock: bool, poll: Backoff
    ) -> None:
        if not isinstance(store, SqliteStore):
            raise StoreError("the transaction strategy needs the sqlite store")
        self._store = store

    def buyer_parts(self, buyer: int) -> tuple[Stock, Guard]:
        stock = self._store.connect(buyer)
        return stock, stock.transaction()

    def finish(self, sold_by: list[int]) -> int:
        return self._store.count()

    def close(self) -> None:
        return None
