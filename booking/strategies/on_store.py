"""The common part of the strategies whose buyers read and write the store itself (no copy
to write back, no process of their own to stop): the run's options kept, the count left
read from the store."""

from __future__ import annotations

from booking.errors import StoreError
from booking.stores import StoreFile
from booking.strategies import StrategyOptions


class OnTheStore:
    def __init__(self, store: StoreFile, options: StrategyOptions) -> None:
        self._store = store
        self._timeout_s = options.timeout_s
        self._poll = options.poll
        self._retries = options.retries
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
