"""The common part of the strategies whose buyers read and write the store itself (no copy
to write back, no process of their own to stop): the run's options kept, the count left
read from the store."""

from __future__ import annotations

from booking.errors import StoreError
from booking.stores import StoreFile
from booking.waits import Backoff


class OnTheStore:
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
        self._store = store
        self._timeout_s = timeout_s
        self._poll = poll
        self._retries = retries
        self._prepare()

    def _prepare(self) -> None:
        """In the parent, before any buyer is forked: what the strategy shares."""

    def _need_sqlite(self, strategy: str) -> None:
        from booking.stores.sqlite_store import SqliteStore

        if not isinstance(self._store, SqliteStore):
            raise StoreError(f"the {strategy} strategy needs the sqlite store")

    def finish(self, sold_by: list[int]) -> int:
        return self._store.count()

    def close(self) -> None:
        return None
