"""`atomic`: think with nothing held, then one conditional decrement that cannot oversell.

`UPDATE stock SET count = count - 1 WHERE id = 1 AND count > 0 RETURNING count` reads and
writes in one statement, in one transaction with the sale's ledger row: no row changed
means sold out. Safety comes from the store, not from mutual exclusion: the think runs
in parallel, only the statement is serialised (by SQLite's write lock). sqlite only.
"""

from __future__ import annotations

from booking.errors import StoreError
from booking.stores import StoreFile
from booking.stores.sqlite_store import SqliteStore
from booking.strategies.protocols import Conditional
from booking.waits import Backoff


class AtomicUpdate:
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
            raise StoreError("the atomic strategy needs the sqlite store")
        self._store = store

    def buyer_parts(self, buyer: int) -> Conditional:
        return Conditional(self._store.connect(buyer))

    def finish(self, sold_by: list[int]) -> int:
        return self._store.count()

    def close(self) -> None:
        return None
