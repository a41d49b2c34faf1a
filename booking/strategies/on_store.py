"""The common part of the strategies whose buyers read and write the store itself (no copy
to write back, no process of their own to stop): the run's options kept, the count left
read from the store."""

from __future__ import annotations

from booking.errors import StoreError
from booking.stores import Stock, StoreFile
from booking.strategies import Guard, Purchase, StrategyOptions
from booking.strategies.seat_orders import guarded


class OnTheStore:
    def __init__(self, store: StoreFile, options: StrategyOptions) -> None:
        self._store = store
        self._timeout_s = options.timeout_s
        self._poll = options.poll
        self._retries = options.retries
        self._seats = options.seats
        self._prepare()

    def _prepare(self) -> None:
        """In the parent, before any buyer is forked: what the strategy shares."""

    def _need_sqlite(self, strategy: str) -> None:
        from booking.stores.sqlite_store import SqliteStore

        if self._seats is not None:
            from booking.stores.seat_sqlite import SqliteSeatStore

            if isinstance(self._store, SqliteSeatStore):
                return
        elif isinstance(self._store, SqliteStore):
            return
        raise StoreError(f"the {strategy} strategy needs the sqlite store")

    def _guarded(self, buyer: int, guard: Guard, stock: Stock | None = None) -> Purchase:
        """This buyer's purchase under a guard for the whole store: on a seat map, a seat
        order; else the seeds' read -> think -> write of the count."""
        stock = self._store.connect(buyer) if stock is None else stock
        return guarded(stock, guard, self._seats, buyer)  # type: ignore[no-any-return]

    def finish(self, sold_by: list[int]) -> int:
        return self._store.count()

    def close(self) -> None:
        return None
