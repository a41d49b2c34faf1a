"""`atomic`: think with nothing held, then one conditional decrement that cannot oversell.

`UPDATE stock SET count = count - 1 WHERE id = 1 AND count > 0 RETURNING count` reads and
writes in one statement, in one transaction with the sale's ledger row: no row changed
means sold out. Safety comes from the store, not from mutual exclusion: the think runs
in parallel, only the statement is serialised (by SQLite's write lock, or PostgreSQL's
row lock). sqlite, and the stores on a server (`server = True`), whose stock has `take()`.
"""

from __future__ import annotations

from typing import cast

from booking.strategies.on_store import OnTheStore
from booking.strategies.protocols import Conditional, ConditionalStock, Purchase
from booking.strategies.seat_orders import SeatConditional


class AtomicUpdate(OnTheStore):
    def _prepare(self) -> None:
        if not getattr(self._store, "server", False):
            self._need_sqlite("atomic")

    def buyer_parts(self, buyer: int) -> Purchase:
        stock = self._store.connect(buyer)
        if self._seats is not None:
            return SeatConditional(stock, self._seats, buyer)
        assert hasattr(stock, "take")  # a SqliteStock, or a server's stock
        return Conditional(cast(ConditionalStock, stock))
